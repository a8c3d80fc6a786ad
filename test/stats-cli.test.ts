import { describe, expect, it } from "vitest";
import type { StatsReport } from "../src/core/stats.js";
import { createServer } from "../src/server/app.js";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { cli, expectOneLineError, tempDir } from "./helpers.js";
import { GREETING } from "./sample-prompts.js";

/** A usage store where variant b succeeds far more often than default. */
function storeWithExperiment(): string {
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) {
    const variant = i % 2 === 0 ? "default" : "b";
    const id = `u${i}`;
    lines.push(
      JSON.stringify({
        type: "usage",
        id,
        ts: "2026-11-01T00:00:00Z",
        name: "greeting",
        version: "aaaaaaaaaaaa",
        variant,
        unit: `user-${i}`,
      }),
    );
    const success = variant === "b" ? i % 10 !== 1 : i % 2 === 0 && i % 4 === 0;
    lines.push(
      JSON.stringify({
        type: "outcome",
        id: `o${i}`,
        ts: "2026-11-01T00:00:01Z",
        usage_id: id,
        success,
        score: success ? 1 : 0,
        latency_ms: 100 + (i % 50),
      }),
    );
  }
  return tempDir({
    "prompts/greeting.yaml": GREETING,
    ".prompts/usage/events.jsonl": `${lines.join("\n")}\n`,
  });
}

describe("prompts stats", () => {
  it("prints each variant with its rates and the difference to the control, marked significant", async () => {
    const result = await cli(storeWithExperiment(), "stats", "--by", "variant");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/greeting by variant; control: default/);
    expect(result.stdout).toMatch(/^default\s+200\s+200\s+/m);
    expect(result.stdout).toMatch(/^b\s+200\s+200\s+.*success \+\d+\.\d pts .*✓/m);
  });

  it("--json prints the report as data", async () => {
    const result = await cli(
      storeWithExperiment(),
      "--json",
      "stats",
      "greeting",
      "--by",
      "variant",
    );
    const report = JSON.parse(result.stdout) as StatsReport;
    expect(report.by).toBe("variant");
    const [prompt] = report.prompts;
    expect(prompt?.control).toBe("default");
    const b = prompt?.groups.find((group) => group.key === "b");
    expect(b?.vsControl?.success?.significant).toBe(true);
    expect(b?.success.rate).toBeCloseTo(0.8, 2);
  });

  it("says so when nothing was recorded, and refuses bad options with exit 2", async () => {
    const empty = tempDir({ "prompts/greeting.yaml": GREETING });
    expect((await cli(empty, "stats")).stdout).toBe("no usage recorded yet\n");
    expect((await cli(empty, "stats", "--by", "color")).code).toBe(2);
    const since = await cli(empty, "stats", "--since", "yesterday");
    expect(since.code).toBe(2);
    expect(since.stderr).toMatch(/--since takes a date/);
  });

  it("--from reads the statistics of a prompts serve", async () => {
    const root = storeWithExperiment();
    const server = await createServer({ root, port: 0, log: () => {} });
    try {
      const remote = await cli(
        tempDir(),
        "--json",
        "stats",
        "--by",
        "variant",
        "--from",
        server.url,
      );
      const local = await cli(root, "--json", "stats", "--by", "variant");
      expect(remote.code).toBe(0);
      expect(JSON.parse(remote.stdout)).toEqual(JSON.parse(local.stdout));
    } finally {
      await server.close();
    }
  });

  it("NAME that is no prompt and has no usage: exit 1 naming it, also with --json", async () => {
    const root = storeWithExperiment();
    for (const argv of [
      ["stats", "greting"],
      ["--json", "stats", "greting"],
    ]) {
      expectOneLineError(
        await cli(root, ...argv),
        1,
        '✗ no prompt named "greting" (run: prompts list)',
      );
    }
  });

  it("NAME of a prompt without usage yet is no error", async () => {
    const root = tempDir({ "prompts/greeting.yaml": GREETING });
    const result = await cli(root, "stats", "greeting");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toBe('no usage recorded for "greeting" yet\n');
  });

  it("NAME of a prompt deleted from the tree still shows its usage, in a period or out", async () => {
    const root = storeWithExperiment();
    rmSync(join(root, "prompts/greeting.yaml"));
    const result = await cli(root, "stats", "greeting");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^greeting by version; control: /);
    const later = await cli(root, "stats", "greeting", "--since", "2027-01-01");
    expect(later).toMatchObject({ code: 0, stderr: "" });
    expect(later.stdout).toBe('no usage recorded for "greeting" in that period\n');
  });

  it("--from: NAME the server neither serves nor has usage of is exit 1", async () => {
    const root = tempDir({ "prompts/greeting.yaml": GREETING });
    const server = await createServer({ root, port: 0, log: () => {} });
    try {
      const elsewhere = tempDir();
      expectOneLineError(
        await cli(elsewhere, "stats", "greting", "--from", server.url),
        1,
        `no prompt named "greting" served by ${server.url}`,
      );
      const served = await cli(elsewhere, "stats", "greeting", "--from", server.url);
      expect(served).toMatchObject({ code: 0, stdout: 'no usage recorded for "greeting" yet\n' });
    } finally {
      await server.close();
    }
  });
});
