import { wilsonInterval, type Interval } from "./fixed.js";

/**
 * Always-valid inference for a difference of two means (a success rate is the mean of 0/1
 * outcomes): p-values and confidence sequences that stay valid however often they are looked
 * at, so an experiment can be watched every day and stopped the first time it is marked.
 *
 * The test is the mixture sequential probability ratio test (mSPRT) with a normal mixture
 * N(0, τ²) over the effect θ, from Johari, Koomen, Pekelis & Walsh, "Peeking at A/B tests"
 * (KDD 2017) and Johari, Pekelis & Walsh, "Always valid inference: continuous monitoring of A/B
 * tests" (Operations Research 70(3), 2022). For an estimate θ̂ with variance v (the squared
 * standard error) the mixture likelihood ratio against θ = θ₀ is
 *
 *   Λ = sqrt(v / (v + τ²)) · exp(τ² (θ̂ − θ₀)² / (2 v (v + τ²)))
 *
 * (their formula with v = V/n), the always-valid p-value is p_n = min(p_{n−1}, 1/Λ_n), and the
 * set of θ₀ with Λ < 1/α is a confidence sequence: with probability 1 − α it holds the true θ at
 * every n at once. The variance is estimated from the data (plugged in); Waudby-Smith, Arnold,
 * Wu, Howard & Ramdas, "Time-uniform central limit theory and asymptotic confidence sequences"
 * (Annals of Statistics, 2024) show that the same boundary with a consistent variance estimate
 * is an asymptotic confidence sequence. Optimizely's Stats Engine uses the mSPRT; GrowthBook's
 * sequential testing uses the Waudby-Smith et al. boundary, which is this one written with
 * ρ² = τ² / (n v).
 *
 * The mixture variance. We scale τ² with the data, τ² = ρ² · n · v (n the effective number of
 * outcomes per arm), which makes the test free of units and leaves one choice: the n* at which
 * the confidence sequence is narrowest, through ρ² = (−2 ln α + ln(−2 ln α + 1)) / n*
 * (Howard, Ramdas, McAuliffe & Sekhon, "Time-uniform, nonparametric, nonasymptotic confidence
 * sequences", Annals of Statistics 2021, on tuning the normal mixture; GrowthBook exposes n* as
 * its "tuning parameter"). We take
 * n* = 1,000 outcomes per arm: prompt experiments mostly decide somewhere between a few hundred
 * and a few thousand outcomes per arm; at 1,000 a difference must be 3.0 standard errors away
 * from zero to be marked (1.96 for a single fixed-horizon look), at 200 it is 3.4, at 10,000
 * it is 3.2 and at 100,000 3.6, so the price of watching stays modest over that whole range.
 */

/** The n* at which the confidence sequences are narrowest (outcomes per arm). */
export const SEQUENTIAL_TUNING = 1000;

/** What the sequential functions need: the level and the n* of the mixture. */
export interface SequentialOptions {
  /** Chance of ever marking a difference that is not there (default 0.05). */
  alpha?: number;
  /** Outcomes per arm where the confidence sequence is narrowest (default {@link SEQUENTIAL_TUNING}). */
  tuning?: number;
}

/** r = τ²/v = ρ² n: how much the mixture has learnt at an effective size of n per arm. */
function mixtureRatio(n: number, options: SequentialOptions): number {
  const alpha = options.alpha ?? 0.05;
  const tuning = options.tuning ?? SEQUENTIAL_TUNING;
  const rho2 = (-2 * Math.log(alpha) + Math.log(-2 * Math.log(alpha) + 1)) / tuning;
  return rho2 * n;
}

/**
 * The squared number of standard errors the boundary sits at, at an effective size of n per
 * arm: a difference is marked once (θ̂/se)² exceeds it. Solving Λ = 1/α for θ̂ gives
 * (1 + r)/r · (2 ln(1/α) + ln(1 + r)).
 */
export function boundaryZ2(n: number, options: SequentialOptions = {}): number {
  const alpha = options.alpha ?? 0.05;
  const r = mixtureRatio(n, options);
  return ((1 + r) / r) * (-2 * Math.log(alpha) + Math.log1p(r));
}

/** One look at a difference: estimate, its variance, and the effective outcomes per arm. */
export interface Look {
  diff: number;
  /** The variance of `diff` (its squared standard error). */
  variance: number;
  /** Effective outcomes per arm: the harmonic mean of the two arms' sizes. */
  n: number;
}

/** The always-valid p-value and confidence sequence at one look alone (no running minimum). */
export function sequentialTest(
  look: Look,
  options: SequentialOptions = {},
): { p: number; ci: Interval } {
  const { diff, variance, n } = look;
  if (!(n > 0) || !(variance >= 0) || !Number.isFinite(diff)) return { p: NaN, ci: [NaN, NaN] };
  if (variance === 0) return { p: diff === 0 ? 1 : 0, ci: [diff, diff] };
  const r = mixtureRatio(n, options);
  const z2 = (diff * diff) / variance;
  // ln Λ, kept in logs: at large n the exponent overflows long before the p-value underflows.
  const logRatio = -0.5 * Math.log1p(r) + (r / (1 + r)) * (z2 / 2);
  const half = Math.sqrt(variance * boundaryZ2(n, options));
  return { p: Math.min(1, Math.exp(-logRatio)), ci: [diff - half, diff + half] };
}

/** The effective outcomes per arm of two arms of sizes a and b (harmonic mean). */
function effectiveSize(a: number, b: number): number {
  return a > 0 && b > 0 ? (2 * a * b) / (a + b) : 0;
}

/**
 * One comparison followed over time: the running minimum of the p-value and the running
 * intersection of the confidence sequence, which are what stays valid at any stopping time —
 * a difference once marked stays marked, and a report recomputed tomorrow from all events never
 * un-marks what today's showed.
 */
export class SequentialTrack {
  p = 1;
  ci: Interval = [-Infinity, Infinity];
  looks = 0;

  constructor(private readonly options: SequentialOptions = {}) {}

  /** Takes one look at the data. */
  observe(look: Look): void {
    const test = sequentialTest(look, this.options);
    if (Number.isNaN(test.p)) return;
    this.looks += 1;
    if (test.p < this.p) this.p = test.p;
    if (test.ci[0] > this.ci[0]) this.ci[0] = test.ci[0];
    if (test.ci[1] < this.ci[1]) this.ci[1] = test.ci[1];
  }
}

/** The look at a difference of success rates, arm minus control. */
export function rateLook(x1: number, n1: number, x2: number, n2: number): Look {
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  return {
    diff: p1 - p2,
    variance: (p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2,
    n: effectiveSize(n1, n2),
  };
}

/** The look at a difference of mean scores, arm minus control. */
export function meanLook(
  a: { n: number; mean: number; variance: number },
  b: { n: number; mean: number; variance: number },
): Look {
  return {
    diff: a.mean - b.mean,
    variance: a.variance / a.n + b.variance / b.n,
    n: effectiveSize(a.n, b.n),
  };
}

/**
 * A confidence sequence for one success rate: the Wilson interval with the mixture boundary in
 * place of 1.96², i.e. the rates p₀ whose mixture ratio, with the variance p₀(1 − p₀) of the
 * rate tested, stays under 1/α. Like Wilson's it stays inside [0, 1].
 */
export function rateSequence(
  successes: number,
  n: number,
  options: SequentialOptions = {},
): Interval {
  return wilsonInterval(successes, n, Math.sqrt(boundaryZ2(n, options)));
}

/** A confidence sequence for one mean with the plug-in variance (Waudby-Smith et al. 2024). */
export function meanSequence(
  mean: number,
  variance: number,
  n: number,
  options: SequentialOptions = {},
): Interval {
  const half = Math.sqrt((variance / n) * boundaryZ2(n, options));
  return [mean - half, mean + half];
}
