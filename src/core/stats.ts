import { PromptsError } from "../errors.js";
import { ISO_DATE_EXAMPLE, parseIsoDate } from "./iso-date.js";
import { DEFAULT_VARIANT } from "./names.js";
import {
  type Comparison,
  type Correction,
  markComparisons,
  type RawComparison,
  type StatsMethod,
} from "./stats/compare.js";
import { type Interval, twoProportionTest, welchTest, wilsonInterval } from "./stats/fixed.js";
import { fixedSampleSize, sequentialSampleSize } from "./stats/plan.js";
import {
  meanLook,
  meanSequence,
  rateLook,
  rateSequence,
  SEQUENTIAL_TUNING,
  SequentialTrack,
  type Look,
  sequentialTest,
} from "./stats/sequential.js";
import { DailyCounts, dayOf, type SeriesPoint, seriesSpan } from "./stats/series.js";
import { SRM_ALPHA, type SplitShare, sampleRatioTest } from "./stats/srm.js";
import { studentTQuantile } from "./stats/distributions.js";
import type { Prompt } from "./types.js";
import type { OutcomeEvent, PromptEvent, UsageEvent } from "./usage.js";
import { variantWeights } from "./variants.js";

export type { Comparison, Correction, Interval, SeriesPoint, SplitShare, StatsMethod };
export { twoProportionTest, welchTest, wilsonInterval, type SampleSummary } from "./stats/fixed.js";

/** The p-value under which a difference counts as significant. */
const ALPHA = 0.05;

/** The split a prompt declares now: its current version and each variant's weight in percent. */
export interface DeclaredSplit {
  version: string;
  weights: Readonly<Record<string, number>>;
}

/**
 * The split each prompt declares: its version and the weights of its arms, `default` included,
 * for the sample-ratio check (a prompt without variants has `default` alone, nothing to check).
 */
export function declaredSplits(prompts: Iterable<Prompt>): Map<string, DeclaredSplit> {
  const splits = new Map<string, DeclaredSplit>();
  for (const prompt of prompts) {
    splits.set(prompt.name, { version: prompt.version, weights: variantWeights(prompt) });
  }
  return splits;
}

/** Options of {@link StatsAccumulator}. */
export interface StatsOptions {
  /** Compare the versions of each prompt, or its variants (arms of an experiment). */
  by: "version" | "variant";
  /** Only this prompt. */
  name?: string;
  /** Only usages at or after this ISO 8601 date. */
  since?: string;
  /** Only usages at or before this ISO 8601 date. */
  until?: string;
  /**
   * `always-valid` (default): p-values and confidence sequences that stay valid however often
   * the report is looked at; `fixed`: fixed-horizon tests, valid for one look at a sample size
   * fixed in advance.
   */
  method?: StatsMethod;
  /** Correction of the p-values when several arms are compared with one control (default `holm`). */
  correction?: Correction;
  /**
   * The split each prompt declares now, by prompt name, for the sample-ratio check (by variant).
   * Without it the split is not checked; a prompt missing from it is reported as not found.
   */
  splits?: ReadonlyMap<string, DeclaredSplit>;
  /** Also plan the outcomes per arm needed to detect this absolute difference. */
  plan?: { lift: number; power?: number };
  /** Outcomes each side needs before a difference may be called significant (default 30). */
  minOutcomes?: number;
  /** Also give each group its counts per UTC day (`day`), zero-filled. */
  series?: "day";
  /** Latencies kept per group for the percentiles (default 10,000). */
  reservoirSize?: number;
  /** Seed of the reservoir sampling, so the same events give the same report (default fixed). */
  seed?: number;
  /** Outcomes held while waiting for their usage; more are dropped and counted (default 100,000). */
  maxEarlyOutcomes?: number;
  /** Usages held while waiting for their outcome; the oldest beyond this are forgotten (default 1,000,000). */
  maxPendingUsages?: number;
}

/** The statistics of one version or variant of a prompt. */
export interface GroupStats {
  /** The version hash or the variant name. */
  key: string;
  usages: number;
  /** Usages whose outcome was reported. */
  outcomes: number;
  /**
   * Mean score with a 95% interval (a confidence sequence with the always-valid method, a t
   * interval with the fixed one); `n` counts outcomes that carried a score.
   */
  score: { mean: number | null; ci95: Interval | null; n: number };
  /**
   * Success rate with a 95% interval (Wilson's, widened to a confidence sequence with the
   * always-valid method); `n` counts outcomes that said success or failure.
   */
  success: { rate: number | null; ci95: Interval | null; n: number };
  /** Latency percentiles in ms, from a uniform sample of at most `reservoirSize` values. */
  latency: { p50: number | null; p95: number | null; n: number };
  /** Mean tokens per outcome that reported them. */
  tokens: { input: number | null; output: number | null };
  /** Mean cost per outcome that reported it. */
  cost: number | null;
  /** The difference to the control group; absent on the control itself or without one. */
  vsControl?: { score: Comparison | null; success: Comparison | null };
  warnings: string[];
  /** With the `series` option: one point per UTC day of the prompt's usage, zero-filled. */
  series?: SeriesPoint[];
}

/** The sample-ratio check of a prompt's variants: distinct units per variant against the weights. */
export interface SplitCheck {
  /** `mismatch` (p < 0.001: marks withheld), `ok`, or `unchecked` (see `reason`). */
  status: "ok" | "mismatch" | "unchecked";
  /** Why the split was not checked. */
  reason?: string;
  /** The version whose usages were counted: the prompt's current one, whose weights are known. */
  version: string | null;
  /** Distinct units counted in the declared variants. */
  units: number;
  shares: SplitShare[];
  chi2: number | null;
  p: number | null;
  /** Units in variants the current version does not declare, left out of the test. */
  undeclared: Record<string, number>;
}

/** The outcomes per arm needed to detect a difference of one metric. */
export interface MetricPlan {
  /** The control's success rate or mean score. */
  base: number;
  /** The control's standard deviation per outcome. */
  sd: number;
  /** Outcomes per arm for a fixed-horizon test (`--method fixed`), decided at that size only. */
  fixed: number;
  /** Outcomes per arm by which the always-valid test marks it with the same power. */
  alwaysValid: number;
  /** Outcomes of the smallest group so far. */
  now: number;
}

/** What `--plan` adds to a prompt. */
export interface PromptPlan {
  /** The absolute difference to detect. */
  lift: number;
  power: number;
  alpha: number;
  /** Comparisons sharing the level (Bonferroni in the plan). */
  comparisons: number;
  success: MetricPlan | null;
  score: MetricPlan | null;
  /** Why a metric could not be planned. */
  notes: string[];
}

/** The groups of one prompt, the control first. */
export interface PromptStats {
  name: string;
  /** The key of the control group: the `default` variant, or the oldest version. */
  control: string | null;
  /** Groups compared with the control; above one, p-values are corrected (see `correction`). */
  comparisons: number;
  groups: GroupStats[];
  /** The sample-ratio check (by variant; null by version, where nothing is split at random). */
  srm: SplitCheck | null;
  /** With `plan`: the outcomes per arm needed to detect the lift. */
  plan?: PromptPlan;
  warnings: string[];
}

/** What {@link StatsAccumulator.result} returns. */
export interface StatsReport {
  by: "version" | "variant";
  /** The method behind every p-value, interval and mark of the report. */
  method: StatsMethod;
  /** How the p-values of several arms against one control are corrected. */
  correction: Correction;
  /** The level of the marks and intervals (0.05: 95%). */
  alpha: number;
  /** Always-valid method: the outcomes per arm where the confidence sequences are narrowest. */
  tuning: number | null;
  prompts: PromptStats[];
  /** Outcomes whose usage has not been seen (yet). */
  unmatchedOutcomes: number;
  /** Outcomes dropped because too many were waiting for their usage. */
  droppedOutcomes: number;
  /** Usages forgotten because too many were waiting for their outcome. */
  droppedUsages: number;
  warnings: string[];
}

/** The part of an outcome the statistics use, kept while its usage has not arrived. */
type OutcomeMetrics = Pick<OutcomeEvent, "score" | "success" | "latency_ms" | "tokens" | "cost">;

/** The groups of one prompt and its control, as the events come. */
class PromptAccumulator {
  readonly groups = new Map<string, GroupAccumulator>();
  /** The `default` variant, or the version seen first in time so far. */
  control: GroupAccumulator | undefined;

  constructor(readonly split: DeclaredSplit | undefined) {}
}

/** The comparison of an arm with its control, followed one outcome at a time. */
interface Tracks {
  control: GroupAccumulator;
  success: SequentialTrack;
  score: SequentialTrack;
}

/** Running sums of one group: memory does not grow with the number of events. */
class GroupAccumulator {
  usages = 0;
  outcomes = 0;
  firstTs = Infinity;
  scoreN = 0;
  scoreMean = 0;
  scoreM2 = 0;
  successes = 0;
  trials = 0;
  costSum = 0;
  costN = 0;
  inputSum = 0;
  inputN = 0;
  outputSum = 0;
  outputN = 0;
  latencySeen = 0;
  readonly latencies: number[] = [];
  /** Distinct units among the usages of the declared version (for the sample-ratio check). */
  units: Set<string> | undefined;
  /** Usages of that version without a unit: each was assigned on its own, so each is a unit. */
  loneUsages = 0;
  /** Always-valid method: the comparison with the control, looked at after every outcome. */
  tracks: Tracks | undefined;
  /** With the `series` option: the counts by day. */
  daily: DailyCounts | undefined;

  constructor(
    readonly key: string,
    readonly prompt: PromptAccumulator,
    private readonly reservoirSize: number,
    private readonly random: () => number,
  ) {}

  addUsage(ts: number): void {
    this.usages += 1;
    if (ts < this.firstTs) this.firstTs = ts;
  }

  addOutcome(outcome: OutcomeMetrics): void {
    this.outcomes += 1;
    if (isNumber(outcome.score)) {
      // Welford: stable where sums of squares lose precision.
      this.scoreN += 1;
      const delta = outcome.score - this.scoreMean;
      this.scoreMean += delta / this.scoreN;
      this.scoreM2 += delta * (outcome.score - this.scoreMean);
    }
    if (typeof outcome.success === "boolean") {
      this.trials += 1;
      if (outcome.success) this.successes += 1;
    }
    if (isNumber(outcome.latency_ms)) {
      this.latencySeen += 1;
      if (this.latencies.length < this.reservoirSize) this.latencies.push(outcome.latency_ms);
      else {
        const slot = Math.floor(this.random() * this.latencySeen);
        if (slot < this.reservoirSize) this.latencies[slot] = outcome.latency_ms;
      }
    }
    if (isNumber(outcome.cost)) {
      this.costSum += outcome.cost;
      this.costN += 1;
    }
    if (isNumber(outcome.tokens?.input)) {
      this.inputSum += outcome.tokens.input;
      this.inputN += 1;
    }
    if (isNumber(outcome.tokens?.output)) {
      this.outputSum += outcome.tokens.output;
      this.outputN += 1;
    }
  }

  get scoreVariance(): number {
    return this.scoreN > 1 ? this.scoreM2 / (this.scoreN - 1) : NaN;
  }
}

/**
 * Compares the versions or variants of prompts on their outcomes, one event at a time. Usages
 * are joined to outcomes by `usage_id` in either order; only usages still waiting for their
 * outcome (and outcomes waiting for their usage, up to a bound) are held, so a log of any
 * length streams through in constant memory per group. With the always-valid method each
 * comparison is looked at after every outcome, so the p-value and interval reported are those
 * of the whole history read (the running minimum and intersection), not of the last look only.
 */
export class StatsAccumulator {
  private readonly by: "version" | "variant";
  private readonly name: string | undefined;
  private readonly since: number;
  private readonly until: number;
  private readonly minOutcomes: number;
  private readonly reservoirSize: number;
  private readonly maxEarly: number;
  private readonly maxPending: number;
  private readonly random: () => number;
  private readonly method: StatsMethod;
  private readonly correction: Correction;
  private readonly splits: ReadonlyMap<string, DeclaredSplit> | undefined;
  private readonly plan: { lift: number; power?: number } | undefined;
  private readonly prompts = new Map<string, PromptAccumulator>();
  /** usage id → its group, or null when the usage is filtered out; deleted once joined. */
  private readonly pending = new Map<string, GroupAccumulator | null>();
  /** usage id → an outcome that came before its usage. */
  private readonly early = new Map<string, OutcomeMetrics>();
  private droppedOutcomes = 0;
  private droppedUsages = 0;
  /** With a series: usage id → its UTC day, beside `pending` (outcomes count on that day). */
  private readonly pendingDays: Map<string, number> | undefined;

  constructor(options: StatsOptions) {
    this.by = options.by;
    this.name = options.name;
    this.since = parseDate("since", options.since, -Infinity);
    this.until = parseDate("until", options.until, Infinity);
    this.minOutcomes = options.minOutcomes ?? 30;
    this.reservoirSize = options.reservoirSize ?? 10_000;
    this.maxEarly = options.maxEarlyOutcomes ?? 100_000;
    this.maxPending = options.maxPendingUsages ?? 1_000_000;
    this.random = mulberry32(options.seed ?? 0x5eed);
    this.method = options.method ?? "always-valid";
    this.correction = options.correction ?? "holm";
    this.splits = options.splits;
    this.plan = options.plan;
    if (options.series === "day") this.pendingDays = new Map();
  }

  /** Usages waiting for their outcome. */
  get pendingUsages(): number {
    return this.pending.size;
  }

  /** Outcomes waiting for their usage. */
  get waitingOutcomes(): number {
    return this.early.size;
  }

  /** Takes one usage or outcome event. */
  add(event: PromptEvent): void {
    if (event.type === "usage") this.addUsage(event);
    else if (event.type === "outcome") this.addOutcome(event);
  }

  private addUsage(usage: UsageEvent): void {
    const ts = Date.parse(usage.ts);
    // A usage without a readable date passes only when no date range was asked for.
    const inRange = Number.isNaN(ts)
      ? this.since === -Infinity && this.until === Infinity
      : ts >= this.since && ts <= this.until;
    const wanted = (this.name === undefined || usage.name === this.name) && inRange;
    const group = wanted ? this.groupOf(usage, ts) : null;
    // A usage without a readable date has no day: it counts in the totals only.
    const day = this.pendingDays === undefined || Number.isNaN(ts) ? undefined : dayOf(ts);
    const outcome = this.early.get(usage.id);
    if (outcome !== undefined) {
      this.early.delete(usage.id);
      if (group !== null) this.join(group, outcome, day);
      return;
    }
    this.pending.set(usage.id, group);
    if (group !== null && day !== undefined) this.pendingDays?.set(usage.id, day);
    if (this.pending.size > this.maxPending) {
      const oldest = this.pending.keys().next();
      if (oldest.done !== true) {
        this.pending.delete(oldest.value);
        this.pendingDays?.delete(oldest.value);
      }
      this.droppedUsages += 1;
    }
  }

  private addOutcome(outcome: OutcomeEvent): void {
    const group = this.pending.get(outcome.usage_id);
    if (group !== undefined) {
      this.pending.delete(outcome.usage_id);
      const day = this.pendingDays?.get(outcome.usage_id);
      this.pendingDays?.delete(outcome.usage_id);
      if (group !== null) this.join(group, outcome, day);
      return;
    }
    if (this.early.size >= this.maxEarly && !this.early.has(outcome.usage_id)) {
      this.droppedOutcomes += 1;
      return;
    }
    const { score, success, latency_ms, tokens, cost } = outcome;
    this.early.set(outcome.usage_id, { score, success, latency_ms, tokens, cost });
  }

  /** The group a wanted usage belongs to, counted in it (and in its split, by variant). */
  private groupOf(usage: UsageEvent, ts: number): GroupAccumulator {
    let prompt = this.prompts.get(usage.name);
    if (prompt === undefined) {
      prompt = new PromptAccumulator(this.splits?.get(usage.name));
      this.prompts.set(usage.name, prompt);
    }
    const key = this.by === "version" ? usage.version : usage.variant;
    let group = prompt.groups.get(key);
    if (group === undefined) {
      group = new GroupAccumulator(key, prompt, this.reservoirSize, this.random);
      prompt.groups.set(key, group);
      if (this.by === "variant" && key === DEFAULT_VARIANT) prompt.control = group;
    }
    group.addUsage(ts);
    if (this.pendingDays !== undefined && !Number.isNaN(ts))
      (group.daily ??= new DailyCounts()).addUsage(dayOf(ts));
    if (this.by === "version" && (prompt.control === undefined || ts < prompt.control.firstTs)) {
      prompt.control = group;
    }
    if (this.by === "variant" && usage.version === prompt.split?.version) {
      if (usage.unit === undefined) group.loneUsages += 1;
      else (group.units ??= new Set()).add(usage.unit);
    }
    return group;
  }

  private join(group: GroupAccumulator, outcome: OutcomeMetrics, day?: number): void {
    group.addOutcome(outcome);
    if (day !== undefined) group.daily?.addOutcome(day, outcome.success, outcome.score);
    if (this.method !== "always-valid") return;
    const control = group.prompt.control;
    if (control === undefined) return;
    const success = typeof outcome.success === "boolean";
    const score = isNumber(outcome.score);
    if (group !== control) this.look(group, control, success, score);
    else {
      for (const arm of group.prompt.groups.values()) {
        if (arm !== control) this.look(arm, control, success, score);
      }
    }
  }

  /** Looks at an arm against its control after an outcome that changed the named metrics. */
  private look(arm: GroupAccumulator, control: GroupAccumulator, success: boolean, score: boolean) {
    // A new control (an older version turned up) starts the comparison over.
    if (arm.tracks?.control !== control) {
      arm.tracks = { control, success: new SequentialTrack(), score: new SequentialTrack() };
    }
    // Before both sides have minOutcomes the plugged-in variance is too unsteady to look at.
    if (success && Math.min(arm.trials, control.trials) >= this.minOutcomes) {
      arm.tracks.success.observe(
        rateLook(arm.successes, arm.trials, control.successes, control.trials),
      );
    }
    if (score && Math.min(arm.scoreN, control.scoreN) >= this.minOutcomes) {
      arm.tracks.score.observe(meanLook(scoreSummary(arm), scoreSummary(control)));
    }
  }

  /** The report so far; events may still be added afterwards. */
  result(): StatsReport {
    const prompts = [...this.prompts.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([name, prompt]) => this.promptResult(name, prompt));
    const warnings: string[] = [];
    if (this.early.size > 0) {
      warnings.push(`${this.early.size} outcomes have no usage with their usage_id`);
    }
    if (this.droppedOutcomes > 0) {
      warnings.push(
        `${this.droppedOutcomes} outcomes dropped: more than ${this.maxEarly} waited for their usage`,
      );
    }
    if (this.droppedUsages > 0) {
      warnings.push(
        `${this.droppedUsages} usages forgotten: more than ${this.maxPending} waited for their outcome`,
      );
    }
    return {
      by: this.by,
      method: this.method,
      correction: this.correction,
      alpha: ALPHA,
      tuning: this.method === "always-valid" ? SEQUENTIAL_TUNING : null,
      prompts,
      unmatchedOutcomes: this.early.size,
      droppedOutcomes: this.droppedOutcomes,
      droppedUsages: this.droppedUsages,
      warnings,
    };
  }

  private promptResult(name: string, prompt: PromptAccumulator): PromptStats {
    const groups = [...prompt.groups.values()];
    const control = prompt.control;
    const ordered = [...groups].sort((a, b) =>
      a === control ? -1 : b === control ? 1 : a.firstTs - b.firstTs || compare(a.key, b.key),
    );
    const warnings: string[] = [];
    if (control === undefined && groups.length > 1) {
      warnings.push(`no "${DEFAULT_VARIANT}" variant to compare the others with`);
    }
    const srm = this.by === "variant" ? this.splitCheck(name, prompt) : null;
    if (srm?.status === "mismatch") warnings.push(mismatchMessage(srm));
    const arms = control === undefined ? [] : ordered.filter((group) => group !== control);
    const options = {
      method: this.method,
      correction: this.correction,
      alpha: ALPHA,
      withhold: srm?.status === "mismatch",
    };
    const success = markComparisons(
      control === undefined ? [] : arms.map((arm) => this.successComparison(arm, control)),
      options,
    );
    const score = markComparisons(
      control === undefined ? [] : arms.map((arm) => this.scoreComparison(arm, control)),
      options,
    );
    const span =
      this.pendingDays === undefined
        ? undefined
        : seriesSpan(
            name,
            ordered.flatMap((group) => group.daily ?? []),
          );
    const result: PromptStats = {
      name,
      control: control?.key ?? null,
      comparisons: arms.length,
      groups: ordered.map((group) => {
        const stats = this.groupResult(group);
        if (this.pendingDays !== undefined)
          stats.series = span
            ? (group.daily ?? new DailyCounts()).points(span.first, span.last)
            : [];
        const index = arms.indexOf(group);
        if (index >= 0)
          stats.vsControl = { score: score[index] ?? null, success: success[index] ?? null };
        return stats;
      }),
      srm,
      warnings,
    };
    if (this.plan !== undefined) result.plan = this.planResult(ordered, control, arms.length);
    return result;
  }

  private groupResult(group: GroupAccumulator): GroupStats {
    const sorted = Float64Array.from(group.latencies).sort();
    const scoreN = group.scoreN;
    const always = this.method === "always-valid";
    let scoreCi: Interval | null = null;
    if (scoreN > 1) {
      if (always) scoreCi = meanSequence(group.scoreMean, group.scoreVariance, scoreN);
      else {
        const half = studentTQuantile(0.975, scoreN - 1) * Math.sqrt(group.scoreVariance / scoreN);
        scoreCi = [group.scoreMean - half, group.scoreMean + half];
      }
    }
    let successCi: Interval | null = null;
    if (group.trials > 0) {
      successCi = always
        ? rateSequence(group.successes, group.trials)
        : wilsonInterval(group.successes, group.trials);
    }
    const stats: GroupStats = {
      key: group.key,
      usages: group.usages,
      outcomes: group.outcomes,
      score: { mean: scoreN > 0 ? group.scoreMean : null, ci95: scoreCi, n: scoreN },
      success: {
        rate: group.trials > 0 ? group.successes / group.trials : null,
        ci95: successCi,
        n: group.trials,
      },
      latency: {
        p50: percentile(sorted, 0.5),
        p95: percentile(sorted, 0.95),
        n: group.latencySeen,
      },
      tokens: {
        input: group.inputN > 0 ? group.inputSum / group.inputN : null,
        output: group.outputN > 0 ? group.outputSum / group.outputN : null,
      },
      cost: group.costN > 0 ? group.costSum / group.costN : null,
      warnings: [],
    };
    if (group.outcomes < this.minOutcomes) {
      stats.warnings.push(`fewer than ${this.minOutcomes} outcomes: not enough to judge`);
    }
    return stats;
  }

  private successComparison(
    arm: GroupAccumulator,
    control: GroupAccumulator,
  ): RawComparison | null {
    if (arm.trials === 0 || control.trials === 0) return null;
    const enough = Math.min(arm.trials, control.trials) >= this.minOutcomes;
    if (this.method === "fixed") {
      const test = twoProportionTest(arm.successes, arm.trials, control.successes, control.trials);
      return { diff: test.diff, ci95: test.ci95, p: test.p, enough };
    }
    const look = rateLook(arm.successes, arm.trials, control.successes, control.trials);
    return sequentialComparison(
      look,
      arm.tracks?.control === control ? arm.tracks.success : undefined,
      enough,
    );
  }

  private scoreComparison(arm: GroupAccumulator, control: GroupAccumulator): RawComparison | null {
    if (arm.scoreN < 2 || control.scoreN < 2) return null;
    const enough = Math.min(arm.scoreN, control.scoreN) >= this.minOutcomes;
    if (this.method === "fixed") {
      const test = welchTest(scoreSummary(arm), scoreSummary(control));
      return { diff: test.diff, ci95: test.ci95, p: test.p, enough };
    }
    const look = meanLook(scoreSummary(arm), scoreSummary(control));
    return sequentialComparison(
      look,
      arm.tracks?.control === control ? arm.tracks.score : undefined,
      enough,
    );
  }

  /**
   * The sample-ratio check: distinct units per variant among the usages of the prompt's current
   * version (the only one whose weights are known: a version covers its variants and weights,
   * so the usages of older versions may have had another split, and are left out).
   */
  private splitCheck(name: string, prompt: PromptAccumulator): SplitCheck {
    const split = prompt.split;
    const check: SplitCheck = {
      status: "unchecked",
      version: split?.version ?? null,
      units: 0,
      shares: [],
      chi2: null,
      p: null,
      undeclared: {},
    };
    if (this.splits === undefined)
      return { ...check, reason: "the prompt's weights were not read" };
    if (split === undefined) {
      return {
        ...check,
        reason: `"${name}" is not a valid prompt of the tree read, so its weights are unknown`,
      };
    }
    if (Object.keys(split.weights).length < 2) {
      return { ...check, reason: "the prompt declares no variants" };
    }
    const units: Record<string, number> = {};
    for (const group of prompt.groups.values()) {
      const count = (group.units?.size ?? 0) + group.loneUsages;
      if (count === 0) continue;
      if (group.key in split.weights) units[group.key] = count;
      else check.undeclared[group.key] = count;
    }
    check.units = Object.values(units).reduce((sum, count) => sum + count, 0);
    if (check.units === 0) {
      return { ...check, reason: `no usage of the current version ${split.version} yet` };
    }
    const test = sampleRatioTest(units, split.weights);
    if (test === null) {
      return {
        ...check,
        reason: `too few units of version ${split.version} (${check.units}) to check the split`,
      };
    }
    return {
      ...check,
      status: test.p < SRM_ALPHA ? "mismatch" : "ok",
      shares: test.shares,
      chi2: test.chi2,
      p: test.p,
    };
  }

  private planResult(
    groups: GroupAccumulator[],
    control: GroupAccumulator | undefined,
    comparisons: number,
  ): PromptPlan {
    const { lift, power = 0.8 } = this.plan ?? { lift: NaN };
    const plan: PromptPlan = {
      lift,
      power,
      alpha: ALPHA,
      comparisons: Math.max(1, comparisons),
      success: null,
      score: null,
      notes: [],
    };
    if (control === undefined) {
      plan.notes.push("no control group to take the base rate and variance from");
      return plan;
    }
    const levels = { lift, power, alpha: ALPHA, comparisons: plan.comparisons };
    const smallest = (count: (group: GroupAccumulator) => number) => Math.min(...groups.map(count));
    if (control.trials > 0) {
      const base = control.successes / control.trials;
      const target = base + lift;
      if (target <= 0 || target >= 1) {
        plan.notes.push(`success: ${base.toFixed(3)} + ${lift} is not a rate between 0 and 1`);
      } else {
        const vc = base * (1 - base);
        const va = target * (1 - target);
        plan.success = planMetric(
          base,
          vc,
          va,
          levels,
          smallest((group) => group.trials),
        );
      }
    } else plan.notes.push("success: the control has no outcome with success");
    if (control.scoreN > 1) {
      const variance = control.scoreVariance;
      plan.score = planMetric(
        control.scoreMean,
        variance,
        variance,
        levels,
        smallest((group) => group.scoreN),
      );
    } else plan.notes.push("score: the control has fewer than 2 scores");
    return plan;
  }
}

/** The plan of one metric, or null when its variance is 0 (any difference shows at once). */
function planMetric(
  base: number,
  varianceControl: number,
  varianceArm: number,
  levels: { lift: number; power: number; alpha: number; comparisons: number },
  now: number,
): MetricPlan {
  return {
    base,
    sd: Math.sqrt(varianceControl),
    fixed: fixedSampleSize(varianceControl, varianceArm, levels),
    alwaysValid: sequentialSampleSize(varianceControl, varianceArm, levels),
    now,
  };
}

/**
 * The always-valid comparison: the running minimum p-value and intersected confidence sequence
 * of every look so far, with the look at the current data (which a report made between
 * outcomes, or before `minOutcomes`, has not had yet).
 */
function sequentialComparison(
  look: Look,
  track: SequentialTrack | undefined,
  enough: boolean,
): RawComparison {
  const now = sequentialTest(look);
  if (track === undefined || track.looks === 0) {
    return { diff: look.diff, ci95: now.ci, p: now.p, enough };
  }
  return {
    diff: look.diff,
    ci95: [Math.max(track.ci[0], now.ci[0]), Math.min(track.ci[1], now.ci[1])],
    p: Math.min(track.p, now.p),
    enough,
  };
}

function scoreSummary(group: GroupAccumulator): { n: number; mean: number; variance: number } {
  return { n: group.scoreN, mean: group.scoreMean, variance: group.scoreVariance };
}

/** The loud line of a broken split: shares observed for the weights configured. */
function mismatchMessage(check: SplitCheck): string {
  const observed = check.shares.map((share) => `${(share.observed * 100).toFixed(1)}%`).join(" / ");
  const configured = check.shares.map((share) => trimNumber(share.expected * 100)).join(" / ");
  const names = check.shares.map((share) => share.variant).join(" / ");
  const p = check.p !== null && check.p < 1e-4 ? check.p.toExponential(1) : check.p?.toFixed(4);
  return (
    `the split is broken: ${observed} observed for ${configured} configured (${names}; ` +
    `chi-square p=${p} over ${check.units} units of version ${check.version}) — check assignment ` +
    `before trusting results; significance marks withheld`
  );
}

function trimNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** The q-quantile of sorted values, interpolating between neighbours (R's type 7). */
function percentile(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const low = sorted[below] ?? NaN;
  const high = sorted[Math.min(below + 1, sorted.length - 1)] ?? NaN;
  return low + (position - below) * (high - low);
}

/** A small seedable PRNG (mulberry32): uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function parseDate(option: string, value: string | undefined, unset: number): number {
  if (value === undefined) return unset;
  const time = parseIsoDate(value);
  if (time === undefined) {
    throw new PromptsError(
      "E_INVALID_INPUT",
      `${option} "${value}" is not a date (use ISO 8601: ${ISO_DATE_EXAMPLE})`,
    );
  }
  return time;
}

function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
