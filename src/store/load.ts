import { statSync } from "node:fs";
import { isAbsolute, join, normalize, relative } from "node:path";
import { checkPromptName } from "../core/names.js";
import type { ParsedPromptFile } from "../core/parse.js";
import { didYouMean } from "../core/suggest.js";
import type { Issue, Prompt } from "../core/types.js";
import type { PromptSource } from "../core/validate.js";
import { PromptsError } from "../errors.js";
import { findRoot, readConfig } from "./config.js";
import type { PromptFileText } from "./files.js";
import { blobId, ParseCache } from "./parse-cache.js";

/** Where and how to load prompts. */
export interface LoadOptions {
  /** Where to look for the repository root (the nearest folder up with `prompts.config.yaml` or `.git`). Default: the process's working directory. */
  cwd?: string;
  /** The repository root, taken as given (no search upwards). */
  root?: string;
  /** The prompt directory relative to the root. Default: `dir:` of `prompts.config.yaml`, else `prompts`. */
  dir?: string;
  /** Read the prompts of this git ref (tag, branch, commit) straight from git objects. */
  ref?: string;
  /** Read the prompts staged in the git index (what a commit would hold). */
  staged?: boolean;
  /**
   * Use the parse cache under `.prompts/cache/` (default true), or this one, opened by the
   * caller for several loads that share what they parse (the caller saves it).
   */
  cache?: boolean | ParseCache;
}

/** Loaded prompts and everything wrong with them. */
export interface LoadResult {
  root: string;
  /** The prompt directory, relative to the root. */
  dir: string;
  /** The valid prompts by name, sorted. */
  prompts: Map<string, Prompt>;
  /** Errors and warnings, sorted by file and line. Invalid prompts are left out of `prompts`. */
  issues: Issue[];
  /** How many prompt files were read. */
  fileCount: number;
  /** The commit read, when loading at a ref. */
  commit?: string;
}

/** Where prompt files come from: the working tree, the git index, or a git ref. */
type FileSource = { kind: "working-tree" } | { kind: "index" } | { kind: "ref"; ref: string };

/** A load's repository root, prompt directory, source of files and use of the cache. */
interface LoadContext {
  root: string;
  dir: string;
  cache: boolean | ParseCache;
  source: FileSource;
}

/** Loads and validates every prompt of the prompt directory (or of a git ref, or of the index). */
export async function loadPrompts(options: LoadOptions = {}): Promise<LoadResult> {
  const context = await resolveContext(options);
  const cache = openCache(context);
  const { files, commit } = await readSourceFiles(context, cache);
  const { prompts, issues, sources } = await checkPromptFiles(
    { root: context.root, cache: cache ?? false },
    files,
  );
  saveCache(context, cache);
  return withCommit(
    { root: context.root, dir: context.dir, prompts, issues, fileCount: sources.length },
    commit,
  );
}

/**
 * The repository root and the prompt directory that a load with these options reads, without
 * reading any prompt: what a watcher started before the load needs.
 */
export async function locatePromptDir(
  options: Omit<LoadOptions, "ref" | "staged"> = {},
): Promise<{ root: string; dir: string }> {
  const { root, dir } = await resolveContext(options);
  return { root, dir };
}

/**
 * Loads only the named prompts and the partials they include: what `render` needs. In the
 * working tree it reads just those files, so its cost does not grow with the tree.
 */
export async function loadPromptsByName(
  names: readonly string[],
  options: LoadOptions = {},
): Promise<LoadResult> {
  const context = await resolveContext(options);
  const cache = openCache(context);
  const { filesOf, allNames, commit } = await filesByName(context, cache);
  const sources: PromptSource[] = [];
  const seen = new Set<string>();
  const queue = [...names];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (seen.has(name)) continue;
    seen.add(name);
    const found = checkPromptName(name) === undefined ? await filesOf(name) : [];
    if (found.length === 0 && names.includes(name)) {
      throw notFound(name, context, await allNames());
    }
    for (const source of await parseFiles(cache, found)) {
      sources.push(source);
      for (const ref of source.parsed.partialRefs) queue.push(ref.name);
    }
  }
  saveCache(context, cache);
  const known = new Set(sources.map((source) => source.name));
  const { validatePrompts } = await validation();
  const { prompts, issues } = validatePrompts(sources, known);
  return withCommit(
    { root: context.root, dir: context.dir, prompts, issues, fileCount: sources.length },
    commit,
  );
}

/**
 * How a load uses the parse cache: not at all, through the repository's cache opened for this
 * load (`true`), or through one the caller opened for several loads (and saves itself).
 */
export interface ParseCacheUse {
  root: string;
  cache: boolean | ParseCache;
}

/**
 * Turns prompt files into prompts: each file parsed (through the parse cache), then all checked
 * against each other. The one way every command, `log` and the server get prompts from files.
 * `known` names the prompts that exist beyond these files (a partial elsewhere is no error).
 */
async function checkPromptFiles(
  use: ParseCacheUse,
  files: Iterable<PromptFileText>,
  known?: ReadonlySet<string>,
): Promise<{ prompts: Map<string, Prompt>; issues: Issue[]; sources: PromptSource[] }> {
  const sources = await parsePromptFiles(use, files);
  const { validatePrompts } = await validation();
  return { ...validatePrompts(sources, known), sources };
}

/** Parses files, each on its own (through the parse cache when `use` says so). */
export async function parsePromptFiles(
  use: ParseCacheUse,
  files: Iterable<PromptFileText>,
): Promise<PromptSource[]> {
  if (typeof use.cache !== "boolean") return parseFiles(use.cache, files);
  const cache = use.cache ? ParseCache.open(use.root) : undefined;
  const sources = await parseFiles(cache, files);
  cache?.save();
  return sources;
}

/** The parse cache of a load that uses one: the caller's, or the repository's opened for it. */
function openCache(context: LoadContext): ParseCache | undefined {
  if (context.cache === false) return undefined;
  return context.cache === true ? ParseCache.open(context.root) : context.cache;
}

/** Saves a cache the load opened; the caller saves one it passed. */
function saveCache(context: LoadContext, cache: ParseCache | undefined): void {
  if (context.cache === true) cache?.save();
}

/**
 * The context's files with their commit, when read at a ref. Working-tree files are read as
 * they are taken, so that a text parsed is not kept: all of a large tree's at once would be
 * tens of megabytes more at the peak of a load (and in a server's resident memory after it).
 * They are keyed (their blob id computed) only for a cache in use.
 */
async function readSourceFiles(
  context: LoadContext,
  cache: ParseCache | undefined,
): Promise<{ files: Iterable<PromptFileText>; commit?: string }> {
  const { source } = context;
  if (source.kind === "working-tree") {
    assertDirectory(context);
    const { listWorktreePrompts, readWorktreePrompt } = await workingTree();
    const entries = listWorktreePrompts(context.root, context.dir);
    const keyed = cache?.writesEntries ?? false;
    return {
      files: (function* () {
        for (const entry of entries) yield readWorktreePrompt(entry, { keyed });
      })(),
    };
  }
  // Git is loaded only when a command reads from it: working-tree commands never pay for it.
  const git = await import("./sources/git.js");
  if (source.kind === "index")
    return { files: await git.readIndexPrompts(context.root, context.dir) };
  const { commit, tree, top } = await git.locateRefTree(context.root, context.dir, source.ref);
  if (tree === undefined) throw noDirectoryAt(context, source.ref);
  const files = await git.readTreePrompts(context.root, top, context.dir, commit);
  if (files.length === 0) throw noDirectoryAt(context, source.ref);
  return { files, commit };
}

/** How {@link loadPromptsByName} finds the files of one name, and the names there are. */
async function filesByName(
  context: LoadContext,
  cache: ParseCache | undefined,
): Promise<{
  filesOf: (name: string) => Promise<PromptFileText[]>;
  allNames: () => Promise<string[]>;
  commit?: string;
}> {
  if (context.source.kind !== "working-tree") {
    const { files, commit } = await readSourceFiles(context, cache);
    const byName = new Map<string, PromptFileText[]>();
    for (const file of files) byName.set(file.name, [...(byName.get(file.name) ?? []), file]);
    return {
      filesOf: (name) => Promise.resolve(byName.get(name) ?? []),
      allNames: () => Promise.resolve([...byName.keys()]),
      ...(commit === undefined ? {} : { commit }),
    };
  }
  assertDirectory(context);
  const { findWorktreePrompt, listWorktreePrompts, readWorktreePrompt } = await workingTree();
  return {
    filesOf: async (name) =>
      (await findWorktreePrompt(context.root, context.dir, name)).map((entry) =>
        readWorktreePrompt(entry, { keyed: cache?.writesEntries ?? false }),
      ),
    allNames: () =>
      Promise.resolve(listWorktreePrompts(context.root, context.dir).map((entry) => entry.name)),
  };
}

/**
 * The working-tree files of one prompt name, parsed on their own (none when it is gone): what
 * the server re-reads when an edit touches them.
 */
export async function parsePromptNamed(
  root: string,
  dir: string,
  name: string,
): Promise<PromptSource[]> {
  const { findWorktreePrompt, readWorktreePrompt } = await workingTree();
  const files = (await findWorktreePrompt(root, dir, name)).map((entry) =>
    readWorktreePrompt(entry),
  );
  return parsePromptFiles({ root, cache: false }, files);
}

/**
 * The working-tree files of the prompt directory, each parsed on its own, before they are
 * checked against each other: what the server keeps to re-check only what an edit touches.
 */
export async function parseWorkingTree(
  options: Omit<LoadOptions, "ref" | "staged">,
): Promise<{ root: string; dir: string; sources: PromptSource[] }> {
  const context = await resolveContext(options);
  const cache = openCache(context);
  const { files } = await readSourceFiles(context, cache);
  const sources = await parsePromptFiles({ root: context.root, cache: cache ?? false }, files);
  saveCache(context, cache);
  return { root: context.root, dir: context.dir, sources };
}

let parseModule: Promise<typeof import("../core/parse.js")> | undefined;

/** Parses files, each through `cache` when there is one. */
async function parseFiles(
  cache: ParseCache | undefined,
  files: Iterable<PromptFileText>,
): Promise<PromptSource[]> {
  const sources: PromptSource[] = [];
  for (const file of files) {
    if (file.text === undefined) {
      sources.push(problemSource(file));
      continue;
    }
    // A file without a key is keyed only for a cache that writes entries: hashing every file
    // of a first run (CI) would be paid for nothing.
    const key = file.key ?? (cache?.writesEntries ? blobId(Buffer.from(file.text)) : undefined);
    let parsed = key === undefined ? undefined : (cache?.get(key) as ParsedPromptFile | undefined);
    if (parsed === undefined) {
      // The YAML parser is loaded only on a cache miss: a warm load never pays for it.
      parseModule ??= import("../core/parse.js");
      parsed = (await parseModule).parsePromptSource(file.text);
      if (key !== undefined) cache?.set(key, parsed);
    }
    sources.push({ name: file.name, file: file.file, parsed });
  }
  return sources;
}

function problemSource(file: PromptFileText): PromptSource {
  const issues = file.problem ? [file.problem] : [];
  return {
    name: file.name,
    file: file.file,
    parsed: { issues, uses: [], partialRefs: [], declarations: {}, valid: false },
  };
}

function noDirectoryAt(context: LoadContext, ref: string): PromptsError {
  return new PromptsError(
    "E_INVALID_INPUT",
    `no prompt files under ${context.dir}/ at ref "${ref}"`,
  );
}

function notFound(name: string, context: LoadContext, known: string[]): PromptsError {
  const { source } = context;
  const at = source.kind === "ref" ? ` at ref "${source.ref}"` : "";
  const list = source.kind === "ref" ? `prompts list --ref ${source.ref}` : "prompts list";
  return new PromptsError(
    "E_PROMPT_NOT_FOUND",
    `prompt "${name}" not found in ${context.dir}/${at}${didYouMean(name, known)} (run: ${list})`,
  );
}

function withCommit(result: LoadResult, commit: string | undefined): LoadResult {
  return commit === undefined ? result : { ...result, commit };
}

async function resolveContext(options: LoadOptions): Promise<LoadContext> {
  if (options.ref !== undefined && options.staged) {
    throw new PromptsError("E_USAGE", "--ref and --staged cannot be used together");
  }
  const root = options.root ?? findRoot(options.cwd ?? process.cwd());
  const cache = options.cache ?? true;
  const config = await readConfig(root, cache !== false);
  const dir = normalizeDir(root, options.dir ?? config.dir);
  const source: FileSource =
    options.ref !== undefined
      ? { kind: "ref", ref: options.ref }
      : options.staged
        ? { kind: "index" }
        : { kind: "working-tree" };
  return { root, dir, cache, source };
}

/** The prompt directory as a clean `/`-separated path inside the root. */
function normalizeDir(root: string, dir: string): string {
  const absolute = isAbsolute(dir) ? normalize(dir) : join(root, dir);
  const rel = relative(root, absolute).split("\\").join("/");
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    throw new PromptsError(
      "E_USAGE",
      `the prompt directory "${dir}" must be a folder inside the repository ${root}`,
    );
  }
  return rel;
}

function assertDirectory(context: LoadContext): void {
  const path = join(context.root, context.dir);
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // Not there, or not readable: not a prompt directory either way.
  }
  if (!isDirectory) {
    throw new PromptsError(
      "E_INVALID_INPUT",
      `no prompt directory "${context.dir}/" in ${context.root} (run: prompts init, or pass --dir)`,
    );
  }
}

// Checking prompts against each other and reading the working tree are loaded when used: every
// module is start-up time, and a load at a ref reads no working tree.
const validation = () => import("../core/validate.js");
const workingTree = () => import("./sources/working-tree.js");
