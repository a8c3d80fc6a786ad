import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PromptHistoryEntry } from "../src/store/prompt-history.js";
import {
  type CliResult,
  cli,
  expectOneLineError,
  git,
  gitRepo,
  STACK_LINE,
  tempDir,
  writeFiles,
} from "./helpers.js";

/** The greeting prompt with one word changed, so every version has its own content. */
function greeting(word: string): string {
  return `description: Greets someone.
variables:
  name: string
template: |
  ${word} {{name}}! {{> shared/sig}}
`;
}

/** The same content as `greeting("Hello")` with a comment, flow style and other key order. */
const HELLO_REFORMATTED = `# Reformatted: the same prompt.
template: "Hello {{name}}! {{> shared/sig}}\\n"
variables: { name: string }
description: "Greets someone."
`;

const SIGNATURE = "template: Regards\n";

/** A bad variable type on line 3, col 9. */
const GREETING_BROKEN = `description: Greets someone.
variables:
  name: strng
template: |
  Hello {{name}}! {{> shared/sig}}
`;

/** Writes (or, for null, deletes) files, stages everything and commits; returns the sha. */
function commit(repo: string, files: Record<string, string | null>, message: string): string {
  for (const [path, content] of Object.entries(files)) {
    if (content === null) rmSync(join(repo, path), { force: true });
    else writeFiles(repo, { [path]: content });
  }
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", message);
  return sha(repo, "HEAD");
}

function sha(repo: string, ref: string): string {
  return git(repo, "rev-parse", `${ref}^{commit}`).trim();
}

/** git with a fixed author and committer date (a tagger date for `git tag -a`). */
function gitAt(date: string, cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
  });
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

interface ListedJson {
  prompts: { name: string; version: string; file: string }[];
  issues: { file: string }[];
}

async function listAt(repo: string, ref: string): Promise<ListedJson> {
  const result = await cli(repo, "list", "--ref", ref, "--json");
  return JSON.parse(result.stdout) as ListedJson;
}

async function versionAt(repo: string, ref: string, name: string): Promise<string | undefined> {
  return (await listAt(repo, ref)).prompts.find((prompt) => prompt.name === name)?.version;
}

interface LogJson {
  name: string;
  versions: PromptHistoryEntry[];
}

async function logJson(repo: string, name: string): Promise<LogJson> {
  const result = await cli(repo, "log", name, "--json");
  expect(result).toMatchObject({ code: 0, stderr: "" });
  return JSON.parse(result.stdout) as LogJson;
}

/**
 * The life of one prompt: added as `greet` (v1), reformatted, its partial edited, renamed with
 * `git mv` to `hello`, edited (v2), broken, deleted, added again, then an unrelated commit.
 */
function lifeRepo() {
  const repo = gitRepo();
  const add = commit(
    repo,
    { "prompts/greet.yaml": greeting("Hello"), "prompts/shared/sig.yaml": SIGNATURE },
    "add greet",
  );
  git(repo, "tag", "-a", "v1", "-m", "v1");
  const reformat = commit(repo, { "prompts/greet.yaml": HELLO_REFORMATTED }, "reformat greet");
  const partial = commit(repo, { "prompts/shared/sig.yaml": "template: Best regards\n" }, "sig");
  git(repo, "mv", "prompts/greet.yaml", "prompts/hello.yaml");
  git(repo, "commit", "-q", "-m", "rename greet to hello");
  const rename = sha(repo, "HEAD");
  const edit = commit(repo, { "prompts/hello.yaml": greeting("Hi") }, "edit hello");
  git(repo, "tag", "-a", "v2", "-m", "v2");
  const broken = commit(repo, { "prompts/hello.yaml": GREETING_BROKEN }, "break hello");
  const deleted = commit(repo, { "prompts/hello.yaml": null }, "delete hello");
  const readded = commit(repo, { "prompts/hello.yaml": greeting("Hey") }, "add hello again");
  commit(repo, { "README.md": "unrelated\n" }, "readme");
  return { repo, shas: { add, reformat, partial, rename, edit, broken, deleted, readded } };
}

describe("prompts log", () => {
  it("lists the distinct versions newest first, through a rename, a partial edit, a break and a deletion", async () => {
    const { repo, shas } = lifeRepo();
    const data = await logJson(repo, "hello");
    expect(data.name).toBe("hello");
    expect(
      data.versions.map(({ commit, state, subject, file, tag }) => ({
        commit,
        state,
        subject,
        file,
        tag,
      })),
    ).toEqual([
      {
        commit: shas.readded,
        state: "valid",
        subject: "add hello again",
        file: "prompts/hello.yaml",
        tag: null,
      },
      {
        commit: shas.deleted,
        state: "deleted",
        subject: "delete hello",
        file: "prompts/hello.yaml",
        tag: null,
      },
      {
        commit: shas.broken,
        state: "invalid",
        subject: "break hello",
        file: "prompts/hello.yaml",
        tag: null,
      },
      {
        commit: shas.edit,
        state: "valid",
        subject: "edit hello",
        file: "prompts/hello.yaml",
        tag: "v2",
      },
      // The partial's edit is a new version of its includer; the rename is not.
      {
        commit: shas.partial,
        state: "valid",
        subject: "sig",
        file: "prompts/greet.yaml",
        tag: "v2",
      },
      // The reformat is not a new version.
      {
        commit: shas.add,
        state: "valid",
        subject: "add greet",
        file: "prompts/greet.yaml",
        tag: "v1",
      },
    ]);
    const [readded, deleted, broken, edit, partial, added] = data.versions;
    expect(deleted?.version).toBeNull();
    expect(broken?.version).toBeNull();
    const versions = [readded, edit, partial, added].map((entry) => entry?.version);
    for (const version of versions) expect(version).toMatch(/^[0-9a-f]{12}$/);
    expect(new Set(versions).size).toBe(4);
    for (const entry of data.versions) {
      expect(entry.author).toBe("Test Author");
      expect(entry.date).toBe(git(repo, "log", "-1", "--format=%aI", entry.commit).trim());
    }
  });

  it("reports for each version what `prompts list --ref <commit>` reports for the prompt", async () => {
    const { repo, shas } = lifeRepo();
    const data = await logJson(repo, "hello");
    expect(data.versions).toHaveLength(6);
    for (const entry of data.versions) {
      const listed = await listAt(repo, entry.commit);
      const prompt = listed.prompts.find((candidate) => candidate.file === entry.file);
      if (entry.state === "valid") expect(prompt?.version).toBe(entry.version);
      else expect(prompt).toBeUndefined();
      if (entry.state === "invalid")
        expect(listed.issues.map((issue) => issue.file)).toContain(entry.file);
    }
    // What the log leaves out did not change the version.
    expect(await versionAt(repo, shas.reformat, "greet")).toBe(
      await versionAt(repo, shas.add, "greet"),
    );
    expect(await versionAt(repo, shas.rename, "hello")).toBe(
      await versionAt(repo, shas.partial, "greet"),
    );
    expect(await versionAt(repo, "HEAD", "hello")).toBe(data.versions[0]?.version);
  });

  it("prints a table: version (or state), commit, date, author, first tag, subject", async () => {
    const { repo, shas } = lifeRepo();
    const result = await cli(repo, "log", "hello");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const [header, ...rows] = lines(result.stdout);
    expect(header).toMatch(/^VERSION\s+COMMIT\s+DATE\s+AUTHOR\s+FIRST TAG\s+SUBJECT$/);
    expect(rows).toHaveLength(6);
    const version = await versionAt(repo, shas.edit, "hello");
    const date = git(repo, "log", "-1", "--format=%as", shas.edit).trim();
    expect(rows[3]).toMatch(
      new RegExp(
        `^${version}\\s+${shas.edit.slice(0, 12)}\\s+${date}\\s+Test Author\\s+v2\\s+edit hello$`,
      ),
    );
    expect(rows[1]).toMatch(
      new RegExp(`^\\(deleted\\)\\s+${shas.deleted.slice(0, 12)}\\s.*delete hello$`),
    );
    expect(rows[2]).toMatch(
      new RegExp(`^\\(invalid\\)\\s+${shas.broken.slice(0, 12)}\\s.*break hello$`),
    );
    expect(rows[5]).toMatch(/\sv1\s+add greet$/);
  });

  it("names the first tag that contains each version's commit", async () => {
    const repo = gitRepo([
      { files: { "prompts/a.yaml": "template: one\n" }, message: "one" },
      { files: { "prompts/a.yaml": "template: two\n" }, message: "two" },
      { files: { "README.md": "x\n" }, tags: ["v1"] },
      { files: { "prompts/a.yaml": "template: three\n" }, message: "three" },
      { files: { "README.md": "y\n" }, tags: ["v2"] },
      { files: { "README.md": "z\n" }, tags: ["v3"] },
      { files: { "prompts/a.yaml": "template: four\n" }, message: "four" },
    ]);
    const data = await logJson(repo, "a");
    expect(data.versions.map((entry) => [entry.subject, entry.tag])).toEqual([
      ["four", null],
      ["three", "v2"],
      ["two", "v1"],
      ["one", "v1"],
    ]);
  });

  it("shows the version a merge made as the newest, as `list` shows it at HEAD", async () => {
    const base = `description: one
variables:
  name: string
template: |
  Hello {{name}}
  line 2
  line 3
  line 4
`;
    const repo = gitRepo([{ files: { "prompts/greet.yaml": base }, message: "base" }]);
    git(repo, "checkout", "-q", "-b", "feature");
    commit(repo, { "prompts/greet.yaml": base.replace("one", "two") }, "feature: description");
    git(repo, "checkout", "-q", "main");
    commit(repo, { "prompts/greet.yaml": base.replace("line 4", "line four") }, "main: line 4");
    git(repo, "merge", "-q", "--no-edit", "feature");
    const head = await versionAt(repo, "HEAD", "greet");
    expect(head).toBeDefined();
    // The merged content is in neither parent: only the merge commit has this version.
    expect(head).not.toBe(await versionAt(repo, "HEAD^1", "greet"));
    expect(head).not.toBe(await versionAt(repo, "HEAD^2", "greet"));

    const data = await logJson(repo, "greet");
    expect(data.versions[0]).toMatchObject({ version: head, commit: sha(repo, "HEAD") });
  });

  it.each([
    { how: "an unknown name", name: "nope", fragment: '"nope"' },
    { how: "a name that cannot be a prompt", name: "../etc/passwd", fragment: "../etc/passwd" },
  ])("refuses $how in one line, exit 1", async ({ name, fragment }) => {
    const { repo } = lifeRepo();
    expectOneLineError(await cli(repo, "log", name), 1, fragment);
    expectOneLineError(await cli(repo, "log", name, "--json"), 1, fragment);
  });

  it("refuses outside a git repository in one line, exit 1", async () => {
    const dir = tempDir({ "prompts/a.yaml": "template: one\n" });
    expectOneLineError(await cli(dir, "log", "a"), 1, "not a git repository");
  });
});

/** Two valid prompts committed; HEAD is main. */
function tagRepo(): string {
  return gitRepo([
    {
      files: { "prompts/greet.yaml": greeting("Hello"), "prompts/shared/sig.yaml": SIGNATURE },
    },
  ]);
}

function tags(repo: string): string {
  return git(repo, "for-each-ref", "--format=%(refname) %(objecttype) %(*objectname)", "refs/tags");
}

describe("prompts tag", () => {
  it("validates HEAD and makes an annotated tag with the message", async () => {
    const repo = tagRepo();
    const head = sha(repo, "HEAD");
    const result = await cli(repo, "tag", "v1.0.0", "-m", "First release of the prompts");
    expect(result).toEqual({
      code: 0,
      stdout: `tagged v1.0.0 at ${head.slice(0, 12)}: 2 prompts, all valid\n`,
      stderr: "",
    });
    expect(git(repo, "cat-file", "-t", "v1.0.0")).toBe("tag\n");
    expect(sha(repo, "v1.0.0")).toBe(head);
    expect(git(repo, "tag", "-l", "--format=%(contents)", "v1.0.0").trim()).toBe(
      "First release of the prompts",
    );
  });

  it("makes an annotated tag without -m too", async () => {
    const repo = tagRepo();
    expect((await cli(repo, "tag", "v1")).code).toBe(0);
    expect(git(repo, "cat-file", "-t", "v1")).toBe("tag\n");
    expect(git(repo, "tag", "-l", "--format=%(contents)", "v1").trim()).not.toBe("");
  });

  it("refuses when HEAD's prompts are invalid, even if the working tree is fixed", async () => {
    const repo = gitRepo([
      { files: { "prompts/greet.yaml": GREETING_BROKEN, "prompts/shared/sig.yaml": SIGNATURE } },
    ]);
    writeFiles(repo, { "prompts/greet.yaml": greeting("Hello") });
    expect((await cli(repo, "validate")).code).toBe(0);

    const result = await cli(repo, "tag", "v1", "-m", "nope");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^prompts\/greet\.yaml:3:9: error: .*\[bad-variable-type\]$/m);
    expect(result.stderr).toMatch(/^✗ refusing to tag v1: .*1 error/m);
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(tags(repo)).toBe("");
  });

  it("refuses an existing tag, and --force moves it", async () => {
    const repo = tagRepo();
    const first = sha(repo, "HEAD");
    expect((await cli(repo, "tag", "v1", "-m", "first")).code).toBe(0);
    const second = commit(repo, { "prompts/greet.yaml": greeting("Hi") }, "edit");

    expectOneLineError(
      await cli(repo, "tag", "v1", "-m", "again"),
      1,
      "v1",
      "already exists",
      "--force",
    );
    expect(sha(repo, "v1")).toBe(first);
    expect(git(repo, "tag", "-l", "--format=%(contents)", "v1").trim()).toBe("first");

    const forced = await cli(repo, "tag", "v1", "--force", "-m", "moved");
    expect(forced).toMatchObject({ code: 0, stderr: "" });
    expect(forced.stdout).toContain(`tagged v1 at ${second.slice(0, 12)}`);
    expect(sha(repo, "v1")).toBe(second);
    expect(git(repo, "cat-file", "-t", "v1")).toBe("tag\n");
    expect(git(repo, "tag", "-l", "--format=%(contents)", "v1").trim()).toBe("moved");
  });

  it.each(["bad..name", "-x", "with space", "v1.lock", "ends/"])(
    "refuses %j, which is not a valid tag name, and creates nothing",
    async (name) => {
      const repo = tagRepo();
      expectOneLineError(await cli(repo, "tag", "--", name), 1, `"${name}"`, "not a valid");
      expect(tags(repo)).toBe("");
    },
  );

  it("warns about uncommitted changes in the prompt directory, naming the file, and still tags HEAD", async () => {
    const repo = tagRepo();
    writeFiles(repo, {
      "prompts/greet.yaml": greeting("Uncommitted"),
      "prompts/draft.yaml": "template: Not committed\n",
    });
    const result = await cli(repo, "tag", "v1");
    expect(result.code).toBe(0);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/^warning: .*uncommitted.*v1/);
    expect(result.stderr).toContain("prompts/greet.yaml");
    expect(result.stderr).toContain("prompts/draft.yaml");
    expect(git(repo, "cat-file", "-t", "v1")).toBe("tag\n");
    const render = await cli(repo, "render", "greet", "--var", "name=Ada", "--ref", "v1");
    expect(render.stdout).toBe("Hello Ada! Regards\n");
  });

  it("does not warn about changes outside the prompt directory", async () => {
    const repo = tagRepo();
    writeFiles(repo, { "README.md": "changed\n", "src/app.ts": "export {};\n" });
    const result = await cli(repo, "tag", "v1");
    expect(result).toMatchObject({ code: 0, stderr: "" });
  });

  describe("--list", () => {
    /** v1 (first), v2 (greet edited, sig edited, new added: 3 files), v3 (no prompt change). */
    function taggedRepo(): string {
      const repo = tagRepo();
      gitAt("2024-01-10T09:00:00+00:00", repo, "tag", "-a", "v1", "-m", "one");
      commit(repo, { "prompts/greet.yaml": greeting("Hi") }, "edit greet");
      commit(repo, { "prompts/shared/sig.yaml": "template: Best\n" }, "edit sig");
      commit(repo, { "prompts/new.yaml": "template: New\n", "README.md": "x\n" }, "add new");
      gitAt("2024-02-20T10:30:00+00:00", repo, "tag", "-a", "v2", "-m", "two");
      commit(repo, { "README.md": "y\n" }, "docs only");
      gitAt("2024-03-30T11:45:00+00:00", repo, "tag", "-a", "v3", "-m", "three");
      return repo;
    }

    it("lists tags newest first with their date and the prompts changed since the previous one", async () => {
      const repo = taggedRepo();
      const result = await cli(repo, "tag", "--list");
      expect(result).toMatchObject({ code: 0, stderr: "" });
      const [header, ...rows] = lines(result.stdout);
      expect(header).toMatch(/^TAG\s+DATE\s+CHANGES\s+MESSAGE$/);
      expect(rows).toHaveLength(3);
      expect(rows[0]).toMatch(
        /^v3\s+2024-03-30T11:45:00\+00:00\s+0 prompts changed since v2\s+three$/,
      );
      expect(rows[1]).toMatch(
        /^v2\s+2024-02-20T10:30:00\+00:00\s+3 prompts changed since v1\s+two$/,
      );
      expect(rows[2]).toMatch(/^v1\s+2024-01-10T09:00:00\+00:00\s+first tag\s+one$/);
    });

    it("--json gives each tag's commit, date, changes and the tag before", async () => {
      const repo = taggedRepo();
      const result = await cli(repo, "tag", "--list", "--json");
      expect(result).toMatchObject({ code: 0, stderr: "" });
      const data = JSON.parse(result.stdout) as { tags: Record<string, unknown>[] };
      const byName = new Map(data.tags.map((tag) => [tag.name, tag]));
      expect(data.tags).toHaveLength(3);
      expect(byName.get("v1")).toMatchObject({
        commit: sha(repo, "v1"),
        date: "2024-01-10T09:00:00+00:00",
        changed: null,
        since: null,
      });
      expect(byName.get("v2")).toMatchObject({ commit: sha(repo, "v2"), changed: 3, since: "v1" });
      expect(byName.get("v3")).toMatchObject({ commit: sha(repo, "v3"), changed: 0, since: "v2" });
    });

    it("--json lists newest first, like the table", async () => {
      const repo = taggedRepo();
      const result = await cli(repo, "tag", "--list", "--json");
      const data = JSON.parse(result.stdout) as { tags: { name: string }[] };
      expect(data.tags.map((tag) => tag.name)).toEqual(["v3", "v2", "v1"]);
    });

    it("orders tags made in the same second by their history, not by name (v10 after v9)", async () => {
      const repo = tagRepo();
      const date = "2024-05-01T12:00:00+00:00";
      gitAt(date, repo, "tag", "-a", "v9", "-m", "nine");
      commit(repo, { "prompts/greet.yaml": greeting("Hi") }, "edit greet");
      gitAt(date, repo, "tag", "-a", "v10", "-m", "ten");
      const result = await cli(repo, "tag", "--list");
      const rows = lines(result.stdout).slice(1);
      expect(rows[0]).toMatch(/^v10\s.*1 prompt changed since v9\s+ten$/);
      expect(rows[1]).toMatch(/^v9\s.*first tag\s+nine$/);
    });

    it("says so when there is no tag", async () => {
      const result = await cli(tagRepo(), "tag", "--list");
      expect(result).toMatchObject({ code: 0, stderr: "" });
      expect(result.stdout).toContain("no tags yet");
    });
  });
});

/** greet says Hello at v1, Hi at v2, Hey at v3; HEAD is v3. */
function releasesRepo(): string {
  return gitRepo([
    {
      files: { "prompts/greet.yaml": greeting("Hello"), "prompts/shared/sig.yaml": SIGNATURE },
      tags: ["v1"],
    },
    { files: { "prompts/greet.yaml": greeting("Hi") }, tags: ["v2"] },
    { files: { "prompts/greet.yaml": greeting("Hey") }, tags: ["v3"] },
  ]);
}

function labelRefs(repo: string): string {
  return git(repo, "for-each-ref", "--format=%(refname)", "refs/prompts/labels/");
}

async function render(repo: string, ref: string): Promise<CliResult> {
  return cli(repo, "render", "greet", "--var", "name=Ada", "--ref", ref);
}

describe("prompts label", () => {
  it("points a label at a ref: a git ref under refs/prompts/labels/ that --ref reads", async () => {
    const repo = releasesRepo();
    const result = await cli(repo, "label", "production", "v1");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toContain(`production: (new) → v1 (${sha(repo, "v1").slice(0, 12)})`);
    expect(result.stdout).not.toContain("rollback");
    expect(labelRefs(repo)).toBe("refs/prompts/labels/production\n");

    expect((await render(repo, "production")).stdout).toBe("Hello Ada! Regards\n");
    const listed = await listAt(repo, "production");
    expect(listed.prompts).toEqual(await listAt(repo, "v1").then((data) => data.prompts));
    expect((await cli(repo, "validate", "--ref", "production")).code).toBe(0);
  });

  it("moving it is a deploy, moving it back a rollback; --ref follows it", async () => {
    const repo = releasesRepo();
    const short = (ref: string) => sha(repo, ref).slice(0, 12);
    expect((await cli(repo, "label", "production", "v1")).code).toBe(0);

    const deploy = await cli(repo, "label", "production", "v2");
    expect(deploy).toMatchObject({ code: 0, stderr: "" });
    expect(deploy.stdout).toContain(`production: v1 (${short("v1")}) → v2 (${short("v2")})`);
    expect(deploy.stdout).not.toContain("rollback");
    expect((await render(repo, "production")).stdout).toBe("Hi Ada! Regards\n");
    expect(await versionAt(repo, "production", "greet")).toBe(await versionAt(repo, "v2", "greet"));

    const rollback = await cli(repo, "label", "production", "v1");
    expect(rollback).toMatchObject({ code: 0, stderr: "" });
    expect(rollback.stdout).toContain(`production: v2 (${short("v2")}) → v1 (${short("v1")})`);
    expect(rollback.stdout).toContain("rollback");
    expect((await render(repo, "production")).stdout).toBe("Hello Ada! Regards\n");
    expect(labelRefs(repo)).toBe("refs/prompts/labels/production\n");
  });

  it("promotes what one label deploys to another: label production staging", async () => {
    const repo = releasesRepo();
    expect((await cli(repo, "label", "staging", "v2")).code).toBe(0);
    const result = await cli(repo, "label", "production", "staging");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toContain(`(${sha(repo, "v2").slice(0, 12)})`);
    expect((await render(repo, "production")).stdout).toBe("Hi Ada! Regards\n");
  });

  it("--history lists every move newest first, with the refs named", async () => {
    const repo = releasesRepo();
    for (const ref of ["v1", "v2", "v3", "v2"]) {
      expect((await cli(repo, "label", "production", ref)).code).toBe(0);
    }
    expect((await cli(repo, "label", "staging", "v3")).code).toBe(0);

    const result = await cli(repo, "label", "--history", "production");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const [header, ...rows] = lines(result.stdout);
    expect(header).toMatch(/^MOVED\s+TO\s+BY$/);
    expect(rows).toHaveLength(4);
    ["v2", "v3", "v2", "v1"].forEach((ref, index) => {
      expect(rows[index]).toMatch(
        new RegExp(`^\\S+\\s+${ref} \\(${sha(repo, ref).slice(0, 12)}\\)\\s+Test Author$`),
      );
    });

    const json = await cli(repo, "label", "--history", "production", "--json");
    const data = JSON.parse(json.stdout) as {
      label: string;
      moves: { ref: string; target: string }[];
    };
    expect(data.label).toBe("production");
    expect(data.moves.map((move) => [move.ref, move.target])).toEqual(
      ["v2", "v3", "v2", "v1"].map((ref) => [ref, sha(repo, ref)]),
    );
  });

  it("lists the labels with where they point and since when; ENV shows one", async () => {
    const repo = releasesRepo();
    expect((await cli(repo, "label")).stdout).toContain("no labels yet");
    expect((await cli(repo, "label", "production", "v1")).code).toBe(0);
    expect((await cli(repo, "label", "staging", "v2")).code).toBe(0);
    expect((await cli(repo, "label", "production", "v3")).code).toBe(0);
    const since = (label: string) =>
      git(repo, "log", "-1", "--format=%aI", `refs/prompts/labels/${label}`).trim();

    const all = await cli(repo, "label");
    expect(all).toMatchObject({ code: 0, stderr: "" });
    const [header, ...rows] = lines(all.stdout);
    expect(header).toMatch(/^LABEL\s+POINTS AT\s+SINCE\s+BY$/);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(
      new RegExp(
        `^production\\s+v3 \\(${sha(repo, "v3").slice(0, 12)}\\)\\s+${since("production").replace(/\+/g, "\\+")}\\s+Test Author$`,
      ),
    );
    expect(rows[1]).toMatch(
      new RegExp(`^staging\\s+v2 \\(${sha(repo, "v2").slice(0, 12)}\\)\\s+\\d{4}-`),
    );

    const one = await cli(repo, "label", "staging");
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^staging\s+v2 /m);
    expect(one.stdout).not.toContain("production");

    const json = await cli(repo, "label", "--json");
    const data = JSON.parse(json.stdout) as { labels: Record<string, unknown>[] };
    expect(data.labels).toEqual([
      expect.objectContaining({ label: "production", ref: "v3", target: sha(repo, "v3") }),
      expect.objectContaining({ label: "staging", ref: "v2", target: sha(repo, "v2") }),
    ]);
  });

  it("refuses to point at a ref whose prompts are invalid, unless --force", async () => {
    const repo = releasesRepo();
    commit(repo, { "prompts/greet.yaml": GREETING_BROKEN }, "break greet");

    const refused = await cli(repo, "label", "production", "HEAD");
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(/^prompts\/greet\.yaml:3:9: error: /m);
    expect(refused.stderr).toMatch(/^✗ refusing to point production at HEAD/m);
    expect(refused.stderr).not.toMatch(STACK_LINE);
    expect(labelRefs(repo)).toBe("");

    const forced = await cli(repo, "label", "production", "HEAD", "--force");
    expect(forced.code).toBe(0);
    expect(labelRefs(repo)).toBe("refs/prompts/labels/production\n");
    const listed = await cli(repo, "list", "--ref", "production");
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain("prompts/greet.yaml:3:9: error:");
  });

  it("--delete removes a label", async () => {
    const repo = releasesRepo();
    expect((await cli(repo, "label", "production", "v1")).code).toBe(0);
    expect((await cli(repo, "label", "staging", "v2")).code).toBe(0);
    const result = await cli(repo, "label", "--delete", "production");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toContain("production");
    expect(labelRefs(repo)).toBe("refs/prompts/labels/staging\n");
    expectOneLineError(await cli(repo, "label", "production"), 1, '"production"');
    expectOneLineError(await cli(repo, "list", "--ref", "production"), 1, '"production"');
    expectOneLineError(await cli(repo, "label", "--delete", "production"), 1, '"production"');
  });

  it.each([
    ["move", ["label", "bad name", "v1"]],
    ["move", ["label", "bad..name", "v1"]],
    ["move", ["label", "a/b", "v1"]],
    ["move", ["label", "x.lock", "v1"]],
    // Named like a commit id, a label would shadow that commit wherever a ref is read.
    ["move", ["label", "0123456789abcdef0123456789abcdef01234567", "v1"]],
    ["show", ["label", "bad name"]],
    ["history", ["label", "--history", "bad name"]],
    ["delete", ["label", "--delete", "bad name"]],
  ])("a bad label name is wrong usage, exit 2 (%s: %j)", async (_how, argv) => {
    const repo = releasesRepo();
    const result = await cli(repo, ...argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^✗ [^\n]+cannot be a label[^\n]+\n$/);
    expect(labelRefs(repo)).toBe("");
  });

  it("--history of an unknown label: one line, exit 1", async () => {
    const repo = releasesRepo();
    expect((await cli(repo, "label", "production", "v1")).code).toBe(0);
    expectOneLineError(await cli(repo, "label", "--history", "staging"), 1, '"staging"');
  });

  it("survives push and fetch: a clone sees the labels and reads --ref from them", async () => {
    const repo = releasesRepo();
    git(repo, "checkout", "-q", "-b", "wip", "v1");
    commit(repo, { "prompts/wip.yaml": "template: Only on a local branch\n" }, "wip");
    git(repo, "checkout", "-q", "main");
    expect((await cli(repo, "label", "production", "v2")).code).toBe(0);
    // staging deploys a commit that is never pushed: the label carries its prompts.
    expect((await cli(repo, "label", "staging", "wip")).code).toBe(0);

    const remote = join(tempDir(), "remote.git");
    git(repo, "init", "-q", "--bare", "-b", "main", remote);
    git(repo, "remote", "add", "origin", remote);
    git(repo, "push", "-q", "origin", "main", "--tags");
    git(repo, "push", "-q", "origin", "refs/prompts/*:refs/prompts/*");

    const clone = join(tempDir(), "clone");
    git(repo, "clone", "-q", remote, clone);
    git(clone, "fetch", "-q", "origin", "+refs/prompts/*:refs/prompts/*");
    expect(labelRefs(clone)).toBe("refs/prompts/labels/production\nrefs/prompts/labels/staging\n");

    const listed = await cli(clone, "label");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`^production\\s+v2 \\(${sha(repo, "v2").slice(0, 12)}\\)`, "m"),
    );
    expect(listed.stdout).toMatch(/^staging\s+wip /m);

    expect((await render(clone, "production")).stdout).toBe("Hi Ada! Regards\n");
    expect(await versionAt(clone, "production", "greet")).toBe(
      await versionAt(repo, "v2", "greet"),
    );
    const staging = await listAt(clone, "staging");
    expect(staging.prompts.map((prompt) => prompt.name)).toEqual(["greet", "shared/sig", "wip"]);

    const history = await cli(clone, "label", "--history", "production");
    expect(history.code).toBe(0);
    expect(lines(history.stdout)).toHaveLength(2);
  });
});
