import {
  diffPromptSets,
  isGlob,
  nameMatcher,
  type PromptSet,
  promptSetOf,
  type PromptSetDiff,
} from "../core/diff.js";
import { isPromptFileName, promptNameOf } from "../core/names.js";
import type { PromptColumns } from "../core/prompt-columns.js";
import { didYouMean } from "../core/suggest.js";
import type { Issue } from "../core/types.js";
import { PromptsError, usageError } from "../errors.js";
import { promptRefLocator } from "../git/labels.js";
import {
  assertGitRepository,
  diffNameStatus,
  type GitChange,
  resolveCommit,
  workTreePrefix,
} from "../git/objects.js";
import { type LoadOptions, locatePromptDir, loadPrompts } from "./load.js";
import { ParseCache } from "./parse-cache.js";

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

/** One side as loaded, with where it is in words. */
export interface Side {
  ref: string | null;
  commit: string | null;
  /** `at v1`, `in the working tree`. */
  where: string;
  loaded?: { dir: string; set: PromptSet; issues: readonly Issue[] };
  /** Why there are no prompts on this side (no prompt directory there), if so. */
  missing?: PromptsError;
}

/** What {@link diffPrompts} compares, in the CLI's terms. */
export interface PromptDiffRequest {
  /** `[FROM [TO]] [NAME…]`: the first one or two that resolve as refs are FROM and TO. */
  args: readonly string[];
  /** How many of `args` came after a literal `--`: those before are refs, those after names. */
  literal?: number;
  /** Prompt name → variables: the rendered text is compared too. */
  variables?: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  /** Counts only, no hunks (`--stat` without `--json`). */
  countsOnly?: boolean;
}

/** A name asked for that selects no valid prompt. */
export interface UnmatchedName {
  name: string;
  invalid: boolean;
  message: string;
}

/** What {@link diffPrompts} found. */
export interface PromptDiffResult {
  report: DiffReport;
  /** The sides compared, with where they are in words (`at v1`, `in the working tree`). */
  sides: { from: Side; to: Side };
  /**
   * Plain names asked for that select no valid prompt on either side: one line each, with what
   * to do; `invalid` when the prompt is there but has errors.
   */
  unmatched: UnmatchedName[];
}

/**
 * A ref given before `--` (as FROM or TO) that git does not know: `side` says which, so that
 * the HTTP API can name its parameter. The message is the CLI's.
 */
export class UnknownRefError extends PromptsError {
  constructor(
    readonly side: "from" | "to",
    readonly ref: string,
    cause: unknown,
  ) {
    super("E_GIT", cause instanceof Error ? cause.message : `unknown git ref "${ref}"`, {
      cause,
    });
  }
}

/**
 * How the prompts differ between two commits, or a commit and the working tree: what `prompts
 * diff --json` prints and `GET /v1/diff` answers. Refs reach git only after
 * `--end-of-options` or in a `cat-file --batch` (never as an option).
 */
export async function diffPrompts(
  base: LoadOptions & { root: string },
  request: PromptDiffRequest,
): Promise<PromptDiffResult> {
  // Over 80 lines on purpose: the steps of one comparison in order (sides, refs, comparison).
  const { root } = base;
  const { args, literal, variables } = request;
  await assertGitRepository(root, "prompts diff");
  // Refs are looked up with the prompt folder in them: reading them later asks git nothing more.
  const folder = `${await workTreePrefix(root)}${(await locatePromptDir(base)).dir}`;
  // The arguments that may be FROM and TO are asked of git at once: one process, not two.
  const locate = await promptRefLocator(root, refCandidates(args, literal), folder);
  const commitOf = async (ref: string) => (await locate(ref)).commit;
  const { refs, names, failedRef } = await splitArguments(commitOf, args, literal);
  const fromRef = refs[0]?.ref ?? "HEAD";
  const fromCommit = refs[0]?.commit ?? (await resolveCommit(root, "HEAD").catch(() => null));
  const to = refs[1];
  // git's view of what changed is asked for while the sides load.
  const changes: Promise<GitChange[]> =
    fromCommit === null
      ? Promise.resolve([])
      : diffNameStatus(root, fromCommit, to?.commit, folder);
  changes.catch(() => {}); // Awaited below, unless loading a side fails first.
  // One side after the other, through one parse cache: the second finds in it the files the
  // two share (in memory on a first run, when the cache writes no entries yet).
  const opened = (base.cache ?? true) === true ? ParseCache.open(root) : undefined;
  const options = { ...base, cache: opened ?? base.cache };
  const fromSide =
    fromCommit === null
      ? ({ ref: fromRef, commit: null, where: `at ${fromRef}` } satisfies Side)
      : await loadSide({ ref: fromRef, commit: fromCommit, where: `at ${fromRef}` }, options);
  const toSide = await loadSide(
    to
      ? { ref: to.ref, commit: to.commit, where: `at ${to.ref}` }
      : { ref: null, commit: null, where: "in the working tree" },
    options,
  );
  opened?.save();
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
    ...(request.countsOnly ? { context: null } : {}),
  });
  const selected = (issue: Issue) => {
    const name = promptNameIn(issue.file, dir);
    return name === undefined || filter(name);
  };
  const sides = { from: fromSide, to: toSide };
  return {
    report: {
      from: { ref: fromSide.ref, commit: fromSide.commit },
      to: { ref: toSide.ref, commit: toSide.commit },
      ...result,
      issues: { from: fromErrors.filter(selected), to: toErrors.filter(selected) },
    },
    sides,
    unmatched: unmatchedNames(names, fromPrompts, toPrompts, invalidFrom, invalidTo, sides),
  };
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
    for (const [index, ref] of before.entries()) {
      try {
        refs.push({ ref, commit: await commitOf(ref) });
      } catch (error) {
        if (!(error instanceof PromptsError) || error.code !== "E_GIT") throw error;
        throw new UnknownRefError(index === 0 ? "from" : "to", ref, error);
      }
    }
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
): UnmatchedName[] {
  const problems: UnmatchedName[] = [];
  for (const name of names) {
    if (isGlob(name)) continue;
    const plain = name.replace(/\/+$/, "");
    const valid = (candidate: string) => fromPrompts.has(candidate) || toPrompts.has(candidate);
    if (selectsAny(plain, valid, fromPrompts, toPrompts)) continue;
    if (invalidFrom.has(plain) || invalidTo.has(plain)) {
      problems.push({
        name: plain,
        invalid: true,
        message: `prompt "${plain}" is invalid; fix the errors above (run: prompts validate)`,
      });
    } else {
      const known = [...toPrompts.names, ...fromPrompts.names];
      problems.push({
        name: plain,
        invalid: false,
        message: `prompt "${plain}" not found ${sides.from.where} or ${sides.to.where}${didYouMean(plain, known)} (run: prompts list)`,
      });
    }
  }
  return problems;
}
