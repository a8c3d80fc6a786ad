import { normalTwoSided, studentTQuantile, studentTTwoSided } from "./distributions.js";

/** A confidence interval, `[low, high]`. */
export type Interval = [low: number, high: number];

/** The z value of a two-sided 95% interval. */
const Z95 = 1.96;

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
