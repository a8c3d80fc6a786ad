import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, expectOneLineError, git, gitRepo, runBin, tempDir, writeFiles } from "./helpers.js";

/** The greeting prompt with one word changed per commit, so every ref shows its own text. */
function greeting(word: string): string {
  return `description: Greets someone.
variables:
  name: string
template: |
  ${word} {{name}}!
`;
}

const SIGNATURE = "description: Signs off.\ntemplate: Regards\n";

/** An unknown key on line 3 and a bad type on line 2: two errors at known places. */
const BROKEN = `variables:
  name: strng
templat: Hello {{name}}
`;

/**
 * main: Hello (v1) → Hi (v2, branch `release`) → Hey → Howdy (HEAD); the label `production`
 * deploys v2. The working tree has an uncommitted edit and an untracked prompt.
 */
async function historyRepo(): Promise<string> {
  const repo = gitRepo([
    {
      files: { "prompts/greet.yaml": greeting("Hello"), "prompts/shared/sig.yaml": SIGNATURE },
      tags: ["v1"],
    },
    { files: { "prompts/greet.yaml": greeting("Hi") }, tags: ["v2"] },
    { files: { "prompts/greet.yaml": greeting("Hey") } },
    { files: { "prompts/greet.yaml": greeting("Howdy") } },
  ]);
  git(repo, "branch", "release", "v2");
  const labelled = await cli(repo, "label", "production", "v2");
  expect(labelled.code).toBe(0);
  writeFiles(repo, {
    "prompts/greet.yaml": greeting("Working tree"),
    "prompts/untracked.yaml": "template: Not committed\n",
  });
  return repo;
}

/** Everything `git` says about the state of the work tree, the index and HEAD. */
function repoState(repo: string, ...statusFlags: string[]) {
  return {
    status: git(repo, "status", "--porcelain", ...statusFlags),
    head: git(repo, "rev-parse", "HEAD"),
    branch: git(repo, "symbolic-ref", "HEAD"),
    index: git(repo, "ls-files", "--stage"),
    stash: git(repo, "stash", "list"),
    greet: readFileSync(join(repo, "prompts", "greet.yaml"), "utf8"),
  };
}

interface ListedJson {
  prompts: { name: string; version: string; file: string }[];
  issues: { file: string; line: number; col: number; code: string }[];
}

async function listJson(cwd: string, ...argv: string[]): Promise<ListedJson> {
  const result = await cli(cwd, ...argv, "--json");
  return JSON.parse(result.stdout) as ListedJson;
}

/** The version `prompts list` gives `text` as prompts/greet.yaml in a fresh directory. */
async function versionOf(text: string): Promise<string | undefined> {
  const data = await listJson(tempDir({ "prompts/greet.yaml": text }), "list");
  return data.prompts[0]?.version;
}

const REFS: { how: string; ref: (repo: string) => string; word: string }[] = [
  { how: "a tag", ref: () => "v1", word: "Hello" },
  { how: "a branch", ref: () => "release", word: "Hi" },
  { how: "a full commit sha", ref: (repo) => git(repo, "rev-parse", "HEAD~2").trim(), word: "Hi" },
  {
    how: "a short commit sha",
    ref: (repo) => git(repo, "rev-parse", "--short", "HEAD~1").trim(),
    word: "Hey",
  },
  { how: "HEAD~3", ref: () => "HEAD~3", word: "Hello" },
  { how: "HEAD", ref: () => "HEAD", word: "Howdy" },
  { how: "a label", ref: () => "production", word: "Hi" },
];

describe("--ref reads the prompts of a ref from git objects", () => {
  it.each(REFS)("list, render and validate read $how", async ({ ref, word }) => {
    const repo = await historyRepo();
    const at = ref(repo);

    const list = await cli(repo, "list", "--ref", at, "--json");
    expect(list).toMatchObject({ code: 0, stderr: "" });
    const data = JSON.parse(list.stdout) as ListedJson;
    // The untracked prompt of the working tree is not at any ref.
    expect(data.prompts.map((prompt) => prompt.name)).toEqual(["greet", "shared/sig"]);
    expect(data.prompts[0]).toMatchObject({
      file: "prompts/greet.yaml",
      version: await versionOf(greeting(word)),
    });

    const table = await cli(repo, "list", "--ref", at);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^greet\s+[0-9a-f]{12}\s+name\s+-\s+Greets someone\.$/m);
    expect(table.stdout).not.toContain("untracked");

    const render = await cli(repo, "render", "greet", "--var", "name=Ada", "--ref", at);
    expect(render).toEqual({ code: 0, stdout: `${word} Ada!\n`, stderr: "" });

    const validate = await cli(repo, "validate", "--ref", at);
    expect(validate).toEqual({ code: 0, stdout: "✓ 2 prompt files, all valid\n", stderr: "" });
  });

  it("leaves the working tree, the index and HEAD as they were: no checkout", async () => {
    const repo = await historyRepo();
    const before = repoState(repo);
    for (const ref of ["v1", "release", "HEAD~3", "production"]) {
      expect((await cli(repo, "list", "--ref", ref)).code).toBe(0);
      expect((await cli(repo, "render", "greet", "--var", "name=A", "--ref", ref)).code).toBe(0);
      expect((await cli(repo, "validate", "--ref", ref)).code).toBe(0);
    }
    expect(repoState(repo)).toEqual(before);
    expect(before.greet).toBe(greeting("Working tree"));
    // The working tree still reads as the working tree.
    const render = await cli(repo, "render", "greet", "--var", "name=Ada");
    expect(render.stdout).toBe("Working tree Ada!\n");
  });

  it("writes no file at all into the repository with --no-cache, not even an ignored one", async () => {
    const repo = await historyRepo();
    const before = repoState(repo, "--ignored", "--untracked-files=all");
    for (const command of [["list"], ["validate"], ["render", "greet", "--var", "name=A"]]) {
      expect((await cli(repo, "--no-cache", ...command, "--ref", "v1")).code).toBe(0);
    }
    expect(repoState(repo, "--ignored", "--untracked-files=all")).toEqual(before);
  });

  it("reports the same issues and versions at a ref as in the same working tree", async () => {
    const repo = gitRepo([
      {
        files: {
          "prompts/greet.yaml": greeting("Hello"),
          "prompts/shared/sig.yaml": SIGNATURE,
          "prompts/broken.yaml": BROKEN,
        },
      },
    ]);
    const commit = git(repo, "rev-parse", "HEAD").trim();
    for (const command of [
      ["list"],
      ["list", "--json"],
      ["validate"],
      ["validate", "--format", "json"],
      ["render", "greet"],
      ["render", "greet", "--var", "name=Ada", "--var", "extra=1"],
      ["render", "broken"],
    ]) {
      const worktree = await cli(repo, ...command);
      const atRef = await cli(repo, ...command, "--ref", commit);
      expect(atRef).toEqual(worktree);
    }
    const validate = await cli(repo, "validate", "--ref", commit);
    expect(validate.code).toBe(1);
    expect(validate.stderr).toContain("prompts/broken.yaml:2:9: error:");
    expect(validate.stderr).toContain("prompts/broken.yaml:3:1: error:");
    const render = await cli(repo, "render", "greet", "--ref", commit);
    expect(render.code).toBe(1);
    expect(render.stderr).toContain("name");
  });

  it("works for a project in a subdirectory of the repository (-C packages/app)", async () => {
    const repo = gitRepo([
      {
        files: {
          "packages/app/prompts/greet.yaml": greeting("Hello"),
          "packages/app/package.json": "{}\n",
          "prompts/decoy.yaml": "template: Not this project's\n",
        },
        tags: ["v1"],
      },
      { files: { "packages/app/prompts/greet.yaml": greeting("Hi") } },
    ]);
    const app = ["-C", "packages/app"];

    const data = await listJson(repo, ...app, "list", "--ref", "v1");
    expect(data).toEqual({
      prompts: [
        expect.objectContaining({
          name: "greet",
          file: "prompts/greet.yaml",
          version: await versionOf(greeting("Hello")),
        }),
      ],
      issues: [],
    });
    const render = await cli(repo, ...app, "render", "greet", "--var", "name=Ada", "--ref", "v1");
    expect(render).toEqual({ code: 0, stdout: "Hello Ada!\n", stderr: "" });
    const head = await cli(repo, ...app, "render", "greet", "--var", "name=Ada", "--ref", "HEAD");
    expect(head.stdout).toBe("Hi Ada!\n");
    const validate = await cli(repo, ...app, "validate", "--ref", "HEAD~1");
    expect(validate).toEqual({ code: 0, stdout: "✓ 1 prompt file, all valid\n", stderr: "" });

    writeFiles(repo, { "packages/app/prompts/greet.yaml": BROKEN });
    git(repo, "commit", "-q", "-am", "break it");
    const broken = await cli(repo, ...app, "validate", "--ref", "HEAD");
    expect(broken.code).toBe(1);
    // Files are named from the project's root, as in its working tree.
    expect(broken.stderr).toMatch(/^prompts\/greet\.yaml:2:9: error:/m);
  });
});

describe("--ref errors: one line, exit 1", () => {
  const COMMANDS: { command: string; argv: string[] }[] = [
    { command: "list", argv: ["list"] },
    { command: "render", argv: ["render", "greet", "--var", "name=A"] },
    { command: "validate", argv: ["validate"] },
  ];

  it.each(COMMANDS)("$command: an unknown ref names it", async ({ argv }) => {
    const repo = await historyRepo();
    for (const ref of ["no-such-tag", "v9.9.9", "HEAD~40", "0123456789abcdef0123"]) {
      expectOneLineError(await cli(repo, ...argv, "--ref", ref), 1, `"${ref}"`);
    }
  });

  it.each(COMMANDS)("$command: a ref without the prompt directory", async ({ argv }) => {
    const repo = gitRepo([
      { files: { "README.md": "before prompts\n" } },
      { files: { "prompts/greet.yaml": greeting("Hello") } },
    ]);
    expect((await cli(repo, ...argv, "--ref", "HEAD")).code).toBe(0);
    expectOneLineError(await cli(repo, ...argv, "--ref", "HEAD~1"), 1, "prompts/", '"HEAD~1"');
  });

  it.each(COMMANDS)("$command: not a git repository", async ({ argv }) => {
    const dir = tempDir({ "prompts/greet.yaml": greeting("Hello") });
    expect((await cli(dir, ...argv)).code).toBe(0);
    expectOneLineError(await cli(dir, ...argv, "--ref", "HEAD"), 1, "not a git repository", dir);
  });

  it.each(COMMANDS)("$command: a shallow clone without the older commit", async ({ argv }) => {
    const repo = gitRepo([
      { files: { "prompts/greet.yaml": greeting("Hello") } },
      { files: { "prompts/greet.yaml": greeting("Hi") } },
    ]);
    const old = git(repo, "rev-parse", "HEAD~1").trim();
    const clone = join(tempDir(), "clone");
    git(repo, "clone", "-q", "--depth", "1", `file://${repo}`, clone);
    expect(git(clone, "rev-parse", "--is-shallow-repository").trim()).toBe("true");

    expect((await cli(clone, ...argv, "--ref", "HEAD")).code).toBe(0);
    expectOneLineError(await cli(clone, ...argv, "--ref", "HEAD~1"), 1, '"HEAD~1"');
    expectOneLineError(await cli(clone, ...argv, "--ref", old), 1, old.slice(0, 12));
  });

  it.each(COMMANDS)("$command: a prompt file's blob missing from git", async ({ argv }) => {
    const repo = gitRepo([
      {
        files: {
          "prompts/greet.yaml": greeting("Hello"),
          "prompts/shared/sig.yaml": SIGNATURE,
        },
      },
    ]);
    const blob = git(repo, "rev-parse", "HEAD:prompts/greet.yaml").trim();
    // A damaged object store, or a partial clone that cannot fetch: the object is not there.
    rmSync(join(repo, ".git", "objects", blob.slice(0, 2), blob.slice(2)));
    expectOneLineError(await cli(repo, ...argv, "--ref", "HEAD"), 1, blob, "missing");
  });
});

describe("--ref and git processes", () => {
  /** A `git` on PATH that logs each call to `log` and runs the real git. */
  function gitShim(): { path: string; calls: () => string[] } {
    const real = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    expect(real).not.toBe("");
    const dir = tempDir();
    const log = join(dir, "calls.log");
    writeFileSync(log, "");
    const shim = join(dir, "git");
    writeFileSync(shim, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${real}' "$@"\n`);
    chmodSync(shim, 0o755);
    return {
      path: `${dir}:${process.env.PATH ?? ""}`,
      calls: () => readFileSync(log, "utf8").split("\n").filter(Boolean),
    };
  }

  function repoOf(count: number): string {
    const files: Record<string, string> = {};
    for (let i = 0; i < count; i++) {
      files[`prompts/group${i % 7}/p${i}.yaml`] = `template: Prompt number ${i}\n`;
    }
    return gitRepo([{ files, tags: ["v1"] }]);
  }

  it.each([
    { command: "list", argv: ["list", "--ref", "v1"] },
    { command: "validate", argv: ["validate", "--ref", "v1"] },
  ])("$command --ref starts as many git processes for 200 prompts as for 5", ({ argv }) => {
    const [few = [], many = []] = [5, 200].map((prompts) => {
      const repo = repoOf(prompts);
      const shim = gitShim();
      const result = runBin(repo, argv, { PATH: shim.path });
      expect(result.code).toBe(0);
      expect(result.stderr).toBe("");
      if (argv[0] === "list") expect(result.stdout.trim().split("\n")).toHaveLength(prompts + 1);
      else expect(result.stdout).toBe(`✓ ${prompts} prompt files, all valid\n`);
      return shim.calls();
    });
    expect(few.length).toBeGreaterThan(0);
    expect(many.length, many.join("\n")).toBe(few.length);
    // The prefix, one batch-check for the ref and its tree, ls-tree, one cat-file --batch.
    expect(many.length, `git processes:\n${many.join("\n")}`).toBeLessThanOrEqual(4);
  });
});
