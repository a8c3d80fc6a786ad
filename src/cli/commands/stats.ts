import {
  type Comparison,
  declaredSplits,
  type DeclaredSplit,
  type GroupStats,
  type Interval,
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
  const warnings = [
    ...report.warnings,
    ...report.prompts.flatMap((prompt) => [
      ...prompt.warnings.map((warning) => `${prompt.name}: ${warning}`),
      ...prompt.groups.flatMap((group) =>
        group.warnings.map((warning) => `${prompt.name} ${group.key}: ${warning}`),
      ),
    ]),
  ];
  for (const warning of warnings) stderr.write(`${colors.yellow("warning:")} ${warning}\n`);
}

/** The first line: which method produced every p-value, interval and mark below. */
function methodLine(report: StatsReport): string {
  const level = `${Math.round((1 - report.alpha) * 100)}%`;
  if (report.method === "fixed") {
    return `method: fixed-horizon (two-proportion z and Welch t-tests, ${level} confidence intervals): valid for one look at a sample size fixed in advance`;
  }
  return `method: always-valid (mSPRT, ${level} confidence sequences, tuned for ${report.tuning?.toLocaleString("en-US") ?? "?"} outcomes per arm): valid however often you look`;
}

function promptBlock(report: StatsReport, prompt: PromptStats, colors: Colors): string {
  const correction =
    prompt.comparisons > 1
      ? report.correction === "holm"
        ? `; ${prompt.comparisons} comparisons, Holm-corrected`
        : `; ${prompt.comparisons} comparisons, not corrected`
      : "";
  const lines = [
    `${colors.bold(prompt.name)} ${colors.dim(`by ${report.by}; control: ${prompt.control ?? "none"}${correction}`)}`,
  ];
  const split = splitLine(prompt, colors);
  if (split !== undefined) lines.push(split);
  const kind = report.method === "fixed" ? "CI" : "CS";
  const level = `${Math.round((1 - report.alpha) * 100)}%`;
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

/** The split observed against the weights declared; loud when it is broken. */
function splitLine(prompt: PromptStats, colors: Colors): string | undefined {
  const check = prompt.srm;
  if (check === null || check === undefined) return undefined;
  if (check.status === "unchecked") return colors.dim(`split: not checked: ${check.reason ?? ""}`);
  if (check.status === "mismatch") {
    const warning = prompt.warnings.find((line) => line.startsWith("the split is broken"));
    return colors.red(`✗ ${warning ?? "the split is broken"}`);
  }
  const observed = check.shares.map((share) => `${(share.observed * 100).toFixed(1)}%`).join(" / ");
  const expected = check.shares.map((share) => trim(share.expected * 100)).join(" / ");
  const names = check.shares.map((share) => share.variant).join(" / ");
  return colors.dim(
    `split: ${observed} observed for ${expected} configured (${names}; p=${(check.p ?? NaN).toFixed(3)} over ${check.units} units of version ${check.version ?? "?"})`,
  );
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
        percent(plan.success.base),
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

function trim(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
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
  // Reports from an older server carry no pAdjusted: they had no correction.
  const adjusted =
    value.pAdjusted !== undefined && value.pAdjusted !== value.p
      ? ` (Holm ${pValue(value.pAdjusted)})`
      : "";
  const text = `${label} ${diff} ${interval(value.ci95, asPercent ? 1 : 3, asPercent)} p=${pValue(value.p)}${adjusted}`;
  if (value.withheld) return colors.red(`${text} (withheld: split broken)`);
  return value.significant ? colors.green(`${text} ✓`) : text;
}

function pValue(p: number): string {
  return p < 0.001 ? "<0.001" : p.toFixed(3);
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
