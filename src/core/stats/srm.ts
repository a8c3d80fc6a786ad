import { chiSquareSurvival } from "./distributions.js";

/**
 * Under this p-value the split is called broken. Strict on purpose: the check runs on every
 * report, and a false alarm withholds real results. Fabijan et al., "Diagnosing sample ratio
 * mismatch in online controlled experiments" (KDD 2019), tell how often real splits break at
 * Microsoft and why.
 */
export const SRM_ALPHA = 0.001;

/** Each variant's observed units next to its declared share. */
export interface SplitShare {
  variant: string;
  /** Distinct units seen in this variant. */
  units: number;
  /** Their share of all units counted, 0–1. */
  observed: number;
  /** The share the prompt declares, 0–1. */
  expected: number;
}

/** A chi-square goodness-of-fit test of the units per variant against the declared weights. */
export interface SplitTest {
  shares: SplitShare[];
  chi2: number;
  df: number;
  p: number;
}

/**
 * Compares the distinct units each variant got with the weights the prompt declares (percent),
 * by Pearson's chi-square goodness-of-fit test with (variants − 1) degrees of freedom. Variants
 * with weight 0 take part only if they got units (which is then a mismatch by itself). Returns
 * null when the expected count of some variant is under 5, where the chi-square approximation
 * does not hold.
 */
export function sampleRatioTest(
  units: Readonly<Record<string, number>>,
  weights: Readonly<Record<string, number>>,
): SplitTest | null {
  const total = Object.values(units).reduce((sum, count) => sum + count, 0);
  const weightSum = Object.values(weights).reduce((sum, weight) => sum + weight, 0);
  if (total === 0 || weightSum <= 0) return null;
  const shares: SplitShare[] = Object.entries(weights)
    .filter(([variant, weight]) => weight > 0 || (units[variant] ?? 0) > 0)
    .map(([variant, weight]) => ({
      variant,
      units: units[variant] ?? 0,
      observed: (units[variant] ?? 0) / total,
      expected: weight / weightSum,
    }));
  if (shares.length < 2) return null;
  let chi2 = 0;
  for (const share of shares) {
    const expected = share.expected * total;
    if (expected === 0) chi2 = Infinity;
    else if (expected < 5) return null;
    else chi2 += (share.units - expected) ** 2 / expected;
  }
  const df = shares.length - 1;
  return { shares, chi2, df, p: chi2 === Infinity ? 0 : chiSquareSurvival(chi2, df) };
}
