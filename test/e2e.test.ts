import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN, git, gitRepo, PROJECT_ROOT, runBin, tempDir } from "./helpers.js";

const GREETING = `description: Greets someone by name.
variables:
  name: string
template: |
  Hello {{name}}!
`;

/** An unknown key on line 3: `prompts/greeting.yaml:3:1` when it replaces the greeting. */
const BROKEN = `description: A typo in a key.
template: Hi
templat: Hi again
`;

const ESC = "\u001b";
const STACK_LINE = /^ {4}at /m;

beforeAll(() => {
  if (!existsSync(join(PROJECT_ROOT, "dist", "cli", "main.js"))) {
    throw new Error("dist/ is missing: run `npm run build` before the end-to-end tests");
  }
});

describe("the built binary", () => {
  it.each([
    ["a valid tree", { "prompts/greeting.yaml": GREETING }, ["validate"], 0],
    [
      "a render",
      { "prompts/greeting.yaml": GREETING },
      ["render", "greeting", "--var", "name=A"],
      0,
    ],
    ["an invalid tree", { "prompts/greeting.yaml": BROKEN }, ["validate"], 1],
    ["an unknown prompt", { "prompts/greeting.yaml": GREETING }, ["render", "nope"], 1],
    ["a missing variable", { "prompts/greeting.yaml": GREETING }, ["render", "greeting"], 1],
    ["no prompt directory", {}, ["list"], 1],
    ["an unknown command", {}, ["bogus"], 2],
    ["an unknown option", {}, ["validate", "--bogus"], 2],
    ["a missing argument", {}, ["render"], 2],
    ["a bad --format", {}, ["validate", "--format", "xml"], 2],
    [
      "--var without =",
      { "prompts/greeting.yaml": GREETING },
      ["render", "greeting", "--var", "x"],
      2,
    ],
  ])("exits with the real status for %s", (_label, files, argv, status) => {
    const dir = tempDir(files);
    const result = runBin(dir, [...argv, "--no-cache"]);
    expect(result.code).toBe(status);
    if (status === 0) expect(result.stderr).toBe("");
    else expect(result.stderr).toMatch(/^✗ |^prompts\/greeting\.yaml:3:1: error:/);
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it.each([[["--version"]], [["--help"]]])("%j exits 0 with output on stdout", (argv) => {
    const result = runBin(tempDir(), argv);
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBeGreaterThan(0);
    expect(result.stderr).toBe("");
  });

  it("renders answerer_prompt of this repository with --vars examples/infos.json", () => {
    const infos = (
      JSON.parse(readFileSync(join(PROJECT_ROOT, "examples/infos.json"), "utf8")) as {
        infos: string[];
      }
    ).infos;
    const result = runBin(PROJECT_ROOT, [
      "render",
      "answerer_prompt",
      "--var",
      "user_query=What is RAG?",
      "--vars",
      "examples/infos.json",
      "--no-cache",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(infos.length).toBeGreaterThan(0);
    for (const info of infos) expect(result.stdout).toContain(`- ${info}\n`);
    expect(result.stdout).toContain("What is RAG?");
    // Only the prompt: no status line, no colour, no leftover tags.
    expect(result.stdout).not.toMatch(/✓|✗|\{\{|\}\}/);
    expect(result.stdout).not.toContain(ESC);
    expect(result.stdout.trimEnd().endsWith("What is RAG?")).toBe(true);
  });

  it("renders the same text from a copy of prompts/ with the parse cache cold and warm", () => {
    const dir = tempDir();
    cpSync(join(PROJECT_ROOT, "prompts"), join(dir, "prompts"), { recursive: true });
    cpSync(join(PROJECT_ROOT, "examples"), join(dir, "examples"), { recursive: true });
    const argv = [
      "render",
      "answerer_prompt",
      "--var",
      "user_query=What is RAG?",
      "--vars",
      "examples/infos.json",
    ];
    const cold = runBin(dir, argv);
    expect(cold).toMatchObject({ code: 0, stderr: "" });
    expect(existsSync(join(dir, ".prompts", "cache"))).toBe(true);
    const warm = runBin(dir, argv);
    expect(warm).toEqual(cold);
    const uncached = runBin(PROJECT_ROOT, [...argv, "--no-cache"]);
    expect(uncached.stdout).toBe(cold.stdout);
  });

  describe("colour", () => {
    const files = {
      "prompts/greeting.yaml": GREETING,
      "prompts/broken.yaml": BROKEN,
    };

    it.each([
      ["NO_COLOR=1", { NO_COLOR: "1" }, []],
      ["NO_COLOR=1 and FORCE_COLOR=1", { NO_COLOR: "1", FORCE_COLOR: "1" }, []],
      ["--no-color and FORCE_COLOR=1", { NO_COLOR: "", FORCE_COLOR: "1" }, ["--no-color"]],
    ])("prints no escape codes with %s", (_label, env, flags) => {
      const dir = tempDir(files);
      const list = runBin(dir, [...flags, "list"], env);
      expect(list.code).toBe(1);
      expect(list.stdout).toMatch(/^greeting\s/m);
      expect(list.stderr).toContain("prompts/broken.yaml:3:1: error:");
      expect(list.stdout + list.stderr).not.toContain(ESC);
      const validate = runBin(dir, [...flags, "validate"], env);
      expect(validate.stderr).toContain("✗");
      expect(validate.stdout + validate.stderr).not.toContain(ESC);
    });

    it("colours when FORCE_COLOR=1 and NO_COLOR is not set (so the checks above can fail)", () => {
      const dir = tempDir(files);
      const list = runBin(dir, ["list"], { NO_COLOR: "", FORCE_COLOR: "1" });
      expect(list.code).toBe(1);
      expect(list.stdout).toContain(ESC);
      expect(list.stderr).toContain(ESC);
    });
  });

  describe("DEBUG", () => {
    it("adds a stack trace to a known error only when DEBUG is set", () => {
      const dir = tempDir({ "prompts/greeting.yaml": GREETING });
      const plain = runBin(dir, ["render", "nope", "--no-cache"]);
      expect(plain.code).toBe(1);
      expect(plain.stderr).toMatch(/^✗ prompt "nope" not found/);
      expect(plain.stderr).not.toMatch(STACK_LINE);
      expect(plain.stderr.trimEnd().split("\n")).toHaveLength(1);

      const debug = runBin(dir, ["render", "nope", "--no-cache"], { DEBUG: "1" });
      expect(debug.code).toBe(1);
      expect(debug.stderr).toMatch(/^✗ prompt "nope" not found/);
      expect(debug.stderr).toMatch(STACK_LINE);
    });
  });
});

describe("the pre-commit hook, with a real git commit", () => {
  /**
   * A PATH whose first folder holds a `prompts` command that runs the built binary, as a global
   * install would; each call of it is noted in `calls`.
   */
  function shimPath(): string {
    const dir = tempDir();
    writeFileSync(
      join(dir, "prompts"),
      `#!/bin/sh\necho "$*" >> '${join(dir, "calls")}'\nexec '${process.execPath}' '${BIN}' "$@"\n`,
    );
    chmodSync(join(dir, "prompts"), 0o755);
    return `${dir}:${process.env.PATH ?? ""}`;
  }

  function shimCalls(path: string): string {
    const calls = join(path.split(":")[0] ?? "", "calls");
    return existsSync(calls) ? readFileSync(calls, "utf8") : "";
  }

  function commit(cwd: string, path: string, message: string) {
    const result = spawnSync("git", ["commit", "-m", message], {
      cwd,
      encoding: "utf8",
      env: { ...process.env, PATH: path },
      timeout: 30_000,
    });
    return { code: result.status, output: `${result.stdout}${result.stderr}` };
  }

  function commitCount(repo: string): number {
    return Number(git(repo, "rev-list", "--count", "HEAD").trim());
  }

  function installHook(repo: string): void {
    const installed = runBin(repo, ["hook", "install"]);
    expect(installed).toMatchObject({ code: 0, stderr: "" });
    expect(installed.stdout).toContain(join(repo, ".git", "hooks", "pre-commit"));
  }

  it.each([
    ["a prompts command on PATH", shimPath],
    ["the hook's fallback to the package's bin", () => process.env.PATH ?? ""],
  ])("blocks a commit of a broken prompt and lets the fix through, using %s", (_label, path) => {
    const repo = gitRepo([
      {
        files: {
          ".gitignore": ".prompts/\n",
          "prompts/greeting.yaml": GREETING,
          "prompts/other.yaml": "template: Other.\n",
        },
      },
    ]);
    installHook(repo);
    const env = path();

    writeFileSync(join(repo, "prompts/greeting.yaml"), BROKEN);
    git(repo, "add", "prompts/greeting.yaml");
    const blocked = commit(repo, env, "break the greeting");
    expect(blocked.code).not.toBe(0);
    expect(blocked.output).toContain('prompts/greeting.yaml:3:1: error: unknown key "templat"');
    expect(commitCount(repo)).toBe(1);
    expect(git(repo, "log", "--format=%s")).not.toContain("break the greeting");

    writeFileSync(join(repo, "prompts/greeting.yaml"), GREETING.replace("Hello", "Hi"));
    git(repo, "add", "prompts/greeting.yaml");
    const fixed = commit(repo, env, "fix the greeting");
    expect(fixed.output).not.toContain("error:");
    expect(fixed.code).toBe(0);
    expect(commitCount(repo)).toBe(2);
    expect(git(repo, "log", "-1", "--format=%s").trim()).toBe("fix the greeting");
    if (env !== process.env.PATH) {
      expect(shimCalls(env)).toBe("-C . validate --staged\n-C . validate --staged\n");
    }
  });

  it("does not block good staged content because of a bad edit left unstaged", () => {
    const repo = gitRepo([
      {
        files: {
          ".gitignore": ".prompts/\n",
          "prompts/greeting.yaml": GREETING,
          "prompts/other.yaml": "template: Other.\n",
        },
      },
    ]);
    installHook(repo);
    const env = shimPath();
    writeFileSync(join(repo, "prompts/added.yaml"), "template: A new prompt.\n");
    git(repo, "add", "prompts/added.yaml");
    writeFileSync(join(repo, "prompts/other.yaml"), BROKEN);
    writeFileSync(join(repo, "prompts/untracked.yaml"), BROKEN);

    const result = commit(repo, env, "add a prompt");
    expect(result.output).not.toContain("error:");
    expect(result.code).toBe(0);
    expect(commitCount(repo)).toBe(2);
    expect(git(repo, "show", "--name-only", "--format=", "HEAD").trim()).toBe("prompts/added.yaml");
    // The bad edit is still there, unstaged, and still caught once it is staged.
    expect(git(repo, "status", "--porcelain", "prompts/other.yaml").trim()).toBe(
      "M prompts/other.yaml",
    );
    git(repo, "add", "prompts/other.yaml");
    expect(commit(repo, env, "now break it").code).not.toBe(0);
    expect(commitCount(repo)).toBe(2);
  });

  it("checks what `git commit -a` would commit", () => {
    const repo = gitRepo([
      { files: { ".gitignore": ".prompts/\n", "prompts/greeting.yaml": GREETING } },
    ]);
    installHook(repo);
    const env = shimPath();
    writeFileSync(join(repo, "prompts/greeting.yaml"), BROKEN);
    const result = spawnSync("git", ["commit", "-a", "-m", "all"], {
      cwd: repo,
      encoding: "utf8",
      env: { ...process.env, PATH: env },
    });
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain("prompts/greeting.yaml:3:1: error:");
    expect(commitCount(repo)).toBe(1);
  });

  it("installed from a package below the top of the repository, checks that package", () => {
    const repo = gitRepo([
      {
        files: {
          ".gitignore": ".prompts/\n",
          "packages/app/prompts.config.yaml": "dir: prompts\n",
          "packages/app/prompts/greeting.yaml": GREETING,
        },
      },
    ]);
    const app = join(repo, "packages/app");
    expect(runBin(app, ["hook", "install"]).code).toBe(0);
    const env = shimPath();

    writeFileSync(join(app, "prompts/greeting.yaml"), BROKEN);
    git(repo, "add", "packages/app/prompts/greeting.yaml");
    const blocked = commit(repo, env, "break the package");
    expect(blocked.code).not.toBe(0);
    expect(blocked.output).toContain("prompts/greeting.yaml:3:1: error:");
    expect(commitCount(repo)).toBe(1);

    writeFileSync(join(app, "prompts/greeting.yaml"), GREETING.replace("Hello", "Hi"));
    git(repo, "add", "packages/app/prompts/greeting.yaml");
    expect(commit(repo, env, "fix the package").code).toBe(0);
    expect(commitCount(repo)).toBe(2);
  });

  it("still runs the hook it found, and stops when that one fails", () => {
    const repo = gitRepo([{ files: { "prompts/greeting.yaml": GREETING } }]);
    const marker = join(tempDir(), "marker");
    const hook = join(repo, ".git/hooks/pre-commit");
    writeFileSync(hook, `#!/bin/sh\necho ran >> '${marker}'\nexit 0\n`);
    chmodSync(hook, 0o755);
    installHook(repo);
    const env = shimPath();

    writeFileSync(join(repo, "prompts/more.yaml"), "template: More.\n");
    git(repo, "add", "prompts/more.yaml");
    expect(commit(repo, env, "more").code).toBe(0);
    expect(readFileSync(marker, "utf8")).toBe("ran\n");

    writeFileSync(
      join(repo, ".git/hooks/pre-commit.before-gitprompts"),
      `#!/bin/sh\necho ran >> '${marker}'\necho "earlier hook says no" >&2\nexit 1\n`,
    );
    writeFileSync(join(repo, "prompts/more.yaml"), "template: Even more.\n");
    git(repo, "add", "prompts/more.yaml");
    const blocked = commit(repo, env, "even more");
    expect(blocked.code).not.toBe(0);
    expect(blocked.output).toContain("earlier hook says no");
    expect(readFileSync(marker, "utf8")).toBe("ran\nran\n");
    expect(commitCount(repo)).toBe(2);
  });
});
