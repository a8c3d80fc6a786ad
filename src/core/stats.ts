import { PromptsError } from "../errors.js";
import { ISO_DATE_EXAMPLE, parseIsoDate } from "./iso-date.js";
import { DEFAULT_VARIANT } from "./names.js";
import type { OutcomeEvent, PromptEvent, UsageEvent } from "./usage.js";

/** A confidence interval, `[low, high]`. */
export type Interval = [low: number, high: number];

/** The z value of a two-sided 95% interval. */
const Z95 = 1.96;
/** The p-value under which a difference counts as significant. */
const ALPHA = 0.05;

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
  /** Outcomes each side needs before a difference may be called significant (default 30). */
  minOutcomes?: number;
  /** Latencies kept per group for the percentiles (default 10,000). */
  reservoirSize?: number;
  /** Seed of the reservoir sampling, so the same events give the same report (default fixed). */
  seed?: number;
  /** Outcomes held while waiting for their usage; more are dropped and counted (default 100,000). */
  maxEarlyOutcomes?: number;
  /** Usages held while waiting for their outcome; the oldest beyond this are forgotten (default 1,000,000). */
  maxPendingUsages?: number;
}

/** A difference to the control: arm minus control, its 95% interval and two-sided p-value. */
export interface Comparison {
  diff: number;
  ci95: Interval;
  p: number;
  /** `p < 0.05` and both sides have at least `minOutcomes` observations. */
  significant: boolean;
}

/** The statistics of one version or variant of a prompt. */
export interface GroupStats {
  /** The version hash or the variant name. */
  key: string;
  usages: number;
  /** Usages whose outcome was reported. */
  outcomes: number;
  /** Mean score with a t interval; `n` counts outcomes that carried a score. */
  score: { mean: number | null; ci95: Interval | null; n: number };
  /** Success rate with a Wilson interval; `n` counts outcomes that said success or failure. */
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
}

/** The groups of one prompt, the control first. */
export interface PromptStats {
  name: string;
  /** The key of the control group: the `default` variant, or the oldest version. */
  control: string | null;
  groups: GroupStats[];
  warnings: string[];
}

/** What {@link StatsAccumulator.result} returns. */
export interface StatsReport {
  by: "version" | "variant";
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

  constructor(
    readonly key: string,
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
 * length streams through in constant memory per group.
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
  private readonly prompts = new Map<string, Map<string, GroupAccumulator>>();
  /** usage id → its group, or null when the usage is filtered out; deleted once joined. */
  private readonly pending = new Map<string, GroupAccumulator | null>();
  /** usage id → an outcome that came before its usage. */
  private readonly early = new Map<string, OutcomeMetrics>();
  private droppedOutcomes = 0;
  private droppedUsages = 0;

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
    const group = wanted ? this.groupOf(usage) : null;
    group?.addUsage(ts);
    const outcome = this.early.get(usage.id);
    if (outcome !== undefined) {
      this.early.delete(usage.id);
      group?.addOutcome(outcome);
      return;
    }
    this.pending.set(usage.id, group);
    if (this.pending.size > this.maxPending) {
      const oldest = this.pending.keys().next();
      if (oldest.done !== true) this.pending.delete(oldest.value);
      this.droppedUsages += 1;
    }
  }

  private addOutcome(outcome: OutcomeEvent): void {
    const group = this.pending.get(outcome.usage_id);
    if (group !== undefined) {
      this.pending.delete(outcome.usage_id);
      group?.addOutcome(outcome);
      return;
    }
    if (this.early.size >= this.maxEarly && !this.early.has(outcome.usage_id)) {
      this.droppedOutcomes += 1;
      return;
    }
    const { score, success, latency_ms, tokens, cost } = outcome;
    this.early.set(outcome.usage_id, { score, success, latency_ms, tokens, cost });
  }

  private groupOf(usage: UsageEvent): GroupAccumulator {
    let groups = this.prompts.get(usage.name);
    if (groups === undefined) {
      groups = new Map();
      this.prompts.set(usage.name, groups);
    }
    const key = this.by === "version" ? usage.version : usage.variant;
    let group = groups.get(key);
    if (group === undefined) {
      group = new GroupAccumulator(key, this.reservoirSize, this.random);
      groups.set(key, group);
    }
    return group;
  }

  /** The report so far; events may still be added afterwards. */
  result(): StatsReport {
    const prompts = [...this.prompts.entries()]
      .sort(([a], [b]) => compare(a, b))
      .map(([name, groups]) => this.promptResult(name, [...groups.values()]));
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
      prompts,
      unmatchedOutcomes: this.early.size,
      droppedOutcomes: this.droppedOutcomes,
      droppedUsages: this.droppedUsages,
      warnings,
    };
  }

  private promptResult(name: string, groups: GroupAccumulator[]): PromptStats {
    const control =
      this.by === "variant"
        ? groups.find((group) => group.key === DEFAULT_VARIANT)
        : groups.reduce<GroupAccumulator | undefined>(
            (oldest, group) =>
              oldest === undefined || group.firstTs < oldest.firstTs ? group : oldest,
            undefined,
          );
    const ordered = [...groups].sort((a, b) =>
      a === control ? -1 : b === control ? 1 : a.firstTs - b.firstTs || compare(a.key, b.key),
    );
    const warnings: string[] = [];
    if (control === undefined && groups.length > 1) {
      warnings.push(`no "${DEFAULT_VARIANT}" variant to compare the others with`);
    }
    return {
      name,
      control: control?.key ?? null,
      groups: ordered.map((group) => this.groupResult(group, control)),
      warnings,
    };
  }

  private groupResult(group: GroupAccumulator, control: GroupAccumulator | undefined): GroupStats {
    const sorted = Float64Array.from(group.latencies).sort();
    const scoreN = group.scoreN;
    let scoreCi: Interval | null = null;
    if (scoreN > 1) {
      const half = studentTQuantile(0.975, scoreN - 1) * Math.sqrt(group.scoreVariance / scoreN);
      scoreCi = [group.scoreMean - half, group.scoreMean + half];
    }
    const stats: GroupStats = {
      key: group.key,
      usages: group.usages,
      outcomes: group.outcomes,
      score: { mean: scoreN > 0 ? group.scoreMean : null, ci95: scoreCi, n: scoreN },
      success: {
        rate: group.trials > 0 ? group.successes / group.trials : null,
        ci95: group.trials > 0 ? wilsonInterval(group.successes, group.trials) : null,
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
    if (control !== undefined && control !== group) {
      stats.vsControl = { score: this.compareScores(group, control), success: null };
      if (group.trials > 0 && control.trials > 0) {
        const test = twoProportionTest(
          group.successes,
          group.trials,
          control.successes,
          control.trials,
        );
        stats.vsControl.success = {
          diff: test.diff,
          ci95: test.ci95,
          p: test.p,
          significant: test.p < ALPHA && Math.min(group.trials, control.trials) >= this.minOutcomes,
        };
      }
    }
    return stats;
  }

  private compareScores(group: GroupAccumulator, control: GroupAccumulator): Comparison | null {
    if (group.scoreN < 2 || control.scoreN < 2) return null;
    const test = welchTest(
      { n: group.scoreN, mean: group.scoreMean, variance: group.scoreVariance },
      { n: control.scoreN, mean: control.scoreMean, variance: control.scoreVariance },
    );
    return {
      diff: test.diff,
      ci95: test.ci95,
      p: test.p,
      significant: test.p < ALPHA && Math.min(group.scoreN, control.scoreN) >= this.minOutcomes,
    };
  }
}

/**
 * The Wilson score interval of a proportion: unlike `p ± z·se` it stays inside [0, 1] and
 * keeps its coverage for small samples and rates near 0 or 1.
 */
export function wilsonInterval(successes: number, n: number, z = Z95): Interval {
  if (n <= 0) return [NaN, NaN];
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

/** A sample summarised: size, mean and (n − 1) variance. */
export interface SampleSummary {
  n: number;
  mean: number;
  variance: number;
}

/**
 * Welch's t-test of two means with unequal variances: `diff = a.mean − b.mean`, its 95%
 * interval, the two-sided p-value and the Welch–Satterthwaite degrees of freedom. Each sample
 * needs n ≥ 2; otherwise the numbers are NaN.
 */
export function welchTest(
  a: SampleSummary,
  b: SampleSummary,
): { diff: number; ci95: Interval; p: number; df: number } {
  const diff = a.mean - b.mean;
  if (a.n < 2 || b.n < 2) return { diff, ci95: [NaN, NaN], p: NaN, df: NaN };
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  const se = Math.sqrt(va + vb);
  if (se === 0) {
    return { diff, ci95: [diff, diff], p: diff === 0 ? 1 : 0, df: a.n + b.n - 2 };
  }
  const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  const half = studentTQuantile(0.975, df) * se;
  return { diff, ci95: [diff - half, diff + half], p: studentTTwoSided(diff / se, df), df };
}

/**
 * Two-proportion z-test: `diff = x1/n1 − x2/n2`, the p-value from the pooled standard error
 * (the null hypothesis says the rates are equal) and a 95% interval from the unpooled one.
 */
export function twoProportionTest(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
): { diff: number; ci95: Interval; p: number; z: number } {
  if (n1 <= 0 || n2 <= 0) return { diff: NaN, ci95: [NaN, NaN], p: NaN, z: NaN };
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const diff = p1 - p2;
  const pooled = (x1 + x2) / (n1 + n2);
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const z = sePooled === 0 ? 0 : diff / sePooled;
  const half = Z95 * Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
  return { diff, ci95: [diff - half, diff + half], p: normalTwoSided(z), z };
}

/** P(Z ≤ z) for a standard normal Z. */
export function normalCdf(z: number): number {
  const tail = 0.5 * upperGamma(0.5, (z * z) / 2);
  return z < 0 ? tail : 1 - tail;
}

/** P(|Z| ≥ |z|), computed from the tail so tiny p-values keep their precision. */
function normalTwoSided(z: number): number {
  return upperGamma(0.5, (z * z) / 2);
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom (not necessarily whole). */
export function studentTCdf(t: number, df: number): number {
  const tail = studentTTwoSided(t, df) / 2;
  return t < 0 ? tail : 1 - tail;
}

/** P(|T| ≥ |t|). */
function studentTTwoSided(t: number, df: number): number {
  // Beyond a million degrees of freedom t and normal differ by less than 1e-6, and the
  // continued fraction would need thousands of steps.
  if (!(df <= 1e6)) return normalTwoSided(t);
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** The t with P(T ≤ t) = p, by bisection on the CDF. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) return NaN;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  const target = 2 * (1 - p);
  let low = 0;
  let high = 2;
  while (studentTTwoSided(high, df) > target) {
    low = high;
    high *= 2;
  }
  for (let step = 0; step < 100 && high - low > 1e-12 * high; step += 1) {
    const middle = (low + high) / 2;
    if (studentTTwoSided(middle, df) > target) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

const MAX_ITERATIONS = 10_000;
const EPSILON = 1e-15;
const TINY = 1e-300;

/** ln Γ(x), Lanczos approximation (g = 7), about 15 significant digits. */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let sum = 0.99999999999980993;
  for (const [index, coefficient] of LANCZOS.entries()) sum += coefficient / (y + index + 1);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

const LANCZOS = [
  676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** The regularized incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x),
  );
  // The continued fraction converges fast only on this side of the mean; use symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(x, a, b)) / a;
  return 1 - (front * betaFraction(1 - x, b, a)) / b;
}

/** The continued fraction of I_x(a, b), by the modified Lentz method. */
function betaFraction(x: number, a: number, b: number): number {
  let c = 1;
  let d = nonZero(1 - ((a + b) * x) / (a + 1));
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_ITERATIONS; m += 1) {
    const even = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 / nonZero(1 + even * d);
    c = nonZero(1 + even / c);
    h *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 / nonZero(1 + odd * d);
    c = nonZero(1 + odd / c);
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return h;
}

/** The regularized upper incomplete gamma function Q(a, x). */
function upperGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  const front = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n <= MAX_ITERATIONS; n += 1) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPSILON) break;
    }
    return 1 - sum * front;
  }
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= MAX_ITERATIONS; i += 1) {
    const an = -i * (i - a);
    b += 2;
    d = 1 / nonZero(an * d + b);
    c = nonZero(b + an / c);
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return front * h;
}

function nonZero(value: number): number {
  return Math.abs(value) < TINY ? TINY : value;
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
