import { appendFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mulberry32, type StatsReport } from "../src/core/stats.js";
import { createServer } from "../src/server/app.js";
import { cli, expectOneLineError, runBin, STACK_LINE, tempDir } from "./helpers.js";
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

  it("by variant: names the method, checks the split against the prompt's weights, withholds marks when it is broken", async () => {
    // The built CLI on a real usage file: 2,000 units, b better by 10 points.
    const balanced = await experimentStore(0.5);
    const ok = runBin(balanced, ["stats", "--by", "variant"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^method: always-valid \(mSPRT, 95% confidence sequences/m);
    expect(ok.stdout).toMatch(
      /^split: 50\.0% \/ 50\.0% observed for 50 \/ 50 configured \(default \/ b; p=1\.000 over 2000 units of version [0-9a-f]{12}\)$/m,
    );
    expect(ok.stdout).toMatch(/SUCCESS \(95% CS\)/);
    expect(ok.stdout).toMatch(/^b\s+1000\s+1000\s+.*success \+\d+\.\d pts .*✓/m);

    const broken = await experimentStore(0.6);
    const result = runBin(broken, ["stats", "--by", "variant"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^✗ the split is broken: 40\.0% \/ 60\.0% observed for 50 \/ 50 configured \(default \/ b; .* check assignment before trusting results; significance marks withheld$/m,
    );
    expect(result.stdout).toMatch(/success \+\d+\.\d pts .*\(withheld: split broken\)/);
    expect(result.stdout).not.toMatch(/✓/);
    expect(result.stderr).toMatch(/^warning: greeting: the split is broken/m);
  });

  it("--method fixed, --correction none and --plan --lift; bad values are usage errors", async () => {
    const root = await experimentStore(0.5);
    const fixed = await cli(root, "stats", "--by", "variant", "--method", "fixed");
    expect(fixed.stdout).toMatch(
      /^method: fixed-horizon .*valid for one look at a sample size fixed in advance$/m,
    );
    expect(fixed.stdout).toMatch(/SUCCESS \(95% CI\)/);
    const json = JSON.parse(
      (await cli(root, "--json", "stats", "--by", "variant", "--method", "fixed")).stdout,
    ) as StatsReport;
    expect(json.method).toBe("fixed");
    expect(json.prompts[0]?.groups[1]?.vsControl?.success?.method).toBe("fixed");

    const plan = await cli(
      root,
      "stats",
      "greeting",
      "--by",
      "variant",
      "--plan",
      "--lift",
      "0.05",
    );
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(
      /^ {2}success \+5\.0 pts from 50\.9%: 1,5\d\d with --method fixed, [\d,]+ always-valid; the smallest group has 1,000$/m,
    );
    const uncorrected = JSON.parse(
      (await cli(root, "--json", "stats", "--by", "variant", "--correction", "none")).stdout,
    ) as StatsReport;
    expect(uncorrected.correction).toBe("none");
    for (const args of [
      ["--method", "bayes"],
      ["--correction", "bonferroni"],
      ["--plan"],
      ["--lift", "0.05"],
      ["--plan", "--lift", "five"],
    ]) {
      const bad = await cli(root, "stats", ...args);
      expect(bad.code, args.join(" ")).toBe(2);
      expect(bad.stderr).toMatch(/^✗ --(method|correction|plan|lift) /);
    }
  });

  it("/v1/stats takes method, correction and lift, checks the split against what it serves, and names a bad parameter", async () => {
    const root = await experimentStore(0.6);
    const server = await createServer({ root, port: 0, log: () => {} });
    try {
      const response = await fetch(`${server.url}/v1/stats?by=variant&method=fixed&lift=0.05`);
      const report = (await response.json()) as StatsReport;
      expect(report.method).toBe("fixed");
      expect(report.prompts[0]?.srm?.status).toBe("mismatch");
      expect(report.prompts[0]?.plan?.success?.fixed).toBeGreaterThan(1000);
      const remote = await cli(
        tempDir(),
        "--json",
        "stats",
        "--by",
        "variant",
        "--method",
        "fixed",
        "--plan",
        "--lift",
        "0.05",
        "--from",
        server.url,
      );
      expect(JSON.parse(remote.stdout)).toEqual(report);
      for (const [query, parameter] of [
        ["method=bayes", "method"],
        ["correction=x", "correction"],
        ["lift=0", "lift"],
      ] as const) {
        const bad = await fetch(`${server.url}/v1/stats?${query}`);
        expect(bad.status).toBe(400);
        expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
          new RegExp(`^${parameter}: `),
        );
      }
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
    expect(result.stdout).toMatch(/^greeting by version; control: /m);
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

const SPLIT_PROMPT = `description: Greets someone, in two ways.
variables:
  name: string
template: Hello {{name}}!
variants:
  b:
    weight: 50
    template: Hi {{name}}!
`;

/**
 * A repository whose usage store holds 2,000 units of the prompt's current version, a share
 * `toB` of them in b, b succeeding 60% of the time and default 50% (seeded).
 */
async function experimentStore(toB: number): Promise<string> {
  const root = tempDir({ "prompts/greeting.yaml": SPLIT_PROMPT });
  const listed = JSON.parse((await cli(root, "--json", "list")).stdout) as unknown;
  const version = /"version":"([0-9a-f]{12})"/.exec(JSON.stringify(listed))?.[1];
  const random = mulberry32(2026);
  const lines: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const variant = i < 2000 * toB ? "b" : "default";
    const id = `u${i}`;
    lines.push(
      JSON.stringify({
        type: "usage",
        id,
        ts: "2026-11-01T00:00:00Z",
        name: "greeting",
        version,
        variant,
        unit: `user-${i}`,
      }),
      JSON.stringify({
        type: "outcome",
        id: `o${i}`,
        ts: "2026-11-01T00:00:01Z",
        usage_id: id,
        success: random() < (variant === "b" ? 0.6 : 0.5),
      }),
    );
  }
  mkdirSync(join(root, ".prompts", "usage"), { recursive: true });
  writeFileSync(join(root, ".prompts", "usage", "events.jsonl"), `${lines.join("\n")}\n`);
  return root;
}
