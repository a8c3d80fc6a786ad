import {
  declaredSplits,
  type DeclaredSplit,
  type GroupStats,
  type MetricPlan,
  type PromptStats,
  type StatsOptions,
  type StatsReport,
} from "../../core/stats.js";
import { checkPromptName } from "../../core/names.js";
import { PromptsError } from "../../errors.js";
import { findRoot } from "../../store/config.js";
import { locatePromptDir, parsePromptNamed } from "../../store/load.js";
import { usageStats } from "../../store/usage-store.js";
import {
  comparisonSetup,
  comparisonText,
  confidenceLevel,
  fixedText,
  intervalKind,
  intervalText,
  methodLine,
  percentText,
  reportWarnings,
  splitLine,
  type ToneText,
} from "../../core/stats-format.js";
import { type CommandContext, loadOptionsOf } from "../io.js";
import { type Colors, colorsFor, formatTable, writeJson } from "../output.js";
import type { StatsCliOptions } from "../program.js";

/**
 * `prompts stats [NAME]`: per version or variant, usages, outcomes, mean score and success rate
 * with their intervals, latency percentiles, tokens and cost, and the difference to the control;
 * by variant, the check of the split; with `--plan`, the outcomes per arm needed.
 */
export async function statsCommand(
  context: CommandContext,
  name: string | undefined,
  options: StatsCliOptions,
): Promise<number> {
  if (options.series !== undefined && !context.global.json)
    throw new PromptsError("E_USAGE", "--series goes with --json: the table shows no series");
  const query = queryOf(name, options);
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
  const period = options.since !== undefined || options.until !== undefined;
  await writeReport(context, report, name, period);
  return 0;
}

/** The options checked, as the query of `/v1/stats` (which `--from` sends as it is). */
function queryOf(name: string | undefined, options: StatsCliOptions): StatsQuery {
  const by = options.by ?? "version";
  if (by !== "version" && by !== "variant") {
    throw new PromptsError("E_USAGE", `--by takes version or variant, got "${by}"`);
  }
  const method = options.method ?? "always-valid";
  if (method !== "always-valid" && method !== "fixed") {
    throw new PromptsError("E_USAGE", `--method takes always-valid or fixed, got "${method}"`);
  }
  const correction = options.correction ?? "holm";
  if (correction !== "holm" && correction !== "none") {
    throw new PromptsError("E_USAGE", `--correction takes holm or none, got "${correction}"`);
  }
  if (options.plan === true && options.lift === undefined) {
    throw new PromptsError(
      "E_USAGE",
      "--plan needs --lift: the absolute difference to detect (e.g. --lift 0.05 for 5 points)",
    );
  }
  if (options.lift !== undefined && options.plan !== true) {
    throw new PromptsError(
      "E_USAGE",
      "--lift goes with --plan (prompts stats NAME --plan --lift 0.05)",
    );
  }
  if (
    options.lift !== undefined &&
    !(Number.isFinite(Number(options.lift)) && Number(options.lift) !== 0)
  ) {
    throw new PromptsError(
      "E_USAGE",
      `--lift takes a non-zero number such as 0.05, got "${options.lift}"`,
    );
  }
  if (options.series !== undefined && options.series !== "day") {
    throw new PromptsError("E_USAGE", `--series takes day, got "${options.series}"`);
  }
  return {
    by,
    method,
    correction,
    ...(options.series === undefined ? {} : { series: options.series }),
    ...(name === undefined ? {} : { name }),
    ...(options.since === undefined ? {} : { since: options.since }),
    ...(options.until === undefined ? {} : { until: options.until }),
    ...(options.lift === undefined ? {} : { lift: options.lift }),
  };
}

/** What a report is asked for: the query string of `GET /v1/stats`. */
interface StatsQuery {
  by: "version" | "variant";
  method: "always-valid" | "fixed";
  correction: "holm" | "none";
  series?: "day";
  name?: string;
  since?: string;
  until?: string;
  lift?: string;
}

/** The report of the local usage store, or of the `prompts serve` at `from`. */
async function readReport(
  context: CommandContext,
  from: string | undefined,
  query: StatsQuery,
): Promise<StatsReport> {
  if (from === undefined) {
    const { root, cwd } = loadOptionsOf(context);
    const statsOptions: StatsOptions = {
      by: query.by,
      ...(query.name === undefined ? {} : { name: query.name }),
      ...(query.since === undefined ? {} : { since: query.since }),
      ...(query.until === undefined ? {} : { until: query.until }),
      method: query.method,
      correction: query.correction,
      ...(query.lift === undefined ? {} : { plan: { lift: Number(query.lift) } }),
      ...(query.series === undefined ? {} : { series: query.series }),
    };
    if (query.by === "variant") statsOptions.splits = await readSplits(context, query.name);
    return usageStats(root ?? findRoot(cwd), statsOptions);
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
    if (isName && (await parsePromptNamed(root, dir, name)).length > 0) return true;
  } else {
    const path = name.split("/").map(encodeURIComponent).join("/");
    const url = `${from.replace(/\/+$/, "")}/v1/prompts/${path}`;
    const response = await request(context, url);
    await response.body?.cancel();
    if (response.status !== 404) return true;
  }
  if (query.since === undefined && query.until === undefined) return false;
  const { by, method, correction } = query;
  return (await readReport(context, from, { by, method, correction, name })).prompts.length > 0;
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

/**
 * The weights the working tree declares, for the sample-ratio check. A prompt that does not
 * load (deleted, or invalid now) is left out, and its check says its weights are unknown.
 */
async function readSplits(
  context: CommandContext,
  name: string | undefined,
): Promise<Map<string, DeclaredSplit>> {
  const { loadPrompts, loadPromptsByName } = await import("../../store/load.js");
  const options = loadOptionsOf(context);
  try {
    const loaded =
      name === undefined ? await loadPrompts(options) : await loadPromptsByName([name], options);
    return declaredSplits(loaded.prompts.values());
  } catch (error) {
    if (error instanceof PromptsError) return new Map();
    throw error;
  }
}

async function writeReport(
  context: CommandContext,
  report: StatsReport,
  name: string | undefined,
  period: boolean,
): Promise<void> {
  const { stdout, stderr } = context.io;
  const colors = await colorsFor(context, stdout);
  if (report.prompts.length === 0) {
    stdout.write(
      `no usage recorded${name === undefined ? "" : ` for "${name}"`}${period ? " in that period" : " yet"}\n`,
    );
  } else stdout.write(`${colors.dim(methodLine(report))}\n\n`);
  const blocks = report.prompts.map((prompt) => promptBlock(report, prompt, colors));
  if (blocks.length > 0) stdout.write(`${blocks.join("\n\n")}\n`);
  for (const warning of reportWarnings(report))
    stderr.write(`${colors.yellow("warning:")} ${warning}\n`);
}

/** The text painted as its tone says. */
function paint(colors: Colors, { text, tone }: ToneText): string {
  if (tone === "dim") return colors.dim(text);
  if (tone === "good") return colors.green(text);
  if (tone === "bad") return colors.red(text);
  return text;
}

function promptBlock(report: StatsReport, prompt: PromptStats, colors: Colors): string {
  const lines = [`${colors.bold(prompt.name)} ${colors.dim(comparisonSetup(report, prompt))}`];
  const split = splitLine(prompt);
  if (split !== undefined) lines.push(paint(colors, split));
  const kind = intervalKind(report);
  const level = confidenceLevel(report);
  const titles = [
    "",
    "USAGES",
    "OUTCOMES",
    `SCORE (${level} ${kind})`,
    `SUCCESS (${level} ${kind})`,
    "LATENCY p50/p95",
    "TOKENS in/out",
    "COST",
    "VS CONTROL",
  ];
  const rows = prompt.groups.map((group) => groupRow(group, prompt.control, colors));
  lines.push(formatTable([titles.map((title) => colors.dim(title)), ...rows]));
  if (prompt.plan !== undefined) lines.push(...planLines(prompt, colors));
  return lines.join("\n");
}

function planLines(prompt: PromptStats, colors: Colors): string[] {
  const plan = prompt.plan;
  if (plan === undefined) return [];
  const level = `${plan.alpha * 100}% level${plan.comparisons > 1 ? ` shared by ${plan.comparisons} comparisons` : ""}`;
  const lines = [
    `plan: outcomes per arm to detect the lift with ${plan.power * 100}% power at the ${level}`,
  ];
  const metric = (label: string, lift: string, base: string, value: MetricPlan) =>
    `  ${label} ${lift} from ${base}: ${count(value.fixed)} with --method fixed, ${count(value.alwaysValid)} always-valid; the smallest group has ${count(value.now)}`;
  if (plan.success !== null) {
    lines.push(
      metric(
        "success",
        `${plan.lift >= 0 ? "+" : ""}${(plan.lift * 100).toFixed(1)} pts`,
        percentText(plan.success.base),
        plan.success,
      ),
    );
  }
  if (plan.score !== null) {
    lines.push(
      metric(
        "score",
        `${plan.lift >= 0 ? "+" : ""}${plan.lift}`,
        `${plan.score.base.toFixed(3)} (sd ${plan.score.sd.toFixed(3)})`,
        plan.score,
      ),
    );
  }
  for (const note of plan.notes) lines.push(colors.dim(`  ${note}`));
  return lines;
}

function count(value: number): string {
  return Number.isFinite(value) ? value.toLocaleString("en-US") : "∞";
}

function groupRow(group: GroupStats, control: string | null, colors: Colors): string[] {
  const score =
    group.score.mean === null
      ? "-"
      : `${fixedText(group.score.mean, 3)} ${intervalText(group.score.ci95, 3)}`;
  const success =
    group.success.rate === null
      ? "-"
      : `${percentText(group.success.rate)} ${intervalText(group.success.ci95, 1, true)}`;
  const latency =
    group.latency.p50 === null
      ? "-"
      : `${Math.round(group.latency.p50)}/${Math.round(group.latency.p95 ?? 0)} ms`;
  const tokens =
    group.tokens.input === null && group.tokens.output === null
      ? "-"
      : `${fixedText(group.tokens.input, 0)}/${fixedText(group.tokens.output, 0)}`;
  const cost = group.cost === null ? "-" : group.cost.toPrecision(3);
  const versus =
    group.key === control
      ? colors.dim("control")
      : [
          comparisonText("score", group.vsControl?.score, false),
          comparisonText("success", group.vsControl?.success, true),
        ]
          .filter((part) => part !== undefined)
          .map((part) => paint(colors, part))
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
