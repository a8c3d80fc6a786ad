import { randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import { lstat, mkdir, open, readlink, realpath, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { isSystemError, PromptsError, systemErrorText } from "../errors.js";

/**
 * Writes `text` to a temp file in the target's folder, flushes it to disk and renames it over
 * the target, so a reader (a web server, a polling client, a compiler) sees the old file or the
 * new one, never half of one. A symlink at `target` is replaced, not followed (a file of a
 * cloned repository must not lead a write elsewhere): callers follow one the user named with
 * {@link resolveWriteTarget}. A FIFO, socket or device is refused. On failure the temp file is
 * removed and the target is left as it was; the error names the file as `what` (e.g. `the
 * bundle dist/prompts.json`).
 */
export async function writeFileAtomic(target: string, text: string, what: string): Promise<void> {
  const kind = specialKind(await lstat(target).catch(() => undefined));
  if (kind !== undefined) {
    throw new PromptsError(
      "E_INVALID_INPUT",
      `cannot write ${what}: it is ${kind}, not a regular file`,
    );
  }
  const folder = dirname(target);
  const temp = join(folder, `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  let stage = "create the folder of";
  try {
    await mkdir(folder, { recursive: true });
    stage = "write";
    const handle = await open(temp, "wx");
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    const reason = isSystemError(error) ? systemErrorText(error) : String(error);
    throw new PromptsError("E_IO", `cannot ${stage} ${what}: ${reason}`, { cause: error });
  }
  await syncFolder(folder);
}

/**
 * The file to write for a path the user named: `path` itself, or the end of its symlinks (which
 * need not exist yet), so a link stays a link and the file it points at is replaced. A FIFO,
 * socket or device is refused before anything opens it: opening a FIFO for writing blocks until
 * someone reads it, and renaming over `/dev/null` would replace the device. `name` is how the
 * error names the path (`--out dist/x`).
 */
export async function resolveWriteTarget(path: string, name: string): Promise<string> {
  const found = await stat(path).catch(() => undefined);
  if (found !== undefined) {
    const kind = specialKind(found);
    if (kind !== undefined) {
      throw new PromptsError(
        "E_INVALID_INPUT",
        `${name}: is ${kind}, not a regular file (to write to standard output, use --out -)`,
      );
    }
    return found.isFile() ? realpath(path) : path;
  }
  // A dangling symlink: write where it points, so it is no longer dangling.
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    const link = await lstat(current).catch(() => undefined);
    if (!link?.isSymbolicLink()) return current;
    current = resolve(dirname(current), await readlink(current));
  }
  return path;
}

function specialKind(stats: Stats | undefined): string | undefined {
  if (stats === undefined) return undefined;
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  return undefined;
}

/** Makes the rename itself durable; not every platform can open a folder, which is then fine. */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The file is in place either way; only its survival of a power cut is less certain.
  }
}

/** A path as the user should see it: relative to the working directory when it is below it. */
export function displayPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel === "" || isOutside(rel) ? path : rel.split("\\").join("/");
}

/** True for a relative path that leaves its base folder. */
export function isOutside(rel: string): boolean {
  return isAbsolute(rel) || rel.split(/[\\/]/)[0] === "..";
}
