/**
 * Holm's step-down adjustment (Holm, "A simple sequentially rejective multiple test
 * procedure", Scandinavian Journal of Statistics 6(2), 1979): the adjusted p-values, in the
 * order given, such that marking those under α keeps the chance of any false mark among all
 * comparisons at or under α. It asks nothing of how the comparisons depend on each other (arms
 * share their control), and it holds for always-valid p-values at every look at once: a true
 * null is first marked only when its p-value is under α / (number of true nulls), which an
 * always-valid p-value ever is with chance at most that. NaN p-values (no test) stay NaN and do
 * not count as comparisons.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const order = pValues
    .map((p, index) => ({ p, index }))
    .filter(({ p }) => !Number.isNaN(p))
    .sort((a, b) => a.p - b.p);
  const adjusted = pValues.map(() => NaN);
  let running = 0;
  for (const [rank, { p, index }] of order.entries()) {
    // Step-down: each adjusted p is at least the one before it, so the order is kept.
    running = Math.max(running, Math.min(1, (order.length - rank) * p));
    adjusted[index] = running;
  }
  return adjusted;
}
