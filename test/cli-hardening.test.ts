import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import {
  BIN,
  cli,
  expectOneLineError,
  git,
  gitRepo,
  STACK_LINE,
  tempDir,
  writeFiles,
} from "./helpers.js";
import { GREETING } from "./sample-prompts.js";

/** `count` prompts whose text says `word`: enough of them overflow any pipe buffer. */
function manyPrompts(count: number, word: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    files[`prompts/p${i}.yaml`] =
      `description: Prompt number ${i}, described at some length so that lines are long.\ntemplate: ${word} number ${i}\n`;
  }
  return files;
}

/**
 * Runs the built binary with its stdout read by a reader that stops after the first line and
 * closes the pipe, as `head -1` does; resolves with the exit status, signal and stderr.
 */
function runIntoHead(
  cwd: string,
  argv: string[],
): Promise<{ first: string; code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let first = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => (stderr += chunk));
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      first = line;
      lines.close();
      child.stdout.destroy();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ first, code, signal, stderr }));
  });
}

describe("output into a pipe the reader closes early", () => {
  it.each([
    ["list", ["list"]],
    ["diff v1 v2", ["diff", "v1", "v2"]],
  ])(
    "prompts %s | head -1 exits 0 without an EPIPE stack",
    async (_what, argv) => {
      const repo = gitRepo([{ files: manyPrompts(2000, "Hello"), tags: ["v1"] }]);
      writeFiles(repo, manyPrompts(2000, "Goodbye"));
      git(repo, "commit", "-qam", "Say goodbye");
      git(repo, "tag", "v2");

      const result = await runIntoHead(repo, argv);
      expect(result.first).not.toBe("");
      expect(result.stderr).toBe("");
      expect(result).toMatchObject({ code: 0, signal: null });
    },
    60_000,
  );
});

/** A prompt whose text says `word`. */
function greeting(word: string): string {
  return `description: Greets someone.\nvariables:\n  name: string\ntemplate: ${word} {{name}}!\n`;
}

/** greet says Hello at v1, Hi at v2, Hey at v3 on main; the branch hotfix forks from v1. */
function releasesRepo(): string {
  const repo = gitRepo([
    { files: { "prompts/greet.yaml": greeting("Hello") }, tags: ["v1"] },
    { files: { "prompts/greet.yaml": greeting("Hi") }, tags: ["v2"] },
    { files: { "prompts/greet.yaml": greeting("Hey") }, tags: ["v3"] },
  ]);
  git(repo, "checkout", "-q", "-b", "hotfix", "v1");
  writeFiles(repo, { "prompts/greet.yaml": greeting("Hello again") });
  git(repo, "commit", "-qam", "hotfix");
  git(repo, "checkout", "-q", "main");
  return repo;
}

function sha(repo: string, ref: string): string {
  return git(repo, "rev-parse", `${ref}^{commit}`).trim();
}

function labelRefs(repo: string): string {
  return git(repo, "for-each-ref", "--format=%(refname)", "refs/prompts/labels/");
}

/** How many moves the history of `label` records. */
function recordedMoves(repo: string, label: string): number {
  return Number(git(repo, "rev-list", "--count", `refs/prompts/labels/${label}`).trim());
}

describe("prompts label: names git keeps for itself", () => {
  it.each([
    ["HEAD"],
    ["FETCH_HEAD"],
    ["ORIG_HEAD"],
    ["MERGE_HEAD"],
    ["CHERRY_PICK_HEAD"],
    ["head"],
    ["-x"],
    ["refs/heads/main"],
    ["refs/prompts/labels/production"],
  ])("refuses to make a label named %s: exit 2, nothing created", async (name) => {
    const repo = releasesRepo();
    // After "--" a name starting with "-" reaches the command instead of commander.
    const result = await cli(repo, "label", "--", name, "v1");
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(new RegExp(`^✗ "${name}" cannot be a label: [^\\n]+\\n$`));
    expect(labelRefs(repo)).toBe("");
  });

  it("says that git uses HEAD itself, and the same for show, --history and --delete", async () => {
    const repo = releasesRepo();
    for (const argv of [
      ["label", "HEAD", "v1"],
      ["label", "HEAD"],
      ["label", "--history", "FETCH_HEAD"],
      ["label", "--delete", "ORIG_HEAD"],
    ]) {
      expectOneLineError(await cli(repo, ...argv), 2, "git uses that name itself");
    }
  });

  it("a label named HEAD made by hand does not shadow HEAD when a ref is read", async () => {
    const repo = releasesRepo();
    expect((await cli(repo, "label", "production", "v1")).code).toBe(0);
    git(repo, "update-ref", "refs/prompts/labels/HEAD", "refs/prompts/labels/production");
    const rendered = await cli(repo, "render", "greet", "--var", "name=Ada", "--ref", "HEAD");
    expect(rendered).toMatchObject({ code: 0, stdout: "Hey Ada!\n" });
  });
});

describe("prompts label: what a move says", () => {
  it("a move forward is a deploy, even to a commit the label deployed before", async () => {
    const repo = releasesRepo();
    for (const ref of ["v1", "v2", "v1"]) {
      expect((await cli(repo, "label", "production", ref)).code).toBe(0);
    }
    const forward = await cli(repo, "label", "production", "v2");
    expect(forward).toMatchObject({ code: 0, stderr: "" });
    expect(forward.stdout).toBe(
      `production: v1 (${sha(repo, "v1").slice(0, 12)}) → v2 (${sha(repo, "v2").slice(0, 12)}), 1 prompt\n`,
    );
    const json = await cli(repo, "label", "production", "v3", "--json");
    expect(JSON.parse(json.stdout)).toMatchObject({ kind: "deploy", move: { ref: "v3" } });
  });

  it("a move back to an earlier deploy is a rollback that says when that deploy was", async () => {
    const repo = releasesRepo();
    expect((await cli(repo, "label", "production", "v1")).code).toBe(0);
    const history = await cli(repo, "label", "--history", "production", "--json");
    const [firstDeploy] = (JSON.parse(history.stdout) as { moves: { date: string }[] }).moves;
    expect((await cli(repo, "label", "production", "v3")).code).toBe(0);
    const back = await cli(repo, "label", "production", "v1");
    expect(back.stdout).toMatch(/, 1 prompt — a rollback to the deploy of \S+\n$/);
    expect(back.stdout).toContain(`the deploy of ${firstDeploy?.date}`);
  });

  it("a move to an ancestor never deployed is a rollback; to another branch, neither", async () => {
    const repo = releasesRepo();
    expect((await cli(repo, "label", "production", "v3")).code).toBe(0);
    const back = await cli(repo, "label", "production", "v2");
    expect(back.stdout).toMatch(/ — a rollback to an older commit\n$/);
    const sideways = await cli(repo, "label", "production", "hotfix");
    expect(sideways).toMatchObject({ code: 0, stderr: "" });
    expect(sideways.stdout).toMatch(/^production: v2 \(\w+\) → hotfix \(\w+\), 1 prompt\n$/);
  });

  it("pointing a label where it already points says so and records nothing", async () => {
    const repo = releasesRepo();
    expect((await cli(repo, "label", "production", "v2")).code).toBe(0);
    const before = sha(repo, "refs/prompts/labels/production");
    git(repo, "branch", "release", "v2");
    const again = await cli(repo, "label", "production", "release");
    expect(again).toMatchObject({ code: 0, stderr: "" });
    expect(again.stdout).toMatch(
      new RegExp(
        `^production already points at v2 \\(${sha(repo, "v2").slice(0, 12)}\\), since \\S+: nothing to do\\n$`,
      ),
    );
    expect(sha(repo, "refs/prompts/labels/production")).toBe(before);
    expect(recordedMoves(repo, "production")).toBe(1);
  });

  it("the tables do not repeat their headers in the cells", async () => {
    const repo = releasesRepo();
    expect((await cli(repo, "label", "production", "v1")).code).toBe(0);
    expect((await cli(repo, "label", "production", "v2")).code).toBe(0);
    const date = git(repo, "log", "-1", "--format=%aI", "refs/prompts/labels/production").trim();

    const [header, row] = (await cli(repo, "label")).stdout.split("\n");
    expect(header).toMatch(/^LABEL\s+POINTS AT\s+SINCE\s+BY$/);
    expect(row).toBe(`production  v2 (${sha(repo, "v2").slice(0, 12)})  ${date}  Test Author`);

    const history = (await cli(repo, "label", "--history", "production")).stdout.split("\n");
    expect(history[0]).toMatch(/^MOVED\s+TO\s+BY$/);
    expect(history[1]).toMatch(/^\S+\s+v2 \(\w{12}\)\s+Test Author$/);
    expect(history.join("\n")).not.toMatch(/\b(since|by) /);
  });
});

describe("prompts label: two moves at once", () => {
  it("the move that finds the label being moved says so in one line and records nothing", async () => {
    const repo = releasesRepo();
    expect((await cli(repo, "label", "production", "v1")).code).toBe(0);
    const before = sha(repo, "refs/prompts/labels/production");
    // What git leaves while another command is in the middle of moving the label.
    const lock = join(repo, ".git", "refs", "prompts", "labels", "production.lock");
    writeFileSync(lock, "");
    const loser = await cli(repo, "label", "production", "v2");
    expectOneLineError(loser, 1, "label production moved while this command ran; run it again");
    expect(loser.stderr).not.toContain("cannot lock ref");
    expect(sha(repo, "refs/prompts/labels/production")).toBe(before);
  });

  it("of concurrent processes each deploys or says in one line that it lost", async () => {
    const repo = releasesRepo();
    expect((await cli(repo, "label", "production", "v1")).code).toBe(0);
    const refs = ["v2", "v3", "hotfix", "v2", "v3", "hotfix"];
    // Processes that start together race most of the time; try again until one has lost.
    const deadline = Date.now() + 40_000;
    let lost = 0;
    while (lost === 0 && Date.now() < deadline) {
      const movesBefore = recordedMoves(repo, "production");
      const results = await Promise.all(
        refs.map((ref) => runBinAsync(repo, ["label", "production", ref])),
      );
      for (const result of results) {
        if (result.code === 0) continue;
        lost += 1;
        expect(result.code).toBe(1);
        expect(result.stdout).toBe("");
        expect(result.stderr).toMatch(
          /^✗ label production moved while this command ran; run it again[^\n]*\n$/,
        );
        expect(result.stderr).not.toMatch(STACK_LINE);
      }
      const moved = results.filter((result) => result.code === 0 && result.stdout.includes("→"));
      expect(recordedMoves(repo, "production")).toBe(movesBefore + moved.length);
    }
    expect(lost).toBeGreaterThan(0);
  }, 60_000);
});

/** Runs the built binary without blocking, so several run at once. */
function runBinAsync(
  cwd: string,
  argv: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], {
      cwd,
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("each subcommand's --help and usage errors", () => {
  const commands = [
    "list",
    "render",
    "validate",
    "publish",
    "diff",
    "init",
    "log",
    "tag",
    "label",
    "serve",
    "typegen",
    "promote",
    "stats",
    "hook",
    "hook install",
    "hook uninstall",
  ];

  it.each(commands)(
    "prompts %s --help shows examples and the global options it honours",
    async (path) => {
      const result = await cli(tempDir(), ...path.split(" "), "--help");
      expect(result).toMatchObject({ code: 0, stderr: "" });
      expect(result.stdout).toMatch(new RegExp(`\\nExamples:\\n(  \\$ prompts .+\\n){2,4}`));
      expect(result.stdout).toContain(`  $ prompts ${path}`);
      expect(result.stdout).toMatch(
        /\nGlobal options it honours: -C <dir>[^\n]*\(see: prompts --help\)\n$/,
      );
    },
  );

  it("lists only the global options a command honours", async () => {
    const list = (await cli(tempDir(), "list", "--help")).stdout;
    expect(list).toContain(
      "Global options it honours: -C <dir>, --dir <path>, --json, --no-color, --no-cache",
    );
    const init = (await cli(tempDir(), "init", "--help")).stdout;
    expect(init).toContain("Global options it honours: -C <dir>, --dir <path> (see");
  });

  it.each([
    ["an unknown option", ["list", "--bogus"], "unknown option '--bogus'", "list"],
    ["a missing argument", ["render"], "missing required argument 'name'", "render"],
    ["too many arguments", ["label", "a", "b", "c"], "too many arguments for 'label'", "label"],
    [
      "an option without its value",
      ["stats", "--by"],
      "option '--by <what>' argument missing",
      "stats",
    ],
    [
      "an unknown option of a nested command",
      ["hook", "install", "--x"],
      "unknown option '--x'",
      "hook install",
    ],
    ["an unknown nested command", ["hook", "nosuch"], "unknown command 'nosuch'", "hook"],
  ])(
    "%s: commander's message and that command's help to read, one line, exit 2",
    async (_what, argv, message, path) => {
      const result = await cli(tempDir(), ...argv);
      expectOneLineError(result, 2, message);
      expect(result.stderr).toMatch(new RegExp(` \\(run: prompts ${path} --help\\)\\n$`));
    },
  );

  it.each([
    [
      "label --delete without ENV",
      ["label", "--delete"],
      "usage: prompts label --delete ENV",
      "label",
    ],
    ["serve with an empty token", ["serve", "--token", ""], "--token is empty", "serve"],
    [
      "stats with an unknown --method",
      ["stats", "--method", "best"],
      "--method takes always-valid or fixed",
      "stats",
    ],
  ])(
    "a usage error a command finds itself (%s) points at its help on the same line",
    async (_what, argv, message, path) => {
      const result = await cli(
        gitRepo([{ files: { "prompts/greeting.yaml": GREETING } }]),
        ...argv,
      );
      expectOneLineError(result, 2, message, `(run: prompts ${path} --help)`);
    },
  );

  it("an unknown command points at the program's help", async () => {
    const result = await cli(tempDir(), "lsit");
    expectOneLineError(result, 2, "✗ unknown command 'lsit' (Did you mean list?)");
    expect(result.stderr).toMatch(/ \(run: prompts --help\)\n$/);
  });
});
