import { createHash, hash } from "node:crypto";
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
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The parse cache: what parsing a file gave, keyed by git's blob id of the file's bytes, in one
 * append-only file under `.prompts/cache/` (git-ignored). A warm cache spares loading and running
 * the YAML parser. A file read from git comes with its blob id; a file read from disk gets the
 * same id, so a file shares its entry across the working tree, the index and every commit.
 *
 * The cache is filled from the second run on: a run that finds no cache file of this build (a
 * fresh clone, as in CI, or a new version of gitprompts) writes only the file's first line, so
 * that a command run once in a clone never pays for writing entries nobody will read.
 *
 * The file is bounded: past {@link MAX_CACHE_BYTES} it is rewritten with the newest entries only,
 * the oldest going first. Any failure to read or write it is ignored: the cache can only save
 * time, never change a result.
 */
const CACHE_DIR = ".prompts/cache";

const CACHE_FILE = "parse.log";
/** The largest the cache file grows to; past it, the newest entries that fill half of it stay. */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;
/** How many bytes of new entries are gathered before they are appended. */
const WRITE_BATCH = 1 << 20;
/** The length of a key: a SHA-1 blob id in hex. */
const KEY_LENGTH = 40;
const NEWLINE = 0x0a;
const SPACE = 0x20;

let cachedHeader: string | undefined;

/**
 * The file's first line. Results depend on the parser's code, so it names the package's build:
 * the newest modification time of the core modules. A file of another build is started afresh.
 */
function cacheHeader(): string {
  if (cachedHeader === undefined) {
    const coreDir = fileURLToPath(new URL("../core/", import.meta.url));
    let newest = 0;
    try {
      for (const entry of readdirSync(coreDir)) {
        newest = Math.max(newest, statSync(join(coreDir, entry)).mtimeMs);
      }
    } catch {
      newest = Date.now();
    }
    cachedHeader = `gitprompts-parse-cache-4 ${newest}`;
  }
  return cachedHeader;
}

/**
 * Git's id of these bytes as a blob (what `git hash-object` prints in a repository of SHA-1
 * object ids, the default).
 */
export function blobId(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/**
 * Git's header of a blob of `size` bytes. A reader that puts a file's bytes right after it
 * gets the blob id from {@link framedBlobId}, in one call without copying the file.
 */
export function blobHeader(size: number): string {
  return `blob ${size}\0`;
}

/**
 * The blob id of `framed`: a {@link blobHeader} followed by exactly the bytes it counts (a
 * string counts as its UTF-8 bytes). For thousands of small files this one-shot hash costs a
 * fraction of a Hash object per file.
 */
export function framedBlobId(framed: string | Uint8Array): string {
  return hash("sha1", framed, "hex");
}

/** The key of a text that is not a prompt file (the config), apart from every blob id. */
export function textKey(kind: string, text: string): string {
  return createHash("sha1").update(`${kind}\0${text}`).digest("hex");
}

/**
 * The parse cache of one repository, read once when opened: entries are found by key without
 * being parsed, and each is parsed from its JSON when asked for. New entries are appended by
 * {@link ParseCache.save}.
 */
export class ParseCache {
  /** Results stored since opening, by key: a later `get` of the same key finds them. */
  private readonly added = new Map<string, unknown>();
  /** Lines of new entries not yet appended to the file, and their length. */
  private pending: string[] = [];
  private pendingLength = 0;
  /**
   * Whether new entries are written to the file: false when no file of this build was found,
   * and this run writes only its header (see the module's comment). Entries are then kept in
   * memory only, for the loads that share this object (the two sides of a diff).
   */
  readonly writesEntries: boolean;
  /** Whether the header is still to be written (none yet, or another build's file). */
  private fresh: boolean;
  /**
   * Whether the file ends in a line cut short (by a process that died while writing it): the
   * next write ends it first.
   */
  private cut: boolean;

  private constructor(
    private readonly root: string,
    private readonly bytes: Buffer,
    /** key → [start, end] of its JSON in `bytes`; the last entry of a key wins. */
    private readonly stored: Map<string, [number, number]>,
    private readonly maxBytes: number,
  ) {
    this.fresh = stored.size === 0 && !bytes.subarray(0, 64).includes(cacheHeader());
    this.writesEntries = !this.fresh;
    this.cut = !this.fresh && bytes.length > 0 && bytes[bytes.length - 1] !== NEWLINE;
  }

  /**
   * The cache of a repository; an empty one when there is none or it is of another build.
   * `maxBytes` bounds the file (a test sets it small rather than write 64 MB).
   */
  static open(
    root: string,
    { maxBytes = MAX_CACHE_BYTES }: { maxBytes?: number } = {},
  ): ParseCache {
    let bytes = Buffer.alloc(0);
    try {
      bytes = readFileSync(join(root, CACHE_DIR, CACHE_FILE));
    } catch {
      // No cache yet, or an unreadable one: parse everything.
    }
    return new ParseCache(root, bytes, indexEntries(bytes), maxBytes);
  }

  /** The stored result for a key, if any (a new object on every call). */
  get(key: string): unknown {
    const added = this.added.get(key);
    if (added !== undefined) return added;
    const range = this.stored.get(key);
    if (range === undefined) return undefined;
    try {
      return JSON.parse(this.bytes.toString("utf8", range[0], range[1]));
    } catch {
      return undefined;
    }
  }

  /**
   * Stores a result. It is appended to the file a batch at a time, and the rest by
   * {@link ParseCache.save}: the text of a whole tree's entries is never held at once.
   */
  set(key: string, value: unknown): void {
    this.added.set(key, value);
    if (!this.writesEntries) return;
    const line = `${key} ${JSON.stringify(value)}\n`;
    this.pending.push(line);
    this.pendingLength += line.length;
    if (this.pendingLength >= WRITE_BATCH) this.save();
  }

  /**
   * Appends what was stored and not yet written; a file of another build is replaced, and one
   * grown past its bound is rewritten with its newest entries. A cache that writes no entries
   * writes its header, so that the next run's does.
   */
  save(): void {
    if (this.pending.length === 0 && !this.fresh) return;
    const lines = this.pending.join("");
    this.pending = [];
    this.pendingLength = 0;
    const dir = join(this.root, CACHE_DIR);
    const path = join(dir, CACHE_FILE);
    let fd: number | undefined;
    try {
      makeCacheDir(this.root, dir);
      // Appended in one write: two processes appending at once each add whole lines.
      const text = `${this.fresh ? `${cacheHeader()}\n` : this.cut ? "\n" : ""}${lines}`;
      fd = openSync(path, this.fresh ? "w" : "a");
      writeSync(fd, text);
      closeSync(fd);
      fd = undefined;
      this.fresh = false;
      this.cut = false;
      if (statSync(path).size > this.maxBytes) keepNewest(path, this.maxBytes / 2);
    } catch {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

/**
 * Creates the cache folder. `.prompts/` ignores itself (as .pytest_cache does), so a repository
 * where nobody ran `prompts init` does not show it as untracked.
 */
function makeCacheDir(root: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const ignore = join(root, ".prompts", ".gitignore");
  if (!existsSync(ignore))
    writeFileSync(ignore, "# Created by gitprompts: caches and usage logs stay local.\n*\n");
}

/**
 * Finds the entries of a cache file without parsing them. A file of another build, or without
 * a header, gives none; a malformed line is skipped.
 */
function indexEntries(bytes: Buffer): Map<string, [number, number]> {
  const stored = new Map<string, [number, number]>();
  const headerEnd = bytes.indexOf(NEWLINE);
  if (headerEnd === -1 || bytes.toString("utf8", 0, headerEnd) !== cacheHeader()) return stored;
  for (let start = headerEnd + 1; start < bytes.length;) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1) end = bytes.length;
    if (end - start > KEY_LENGTH + 1 && bytes[start + KEY_LENGTH] === SPACE) {
      stored.set(bytes.toString("latin1", start, start + KEY_LENGTH), [
        start + KEY_LENGTH + 1,
        end,
      ]);
    }
    start = end + 1;
  }
  return stored;
}

/** Rewrites the cache file with its newest entries that fit in `budget` bytes, atomically. */
function keepNewest(path: string, budget: number): void {
  const bytes = readFileSync(path);
  const stored = indexEntries(bytes);
  // Later lines were written later: keep from the end until the budget is spent.
  const ranges = [...stored.values()].sort((a, b) => b[0] - a[0]);
  const kept: Buffer[] = [];
  let size = 0;
  for (const [start, end] of ranges) {
    const line = bytes.subarray(start - KEY_LENGTH - 1, end + 1);
    if (size + line.length > budget) break;
    kept.push(line);
    size += line.length;
  }
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, Buffer.concat([Buffer.from(`${cacheHeader()}\n`), ...kept.reverse()]));
    renameSync(temp, path);
  } catch {
    rmSync(temp, { force: true });
  }
}
