import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StatsReport } from "../src/core/stats.js";
import { createServer } from "../src/server/app.js";
import { cli, STACK_LINE, tempDir } from "./helpers.js";
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

  it("skips a JSON line that is not a valid event with a warning, as a torn line, locally and --from a server", async () => {
    const root = storeWithExperiment();
    appendFileSync(
      join(root, ".prompts/usage/events.jsonl"),
      [
        JSON.stringify({ type: "usage", id: "x1", ts: "2026-11-01T00:00:00Z", name: "greeting" }),
        JSON.stringify({
          type: "usage",
          id: "x2",
          ts: "2026-11-01T00:00:00Z",
          name: 1,
          version: "v",
        }),
        "",
      ].join("\n"),
    );
    const warnings = [
      "warning: .prompts/usage/events.jsonl:801: not a valid usage event (version: required); skipped",
      "warning: .prompts/usage/events.jsonl:802: not a valid usage event (name: must be a non-empty string, got 1); skipped",
    ];
    const local = await cli(root, "stats", "--by", "variant");
    expect(local.stderr).not.toMatch(STACK_LINE);
    expect(local.code).toBe(0);
    expect(local.stdout).toMatch(/^default\s+200\s+200\s+/m);
    expect(local.stderr.trimEnd().split("\n")).toEqual(warnings);

    const server = await createServer({ root, port: 0, log: () => {} });
    try {
      const remote = await cli(tempDir(), "stats", "--by", "variant", "--from", server.url);
      expect(remote.code).toBe(0);
      expect(remote.stdout).toBe(local.stdout);
      expect(remote.stderr.trimEnd().split("\n")).toEqual(warnings);
    } finally {
      await server.close();
    }
  });
});
