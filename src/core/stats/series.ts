import { PromptsError } from "../../errors.js";

/** One UTC day of a group's usage: what `GET /v1/stats?series=day` draws. */
export interface SeriesPoint {
  /** `YYYY-MM-DD`, UTC. */
  date: string;
  usages: number;
  /** Outcomes reported for the usages of this day (counted on their usage's day). */
  outcomes: number;
  successes: number;
  failures: number;
  /** Mean score of those outcomes that carried one; null when none did. */
  score_mean: number | null;
}

/** The longest series answered: ten years of days. */
const MAX_SERIES_DAYS = 3660;

const DAY_MS = 86_400_000;

interface DayCounts {
  usages: number;
  outcomes: number;
  successes: number;
  failures: number;
  scoreSum: number;
  scoreN: number;
}

/** The day number (days since 1970-01-01 UTC) of a time in ms. */
export function dayOf(ts: number): number {
  return Math.floor(ts / DAY_MS);
}

/** Running counts of one group by UTC day: memory grows with the days, not the events. */
export class DailyCounts {
  private readonly days = new Map<number, DayCounts>();

  private at(day: number): DayCounts {
    let counts = this.days.get(day);
    if (counts === undefined) {
      counts = { usages: 0, outcomes: 0, successes: 0, failures: 0, scoreSum: 0, scoreN: 0 };
      this.days.set(day, counts);
    }
    return counts;
  }

  addUsage(day: number): void {
    this.at(day).usages += 1;
  }

  addOutcome(day: number, success: unknown, score: unknown): void {
    const counts = this.at(day);
    counts.outcomes += 1;
    if (success === true) counts.successes += 1;
    else if (success === false) counts.failures += 1;
    if (typeof score === "number" && Number.isFinite(score)) {
      counts.scoreSum += score;
      counts.scoreN += 1;
    }
  }

  /** The first and last day with a usage, or undefined when there is none. */
  span(): { first: number; last: number } | undefined {
    let first = Infinity;
    let last = -Infinity;
    for (const [day, counts] of this.days) {
      if (counts.usages === 0) continue;
      if (day < first) first = day;
      if (day > last) last = day;
    }
    return first === Infinity ? undefined : { first, last };
  }

  /** One point per day from `first` to `last`, days without events zero-filled. */
  points(first: number, last: number): SeriesPoint[] {
    const points: SeriesPoint[] = [];
    for (let day = first; day <= last; day++) {
      const counts = this.days.get(day);
      points.push({
        date: new Date(day * DAY_MS).toISOString().slice(0, 10),
        usages: counts?.usages ?? 0,
        outcomes: counts?.outcomes ?? 0,
        successes: counts?.successes ?? 0,
        failures: counts?.failures ?? 0,
        score_mean: counts && counts.scoreN > 0 ? counts.scoreSum / counts.scoreN : null,
      });
    }
    return points;
  }
}

/**
 * The days a prompt's series covers: from the first to the last usage day of any of its
 * groups. Fails, naming `since` and `until`, when that is more than {@link MAX_SERIES_DAYS}.
 */
export function seriesSpan(
  name: string,
  groups: readonly DailyCounts[],
): { first: number; last: number } | undefined {
  let first = Infinity;
  let last = -Infinity;
  for (const group of groups) {
    const span = group.span();
    if (span === undefined) continue;
    first = Math.min(first, span.first);
    last = Math.max(last, span.last);
  }
  if (first === Infinity) return undefined;
  const days = last - first + 1;
  if (days > MAX_SERIES_DAYS) {
    throw new PromptsError(
      "E_USAGE",
      `series: the usages of ${name} span ${days} days, more than ${MAX_SERIES_DAYS}; narrow them with since and until`,
    );
  }
  return { first, last };
}
