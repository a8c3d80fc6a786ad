import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative } from "node:path";
import { isSystemError, PromptsError, systemErrorText } from "../errors.js";

/**
 * Writes `text` to a temp file in the target's folder, flushes it to disk and renames it over
 * the target, so a reader (a web server, a polling client, a compiler) sees the old file or the
 * new one, never half of one. On failure the temp file is removed and the target is left as it
 * was; the error names the file as `what` (e.g. `the bundle dist/prompts.json`).
 */
export async function writeFileAtomic(target: string, text: string, what: string): Promise<void> {
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
