import type { Interval } from "./fixed.js";
import { holmAdjust } from "./multiplicity.js";

/** How a difference was tested: always-valid (mSPRT, the default) or fixed-horizon. */
export type StatsMethod = "always-valid" | "fixed";

/** How the p-values of several arms against one control are corrected. */
export type Correction = "holm" | "none";

/** A difference to the control: arm minus control, its 95% interval and two-sided p-value. */
export interface Comparison {
  diff: number;
  /**
   * The 95% interval of the difference: a confidence sequence (valid at every look at once)
   * with the always-valid method, a confidence interval with the fixed one.
   */
  ci95: Interval;
  /** The p-value of this comparison alone (always-valid: the smallest it has been so far). */
  p: number;
  /** `p` corrected for the number of arms compared with the same control (Holm); `p` with one arm. */
  pAdjusted: number;
  /** `pAdjusted < 0.05`, both sides have at least `minOutcomes` observations, and the split is not broken. */
  significant: boolean;
  /** The method that produced `p`, the interval and the mark. */
  method: StatsMethod;
  /** It would be marked, but the split of units between the variants is broken (see `srm`). */
  withheld: boolean;
}

/** A comparison before the marks: the numbers, and whether both sides have enough outcomes. */
export interface RawComparison {
  diff: number;
  ci95: Interval;
  p: number;
  enough: boolean;
}

/** How {@link markComparisons} decides. */
export interface MarkOptions {
  method: StatsMethod;
  correction: Correction;
  alpha: number;
  /** Withhold every mark: the split is broken. */
  withhold: boolean;
}

/**
 * Marks the comparisons of several arms with one control (one metric), after correcting their
 * p-values together. An arm without enough outcomes is never marked and counts in the
 * correction with p = 1 (its adjusted p-value is 1), so a small arm's unsteady p-value cannot
 * lower the others' bar.
 */
export function markComparisons(
  raws: readonly (RawComparison | null)[],
  options: MarkOptions,
): (Comparison | null)[] {
  const tested = raws.map((raw) => (raw === null ? NaN : raw.enough ? raw.p : 1));
  const adjusted = options.correction === "holm" ? holmAdjust(tested) : tested;
  return raws.map((raw, index) => {
    if (raw === null) return null;
    const pAdjusted = options.correction === "holm" ? (adjusted[index] ?? NaN) : raw.p;
    const passes = raw.enough && pAdjusted < options.alpha;
    return {
      diff: raw.diff,
      ci95: raw.ci95,
      p: raw.p,
      pAdjusted,
      significant: passes && !options.withhold,
      method: options.method,
      withheld: passes && options.withhold,
    };
  });
}
