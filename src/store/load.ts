import { stat } from "node:fs/promises";
import { isAbsolute, join, normalize, relative } from "node:path";
import { checkPromptName } from "../core/names.js";
import type { ParsedPromptFile } from "../core/parse.js";
import { didYouMean } from "../core/suggest.js";
import type { ListRow, PromptSummary } from "../core/summary.js";
import type { Issue, Prompt } from "../core/types.js";
import type { PromptSource } from "../core/validate.js";
import { PromptsError } from "../errors.js";
import { findRoot, readConfig } from "./config.js";
import { writeWhenDone } from "./deferred-writes.js";
import { blobId, type PromptFileText } from "./files.js";
import {
  PACK_KEY_LENGTH,
  ParsePack,
  pruneEntries,
  readCachedParse,
  treeRecordPath,
  writeTreeRecord,
} from "./parse-cache.js";
import {
  fillCacheInChild,
  PARALLEL_THRESHOLD,
  parsePromptTexts,
  parsesOnThisThread,
} from "./parse-pool.js";
import { PromptTree, readRecordCatalog } from "./prompt-tree.js";

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
  /** Use the parse cache under `.prompts/cache/` (default true). */
  cache?: boolean;
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

/** Where to read prompts from in git: a commit-ish, or the index (what is staged). */
type GitSource = { ref: string } | { staged: true };

interface LoadContext {
  root: string;
  dir: string;
  cache: boolean;
  git?: GitSource;
  /** Load for a long-running process (see {@link SourceLoadOptions}). */
  longRunning?: boolean;
}

/** Options of {@link loadSources}. */
export interface SourceLoadOptions extends Omit<LoadOptions, "ref"> {
  /**
   * Load for a long-running process, whose resident memory would keep the peak of the load for
   * good: the parse cache is read entry by entry rather than whole, and a tree mostly missing
   * from it is parsed in a child process that fills the cache, rather than in threads.
   */
  longRunning?: boolean;
}

/** Loads and validates every prompt of the prompt directory (or of a git ref, or of the index). */
export async function loadPrompts(options: LoadOptions = {}): Promise<LoadResult> {
  const context = await resolveContext(options);
  if (context.git && "ref" in context.git) return loadAtRef(context, context.git.ref);
  const sources = await loadContextSources(context);
  const { validatePrompts } = await validation();
  const { prompts, issues } = validatePrompts(sources);
  return { root: context.root, dir: context.dir, prompts, issues, fileCount: sources.length };
}

/**
 * The prompt files of the working tree (or the index), each parsed on its own, before they are
 * checked against each other: what a server keeps to re-check only what an edit touches.
 */
export async function loadSources(
  options: SourceLoadOptions = {},
): Promise<{ root: string; dir: string; sources: PromptSource[] }> {
  const context = await resolveContext(options);
  if (options.longRunning) context.longRunning = true;
  return { root: context.root, dir: context.dir, sources: await loadContextSources(context) };
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

async function loadContextSources(context: LoadContext): Promise<PromptSource[]> {
  if (context.git) return parseTree(context, (await readGitFiles(context, context.git)).files);
  await assertDirectory(context);
  const { listWorktreePrompts, readWorktreePrompt } = await worktree();
  const entries = await listWorktreePrompts(context.root, context.dir);
  // Read as parsing goes: see parseTree.
  return parseTree(
    context,
    (function* () {
      for (const entry of entries) yield readWorktreePrompt(entry, { keyed: context.cache });
    })(),
  );
}

/** Reads and parses the files of one prompt name in the working tree (none when it is gone). */
export async function loadNameSources(
  root: string,
  dir: string,
  name: string,
): Promise<PromptSource[]> {
  const { findWorktreePrompt, readWorktreePrompt } = await worktree();
  const files = (await findWorktreePrompt(root, dir, name)).map((entry) =>
    readWorktreePrompt(entry),
  );
  return Promise.all(files.map((file) => parseFile({ root, dir, cache: false }, file)));
}

/** A whole tree for the commands that read few of its prompts whole: see {@link PromptTree}. */
export interface TreeLoadResult {
  root: string;
  /** The prompt directory, relative to the root. */
  dir: string;
  tree: PromptTree;
  /** The commit read, when loading at a ref. */
  commit?: string;
}

/** What `prompts list` shows of a tree: an entry per prompt, and the issues of its files. */
export interface CatalogLoadResult<Entry> {
  root: string;
  /** The prompt directory, relative to the root. */
  dir: string;
  /** One per valid prompt, sorted by name. */
  entries: Entry[];
  issues: readonly Issue[];
  fileCount: number;
}

/**
 * The summaries (or the rows of `prompts list`'s table) and issues of the prompt directory, or
 * of a git ref, or of the index. At a ref, a warm cache answers by reading just those from the
 * tree's record: no prompt is parsed.
 */
export function loadPromptCatalog(
  options: LoadOptions,
  part: "summaries",
): Promise<CatalogLoadResult<PromptSummary>>;
export function loadPromptCatalog(
  options: LoadOptions,
  part: "rows",
): Promise<CatalogLoadResult<ListRow>>;
export async function loadPromptCatalog(
  options: LoadOptions,
  part: "summaries" | "rows",
): Promise<CatalogLoadResult<PromptSummary | ListRow>> {
  const context = await resolveContext(options);
  const { root, dir } = context;
  let tree: PromptTree;
  if (context.git && "ref" in context.git) {
    const located = await locateTree(context, context.git.ref);
    const path = treeRecordPath(root, located.key);
    const cached = context.cache ? readRecordCatalog(path, part) : undefined;
    if (cached) {
      // The part of the record that `part` names, as PromptTree.record wrote it.
      const entries = cached.entries as PromptSummary[] | ListRow[];
      return { root, dir, entries, issues: cached.issues, fileCount: cached.fileCount };
    }
    ({ tree } = await loadTreeAtRef(context, located, false));
  } else {
    tree = await loadUncommittedTree(context);
  }
  try {
    const entries = part === "rows" ? tree.listRows() : tree.summaries();
    return { root, dir, entries, issues: tree.issues, fileCount: tree.fileCount };
  } finally {
    tree.close();
  }
}

/**
 * Loads every prompt's header and issues of the prompt directory (or of a git ref, or of the
 * index), for `diff`. At a ref, a warm cache answers without parsing more than the headers;
 * whole prompts are read as they are asked for, until the tree is closed.
 */
export async function loadPromptTree(options: LoadOptions = {}): Promise<TreeLoadResult> {
  const context = await resolveContext(options);
  if (context.git && "ref" in context.git) {
    return loadTreeAtRef(context, await locateTree(context, context.git.ref), false);
  }
  return { root: context.root, dir: context.dir, tree: await loadUncommittedTree(context) };
}

/** The tree of the working directory or of the index, loaded whole. */
async function loadUncommittedTree(context: LoadContext): Promise<PromptTree> {
  const sources = await loadContextSources(context);
  const { validatePrompts } = await validation();
  const { prompts, issues } = validatePrompts(sources);
  return PromptTree.of(prompts, issues, sources.length);
}

/** Loads at a ref, wholly. */
async function loadAtRef(context: LoadContext, ref: string): Promise<LoadResult> {
  const { tree, commit } = await loadTreeAtRef(context, await locateTree(context, ref), true);
  return {
    root: context.root,
    dir: context.dir,
    prompts: new Map(tree.prompts),
    issues: [...tree.issues],
    fileCount: tree.fileCount,
    ...(commit === undefined ? {} : { commit }),
  };
}

/** The commit of a ref, and the key of its prompt directory's tree in the tree cache. */
interface LocatedTree {
  /** The ref as given. */
  ref: string;
  commit: string;
  /** Where the root sits in its work tree. */
  top: string;
  /** The key of the tree's record in the tree cache. */
  key: string;
}

async function locateTree(context: LoadContext, ref: string): Promise<LocatedTree> {
  const { locateRefTree } = await import("./git-tree.js");
  const { commit, tree, top } = await locateRefTree(context.root, context.dir, ref);
  if (tree === undefined) throw noDirectoryAt(context, ref);
  return { ref, commit, top, key: `${tree}\0${top}\0${context.dir}` };
}

/** Loads at a ref; the record of its tree is cached, since a tree's content never changes. */
async function loadTreeAtRef(
  context: LoadContext,
  { ref, commit, top, key }: LocatedTree,
  whole: boolean,
): Promise<TreeLoadResult> {
  const { streamTreePrompts } = await import("./git-tree.js");
  let tree = context.cache
    ? PromptTree.readRecord(treeRecordPath(context.root, key), whole)
    : undefined;
  if (!tree) {
    // Parsed as git reads them: reading thousands of loose objects takes git most of a second.
    const sources = await parseTree(context, (known) =>
      streamTreePrompts(context.root, top, context.dir, commit, known),
    );
    if (sources.length === 0) throw noDirectoryAt(context, ref);
    const { validatePrompts } = await validation();
    const { prompts, issues } = validatePrompts(sources);
    tree = PromptTree.of(prompts, issues, sources.length);
    if (context.cache) writeTreeRecord(context.root, key, tree.record());
  }
  return { root: context.root, dir: context.dir, tree, commit };
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
  let fetch: (name: string) => Promise<PromptFileText[]>;
  let allNames: () => Promise<string[]>;
  let commit: string | undefined;
  if (context.git) {
    const read = await readGitFiles(context, context.git);
    commit = read.commit;
    const byName = new Map<string, PromptFileText[]>();
    for (const file of read.files) byName.set(file.name, [...(byName.get(file.name) ?? []), file]);
    fetch = (name) => Promise.resolve(byName.get(name) ?? []);
    allNames = () => Promise.resolve([...byName.keys()]);
  } else {
    await assertDirectory(context);
    const { findWorktreePrompt, listWorktreePrompts, readWorktreePrompt } = await worktree();
    fetch = async (name) =>
      (await findWorktreePrompt(context.root, context.dir, name)).map((entry) =>
        readWorktreePrompt(entry),
      );
    allNames = async () =>
      (await listWorktreePrompts(context.root, context.dir)).map((entry) => entry.name);
  }

  const sources: PromptSource[] = [];
  const seen = new Set<string>();
  const queue = [...names];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (seen.has(name)) continue;
    seen.add(name);
    const isRequested = names.includes(name);
    const files = checkPromptName(name) === undefined ? await fetch(name) : [];
    if (files.length === 0) {
      if (isRequested) throw notFound(name, context, await allNames());
      continue;
    }
    for (const file of files) {
      const source = await parseFile(context, file);
      sources.push(source);
      for (const ref of source.parsed.partialRefs) queue.push(ref.name);
    }
  }
  const known = new Set(sources.map((source) => source.name));
  const { validatePrompts } = await validation();
  const { prompts, issues } = validatePrompts(sources, known);
  return withCommit(
    { root: context.root, dir: context.dir, prompts, issues, fileCount: sources.length },
    commit,
  );
}

/** Git is loaded only when a command reads from it: working-tree commands never pay for it. */
async function readGitFiles(
  context: LoadContext,
  source: GitSource,
): Promise<{ files: PromptFileText[]; commit?: string }> {
  const gitTree = await import("./git-tree.js");
  if ("staged" in source)
    return { files: await gitTree.readIndexPrompts(context.root, context.dir) };
  const { commit, tree, top } = await gitTree.locateRefTree(context.root, context.dir, source.ref);
  if (tree === undefined) throw noDirectoryAt(context, source.ref);
  return { files: await gitTree.readTreePrompts(context.root, top, context.dir, commit), commit };
}

function noDirectoryAt(context: LoadContext, ref: string): PromptsError {
  return new PromptsError(
    "E_INVALID_INPUT",
    `no prompt files under ${context.dir}/ at ref "${ref}"`,
  );
}

function notFound(name: string, context: LoadContext, known: string[]): PromptsError {
  const at = context.git && "ref" in context.git ? ` at ref "${context.git.ref}"` : "";
  const list =
    context.git && "ref" in context.git ? `prompts list --ref ${context.git.ref}` : "prompts list";
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
  const config = await readConfig(root, cache);
  const dir = normalizeDir(root, options.dir ?? config.dir);
  const context: LoadContext = { root, dir, cache };
  if (options.ref !== undefined) context.git = { ref: options.ref };
  else if (options.staged) context.git = { staged: true };
  return context;
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

async function assertDirectory(context: LoadContext): Promise<void> {
  const path = join(context.root, context.dir);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new PromptsError(
      "E_INVALID_INPUT",
      `no prompt directory "${context.dir}/" in ${context.root} (run: prompts init, or pass --dir)`,
    );
  }
}

// Checking prompts against each other and reading the working tree are loaded when used: a warm
// `diff v1 v2` reads tree records and needs neither, and every module is start-up time.
const validation = () => import("../core/validate.js");
const worktree = () => import("./worktree.js");

let parseModule: Promise<typeof import("../core/parse.js")> | undefined;

async function parseFile(context: LoadContext, file: PromptFileText): Promise<PromptSource> {
  if (file.text === undefined) return problemSource(file);
  const parsed = await readCachedParse<ParsedPromptFile>(
    context.root,
    "prompt",
    file.text,
    context.cache,
    async (text) => {
      // The YAML parser is loaded only on a cache miss: a warm `render` never pays for it.
      parseModule ??= import("../core/parse.js");
      return (await parseModule).parsePromptSource(text);
    },
  );
  return { name: file.name, file: file.file, parsed };
}

/**
 * The files of a tree, or what reads them given which contents (by key) the parse cache knows:
 * a reader that can skip reading those yields them with their key alone.
 */
type TreeFiles =
  | Iterable<PromptFileText>
  | AsyncIterable<PromptFileText>
  | ((known: (key: string) => boolean) => AsyncIterable<PromptFileText>);

/**
 * Parses a whole tree: cached results from the pack, the rest as they come on one thread, or
 * on every core of a machine with many. Files are taken one at a time, and the text of one found
 * in the cache or parsed is not kept: for a large tree, all texts at once would be megabytes
 * more at the peak of the load.
 */
async function parseTree(context: LoadContext, tree: TreeFiles): Promise<PromptSource[]> {
  const inMemory = !context.longRunning;
  let pack = context.cache ? ParsePack.open(context.root, { inMemory }) : undefined;
  /** What the pack gave for the keys of files not read, by key. */
  const known = new Map<string, ParsedPromptFile>();
  const texts =
    typeof tree === "function"
      ? tree((key) => {
          const hit = pack?.get(key.slice(0, PACK_KEY_LENGTH)) as ParsedPromptFile | undefined;
          if (hit !== undefined) known.set(key, hit);
          return hit !== undefined;
        })
      : tree;
  // Where no thread will share the parsing, each file is parsed as it comes, while the next are
  // still being read. A long-running process leaves a large tree to a child process instead.
  const parseNow = !context.longRunning && parsesOnThisThread();
  const files: PromptFileText[] = [];
  const keys: (string | undefined)[] = [];
  const cached: (ParsedPromptFile | undefined)[] = [];
  for await (const file of texts) {
    let key: string | undefined;
    let hit: ParsedPromptFile | undefined;
    if (file.text !== undefined) {
      if (pack) {
        key = (file.key ?? blobId(Buffer.from(file.text))).slice(0, PACK_KEY_LENGTH);
        hit = pack.get(key) as ParsedPromptFile | undefined;
      }
    } else if (file.key !== undefined && file.problem === undefined) {
      // Not read: the pack knew its content when the reader asked.
      hit = known.get(file.key);
      if (hit === undefined) throw new Error(`${file.file} was not read, and is not in the cache`);
    }
    if (hit === undefined && parseNow && file.text !== undefined) {
      parseModule ??= import("../core/parse.js");
      hit = (await parseModule).parsePromptSource(file.text);
      if (key !== undefined) pack?.set(key, hit);
    }
    files.push(hit === undefined ? file : { name: file.name, file: file.file });
    keys.push(key);
    cached.push(hit);
  }
  const isMissing = (file: PromptFileText, index: number) =>
    file.text !== undefined && cached[index] === undefined;
  let missing = files.flatMap((file, index) => (isMissing(file, index) ? [index] : []));
  if (
    pack &&
    context.longRunning &&
    missing.length >= PARALLEL_THRESHOLD &&
    (await fillCacheInChild(context.root, context.dir))
  ) {
    pack = ParsePack.reopen(context.root, { inMemory });
    for (const index of missing) {
      const key = keys[index];
      if (key !== undefined) cached[index] = pack.get(key) as ParsedPromptFile | undefined;
    }
    // What changed while the child read the tree is parsed here.
    missing = missing.filter((index) => isMissing(files[index] as PromptFileText, index));
  }
  const parsedMissing = await parsePromptTexts(
    missing.map((index) => files[index]?.text as string),
  );
  for (const [i, fileIndex] of missing.entries()) {
    const parsed = parsedMissing[i] as ParsedPromptFile;
    cached[fileIndex] = parsed;
    const key = keys[fileIndex];
    if (key !== undefined) pack?.set(key, parsed);
  }
  if (pack) {
    writeWhenDone(pack.saveNow);
    pruneEntries(context.root, "prompt");
  }
  return files.map((file, index): PromptSource => {
    const parsed = cached[index];
    return parsed === undefined
      ? problemSource(file)
      : { name: file.name, file: file.file, parsed };
  });
}

function problemSource(file: PromptFileText): PromptSource {
  const issues = file.problem ? [file.problem] : [];
  return {
    name: file.name,
    file: file.file,
    parsed: { issues, uses: [], partialRefs: [], declarations: {}, valid: false },
  };
}
