import { hash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
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
    cachedSalt = `gitprompts-parse-3:${newest}`;
  }
  return cachedSalt;
}

/** The cache key of a text: what was parsed, by which parser, and as what kind of file. */
function cacheKey(kind: string, text: string): string {
  return hash("sha256", `${cacheSalt()}\0${kind}\0${text}`, "hex").slice(0, 40);
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

/** The pack file: a header line, then one `<key> <generation> <JSON>` line per entry. */
const PACK_FILE = "parse.pack";
/** What the pack was called while it was one JSON document; removed on the next save. */
const OLD_PACK_FILE = "parse.pack.json";
/**
 * The length of a key in the pack: a prompt file's blob id (`PromptFileText.key`), the
 * whole of a SHA-1 one, the start of a SHA-256 one.
 */
export const PACK_KEY_LENGTH = 40;
const NEWLINE = 0x0a;
const SPACE = 0x20;

const openPacks = new Map<string, ParsePack>();

/** Where the bytes of a pack file are read from. */
interface PackBytes {
  readonly size: number;
  /** How many bytes to read at once when going through all of them. */
  readonly window: number;
  /** The bytes from `start` to `end`: a view that is valid until the next call. */
  read(start: number, end: number): Buffer;
  close(): void;
}

/** The whole file in memory: what a command that runs for a moment reads fastest. */
function bytesInMemory(path: string): PackBytes {
  let bytes = Buffer.alloc(0);
  try {
    bytes = readFileSync(path);
  } catch {
    // No pack yet, or an unreadable one: parse everything.
  }
  return {
    size: bytes.length,
    window: Math.max(bytes.length, 1),
    read: (start, end) => bytes.subarray(start, end),
    close: () => {},
  };
}

/**
 * The file read piece by piece when asked: a long-running process does not keep megabytes of
 * the file in its resident memory (a buffer's memory goes back only after a full collection of
 * the heap, which may not come for a long time).
 */
function bytesOnDisk(path: string): PackBytes {
  let fd: number | undefined;
  let size = 0;
  try {
    fd = openSync(path, "r");
    size = fstatSync(fd).size;
  } catch {
    // No pack yet, or an unreadable one: parse everything.
  }
  let scratch = Buffer.alloc(0);
  return {
    size,
    window: 1 << 20,
    read: (start, end) => {
      if (fd === undefined) return Buffer.alloc(0);
      if (scratch.length < end - start)
        scratch = Buffer.allocUnsafe(Math.max(end - start, 1 << 16));
      const length = readSync(fd, scratch, 0, end - start, start);
      return scratch.subarray(0, length);
    },
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/**
 * The parse results of whole trees in one file: thousands of entry files would cost more to
 * write than the parsing they save. Shared by every load of a process (a diff loads two trees),
 * and written only when something new was parsed. An entry that none of the last few writes
 * used goes, so the pack stays the size of the trees in use.
 *
 * An entry is parsed only when asked for: parsed whole, the pack of a 10,000-prompt tree was a
 * 14 MB string and tens of megabytes of objects on the heap at once, most of them for entries
 * nobody asked for, and the heap of a long-running server stayed that large after they were
 * gone. Entries nobody changed are written back as the same bytes.
 */
export class ParsePack {
  private readonly used = new Set<string>();
  /** Results stored by this process, not yet in the file. */
  private readonly added = new Map<string, unknown>();
  private dirty = false;

  private constructor(
    private readonly path: string,
    private readonly root: string,
    private generation: number,
    private readonly bytes: PackBytes,
    /** key → [generation, start, end] of its JSON in the file. */
    private readonly stored: Map<string, [number, number, number]>,
  ) {}

  /**
   * The pack of a repository, read once per process. With `inMemory: false` (for a
   * long-running process) its entries are read from the file when asked for.
   */
  static open(root: string, { inMemory = true }: { inMemory?: boolean } = {}): ParsePack {
    let pack = openPacks.get(root);
    if (!pack) {
      const path = join(root, CACHE_DIR, PACK_FILE);
      const bytes = inMemory ? bytesInMemory(path) : bytesOnDisk(path);
      let index: ReturnType<typeof indexPack> = { generation: 0, stored: new Map() };
      try {
        index = indexPack(bytes);
      } catch {
        // A file that cannot be read through: parse everything.
      }
      const { generation, stored } = index;
      pack = new ParsePack(path, root, generation, bytes, stored);
      openPacks.set(root, pack);
    }
    return pack;
  }

  /** The pack of a repository read again, with what another process saved since. */
  static reopen(root: string, options: { inMemory?: boolean } = {}): ParsePack {
    openPacks.get(root)?.bytes.close();
    openPacks.delete(root);
    return ParsePack.open(root, options);
  }

  /**
   * Forgets the packs read by this process (saving nothing more): a long-running process such
   * as the server has no use for thousands of cached parses once its tree is loaded.
   */
  static releaseAll(): void {
    for (const pack of openPacks.values()) pack.bytes.close();
    openPacks.clear();
  }

  /** The stored result for a key, if any (a new object on every call). */
  get(key: string): unknown {
    let value = this.added.get(key);
    if (value === undefined) {
      const entry = this.stored.get(key);
      if (entry === undefined) return undefined;
      try {
        value = JSON.parse(this.bytes.read(entry[1], entry[2]).toString("utf8"));
      } catch {
        return undefined;
      }
    }
    this.used.add(key);
    return value;
  }

  /** Stores a new result. */
  set(key: string, value: unknown): void {
    this.added.set(key, value);
    this.used.add(key);
    this.dirty = true;
  }

  /** {@link save} as one function per pack, so that a write put off is done once. */
  readonly saveNow = (): void => this.save();

  /** Writes the pack, atomically, if anything new was stored. */
  save(): void {
    if (!this.dirty) return;
    this.generation++;
    const temp = `${this.path}.${process.pid}.tmp`;
    let fd: number | undefined;
    try {
      makeCacheDir(this.root, dirname(this.path));
      fd = openSync(temp, "w");
      const out = new ChunkWriter(fd);
      out.text(`${JSON.stringify({ salt: cacheSalt(), generation: this.generation })}\n`);
      for (const [key, [generation, start, end]] of this.stored) {
        if (this.added.has(key)) continue;
        const current = this.used.has(key) ? this.generation : generation;
        if (current <= this.generation - PACK_GENERATIONS) continue;
        out.text(`${key} ${current} `);
        out.bytes(this.bytes.read(start, end));
        out.text("\n");
      }
      for (const [key, value] of this.added) {
        out.text(`${key} ${this.generation} ${JSON.stringify(value)}\n`);
      }
      out.flush();
      closeSync(fd);
      fd = undefined;
      renameSync(temp, this.path);
      rmSync(join(dirname(this.path), OLD_PACK_FILE), { force: true });
      this.dirty = false;
    } catch {
      if (fd !== undefined) closeSync(fd);
      rmSync(temp, { force: true });
    }
  }
}

/**
 * Finds the entries of a pack file without parsing them, going through it a window at a time.
 * A header of another parser version, or no header, gives an empty pack; a malformed line is
 * skipped.
 */
function indexPack(file: PackBytes): {
  generation: number;
  stored: Map<string, [number, number, number]>;
} {
  const stored = new Map<string, [number, number, number]>();
  let generation: number | undefined;
  /** Takes the line from start to end of `bytes`, which begins at `base` in the file. */
  const take = (bytes: Buffer, start: number, end: number, base: number): boolean => {
    if (generation === undefined) {
      try {
        const header = JSON.parse(bytes.toString("utf8", start, end)) as Record<string, unknown>;
        if (header.salt !== cacheSalt() || typeof header.generation !== "number") return false;
        generation = header.generation;
        return true;
      } catch {
        return false;
      }
    }
    const space = bytes.indexOf(SPACE, start + PACK_KEY_LENGTH + 1);
    if (bytes[start + PACK_KEY_LENGTH] !== SPACE || space === -1 || space >= end) return true;
    const entryGeneration = Number(bytes.toString("latin1", start + PACK_KEY_LENGTH + 1, space));
    if (Number.isInteger(entryGeneration)) {
      stored.set(bytes.toString("latin1", start, start + PACK_KEY_LENGTH), [
        entryGeneration,
        base + space + 1,
        base + end,
      ]);
    }
    return true;
  };
  let window = file.window;
  for (let base = 0; base < file.size;) {
    const end = Math.min(file.size, base + window);
    const bytes = file.read(base, end);
    if (bytes.length < end - base) break;
    let start = 0;
    for (let newline = bytes.indexOf(NEWLINE); newline !== -1;) {
      if (!take(bytes, start, newline, base)) return { generation: 0, stored: new Map() };
      start = newline + 1;
      newline = bytes.indexOf(NEWLINE, start);
    }
    if (end === file.size) {
      if (start < bytes.length && !take(bytes, start, bytes.length, base))
        return { generation: 0, stored: new Map() };
      break;
    }
    // A line longer than the window: read it again with a larger one.
    if (start === 0) window *= 2;
    base += start;
  }
  return { generation: generation ?? 0, stored };
}

/** Buffers small writes into 64 KiB ones: a pack has thousands of lines. */
class ChunkWriter {
  private readonly chunk = Buffer.allocUnsafe(1 << 16);
  private length = 0;

  constructor(private readonly fd: number) {}

  text(text: string): void {
    const size = Buffer.byteLength(text);
    if (this.length + size > this.chunk.length) this.flush();
    if (size > this.chunk.length) writeSync(this.fd, text);
    else this.length += this.chunk.write(text, this.length);
  }

  bytes(bytes: Buffer): void {
    if (this.length + bytes.length > this.chunk.length) this.flush();
    if (bytes.length > this.chunk.length) writeSync(this.fd, bytes);
    else this.length += bytes.copy(this.chunk, this.length);
  }

  flush(): void {
    if (this.length > 0) writeSync(this.fd, this.chunk, 0, this.length);
    this.length = 0;
  }
}

/**
 * How many tree records are kept: a few tags, labels and branches in use. A record is about
 * 1.8 KB a prompt (18 MB for 10,000), so this bounds the folder to about 145 MB at that size.
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
