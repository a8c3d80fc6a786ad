import { resolve } from "node:path";
import {
  diffPromptSets,
  isGlob,
  nameMatcher,
  type PromptSet,
  promptSetOf,
  type PromptSetDiff,
} from "../../core/diff.js";
import { isPlainObject } from "../../core/json.js";
import { isPromptFileName, promptNameOf } from "../../core/names.js";
import { didYouMean } from "../../core/suggest.js";
import type { PromptColumns } from "../../core/prompt-columns.js";
import type { Issue } from "../../core/types.js";
import { PromptsError, usageError } from "../../errors.js";
import {
  assertGitRepository,
  diffNameStatus,
  type GitChange,
  resolveCommit,
  workTreePrefix,
} from "../../git/objects.js";
import { promptRefLocator } from "../../git/labels.js";
import { findRoot } from "../../store/config.js";
import { type LoadOptions, locatePromptDir, loadPrompts } from "../../store/load.js";
import { formatStat } from "../diff-output.js";
import { type CommandContext, loadOptionsOf } from "../io.js";
import { colorsFor, reportIssues, writeJson } from "../output.js";

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

/** One side of the comparison: a git ref, or the working tree (`ref` and `commit` null). */
export interface DiffSide {
  ref: string | null;
  commit: string | null;
}

/**
 * What `prompts diff --json` prints: the {@link PromptSetDiff} (`prompts`, `summary`,
 * `different`, `breaking`) with the sides compared and the problems of each side's files:
 *
 * ```
 * { from: { ref: "HEAD", commit: "<sha>" }, to: { ref: null, commit: null },
 *   prompts: [...], summary: {...}, different: true, breaking: false,
 *   issues: { from: [Issue], to: [Issue] } }
 * ```
 */
export interface DiffReport extends PromptSetDiff {
  from: DiffSide;
  to: DiffSide;
  /** Errors of the prompt files on each side: those prompts are left out of the comparison. */
  issues: { from: Issue[]; to: Issue[] };
}

/** The side of a commit from before the prompt directory existed. */
const EMPTY_SET = promptSetOf(new Map());

interface Side {
  ref: string | null;
  commit: string | null;
  /** `at v1`, `in the working tree`. */
  where: string;
  loaded?: { dir: string; set: PromptSet; issues: readonly Issue[] };
  /** Why there are no prompts on this side (no prompt directory there), if so. */
  missing?: PromptsError;
}

/**
 * `prompts diff [FROM [TO]] [NAME…]`: how the prompts differ between two commits, or between a
 * commit and the working tree. Exit 0 whatever differs, unless `--exit-code`.
 */
export async function diffCommand(
  context: CommandContext,
  args: readonly string[],
  options: DiffCliOptions,
  rawArgs: readonly string[] = [],
): Promise<number> {
  // Over 80 lines on purpose: the steps of one command in order (arguments, sides, comparison, output).
  if (options.breaking && !options.exitCode) {
    throw usageError("--breaking narrows what --exit-code fails on: use --exit-code --breaking");
  }
  const base = loadOptionsOf(context);
  const root = base.root ?? findRoot(base.cwd);
  await assertGitRepository(root, "prompts diff");
  const variables =
    options.vars === undefined
      ? undefined
      : await readVariablesFile(resolve(context.io.cwd, context.global.C ?? ".", options.vars));

  // Refs are looked up with the prompt folder in them: reading them later asks git nothing more.
  const folder = `${await workTreePrefix(root)}${(await locatePromptDir({ ...base, root })).dir}`;
  const literal = literalTail(args, rawArgs);
  // The arguments that may be FROM and TO are asked of git at once: one process, not two.
  const locate = await promptRefLocator(root, refCandidates(args, literal), folder);
  const commitOf = async (ref: string) => (await locate(ref)).commit;
  const { refs, names, failedRef } = await splitArguments(commitOf, args, literal);
  const fromRef = refs[0]?.ref ?? "HEAD";
  const fromCommit = refs[0]?.commit ?? (await resolveCommit(root, "HEAD").catch(() => null));
  const to = refs[1];
  const loadOptions: LoadOptions = { ...base, root };
  // git's view of what changed is asked for while the sides load.
  const changes: Promise<GitChange[]> =
    fromCommit === null
      ? Promise.resolve([])
      : diffNameStatus(root, fromCommit, to?.commit, folder);
  changes.catch(() => {}); // Awaited below, unless loading a side fails first.
  // One side after the other: the second finds the files the two share in the parse cache.
  const fromSide =
    fromCommit === null
      ? ({ ref: fromRef, commit: null, where: `at ${fromRef}` } satisfies Side)
      : await loadSide({ ref: fromRef, commit: fromCommit, where: `at ${fromRef}` }, loadOptions);
  const toSide = await loadSide(
    to
      ? { ref: to.ref, commit: to.commit, where: `at ${to.ref}` }
      : { ref: null, commit: null, where: "in the working tree" },
    loadOptions,
  );
  const dir = fromSide.loaded?.dir ?? toSide.loaded?.dir;
  if (dir === undefined) throw toSide.missing ?? fromSide.missing ?? new Error("nothing loaded");
  const fromSet = fromSide.loaded?.set ?? EMPTY_SET;
  const toSet = toSide.loaded?.set ?? EMPTY_SET;
  const fromPrompts = fromSet.columns;
  const toPrompts = toSet.columns;
  const fromErrors = errorsOf(fromSide);
  const toErrors = errorsOf(toSide);
  const invalidFrom = invalidNames(fromErrors, dir);
  const invalidTo = invalidNames(toErrors, dir);

  // The first argument that is no ref and names no prompt was most likely meant as a ref.
  if (failedRef) {
    const known = (name: string) =>
      fromPrompts.has(name) || toPrompts.has(name) || invalidFrom.has(name) || invalidTo.has(name);
    if (!selectsAny(failedRef.arg, known, fromPrompts, toPrompts)) {
      const reason =
        failedRef.error instanceof Error ? failedRef.error.message : String(failedRef.error);
      const names = [...toPrompts.names, ...fromPrompts.names];
      throw new PromptsError(
        "E_GIT",
        `${reason}; no prompt is named "${failedRef.arg}" either${didYouMean(failedRef.arg, names)} (run: prompts list)`,
      );
    }
  }

  const { renames, changedNames } = namesOfChanges(await changes, `${folder}/`);
  const filter = nameMatcher(names);
  const result = diffPromptSets(fromSet, toSet, renames, changedNames, {
    filter,
    invalid: { from: invalidFrom, to: invalidTo },
    ...(variables ? { variables } : {}),
    // --stat prints counts only; --json gives the hunks whatever else is asked.
    ...(options.stat && !context.global.json ? { context: null } : {}),
  });

  const selected = (issue: Issue) => {
    const name = promptNameIn(issue.file, dir);
    return name === undefined || filter(name);
  };
  const fromIssues = fromErrors.filter(selected);
  const toIssues = toErrors.filter(selected);
  // A file broken on both sides is reported once.
  const toIssueKeys = new Set(toIssues.map(issueKey));
  const fromOnly = fromIssues.filter((issue) => !toIssueKeys.has(issueKey(issue)));
  await reportIssues(context, [
    ...labelIssues(fromOnly, fromSide.ref),
    ...labelIssues(toIssues, toSide.ref),
  ]);
  const sides = { from: fromSide, to: toSide };
  if (context.global.json) {
    const report: DiffReport = {
      from: { ref: fromSide.ref, commit: fromSide.commit },
      to: { ref: toSide.ref, commit: toSide.commit },
      ...result,
      issues: { from: fromIssues, to: toIssues },
    };
    writeJson(context, report);
  } else {
    const colors = await colorsFor(context, context.io.stdout);
    // The whole difference has a module of its own (word diffs): --stat loads none of it.
    const text = options.stat
      ? formatStat(result, sides, colors)
      : (await import("../diff-full-output.js")).formatFull(
          result,
          sides,
          colors,
          variables !== undefined,
        );
    context.io.stdout.write(text);
  }

  const problems = unmatchedNames(names, fromPrompts, toPrompts, invalidFrom, invalidTo, sides);
  if (problems.length > 0) {
    const colors = await colorsFor(context, context.io.stderr);
    for (const problem of problems) context.io.stderr.write(`${colors.red("✗")} ${problem}\n`);
    return 1;
  }
  if (!options.exitCode) return 0;
  return (options.breaking ? result.breaking : result.different) ? 1 : 0;
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

/** The arguments {@link splitArguments} may look up as refs: the first two, up to a glob. */
function refCandidates(args: readonly string[], literal: number | undefined): string[] {
  if (literal !== undefined) {
    const before = args.length - literal;
    // More than two is a usage error, reported before git is asked anything.
    return before > 2 ? [] : args.slice(0, before);
  }
  const first = args.slice(0, 2);
  const glob = first.findIndex(isGlob);
  return glob === -1 ? first : first.slice(0, glob);
}

/**
 * FROM and TO are the first one or two arguments that resolve as git refs; the rest are prompt
 * names or globs. With `--`, everything before it must be a ref and everything after is a name.
 */
async function splitArguments(
  commitOf: (ref: string) => Promise<string>,
  args: readonly string[],
  literal: number | undefined,
): Promise<{
  refs: { ref: string; commit: string }[];
  names: string[];
  failedRef?: { arg: string; error: unknown };
}> {
  const refs: { ref: string; commit: string }[] = [];
  if (literal !== undefined) {
    const before = args.slice(0, args.length - literal);
    if (before.length > 2) {
      throw usageError(
        `at most two refs go before "--" (FROM and TO), got ${before.length}: ${before.join(" ")}`,
      );
    }
    for (const ref of before) refs.push({ ref, commit: await commitOf(ref) });
    return { refs, names: args.slice(before.length) };
  }
  for (const arg of args.slice(0, 2)) {
    // No ref name holds * or ?: a glob is a name without asking git.
    if (isGlob(arg)) break;
    try {
      refs.push({ ref: arg, commit: await commitOf(arg) });
    } catch (error) {
      return { refs, names: args.slice(refs.length), failedRef: { arg, error } };
    }
  }
  return { refs, names: args.slice(refs.length) };
}

async function loadSide(side: Side, options: LoadOptions): Promise<Side> {
  try {
    const { dir, prompts, issues } = await loadPrompts(
      side.commit === null ? options : { ...options, ref: side.commit },
    );
    return { ...side, loaded: { dir, set: promptSetOf(prompts), issues } };
  } catch (error) {
    // A side without prompts (a commit from before the prompt directory existed) has none to
    // compare; when neither side has any, the error is reported.
    if (error instanceof PromptsError && error.code === "E_INVALID_INPUT") {
      return { ...side, missing: error };
    }
    throw error;
  }
}

function errorsOf(side: Side): Issue[] {
  return (side.loaded?.issues ?? []).filter((issue) => issue.severity === "error");
}

/** The prompt name of a file (relative to the root) in the prompt directory. */
function promptNameIn(file: string, dir: string): string | undefined {
  return file.startsWith(`${dir}/`) ? promptNameOf(file.slice(dir.length + 1)) : undefined;
}

/** Names of the prompt files that have errors. */
function invalidNames(errors: readonly Issue[], dir: string): Set<string> {
  const names = new Set<string>();
  for (const issue of errors) {
    const name = promptNameIn(issue.file, dir);
    if (name !== undefined) names.add(name);
  }
  return names;
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

/** Git's changes as prompt names: renames (new → old) and every name whose file changed. */
function namesOfChanges(
  changes: readonly GitChange[],
  directory: string,
): { renames: Map<string, string>; changedNames: Set<string> } {
  const nameOf = (path: string | undefined): string | undefined => {
    if (path === undefined || !path.startsWith(directory)) return undefined;
    const relative = path.slice(directory.length);
    if (!isPromptFileName(relative) || relative.split("/").some((part) => part.startsWith(".")))
      return undefined;
    return promptNameOf(relative);
  };
  const renames = new Map<string, string>();
  const changedNames = new Set<string>();
  for (const change of changes) {
    const name = nameOf(change.path);
    const before = nameOf(change.from);
    if (name !== undefined) changedNames.add(name);
    if (before !== undefined) changedNames.add(before);
    if (change.status === "renamed" && name !== undefined && before !== undefined) {
      renames.set(name, before);
    }
  }
  return { renames, changedNames };
}

/** True when `pattern` (a plain name) selects a prompt or a folder of prompts on either side. */
function selectsAny(
  pattern: string,
  known: (name: string) => boolean,
  ...sets: PromptColumns[]
): boolean {
  if (known(pattern)) return true;
  const folder = `${pattern.replace(/\/+$/, "")}/`;
  return sets.some((set) => set.names.some((name) => name.startsWith(folder)));
}

/** A line for each plain name asked for that is missing, or invalid, on both sides. */
function unmatchedNames(
  names: readonly string[],
  fromPrompts: PromptColumns,
  toPrompts: PromptColumns,
  invalidFrom: ReadonlySet<string>,
  invalidTo: ReadonlySet<string>,
  sides: { from: Side; to: Side },
): string[] {
  const problems: string[] = [];
  for (const name of names) {
    if (isGlob(name)) continue;
    const plain = name.replace(/\/+$/, "");
    const valid = (candidate: string) => fromPrompts.has(candidate) || toPrompts.has(candidate);
    if (selectsAny(plain, valid, fromPrompts, toPrompts)) continue;
    if (invalidFrom.has(plain) || invalidTo.has(plain)) {
      problems.push(`prompt "${plain}" is invalid; fix the errors above (run: prompts validate)`);
    } else {
      const known = [...toPrompts.names, ...fromPrompts.names];
      problems.push(
        `prompt "${plain}" not found ${sides.from.where} or ${sides.to.where}${didYouMean(plain, known)} (run: prompts list)`,
      );
    }
  }
  return problems;
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
