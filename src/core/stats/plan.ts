import { normalCdf, normalQuantile } from "./distributions.js";
import { boundaryZ2, type SequentialOptions } from "./sequential.js";

/** What a sample size is planned for. */
export interface PlanOptions {
  /** The absolute difference to detect, in the metric's units (0.05 = 5 points of success rate). */
  lift: number;
  /** Chance of detecting it if it is there (default 0.8). */
  power?: number;
  /** Two-sided level (default 0.05). */
  alpha?: number;
  /** Comparisons with the control sharing the level (Bonferroni, which Holm never does worse than). */
  comparisons?: number;
}

/**
 * Outcomes per arm for a fixed-horizon two-sided test to detect `lift` with the given power:
 * n = (z₁₋α/2m + z_power)² · (σ²_control + σ²_arm) / lift², the normal-approximation formula of
 * every textbook (e.g. Chow, Shao & Wang, "Sample Size Calculations in Clinical Research",
 * §4.2) and of the platforms' calculators.
 */
export function fixedSampleSize(
  varianceControl: number,
  varianceArm: number,
  options: PlanOptions,
): number {
  const { alpha, power, lift } = planLevels(options);
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(power);
  return Math.ceil((z * z * (varianceControl + varianceArm)) / (lift * lift));
}

/**
 * Outcomes per arm after which the always-valid test marks `lift` with the given power at that
 * look alone (earlier looks only add to the chance, so this errs on the safe side): the smallest
 * n with P(|θ̂|/se > boundary(n)) ≥ power, by doubling then bisection.
 */
export function sequentialSampleSize(
  varianceControl: number,
  varianceArm: number,
  options: PlanOptions & SequentialOptions,
): number {
  const { alpha, power, lift } = planLevels(options);
  const sequential = { ...options, alpha };
  const reaches = (n: number) => {
    const shift = Math.abs(lift) / Math.sqrt((varianceControl + varianceArm) / n);
    return normalCdf(shift - Math.sqrt(boundaryZ2(n, sequential))) >= power;
  };
  let high = 2;
  while (!reaches(high)) {
    if (high > 1e12) return Infinity;
    high *= 2;
  }
  let low = high / 2;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (reaches(middle)) high = middle;
    else low = middle;
  }
  return high;
}

function planLevels(options: PlanOptions): { alpha: number; power: number; lift: number } {
  return {
    alpha: (options.alpha ?? 0.05) / Math.max(1, options.comparisons ?? 1),
    power: options.power ?? 0.8,
    lift: options.lift,
  };
}
