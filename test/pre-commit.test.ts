import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, git, gitRepo, PROJECT_ROOT, writeFiles } from "./helpers.js";
import { GREETING } from "./sample-prompts.js";

/** A prompt with a misspelt key: `validate` reports it at line 3. */
const BROKEN = `description: A typo in a key.
template: Hi
templat: Hi again
`;

/** Not even YAML: a work in progress nobody staged. */
const HALF_WRITTEN = "template: [unfinished\n";

// Hooks and the framework need `node` and `npm`; the test's own node goes first on PATH.
const PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`;

/** A `git commit` in `repo`: its exit status and everything it and its hooks printed. */
function commit(repo: string, env: NodeJS.ProcessEnv, message: string) {
  const result = spawnSync("git", ["commit", "-m", message], {
    cwd: repo,
    encoding: "utf8",
    env: { ...env, PATH },
    timeout: 60_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function commitCount(repo: string): number {
  return Number(git(repo, "rev-list", "--count", "HEAD").trim());
}

const preCommit = spawnSync("pre-commit", ["--version"], { encoding: "utf8" });
const hasPreCommit = preCommit.status === 0;
if (!hasPreCommit) {
  console.warn(
    "test/pre-commit.test.ts skipped: `pre-commit` is not on PATH (apt-get install pre-commit, or pip install pre-commit; .ci/run installs it)",
  );
}

describe.skipIf(!hasPreCommit)("the pre-commit framework hook (.pre-commit-hooks.yaml)", () => {
  // Outside helpers' tempDir, which is emptied after every test: one hook install serves all.
  let scratch = "";
  let env: NodeJS.ProcessEnv = {};
  let config = "";

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), "gitprompts-pre-commit-"));
    env = { ...process.env, PATH, PRE_COMMIT_HOME: join(scratch, "cache") };
    // The framework installs the hook from a git repository at a commit: this one, at HEAD.
    const hookRepo = join(scratch, "gitprompts");
    git(scratch, "clone", "--quiet", PROJECT_ROOT, hookRepo);
    // A branch, so the commit is reachable however the framework fetches it.
    git(hookRepo, "checkout", "--quiet", "-B", "under-test");
    const rev = git(hookRepo, "rev-parse", "HEAD").trim();
    config = `repos:\n  - repo: ${hookRepo}\n    rev: ${rev}\n    hooks:\n      - id: prompts-validate\n`;

    // The install (npm install, npm pack, npm install -g) happens once, here, for all cases.
    const repo = join(scratch, "first-install");
    git(scratch, "init", "--quiet", repo);
    writeFileSync(join(repo, ".pre-commit-config.yaml"), config);
    const install = spawnSync("pre-commit", ["install-hooks"], {
      cwd: repo,
      encoding: "utf8",
      env,
      timeout: 230_000,
    });
    expect(install.status, `${install.stdout}${install.stderr}`).toBe(0);
  }, 240_000);

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** A repository with `files` and the config committed, and the framework's git hook installed. */
  function projectRepo(files: Record<string, string>): string {
    const repo = gitRepo([{ files: { ...files, ".pre-commit-config.yaml": config } }]);
    const install = spawnSync("pre-commit", ["install"], { cwd: repo, encoding: "utf8", env });
    expect(install.stdout).toContain("pre-commit installed");
    return repo;
  }

  it("refuses a commit with a broken staged prompt and names the file", () => {
    const repo = projectRepo({ "prompts/greeting.yaml": GREETING });
    writeFiles(repo, { "prompts/broken.yaml": BROKEN });
    git(repo, "add", "prompts/broken.yaml");

    const result = commit(repo, env, "add a broken prompt");
    expect(result.status).toBe(1);
    expect(result.output).toContain("prompts/broken.yaml:3:1: error:");
    expect(commitCount(repo)).toBe(1);
  });

  it("commits a valid staged prompt while an untracked file is broken", () => {
    const repo = projectRepo({ "prompts/greeting.yaml": GREETING });
    writeFiles(repo, { "prompts/welcome.yaml": GREETING, "prompts/draft.yaml": HALF_WRITTEN });
    git(repo, "add", "prompts/welcome.yaml");

    const result = commit(repo, env, "add welcome");
    expect(result.output).toMatch(/validate prompts\.+Passed/);
    expect(result.status).toBe(0);
    expect(commitCount(repo)).toBe(2);
    expect(git(repo, "status", "--porcelain")).toBe("?? prompts/draft.yaml\n");
  });

  it("checks the folder named by dir: in prompts.config.yaml", () => {
    const repo = projectRepo({
      "prompts.config.yaml": "dir: llm/prompts\n",
      "llm/prompts/greeting.yaml": GREETING,
    });
    writeFiles(repo, { "llm/prompts/broken.yaml": BROKEN });
    git(repo, "add", "llm/prompts/broken.yaml");

    const result = commit(repo, env, "add a broken prompt under llm/");
    expect(result.status).toBe(1);
    expect(result.output).toContain("llm/prompts/broken.yaml:3:1: error:");
    expect(commitCount(repo)).toBe(1);
  });
});

describe("prompts hook install (our own git hook)", () => {
  const env = { ...process.env, PATH };

  it("checks what is staged: an untracked broken file does not block a commit", async () => {
    const repo = gitRepo([{ files: { "prompts/greeting.yaml": GREETING } }]);
    expect((await cli(repo, "hook", "install")).code).toBe(0);
    writeFiles(repo, { "prompts/welcome.yaml": GREETING, "prompts/draft.yaml": HALF_WRITTEN });
    git(repo, "add", "prompts/welcome.yaml");

    const result = commit(repo, env, "add welcome");
    expect(result.status).toBe(0);
    expect(commitCount(repo)).toBe(2);
  });

  it("refuses a broken staged prompt under the folder named by dir:", async () => {
    const repo = gitRepo([
      {
        files: {
          "prompts.config.yaml": "dir: llm/prompts\n",
          "llm/prompts/greeting.yaml": GREETING,
        },
      },
    ]);
    expect((await cli(repo, "hook", "install")).code).toBe(0);
    writeFiles(repo, { "llm/prompts/broken.yaml": BROKEN });
    git(repo, "add", "llm/prompts/broken.yaml");

    const result = commit(repo, env, "add a broken prompt under llm/");
    expect(result.status).toBe(1);
    expect(result.output).toContain("llm/prompts/broken.yaml:3:1: error:");
    expect(commitCount(repo)).toBe(1);
  });
});
