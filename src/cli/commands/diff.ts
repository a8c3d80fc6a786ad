import { resolve } from "node:path";
import { isPlainObject } from "../../core/json.js";
import type { Issue } from "../../core/types.js";
import { PromptsError, usageError } from "../../errors.js";
import { findRoot } from "../../store/config.js";
import { diffPrompts } from "../../store/prompt-diff.js";
import { formatStat } from "../diff-output.js";
import { type CommandContext, loadOptionsOf } from "../io.js";
import { colorsFor, reportIssues, writeJson } from "../output.js";

export type { DiffReport, DiffSide } from "../../store/prompt-diff.js";

/** Options of `prompts diff`. */
export interface DiffCliOptions {
  /** One line per prompt with counts, then a summary. */
  stat?: boolean;
  /** Exit 1 when the prompts differ (with `breaking`: when a change is breaking). */
  exitCode?: boolean;
  /** With `exitCode`: only breaking changes make the exit status 1. */
  breaking?: boolean;
  /** A YAML or JSON file of prompt name → variables: diff the rendered text too. */
  vars?: string;
}

/**
 * `prompts diff [FROM [TO]] [NAME…]`: how the prompts differ between two commits, or between a
 * commit and the working tree (computed by `store/prompt-diff.ts`, which `GET /v1/diff` uses
 * too). Exit 0 whatever differs, unless `--exit-code`.
 */
export async function diffCommand(
  context: CommandContext,
  args: readonly string[],
  options: DiffCliOptions,
  rawArgs: readonly string[] = [],
): Promise<number> {
  if (options.breaking && !options.exitCode) {
    throw usageError("--breaking narrows what --exit-code fails on: use --exit-code --breaking");
  }
  const base = loadOptionsOf(context);
  const root = base.root ?? findRoot(base.cwd);
  const variables =
    options.vars === undefined
      ? undefined
      : await readVariablesFile(resolve(context.io.cwd, context.global.C ?? ".", options.vars));
  const literal = literalTail(args, rawArgs);
  const { report, sides, unmatched } = await diffPrompts(
    { ...base, root },
    {
      args,
      ...(literal === undefined ? {} : { literal }),
      ...(variables ? { variables } : {}),
      // --stat prints counts only; --json gives the hunks whatever else is asked.
      countsOnly: options.stat === true && !context.global.json,
    },
  );
  // A file broken on both sides is reported once.
  const toIssueKeys = new Set(report.issues.to.map(issueKey));
  const fromOnly = report.issues.from.filter((issue) => !toIssueKeys.has(issueKey(issue)));
  await reportIssues(context, [
    ...labelIssues(fromOnly, sides.from.ref),
    ...labelIssues(report.issues.to, sides.to.ref),
  ]);
  if (context.global.json) writeJson(context, report);
  else {
    const colors = await colorsFor(context, context.io.stdout);
    // The whole difference has a module of its own (word diffs): --stat loads none of it.
    const text = options.stat
      ? formatStat(report, sides, colors)
      : (await import("../diff-full-output.js")).formatFull(
          report,
          sides,
          colors,
          variables !== undefined,
        );
    context.io.stdout.write(text);
  }
  if (unmatched.length > 0) {
    const colors = await colorsFor(context, context.io.stderr);
    for (const { message } of unmatched) context.io.stderr.write(`${colors.red("✗")} ${message}\n`);
    return 1;
  }
  if (!options.exitCode) return 0;
  return (options.breaking ? report.breaking : report.different) ? 1 : 0;
}
/**
 * How many of the arguments came after a literal `--`: commander drops the `--` itself, so it
 * is found in the raw command line.
 */
function literalTail(args: readonly string[], rawArgs: readonly string[]): number | undefined {
  const command = rawArgs.indexOf("diff");
  const dashes = rawArgs.indexOf("--", command + 1);
  if (command === -1 || dashes === -1) return undefined;
  return Math.min(args.length, rawArgs.length - dashes - 1);
}

function issueKey(issue: Issue): string {
  return `${issue.file}\0${issue.line}\0${issue.col}\0${issue.code}\0${issue.message}`;
}

/** Issues of a ref's files as `v1:prompts/a.yaml` (git's name for a file at a ref). */
function labelIssues(issues: readonly Issue[], ref: string | null): Issue[] {
  return ref === null
    ? [...issues]
    : issues.map((issue) => ({ ...issue, file: `${ref}:${issue.file}` }));
}
/** A YAML or JSON file mapping prompt names to their variables. */
async function readVariablesFile(
  path: string,
): Promise<Map<string, Readonly<Record<string, unknown>>>> {
  // Loaded with --vars only: every module is start-up time.
  const { readMappingFile } = await import("../data-file.js");
  const value = await readMappingFile(
    path,
    'a mapping of prompt names to their variables, e.g. {"greeting": {"name": "Ada"}}',
  );
  const byPrompt = new Map<string, Readonly<Record<string, unknown>>>();
  for (const [name, variables] of Object.entries(value)) {
    if (!isPlainObject(variables)) {
      throw new PromptsError(
        "E_INVALID_INPUT",
        `${path}: "${name}" must map variable names to values`,
      );
    }
    // No prototype: a variable named __proto__ must stay an unknown variable.
    byPrompt.set(name, Object.assign(Object.create(null) as Record<string, unknown>, variables));
  }
  return byPrompt;
}
