// How a statistics report is worded: `prompts stats` prints these lines and the web page's
// Experiments page shows the same ones, so the two can never word a mark or a warning apart.
// Pure and without colour: the CLI paints the text by its `tone`, the page styles it.
import type { Comparison, Interval, PromptStats, StatsReport } from "./stats.js";

/** How a piece of text is shown: plain, de-emphasised, good news, or loud. */
export type StatsTone = "plain" | "dim" | "good" | "bad";

/** A piece of text and how it is shown. */
export interface ToneText {
  text: string;
  tone: StatsTone;
}

/** The first line: which method produced every p-value, interval and mark of the report. */
export function methodLine(report: StatsReport): string {
  const level = confidenceLevel(report);
  if (report.method === "fixed") {
    return `method: fixed-horizon (two-proportion z and Welch t-tests, ${level} confidence intervals): valid for one look at a sample size fixed in advance`;
  }
  return `method: always-valid (mSPRT, ${level} confidence sequences, tuned for ${report.tuning?.toLocaleString("en-US") ?? "?"} outcomes per arm): valid however often you look`;
}

/** `95%`: the level of the report's intervals. */
export function confidenceLevel(report: StatsReport): string {
  return `${Math.round((1 - report.alpha) * 100)}%`;
}

/** `CS` (confidence sequence, always-valid) or `CI` (confidence interval, fixed-horizon). */
export function intervalKind(report: StatsReport): "CI" | "CS" {
  return report.method === "fixed" ? "CI" : "CS";
}

/** What a prompt's groups are compared by: `by variant; control: default; 2 comparisons, Holm-corrected`. */
export function comparisonSetup(report: StatsReport, prompt: PromptStats): string {
  const correction =
    prompt.comparisons > 1
      ? report.correction === "holm"
        ? `; ${prompt.comparisons} comparisons, Holm-corrected`
        : `; ${prompt.comparisons} comparisons, not corrected`
      : "";
  return `by ${report.by}; control: ${prompt.control ?? "none"}${correction}`;
}

/** The split observed against the weights declared (by variant); loud when it is broken. */
export function splitLine(prompt: PromptStats): ToneText | undefined {
  const check = prompt.srm;
  if (check === null || check === undefined) return undefined;
  if (check.status === "unchecked")
    return { text: `split: not checked: ${check.reason ?? ""}`, tone: "dim" };
  if (check.status === "mismatch") {
    const warning = prompt.warnings.find((line) => line.startsWith("the split is broken"));
    return { text: `✗ ${warning ?? "the split is broken"}`, tone: "bad" };
  }
  const observed = check.shares.map((share) => `${(share.observed * 100).toFixed(1)}%`).join(" / ");
  const expected = check.shares.map((share) => trimmed(share.expected * 100)).join(" / ");
  const names = check.shares.map((share) => share.variant).join(" / ");
  return {
    text: `split: ${observed} observed for ${expected} configured (${names}; p=${(check.p ?? NaN).toFixed(3)} over ${check.units} units of version ${check.version ?? "?"})`,
    tone: "dim",
  };
}

/**
 * One metric's difference to the control: `success +12.3 pts [4.1, 20.5] p=0.002 ✓`, with
 * `(Holm p)` when corrected and `(withheld: split broken)` when the mark is withheld.
 */
export function comparisonText(
  label: string,
  value: Comparison | null | undefined,
  asPercent: boolean,
): ToneText | undefined {
  if (!value) return undefined;
  const diff = asPercent
    ? `${value.diff >= 0 ? "+" : ""}${(value.diff * 100).toFixed(1)} pts`
    : `${value.diff >= 0 ? "+" : ""}${value.diff.toFixed(3)}`;
  // Reports from an older server carry no pAdjusted: they had no correction.
  const adjusted =
    value.pAdjusted !== undefined && value.pAdjusted !== value.p
      ? ` (Holm ${pValue(value.pAdjusted)})`
      : "";
  const text = `${label} ${diff} ${intervalText(value.ci95, asPercent ? 1 : 3, asPercent)} p=${pValue(value.p)}${adjusted}`;
  if (value.withheld) return { text: `${text} (withheld: split broken)`, tone: "bad" };
  return value.significant ? { text: `${text} ✓`, tone: "good" } : { text, tone: "plain" };
}

/** Every warning of the report, each as `prompts stats` prints it after `warning: `. */
export function reportWarnings(report: StatsReport): string[] {
  return [
    ...report.warnings,
    ...report.prompts.flatMap((prompt) => [
      ...prompt.warnings.map((warning) => `${prompt.name}: ${warning}`),
      ...prompt.groups.flatMap((group) =>
        group.warnings.map((warning) => `${prompt.name} ${group.key}: ${warning}`),
      ),
    ]),
  ];
}

/** `0.012`, or `<0.001`. */
function pValue(p: number): string {
  return p < 0.001 ? "<0.001" : p.toFixed(3);
}

/** `[0.512, 0.634]`, or in percent points `[51.2, 63.4]`; `""` without an interval. */
export function intervalText(value: Interval | null, digits: number, asPercent = false): string {
  if (!value) return "";
  const show = (n: number) => (asPercent ? (n * 100).toFixed(digits) : n.toFixed(digits));
  return `[${show(value[0])}, ${show(value[1])}]`;
}

/** `0.734`, or `-` for no value. */
export function fixedText(value: number | null, digits: number): string {
  return value === null ? "-" : value.toFixed(digits);
}

/** `61.3%`. */
export function percentText(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

function trimmed(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}
