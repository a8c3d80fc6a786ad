import { resolve } from "node:path";
import type { ChalkInstance } from "chalk";
import { diffWordsWithSpace } from "diff";
import {
  type DiffHunk,
  diffPromptSets,
  formatFieldChange,
  isGlob,
  nameMatcher,
  type PromptDiff,
  type PromptSetDiff,
} from "../../core/diff.js";
import { isPlainObject } from "../../core/json.js";
import { isPromptFileName, promptNameOf } from "../../core/names.js";
import { didYouMean } from "../../core/suggest.js";
import type { Issue, Prompt } from "../../core/types.js";
import { PromptsError, usageError } from "../../errors.js";
import {
  assertGitRepository,
  diffNameStatus,
  type GitChange,
  resolveCommit,
  workTreePrefix,
} from "../../git/objects.js";
import { findRoot } from "../../store/config.js";
import { type LoadOptions, type LoadResult, loadPrompts } from "../../store/load.js";
import { readMappingFile } from "../data-file.js";
import { type CommandContext, loadOptionsOf } from "../io.js";
import { colorsFor, formatTable, plural, reportIssues, writeJson } from "../output.js";

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

interface Side {
  ref: string | null;
  commit: string | null;
  /** `at v1`, `in the working tree`. */
  where: string;
  loaded?: LoadResult;
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

  const { refs, names, failedRef } = await splitArguments(root, args, literalTail(args, rawArgs));
  const fromRef = refs[0]?.ref ?? "HEAD";
  const fromCommit = refs[0]?.commit ?? (await resolveCommit(root, "HEAD").catch(() => null));
  const to = refs[1];
  const loadOptions: LoadOptions = { ...base, root };
  // One side after the other: parsing is CPU work that already uses every core, and the second
  // side then finds the files the two share in the parse cache (most of them, usually).
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
  const prefix = await workTreePrefix(root);
  const dir = fromSide.loaded?.dir ?? toSide.loaded?.dir;
  if (dir === undefined) throw toSide.missing ?? fromSide.missing ?? new Error("nothing loaded");
  const fromPrompts = fromSide.loaded?.prompts ?? new Map<string, Prompt>();
  const toPrompts = toSide.loaded?.prompts ?? new Map<string, Prompt>();
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
      const names = [...toPrompts.keys(), ...fromPrompts.keys()];
      throw new PromptsError(
        "E_GIT",
        `${reason}; no prompt is named "${failedRef.arg}" either${didYouMean(failedRef.arg, names)} (run: prompts list)`,
      );
    }
  }

  const changes =
    fromCommit === null
      ? []
      : await diffNameStatus(root, fromCommit, to?.commit, `${prefix}${dir}`);
  const { renames, changedNames } = namesOfChanges(changes, `${prefix}${dir}/`);
  const filter = nameMatcher(names);
  const result = diffPromptSets(fromPrompts, toPrompts, renames, changedNames, {
    filter,
    invalid: { from: invalidFrom, to: invalidTo },
    ...(variables ? { variables } : {}),
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
    const text = options.stat
      ? formatStat(result, sides, colors)
      : formatFull(result, sides, colors, variables !== undefined);
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

/**
 * FROM and TO are the first one or two arguments that resolve as git refs; the rest are prompt
 * names or globs. With `--`, everything before it must be a ref and everything after is a name.
 */
async function splitArguments(
  root: string,
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
    for (const ref of before) refs.push({ ref, commit: await resolveCommit(root, ref) });
    return { refs, names: args.slice(before.length) };
  }
  for (const arg of args.slice(0, 2)) {
    // No ref name holds * or ?: a glob is a name without asking git.
    if (isGlob(arg)) break;
    try {
      refs.push({ ref: arg, commit: await resolveCommit(root, arg) });
    } catch (error) {
      return { refs, names: args.slice(refs.length), failedRef: { arg, error } };
    }
  }
  return { refs, names: args.slice(refs.length) };
}

async function loadSide(side: Side, options: LoadOptions): Promise<Side> {
  try {
    const loaded = await loadPrompts(
      side.commit === null ? options : { ...options, ref: side.commit },
    );
    return { ...side, loaded };
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
  ...sets: ReadonlyMap<string, Prompt>[]
): boolean {
  if (known(pattern)) return true;
  const folder = `${pattern.replace(/\/+$/, "")}/`;
  return sets.some((set) => [...set.keys()].some((name) => name.startsWith(folder)));
}

/** A line for each plain name asked for that is missing, or invalid, on both sides. */
function unmatchedNames(
  names: readonly string[],
  fromPrompts: ReadonlyMap<string, Prompt>,
  toPrompts: ReadonlyMap<string, Prompt>,
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
      const known = [...toPrompts.keys(), ...fromPrompts.keys()];
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

const STATUS_LETTER: Record<PromptDiff["status"], string> = {
  added: "A",
  removed: "D",
  renamed: "R",
  changed: "M",
  formatting: "=",
  invalid: "!",
};

function statusLetter(entry: PromptDiff, colors: ChalkInstance): string {
  const letter = STATUS_LETTER[entry.status];
  switch (entry.status) {
    case "added":
      return colors.green(letter);
    case "removed":
    case "invalid":
      return colors.red(letter);
    case "renamed":
      return colors.cyan(letter);
    case "changed":
      return colors.yellow(letter);
    case "formatting":
      return colors.dim(letter);
  }
}

function displayName(entry: PromptDiff): string {
  return entry.status === "renamed" && entry.from && entry.to
    ? `${entry.from.name} → ${entry.to.name}`
    : entry.name;
}

function versions(entry: PromptDiff): string {
  const before = entry.from?.version ?? "none";
  const after = entry.to?.version ?? "none";
  return before === after ? before : `${before} → ${after}`;
}

function invalidLine(entry: PromptDiff, sides: { from: Side; to: Side }): string {
  const where = entry.invalidAt === "from" ? sides.from.where : sides.to.where;
  return `invalid ${where} (see the errors above); not compared`;
}

function summaryLine(result: PromptSetDiff, sides: { from: Side; to: Side }): string {
  const { summary } = result;
  const parts = [
    summary.added > 0 ? `${summary.added} added` : "",
    summary.removed > 0 ? `${summary.removed} removed` : "",
    summary.renamed > 0 ? `${summary.renamed} renamed` : "",
    summary.changed > 0 ? `${summary.changed} changed` : "",
    summary.formatting > 0 ? `${summary.formatting} formatting only` : "",
    summary.invalid > 0 ? `${summary.invalid} invalid` : "",
    `${summary.unchanged} unchanged`,
  ].filter((part) => part !== "");
  const breaking =
    summary.breaking > 0 ? `; ${plural(summary.breaking, "prompt")} with breaking changes` : "";
  const what = result.different ? parts.join(", ") : `no prompt changes (${parts.join(", ")})`;
  const toName = sides.to.ref ?? "working tree";
  return `${sides.from.ref ?? "working tree"} → ${toName}: ${what}${breaking}`;
}

/** `--stat`: one line per prompt with its counts, then the summary. */
function formatStat(
  result: PromptSetDiff,
  sides: { from: Side; to: Side },
  colors: ChalkInstance,
): string {
  // Name and versions line up; the rest follows, so that empty cells leave no gaps.
  const rows = result.prompts.map((entry) => {
    const head = `${statusLetter(entry, colors)} ${colors.bold(displayName(entry))}`;
    if (entry.status === "formatting") {
      return [head, colors.dim(versions(entry)), colors.dim("formatting only")];
    }
    if (entry.status === "invalid") return [head, invalidLine(entry, sides)];
    let added = 0;
    let removed = 0;
    for (const body of entry.bodies) {
      added += body.added;
      removed += body.removed;
    }
    const compared = entry.from !== null && entry.to !== null;
    const details = [
      compared && entry.from?.version !== entry.to?.version
        ? `${colors.green(`+${added}`)} ${colors.red(`-${removed}`)}`
        : "",
      entry.fields.length > 0 ? plural(entry.fields.length, "field") : "",
      entry.breaking.length > 0 ? colors.red("breaking") : "",
    ].filter((detail) => detail !== "");
    return [head, colors.dim(versions(entry)), details.join("  ")];
  });
  const table = rows.length > 0 ? `${prefixLines(formatTable(rows), " ")}\n` : "";
  return `${table}${summaryLine(result, sides)}\n`;
}

function prefixLines(text: string, prefix: string): string {
  return text
    .split("\n")
    .map((line) => prefix + line)
    .join("\n");
}

/** The whole difference: per prompt its fields, breaking changes, includers and line diffs. */
function formatFull(
  result: PromptSetDiff,
  sides: { from: Side; to: Side },
  colors: ChalkInstance,
  rendering: boolean,
): string {
  const blocks: string[] = [];
  for (const entry of result.prompts) {
    const lines: string[] = [];
    const letter = statusLetter(entry, colors);
    const name = colors.bold(displayName(entry));
    if (entry.status === "formatting") {
      blocks.push(
        `${letter} ${name}: ${colors.dim(`formatting only, same version ${versions(entry)}`)}`,
      );
      continue;
    }
    if (entry.status === "invalid") {
      blocks.push(`${letter} ${name}: ${invalidLine(entry, sides)}`);
      continue;
    }
    lines.push(`${letter} ${name}  ${colors.dim(versions(entry))}`);
    if (entry.viaPartials.length > 0) {
      const label = entry.viaPartials.length === 1 ? "partial changed" : "partials changed";
      lines.push(`  ${colors.dim(`${label}: ${entry.viaPartials.join(", ")}`)}`);
    }
    for (const field of entry.fields) lines.push(`  ${formatFieldChange(field)}`);
    for (const breaking of entry.breaking) {
      lines.push(`  ${colors.red.bold("breaking:")} ${colors.red(breaking.message)}`);
    }
    if (entry.includedBy.length > 0) {
      lines.push(`  included by: ${entry.includedBy.join(", ")}`);
    }
    for (const body of entry.bodies) {
      const label = body.role ? `${body.path} (${body.role})` : body.path;
      lines.push(`  ${colors.cyan(`${label}:`)}`);
      for (const line of formatHunks(body.hunks, colors)) lines.push(`  ${line}`);
    }
    const rendered = entry.rendered;
    if (rendered) {
      const errors = [
        rendered.fromError === undefined
          ? ""
          : `cannot render ${sides.from.where}: ${renderProblem(rendered.fromError)}`,
        rendered.toError === undefined
          ? ""
          : `cannot render ${sides.to.where}: ${renderProblem(rendered.toError)}`,
      ].filter((error) => error !== "");
      if (errors.length > 0) {
        for (const error of errors)
          lines.push(`  ${colors.cyan("rendered:")} ${colors.red(error)}`);
      } else if (rendered.hunks.length === 0) {
        lines.push(`  ${colors.cyan("rendered:")} same text`);
      } else {
        lines.push(`  ${colors.cyan("rendered:")}`);
        for (const line of formatHunks(rendered.hunks, colors)) lines.push(`  ${line}`);
      }
    } else if (rendering && (entry.status === "changed" || entry.status === "renamed")) {
      if (entry.from?.version !== entry.to?.version) {
        lines.push(`  ${colors.dim("rendered: no variables for it in --vars")}`);
      }
    }
    blocks.push(lines.join("\n"));
  }
  const body = blocks.length > 0 ? `${blocks.join("\n\n")}\n\n` : "";
  return `${body}${summaryLine(result, sides)}\n`;
}

/** A render error without its `cannot render "name": ` lead, which the line already says. */
function renderProblem(message: string): string {
  return message.replace(/^cannot render "[^"]*": /, "");
}

/**
 * Unified diff lines, coloured; a run of removed lines followed by as many added ones is
 * highlighted word by word, so the edit inside a long line stands out.
 */
function formatHunks(hunks: readonly DiffHunk[], colors: ChalkInstance): string[] {
  const out: string[] = [];
  const words = colors.level > 0;
  for (const hunk of hunks) {
    out.push(
      colors.cyan(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`),
    );
    const lines = hunk.lines;
    for (let i = 0; i < lines.length;) {
      const line = lines[i] as string;
      if (!line.startsWith("-")) {
        out.push(plainLine(line, colors));
        i++;
        continue;
      }
      let removedEnd = i;
      while (lines[removedEnd]?.startsWith("-")) removedEnd++;
      let addedEnd = removedEnd;
      while (lines[addedEnd]?.startsWith("+")) addedEnd++;
      const removed = lines.slice(i, removedEnd);
      const added = lines.slice(removedEnd, addedEnd);
      if (words && removed.length === added.length) {
        const pairs = removed.map((old, k) =>
          wordDiff(old.slice(1), (added[k] as string).slice(1), colors),
        );
        out.push(...pairs.map((pair) => pair[0]), ...pairs.map((pair) => pair[1]));
      } else {
        out.push(...removed.map((old) => plainLine(old, colors)));
        out.push(...added.map((line) => plainLine(line, colors)));
      }
      i = addedEnd;
    }
  }
  return out;
}

function plainLine(line: string, colors: ChalkInstance): string {
  if (line.startsWith("-")) return colors.red(line);
  if (line.startsWith("+")) return colors.green(line);
  if (line.startsWith("\\")) return colors.dim(line);
  return line;
}

/** A removed and an added line with the words that differ shown in reverse video. */
function wordDiff(before: string, after: string, colors: ChalkInstance): [string, string] {
  let old = colors.red("-");
  let current = colors.green("+");
  for (const part of diffWordsWithSpace(before, after)) {
    if (part.removed) old += colors.red.inverse(part.value);
    else if (part.added) current += colors.green.inverse(part.value);
    else {
      old += colors.red(part.value);
      current += colors.green(part.value);
    }
  }
  return [old, current];
}
