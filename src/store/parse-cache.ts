import { createHash } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
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

function entryPath(root: string, kind: string, text: string): string {
  const key = createHash("sha256")
    .update(cacheSalt())
    .update("\0")
    .update(kind)
    .update("\0")
    .update(text)
    .digest("hex");
  return join(root, CACHE_DIR, kind, `${key.slice(0, 40)}.json`);
}

/** The cached result of parsing `text`, or undefined. */
export async function getCached(root: string, kind: string, text: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(entryPath(root, kind, text), "utf8"));
  } catch {
    return undefined;
  }
}

/** Stores a result, atomically (temp file and rename), so a reader never sees half an entry. */
export async function setCached(
  root: string,
  kind: string,
  text: string,
  value: unknown,
): Promise<void> {
  const path = entryPath(root, kind, text);
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temp, JSON.stringify(value));
    await rename(temp, path);
  } catch {
    await rm(temp, { force: true }).catch(() => {});
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
  const hit = await getCached(root, kind, text);
  if (hit !== undefined) return hit as T;
  const value = await parse(text);
  await setCached(root, kind, text, value);
  return value;
}

/**
 * Keeps the cache bounded: when it holds far more entries than the tree has files, the entries
 * this run did not use go (they belong to old edits or other branches, and are cheap to redo).
 */
export async function pruneCache(
  root: string,
  kind: string,
  usedTexts: readonly string[],
): Promise<void> {
  const dir = join(root, CACHE_DIR, kind);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  const limit = Math.max(2_000, usedTexts.length * 3);
  if (entries.length <= limit) return;
  const keep = new Set(usedTexts.map((text) => entryPath(root, kind, text).slice(dir.length + 1)));
  await Promise.all(
    entries
      .filter((entry) => !keep.has(entry))
      .map((entry) => rm(join(dir, entry), { force: true }).catch(() => {})),
  );
}
