// A chart of a value per day, one line per group (uPlot, loaded with the Experiments page only),
// with a legend, axis labels and, for those who cannot see it, the same numbers as a table.
import { useEffect, useRef } from "preact/hooks";
// The chart library's own stylesheet (legend, title): small, so it goes with the page's CSS.
import "uplot/dist/uPlot.min.css";

/** One line of the chart. */
export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

/** Distinct, readable on light and dark backgrounds. */
const PALETTE = ["#3b82f6", "#f97316", "#22c55e", "#a855f7", "#ef4444", "#14b8a6"];

/** The colour of the n-th group, the same in every chart of the page. */
function seriesColor(index: number): string {
  return PALETTE[index % PALETTE.length] as string;
}

function cssColor(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function SeriesChart({
  title,
  yLabel,
  days,
  series,
  format,
  range,
}: {
  title: string;
  yLabel: string;
  /** `YYYY-MM-DD` (UTC), one per point. */
  days: string[];
  series: ChartSeries[];
  format: (value: number) => string;
  /** A fixed y range ([0, 1] for a rate); otherwise from the data. */
  range?: [number, number];
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    let chart: { destroy(): void; setSize(size: { width: number; height: number }): void } | null =
      null;
    let observer: ResizeObserver | null = null;
    let cancelled = false;
    void import("uplot").then(({ default: UPlot }) => {
      if (cancelled) return;
      const fg = cssColor("--fg", "#1b1f24");
      const grid = cssColor("--line", "#d0d7de");
      const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
      const height = 240;
      const width = Math.max(280, element.clientWidth);
      const x = days.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000);
      chart = new UPlot(
        {
          title,
          width,
          height,
          tzDate: (ts: number) => UPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
          scales: { x: { time: true }, y: range ? { range } : {} },
          axes: [
            { ...axis, label: "day (UTC)" },
            {
              ...axis,
              label: yLabel,
              size: 60,
              values: (_u: unknown, values: number[]) => values.map(format),
            },
          ],
          series: [
            {
              label: "day",
              // The legend shows the day pointed at; none before the pointer is over the chart.
              value: (_u: unknown, ts: number | null) =>
                ts === null ? "–" : new Date(ts * 1000).toISOString().slice(0, 10),
            },
            ...series.map((one, index) => ({
              label: one.label,
              stroke: seriesColor(index),
              width: 2,
              points: { show: days.length < 40 },
              spanGaps: false,
              value: (_u: unknown, value: number | null) => (value === null ? "–" : format(value)),
            })),
          ],
        },
        [x, ...series.map((one) => one.values)],
        element,
      );
      observer = new ResizeObserver(() => {
        chart?.setSize({ width: Math.max(280, element.clientWidth), height });
      });
      observer.observe(element);
    });
    return () => {
      cancelled = true;
      observer?.disconnect();
      chart?.destroy();
    };
  }, [title, yLabel, days.join(), JSON.stringify(series), range?.join()]);
  return (
    <div
      class="series-chart"
      ref={box}
      role="img"
      aria-label={`${title}: chart; the numbers are in the table below`}
    />
  );
}
