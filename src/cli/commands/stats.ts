import type { Comparison, GroupStats, Interval, StatsReport } from "../../core/stats.js";
import { PromptsError } from "../../errors.js";
import { findRoot } from "../../store/config.js";
import { usageStats } from "../../store/stats.js";
import { type CommandContext, loadOptionsOf } from "../io.js";
import { type Colors, colorsFor, formatTable, writeJson } from "../output.js";
import type { StatsCliOptions } from "../program.js";

/**
 * `prompts stats [NAME]`: per version or variant, usages, outcomes, mean score and success rate
 * with their intervals, latency percentiles, tokens and cost, and the difference to the control.
 */
export async function statsCommand(
  context: CommandContext,
  name: string | undefined,
  options: StatsCliOptions,
): Promise<number> {
  const by = options.by ?? "version";
  if (by !== "version" && by !== "variant") {
    throw new PromptsError("E_USAGE", `--by takes version or variant, got "${by}"`);
  }
  const query = {
    by,
    ...(name === undefined ? {} : { name }),
    ...(options.since === undefined ? {} : { since: options.since }),
    ...(options.until === undefined ? {} : { until: options.until }),
  } as const;
  let report: StatsReport;
  if (options.from !== undefined) {
    const url = `${options.from.replace(/\/+$/, "")}/v1/stats?${new URLSearchParams(query).toString()}`;
    const headers: Record<string, string> = {};
    const token = context.io.env.PROMPTS_TOKEN;
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(url, { headers }).catch((error: unknown) => {
      throw new PromptsError(
        "E_IO",
        `cannot reach ${url}: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
    if (!response.ok)
      throw new PromptsError(
        "E_IO",
        `GET ${url} answered ${response.status}: ${await response.text()}`,
      );
    report = (await response.json()) as StatsReport;
  } else {
    const { root, cwd } = loadOptionsOf(context);
    report = await usageStats(root ?? findRoot(cwd), query);
  }
  if (context.global.json) {
    writeJson(context, report);
    return 0;
  }
  const colors = await colorsFor(context, context.io.stdout);
  if (report.prompts.length === 0) {
    context.io.stdout.write(`no usage recorded${name === undefined ? "" : ` for "${name}"`} yet\n`);
  }
  const blocks = report.prompts.map((prompt) => {
    const header = `${colors.bold(prompt.name)} ${colors.dim(`by ${report.by}; control: ${prompt.control ?? "none"}`)}`;
    const rows = prompt.groups.map((group) => groupRow(group, prompt.control, colors));
    const titles = [
      "",
      "USAGES",
      "OUTCOMES",
      "SCORE (95% CI)",
      "SUCCESS (95% CI)",
      "LATENCY p50/p95",
      "TOKENS in/out",
      "COST",
      "VS CONTROL",
    ];
    return `${header}\n${formatTable([titles.map((title) => colors.dim(title)), ...rows])}`;
  });
  if (blocks.length > 0) context.io.stdout.write(`${blocks.join("\n\n")}\n`);
  const warnings = [
    ...report.warnings,
    ...report.prompts.flatMap((prompt) => [
      ...prompt.warnings,
      ...prompt.groups.flatMap((group) =>
        group.warnings.map((warning) => `${prompt.name} ${group.key}: ${warning}`),
      ),
    ]),
  ];
  for (const warning of warnings)
    context.io.stderr.write(`${colors.yellow("warning:")} ${warning}\n`);
  return 0;
}

function groupRow(group: GroupStats, control: string | null, colors: Colors): string[] {
  const score =
    group.score.mean === null
      ? "-"
      : `${fixed(group.score.mean, 3)} ${interval(group.score.ci95, 3)}`;
  const success =
    group.success.rate === null
      ? "-"
      : `${percent(group.success.rate)} ${interval(group.success.ci95, 1, true)}`;
  const latency =
    group.latency.p50 === null
      ? "-"
      : `${Math.round(group.latency.p50)}/${Math.round(group.latency.p95 ?? 0)} ms`;
  const tokens =
    group.tokens.input === null && group.tokens.output === null
      ? "-"
      : `${fixed(group.tokens.input, 0)}/${fixed(group.tokens.output, 0)}`;
  const cost = group.cost === null ? "-" : group.cost.toPrecision(3);
  const versus =
    group.key === control
      ? colors.dim("control")
      : [
          comparison("score", group.vsControl?.score, false, colors),
          comparison("success", group.vsControl?.success, true, colors),
        ]
          .filter((part) => part !== "")
          .join("; ") || "-";
  return [
    colors.bold(group.key),
    String(group.usages),
    String(group.outcomes),
    score,
    success,
    latency,
    tokens,
    cost,
    versus,
  ];
}

function comparison(
  label: string,
  value: Comparison | null | undefined,
  asPercent: boolean,
  colors: Colors,
): string {
  if (!value) return "";
  const diff = asPercent
    ? `${value.diff >= 0 ? "+" : ""}${(value.diff * 100).toFixed(1)} pts`
    : `${value.diff >= 0 ? "+" : ""}${value.diff.toFixed(3)}`;
  const text = `${label} ${diff} ${interval(value.ci95, asPercent ? 1 : 3, asPercent)} p=${value.p < 0.001 ? "<0.001" : value.p.toFixed(3)}`;
  return value.significant ? colors.green(`${text} ✓`) : text;
}

function interval(value: Interval | null, digits: number, asPercent = false): string {
  if (!value) return "";
  const show = (n: number) => (asPercent ? (n * 100).toFixed(digits) : n.toFixed(digits));
  return `[${show(value[0])}, ${show(value[1])}]`;
}

function fixed(value: number | null, digits: number): string {
  return value === null ? "-" : value.toFixed(digits);
}

function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}
