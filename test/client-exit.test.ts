import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { cli, PROJECT_ROOT, tempDir } from "./helpers.js";
import { GREETING } from "./sample-prompts.js";

/** The built library, as an application imports it (`npm test` builds before the tests). */
const LIBRARY = pathToFileURL(join(PROJECT_ROOT, "dist", "index.js")).href;

/**
 * An application that renders 50 times and then simply ends: no close(), no process.exit().
 * argv: the bundle path, then the usage file (or nothing for the default sink).
 */
const APP = `import { PromptClient } from ${JSON.stringify(LIBRARY)};
const [source, usage] = process.argv.slice(2);
const prompts = new PromptClient(usage === undefined ? { source } : { source, usage });
await prompts.ready();
for (let i = 0; i < 50; i++) prompts.render("greeting", { name: "user-" + i }, { unit: "u-" + i });
console.log("rendered " + prompts.pendingEvents);
`;

/** Runs `node script args` in `cwd`; resolves with its exit code and output, or fails after `timeoutMs`. */
function runNode(cwd: string, args: string[], timeoutMs = 10_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the application did not exit within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("PromptClient at process exit", () => {
  it.each([
    ["a usage file given", true],
    ["the default sink, .prompts/usage/ under the working directory", false],
  ])("an application that just ends flushes its queued usage events (%s)", async (_what, named) => {
    expect(existsSync(join(PROJECT_ROOT, "dist", "index.js")), "run npm run build").toBe(true);
    const root = tempDir({ "prompts/greeting.yaml": GREETING });
    const bundle = join(root, "dist", "prompts.json");
    expect((await cli(root, "publish", "--out", bundle)).code).toBe(0);
    const app = tempDir();
    writeFileSync(join(app, "app.mjs"), APP);
    const log = named ? join(app, "usage.jsonl") : join(app, ".prompts", "usage", "events.jsonl");

    const result = await runNode(app, ["app.mjs", bundle, ...(named ? [log] : [])]);
    expect(result.stderr).toBe("");
    expect(result).toMatchObject({ code: 0, stdout: "rendered 50\n" });

    const events = readFileSync(log, "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events).toHaveLength(50);
    expect(new Set(events.map((event) => event.id)).size).toBe(50);
    expect(events.map((event) => event.unit)).toEqual(
      Array.from({ length: 50 }, (_, i) => `u-${i}`),
    );
    for (const event of events) expect(event).toMatchObject({ type: "usage", name: "greeting" });
  });
});
