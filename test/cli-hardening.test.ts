import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { BIN, git, gitRepo, writeFiles } from "./helpers.js";

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
