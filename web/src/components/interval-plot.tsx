// Estimates with their 95% intervals, one row per group on a shared axis, with the numbers next
// to each bar: the shape of an A/B result is seen at a glance, and read exactly beside it.
import type { Interval } from "../../../src/core/stats.js";
import type { StatsTone } from "../../../src/core/stats-format.js";

/** One row: a group's estimate, its interval and the text of both. */
export interface IntervalRow {
  key: string;
  estimate: number | null;
  interval: Interval | null;
  /** The numbers as `prompts stats` writes them. */
  text: string;
  tone?: StatsTone;
}

/** Round tick steps: 1, 2 or 5 times a power of ten, about five ticks over the span. */
function ticksOf(low: number, high: number): number[] {
  const span = high - low || 1;
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw) ?? raw;
  const ticks: number[] = [];
  for (let tick = Math.ceil(low / step) * step; tick <= high + step * 1e-9; tick += step)
    ticks.push(Number(tick.toPrecision(12)));
  return ticks;
}

/** The axis: every interval and the reference line, with a little room on either side. */
function domainOf(rows: IntervalRow[], reference: number | undefined, clamp?: Interval): Interval {
  const values = rows.flatMap((row) => [
    ...(row.interval ?? []),
    ...(row.estimate === null ? [] : [row.estimate]),
  ]);
  if (reference !== undefined) values.push(reference);
  if (values.length === 0) return clamp ?? [0, 1];
  let low = Math.min(...values);
  let high = Math.max(...values);
  const pad = (high - low || Math.abs(high) || 1) * 0.08;
  low -= pad;
  high += pad;
  if (clamp) {
    low = Math.max(low, clamp[0]);
    high = Math.min(high, clamp[1]);
  }
  return [low, high];
}

export function IntervalPlot({
  title,
  rows,
  format,
  reference,
  referenceLabel,
  clamp,
}: {
  title: string;
  rows: IntervalRow[];
  /** A tick's text. */
  format: (value: number) => string;
  /** A vertical line: zero for differences. */
  reference?: number;
  referenceLabel?: string;
  /** The axis never goes past these (0 and 1 for a rate). */
  clamp?: Interval;
}) {
  const [low, high] = domainOf(rows, reference, clamp);
  const at = (value: number) => `${(((value - low) / (high - low)) * 100).toFixed(3)}%`;
  const ticks = ticksOf(low, high);
  return (
    <figure class="interval-plot">
      <figcaption>
        {title}
        {referenceLabel && <span class="muted"> (dashed line: {referenceLabel})</span>}
      </figcaption>
      <div class="interval-rows">
        {rows.map((row) => (
          <div class="interval-row" key={row.key}>
            <span class="interval-key mono">{row.key}</span>
            <span class="interval-track" aria-hidden="true">
              {reference !== undefined && (
                <span class="interval-reference" style={{ left: at(reference) }} />
              )}
              {row.interval && (
                <span
                  class={`interval-bar tone-${row.tone ?? "plain"}`}
                  style={{
                    left: at(Math.max(low, row.interval[0])),
                    width: `${(((Math.min(high, row.interval[1]) - Math.max(low, row.interval[0])) / (high - low)) * 100).toFixed(3)}%`,
                  }}
                />
              )}
              {row.estimate !== null && (
                <span
                  class={`interval-point tone-${row.tone ?? "plain"}`}
                  style={{ left: at(row.estimate) }}
                />
              )}
            </span>
            <span class={`interval-text mono tone-${row.tone ?? "plain"}`}>{row.text}</span>
          </div>
        ))}
        <div class="interval-row interval-axis" aria-hidden="true">
          <span class="interval-key" />
          <span class="interval-track">
            {ticks.map((tick) => (
              <span class="interval-tick" key={tick} style={{ left: at(tick) }}>
                {format(tick)}
              </span>
            ))}
          </span>
          <span class="interval-text" />
        </div>
      </div>
    </figure>
  );
}
