import type { Comparison, GroupStats, Interval, StatsReport } from "../../core/stats.js";
import { checkPromptName } from "../../core/names.js";
import { PromptsError } from "../../errors.js";
import { findRoot } from "../../store/config.js";
import { loadNameSources, locatePromptDir } from "../../store/load.js";
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
  const query: StatsQuery = {
    by,
    ...(name === undefined ? {} : { name }),
    ...(options.since === undefined ? {} : { since: options.since }),
    ...(options.until === undefined ? {} : { until: options.until }),
  };
  const report = await readReport(context, options.from, query);
  if (name !== undefined && report.prompts.length === 0) {
    if (!(await isKnownPrompt(context, options.from, name, query))) {
      const where = options.from === undefined ? "" : ` served by ${options.from}`;
      throw new PromptsError(
        "E_PROMPT_NOT_FOUND",
        `no prompt named "${name}"${where} (run: prompts list)`,
      );
    }
  }
  if (context.global.json) {
    writeJson(context, report);
    return 0;
  }
  const colors = await colorsFor(context, context.io.stdout);
  if (report.prompts.length === 0) {
    const period = options.since !== undefined || options.until !== undefined;
    context.io.stdout.write(
      `no usage recorded${name === undefined ? "" : ` for "${name}"`}${period ? " in that period" : " yet"}\n`,
    );
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

/** What a report is asked for: the query string of `GET /v1/stats`. */
interface StatsQuery {
  by: "version" | "variant";
  name?: string;
  since?: string;
  until?: string;
}

/** The report of the local usage store, or of the `prompts serve` at `from`. */
async function readReport(
  context: CommandContext,
  from: string | undefined,
  query: StatsQuery,
): Promise<StatsReport> {
  if (from === undefined) {
    const { root, cwd } = loadOptionsOf(context);
    return usageStats(root ?? findRoot(cwd), query);
  }
  const url = `${from.replace(/\/+$/, "")}/v1/stats?${new URLSearchParams({ ...query }).toString()}`;
  const response = await request(context, url);
  if (!response.ok)
    throw new PromptsError(
      "E_IO",
      `GET ${url} answered ${response.status}: ${await response.text()}`,
    );
  return (await response.json()) as StatsReport;
}

/**
 * Whether `name` is a prompt to report on though no usage in the report mentions it: one in the
 * working tree (or served by `from`) that has no usage yet, or one whose usage all falls outside
 * --since/--until. A prompt deleted from the tree whose usage remains is in the report already.
 */
async function isKnownPrompt(
  context: CommandContext,
  from: string | undefined,
  name: string,
  query: StatsQuery,
): Promise<boolean> {
  if (from === undefined) {
    const { dir, root } = await locatePromptDir(loadOptionsOf(context));
    // A name that cannot be a prompt's is never looked up as a path.
    const isName = checkPromptName(name) === undefined;
    if (isName && (await loadNameSources(root, dir, name)).length > 0) return true;
  } else {
    const path = name.split("/").map(encodeURIComponent).join("/");
    const url = `${from.replace(/\/+$/, "")}/v1/prompts/${path}`;
    const response = await request(context, url);
    await response.body?.cancel();
    if (response.status !== 404) return true;
  }
  if (query.since === undefined && query.until === undefined) return false;
  const { by } = query;
  return (await readReport(context, from, { by, name })).prompts.length > 0;
}

/** GET `url` with the token of PROMPTS_TOKEN; a server that cannot be reached is one line. */
async function request(context: CommandContext, url: string): Promise<Response> {
  const headers: Record<string, string> = {};
  const token = context.io.env.PROMPTS_TOKEN;
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(url, { headers }).catch((error: unknown) => {
    throw new PromptsError(
      "E_IO",
      `cannot reach ${url}: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
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
