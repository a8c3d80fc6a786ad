import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A cache of parse results keyed by the content of what was parsed, under `.prompts/cache/`
 * (git-ignored). A warm cache spares loading and running the YAML parser: it is what keeps
 * `prompts render` close to bare `node` start-up and `validate` of a large tree fast.
 * Any failure to read or write it is ignored: the cache can only save time, never change a result.
 */
export const CACHE_DIR = ".prompts/cache";

let cachedSalt: string | undefined;

/**
 * Results depend on the parser's code, so the key includes the package version and the build
 * time of the core modules: a rebuild or an upgrade never reads a stale entry.
 */
function cacheSalt(): string {
  if (cachedSalt === undefined) {
    const coreDir = fileURLToPath(new URL("../core/", import.meta.url));
    let newest = 0;
    try {
      for (const entry of readdirSync(coreDir)) {
        newest = Math.max(newest, statSync(join(coreDir, entry)).mtimeMs);
      }
    } catch {
      newest = Date.now();
    }
    cachedSalt = `gitprompts-parse-2:${newest}`;
  }
  return cachedSalt;
}

/** The cache key of a text: what was parsed, by which parser, and as what kind of file. */
export function cacheKey(kind: string, text: string): string {
  return createHash("sha256")
    .update(cacheSalt())
    .update("\0")
    .update(kind)
    .update("\0")
    .update(text)
    .digest("hex")
    .slice(0, 40);
}

function entryPath(root: string, kind: string, text: string): string {
  return join(root, CACHE_DIR, kind, `${cacheKey(kind, text)}.json`);
}

/**
 * Creates a folder of the cache. `.prompts/` ignores itself (as .pytest_cache does), so a
 * repository where nobody ran `prompts init` does not show it as untracked.
 */
function makeCacheDir(root: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const ignore = join(root, ".prompts", ".gitignore");
  if (!existsSync(ignore))
    writeFileSync(ignore, "# Created by gitprompts: caches and usage logs stay local.\n*\n");
}

// Entries are small and many: synchronous I/O costs a fraction of promise-based I/O here.

/** The cached result of parsing `text`, or undefined. */
export function getCached(root: string, kind: string, text: string): unknown {
  try {
    return JSON.parse(readFileSync(entryPath(root, kind, text), "utf8"));
  } catch {
    return undefined;
  }
}

const madeDirs = new Set<string>();

/** Stores a result, atomically (temp file and rename), so a reader never sees half an entry. */
export function setCached(root: string, kind: string, text: string, value: unknown): void {
  const path = entryPath(root, kind, text);
  const temp = `${path}.${process.pid}.tmp`;
  try {
    const dir = dirname(path);
    if (!madeDirs.has(dir)) {
      makeCacheDir(root, dir);
      madeDirs.add(dir);
    }
    writeFileSync(temp, JSON.stringify(value));
    renameSync(temp, path);
  } catch {
    rmSync(temp, { force: true });
  }
}

/** Parses through the cache: a hit returns the stored result, a miss parses and stores it. */
export async function readCachedParse<T>(
  root: string,
  kind: string,
  text: string,
  enabled: boolean,
  parse: (text: string) => T | Promise<T>,
): Promise<T> {
  if (!enabled) return parse(text);
  const hit = getCached(root, kind, text);
  if (hit !== undefined) return hit as T;
  const value = await parse(text);
  setCached(root, kind, text, value);
  return value;
}

/** How many saves an unused entry survives: enough for a few trees (branches, tags) in turn. */
const PACK_GENERATIONS = 4;

interface PackFile {
  salt: string;
  generation: number;
  entries: Record<string, [generation: number, value: unknown]>;
}

const openPacks = new Map<string, ParsePack>();

/**
 * The parse results of whole trees in one file: thousands of entry files would cost more to
 * write than the parsing they save. Shared by every load of a process (a diff loads two trees),
 * and written only when something new was parsed. An entry that none of the last few writes
 * used goes, so the pack stays the size of the trees in use.
 */
export class ParsePack {
  private readonly used = new Set<string>();
  private dirty = false;

  private constructor(
    private readonly path: string,
    private readonly root: string,
    private generation: number,
    private readonly entries: Map<string, [number, unknown]>,
  ) {}

  /** The pack of a repository, read once per process. */
  static open(root: string): ParsePack {
    let pack = openPacks.get(root);
    if (!pack) {
      const path = join(root, CACHE_DIR, "parse.pack.json");
      let file: Partial<PackFile> = {};
      try {
        file = JSON.parse(readFileSync(path, "utf8")) as Partial<PackFile>;
      } catch {
        // No pack yet, or an unreadable one: parse everything.
      }
      const valid = file.salt === cacheSalt() && file.entries !== undefined;
      pack = new ParsePack(
        path,
        root,
        valid ? (file.generation ?? 0) : 0,
        new Map(valid ? Object.entries(file.entries ?? {}) : []),
      );
      openPacks.set(root, pack);
    }
    return pack;
  }

  /**
   * Forgets the packs read by this process (saving nothing more): a long-running process such
   * as the server has no use for thousands of cached parses once its tree is loaded.
   */
  static releaseAll(): void {
    openPacks.clear();
  }

  /** The stored result for a key, if any. */
  get(key: string): unknown {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.used.add(key);
    return entry[1];
  }

  /** Stores a new result. */
  set(key: string, value: unknown): void {
    this.entries.set(key, [this.generation, value]);
    this.used.add(key);
    this.dirty = true;
  }

  /** Writes the pack, atomically, if anything new was stored. */
  save(): void {
    if (!this.dirty) return;
    this.generation++;
    const temp = `${this.path}.${process.pid}.tmp`;
    let fd: number | undefined;
    try {
      makeCacheDir(this.root, dirname(this.path));
      // Written entry by entry: one string of the whole pack would be tens of megabytes at once.
      fd = openSync(temp, "w");
      writeSync(
        fd,
        `{"salt":${JSON.stringify(cacheSalt())},"generation":${this.generation},"entries":{`,
      );
      let first = true;
      let chunk = "";
      for (const [key, [generation, value]] of this.entries) {
        const current = this.used.has(key) ? this.generation : generation;
        if (current <= this.generation - PACK_GENERATIONS) continue;
        chunk += `${first ? "" : ","}${JSON.stringify(key)}:[${current},${JSON.stringify(value)}]`;
        first = false;
        if (chunk.length > 1 << 16) {
          writeSync(fd, chunk);
          chunk = "";
        }
      }
      writeSync(fd, `${chunk}}}`);
      closeSync(fd);
      fd = undefined;
      renameSync(temp, this.path);
      this.dirty = false;
    } catch {
      if (fd !== undefined) closeSync(fd);
      rmSync(temp, { force: true });
    }
  }
}

/**
 * How many tree records are kept: a few tags, labels and branches in use. A record is about
 * 1.3 KB a prompt (13 MB for 10,000), so this bounds the folder to about 100 MB at that size.
 */
const MAX_TREE_RECORDS = 8;

/** Where the record of a git tree is cached; see PromptTree for what it holds. */
export function treeRecordPath(root: string, key: string): string {
  return join(root, CACHE_DIR, "trees", `${cacheKey("tree", key)}.tree`);
}

/**
 * Stores the record of a tree, given as lines, atomically; only the most recently written few
 * records are kept.
 */
export function writeTreeRecord(root: string, key: string, lines: readonly string[]): void {
  const path = treeRecordPath(root, key);
  const dir = dirname(path);
  const temp = `${path}.${process.pid}.tmp`;
  let fd: number | undefined;
  try {
    makeCacheDir(root, dir);
    fd = openSync(temp, "w");
    // Joined a batch at a time: one string of the whole record would be tens of megabytes.
    for (let start = 0; start < lines.length; start += 1024) {
      writeSync(fd, `${lines.slice(start, start + 1024).join("\n")}\n`);
    }
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
    const entries = readdirSync(dir)
      .filter((entry) => !entry.endsWith(".tmp"))
      .map((entry) => ({ entry, time: statSync(join(dir, entry)).mtimeMs }))
      .sort((a, b) => b.time - a.time);
    for (const { entry } of entries.slice(MAX_TREE_RECORDS))
      rmSync(join(dir, entry), { force: true });
  } catch {
    if (fd !== undefined) closeSync(fd);
    rmSync(temp, { force: true });
  }
}

/** Keeps the per-file entries (written by single-prompt loads) bounded: past a limit they all go. */
export function pruneEntries(root: string, kind: string, limit = 5_000): void {
  const dir = join(root, CACHE_DIR, kind);
  try {
    if (readdirSync(dir).length > limit) rmSync(dir, { recursive: true, force: true });
  } catch {
    // Nothing cached yet.
  }
}
