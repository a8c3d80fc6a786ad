import { describe, expect, it } from "vitest";
import {
  StatsAccumulator,
  twoProportionTest,
  welchTest,
  wilsonInterval,
  mulberry32,
} from "../src/core/stats.js";
import type { GroupStats, StatsOptions } from "../src/core/stats.js";
import { normalCdf, studentTQuantile, studentTTwoSided } from "../src/core/stats/distributions.js";
import type { OutcomeEvent, UsageEvent } from "../src/core/usage.js";

/** A standard normal draw (Box–Muller). */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function usage(id: string, fields: Partial<UsageEvent> = {}): UsageEvent {
  return {
    type: "usage",
    id,
    ts: "2024-05-01T12:00:00Z",
    name: "p",
    version: "v1",
    variant: "default",
    ...fields,
  };
}

function outcome(usageId: string, fields: Partial<OutcomeEvent> = {}): OutcomeEvent {
  return {
    type: "outcome",
    id: `o-${usageId}`,
    ts: "2024-05-01T12:00:01Z",
    usage_id: usageId,
    ...fields,
  };
}

interface Arm {
  variant: string;
  units: number;
  rate: number;
  scoreMean: number;
}

/** Feeds one experiment (a usage then its outcome per unit) and returns the report. */
function experiment(arms: Arm[], random: () => number, options?: Partial<StatsOptions>) {
  const stats = new StatsAccumulator({ by: "variant", ...options });
  for (const arm of arms) {
    for (let unit = 0; unit < arm.units; unit += 1) {
      const id = `${arm.variant}-${unit}`;
      stats.add(usage(id, { variant: arm.variant }));
      stats.add(
        outcome(id, {
          success: random() < arm.rate,
          score: arm.scoreMean + 0.2 * gaussian(random),
        }),
      );
    }
  }
  return stats.result();
}

function group(report: ReturnType<StatsAccumulator["result"]>, key: string): GroupStats {
  const found = report.prompts[0]?.groups.find((candidate) => candidate.key === key);
  if (found === undefined) throw new Error(`no group ${key}`);
  return found;
}

describe("statistical helpers", () => {
  it.each([
    [8, 10, [0.4902, 0.9433]],
    [0, 10, [0, 0.2775]],
    [10, 10, [0.7225, 1]],
    [50, 100, [0.4038, 0.5962]],
  ] as const)("wilsonInterval(%i, %i)", (successes, n, [low, high]) => {
    const [lo, hi] = wilsonInterval(successes, n);
    expect(lo).toBeCloseTo(low, 4);
    expect(hi).toBeCloseTo(high, 4);
  });

  it.each([
    [0, 0.5],
    [1, 0.8413447460685429],
    [1.96, 0.9750021048517795],
    [-3, 0.0013498980316300933],
    [-6, 9.865876450376946e-10],
  ])("normalCdf(%d)", (z, expected) => {
    expect(normalCdf(z)).toBeCloseTo(expected, 12);
    expect(normalCdf(z) / expected).toBeCloseTo(1, 8);
  });

  it.each([
    [2.228138851986274, 10, 0.975],
    [-1.5, 3, 0.11529193262241147],
    [0.7, 1, 0.6944001122142147],
    [3, 50, 0.9978991484064659],
    [2, 2.5, 0.9213042521210171],
    [1.96, 1e9, 0.9750021048517795],
  ])("P(T ≤ %d), df %d", (t, df, expected) => {
    const tail = studentTTwoSided(t, df) / 2;
    expect(t < 0 ? tail : 1 - tail).toBeCloseTo(expected, 10);
  });

  it.each([
    [1, 12.706204736174694],
    [10, 2.228138851986274],
    [30, 2.0422724563012378],
    [16.456543005493266, 2.1151355884311602],
  ])("studentTQuantile(0.975, df %d)", (df, expected) => {
    expect(studentTQuantile(0.975, df)).toBeCloseTo(expected, 8);
    expect(studentTQuantile(0.025, df)).toBeCloseTo(-expected, 8);
  });

  it("welchTest matches a hand-computed case (scipy ttest_ind_from_stats, equal_var=False)", () => {
    const test = welchTest({ n: 10, mean: 20, variance: 16 }, { n: 12, mean: 17, variance: 9 });
    expect(test.diff).toBe(3);
    expect(test.df).toBeCloseTo(16.456543005493266, 10);
    expect(test.p).toBeCloseTo(0.06753461342495401, 10);
    expect(test.ci95[0]).toBeCloseTo(-0.24244145822293506, 8);
    expect(test.ci95[1]).toBeCloseTo(6.242441458222935, 8);
  });

  it("welchTest handles degenerate samples", () => {
    expect(welchTest({ n: 5, mean: 1, variance: 0 }, { n: 5, mean: 1, variance: 0 }).p).toBe(1);
    expect(welchTest({ n: 5, mean: 2, variance: 0 }, { n: 5, mean: 1, variance: 0 }).p).toBe(0);
    expect(welchTest({ n: 1, mean: 2, variance: 0 }, { n: 5, mean: 1, variance: 1 }).p).toBeNaN();
  });

  it("twoProportionTest: pooled z for p, unpooled interval", () => {
    const test = twoProportionTest(60, 100, 45, 100);
    expect(test.diff).toBeCloseTo(0.15, 12);
    expect(test.z).toBeCloseTo(2.1239769762143657, 10);
    expect(test.p).toBeCloseTo(0.033672068856345855, 10);
    expect(test.ci95[0]).toBeCloseTo(0.01315, 4);
    expect(test.ci95[1]).toBeCloseTo(0.28685, 4);
    expect(twoProportionTest(10, 10, 20, 20).p).toBe(1);
  });
});

describe("StatsAccumulator", () => {
  it("finds a real 5-point difference in success rate with 10,000 units per arm", () => {
    const report = experiment(
      [
        { variant: "default", units: 10_000, rate: 0.5, scoreMean: 0.6 },
        { variant: "b", units: 10_000, rate: 0.55, scoreMean: 0.6 },
      ],
      mulberry32(42),
    );
    expect(report.prompts[0]?.control).toBe("default");
    const arm = group(report, "b");
    const success = arm.vsControl?.success;
    expect(success?.significant).toBe(true);
    expect(success?.p).toBeLessThan(1e-6);
    expect(success?.ci95[0]).toBeLessThan(0.05);
    expect(success?.ci95[1]).toBeGreaterThan(0.05);
    expect(group(report, "default").vsControl).toBeUndefined();
  });

  it("calls A/A differences significant in about 5% of trials or fewer", () => {
    const random = mulberry32(2024);
    const trials = 200;
    let successFlags = 0;
    let scoreFlags = 0;
    for (let trial = 0; trial < trials; trial += 1) {
      const report = experiment(
        [
          { variant: "default", units: 300, rate: 0.3, scoreMean: 0.6 },
          { variant: "b", units: 300, rate: 0.3, scoreMean: 0.6 },
        ],
        random,
      );
      const versus = group(report, "b").vsControl;
      if (versus?.success?.significant === true) successFlags += 1;
      if (versus?.score?.significant === true) scoreFlags += 1;
    }
    console.log(
      `A/A: success rate significant in ${successFlags}/${trials}, score in ${scoreFlags}/${trials}`,
    );
    expect(successFlags).toBeLessThanOrEqual(15);
    expect(scoreFlags).toBeLessThanOrEqual(15);
  });

  it("8 units per arm get the sample-size warning and no mark, however large the difference", () => {
    const report = experiment(
      [
        { variant: "default", units: 8, rate: 0, scoreMean: 0.1 },
        { variant: "b", units: 8, rate: 1, scoreMean: 0.9 },
      ],
      mulberry32(8),
    );
    const arm = group(report, "b");
    expect(arm.warnings).toEqual(["fewer than 30 outcomes: not enough to judge"]);
    expect(arm.vsControl?.success?.significant).toBe(false);
    expect(arm.vsControl?.score?.significant).toBe(false);
  });

  it("keeps a mark made at an earlier look: the report of the whole history never un-marks it", () => {
    // b leads 70% to 50% over the first 200 units per arm, then both run at 50% for 3,000 more:
    // whoever ran the report after the lead saw b marked, and must still see it marked.
    const stats = new StatsAccumulator({ by: "variant" });
    for (let unit = 0; unit < 3200; unit += 1) {
      for (const variant of ["default", "b"]) {
        const id = `${variant}-${unit}`;
        const rate = unit < 200 && variant === "b" ? 0.7 : 0.5;
        stats.add(usage(id, { variant }));
        // Exact rates, no noise: every tenth unit decides by its index.
        stats.add(outcome(id, { success: unit % 10 < rate * 10 }));
      }
      if (unit === 199) {
        expect(group(stats.result(), "b").vsControl?.success?.significant).toBe(true);
      }
    }
    const success = group(stats.result(), "b").vsControl?.success;
    expect(success).toMatchObject({ significant: true, method: "always-valid" });
    expect(success?.diff).toBeCloseTo(0.0125, 6);
    expect(success?.ci95[0]).toBeGreaterThan(0);
    // The fixed-horizon test looks once, at the end, where 1.25 points are noise.
    const fixed = new StatsAccumulator({ by: "variant", method: "fixed" });
    for (let unit = 0; unit < 3200; unit += 1) {
      for (const variant of ["default", "b"]) {
        const id = `${variant}-${unit}`;
        const rate = unit < 200 && variant === "b" ? 0.7 : 0.5;
        fixed.add(usage(id, { variant }));
        fixed.add(outcome(id, { success: unit % 10 < rate * 10 }));
      }
    }
    expect(group(fixed.result(), "b").vsControl?.success).toMatchObject({
      significant: false,
      method: "fixed",
    });
  });

  it("A/A through the report, looked at after every outcome: marked in at most 5% of 200", () => {
    const random = mulberry32(606);
    let marked = 0;
    for (let trial = 0; trial < 200; trial += 1) {
      const stats = new StatsAccumulator({ by: "variant" });
      for (let unit = 0; unit < 600; unit += 1) {
        for (const variant of ["default", "b"]) {
          const id = `${variant}-${unit}`;
          stats.add(usage(id, { variant }));
          stats.add(outcome(id, { success: random() < 0.2 }));
        }
      }
      if (group(stats.result(), "b").vsControl?.success?.significant === true) marked += 1;
    }
    // Measured: 2/200 (1.0%): the report follows each comparison outcome by outcome, from 30
    // outcomes per arm on, so this is the rate of ever being marked over 570 looks.
    console.log(`A/A through the report, every outcome: ${marked}/200`);
    expect(marked).toBeLessThanOrEqual(10);
  });

  it("corrects several arms against one control with Holm, and says how many", () => {
    const report = experiment(
      [
        { variant: "default", units: 2000, rate: 0.5, scoreMean: 0.6 },
        { variant: "b", units: 2000, rate: 0.5, scoreMean: 0.6 },
        { variant: "c", units: 2000, rate: 0.6, scoreMean: 0.6 },
        { variant: "d", units: 2000, rate: 0.5, scoreMean: 0.6 },
      ],
      mulberry32(31),
    );
    expect(report.correction).toBe("holm");
    expect(report.prompts[0]?.comparisons).toBe(3);
    const c = group(report, "c").vsControl?.success;
    expect(c?.pAdjusted).toBeGreaterThan(c?.p ?? 1);
    expect(c?.significant).toBe(true);
  });

  it("keeps memory bounded: 200,000 usage+outcome pairs leave nothing pending", () => {
    const random = mulberry32(7);
    const stats = new StatsAccumulator({ by: "version" });
    for (let i = 0; i < 200_000; i += 1) {
      const id = `u${i}`;
      const version = i % 2 === 0 ? "v1" : "v2";
      // Every tenth outcome arrives before its usage.
      if (i % 10 === 0) stats.add(outcome(id, { latency_ms: random() * 1000 }));
      stats.add(usage(id, { version }));
      if (i % 10 !== 0) stats.add(outcome(id, { latency_ms: random() * 1000 }));
    }
    expect(stats.pendingUsages).toBe(0);
    expect(stats.waitingOutcomes).toBe(0);
    const report = stats.result();
    const v1 = group(report, "v1");
    expect(v1.usages).toBe(100_000);
    expect(v1.outcomes).toBe(100_000);
    expect(v1.latency.n).toBe(100_000);
    expect(v1.latency.p50).toBeGreaterThan(480);
    expect(v1.latency.p50).toBeLessThan(520);
    expect(v1.latency.p95).toBeGreaterThan(940);
    expect(v1.latency.p95).toBeLessThan(960);
  });

  it("joins outcomes that come first, and drops them beyond the bound", () => {
    const stats = new StatsAccumulator({ by: "variant", maxEarlyOutcomes: 2 });
    stats.add(outcome("a", { score: 1, success: true, tokens: { input: 10, output: 4 }, cost: 2 }));
    stats.add(outcome("b", { score: 0, success: false, tokens: { input: 20 }, cost: 4 }));
    stats.add(outcome("c", { score: 0.5 }));
    stats.add(usage("a"));
    stats.add(usage("b"));
    stats.add(usage("c"));
    const report = stats.result();
    expect(report.droppedOutcomes).toBe(1);
    expect(report.unmatchedOutcomes).toBe(0);
    expect(stats.pendingUsages).toBe(1);
    const arm = group(report, "default");
    expect(arm).toMatchObject({
      usages: 3,
      outcomes: 2,
      score: { mean: 0.5, n: 2 },
      success: { rate: 0.5, n: 2 },
      tokens: { input: 15, output: 4 },
      cost: 3,
      latency: { p50: null, p95: null, n: 0 },
      warnings: ["fewer than 30 outcomes: not enough to judge"],
    });
  });

  it("by version: the oldest version is the control; filters by name and date", () => {
    const stats = new StatsAccumulator({
      by: "version",
      name: "p",
      since: "2024-05-01",
      until: "2024-05-31T23:59:59Z",
    });
    const events = [
      usage("1", { version: "new", ts: "2024-05-20T00:00:00Z" }),
      usage("2", { version: "old", ts: "2024-05-02T00:00:00Z" }),
      usage("3", { version: "older", ts: "2024-04-01T00:00:00Z" }),
      usage("4", { version: "other", name: "q" }),
    ];
    for (const event of events) stats.add(event);
    for (const event of events) stats.add(outcome(event.id, { success: true }));
    expect(stats.pendingUsages).toBe(0);
    expect(stats.waitingOutcomes).toBe(0);
    const report = stats.result();
    expect(report.prompts.map((prompt) => prompt.name)).toEqual(["p"]);
    expect(report.prompts[0]?.control).toBe("old");
    expect(report.prompts[0]?.groups.map((item) => item.key)).toEqual(["old", "new"]);
    const versus = group(report, "new").vsControl;
    expect(versus?.success).toMatchObject({ diff: 0, p: 1, significant: false });
    expect(versus?.score).toBeNull();
  });

  it("warns when there is no default variant to compare with, and refuses bad dates", () => {
    const stats = new StatsAccumulator({ by: "variant" });
    stats.add(usage("1", { variant: "a" }));
    stats.add(usage("2", { variant: "b" }));
    const prompt = stats.result().prompts[0];
    expect(prompt?.control).toBeNull();
    expect(prompt?.warnings).toEqual(['no "default" variant to compare the others with']);
    expect(() => new StatsAccumulator({ by: "variant", since: "last tuesday" })).toThrow(
      /since "last tuesday" is not a date/,
    );
  });
});
