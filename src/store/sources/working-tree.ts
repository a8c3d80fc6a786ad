import type { Dirent } from "node:fs";
import {
  closeSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync,
} from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { isPromptFileName } from "../../core/names.js";
import {
  decodePromptFile,
  fileProblem,
  MAX_PROMPT_FILE_BYTES,
  type PromptFileText,
} from "../files.js";
import { blobHeader, blobId, framedBlobId } from "../parse-cache.js";

/** A prompt file found in the working tree. */
export interface WorktreeEntry {
  /** The prompt name; a name that ends in `/` is a folder that was not entered (see `problem`). */
  name: string;
  file: string;
  /** Absolute path to read (a symlink's resolved target). */
  path: string;
  problem?: PromptFileText["problem"];
}

const toPosix = (path: string) => (sep === "/" ? path : path.split(sep).join("/"));

/**
 * Finds every prompt file under `dir`. Hidden entries are skipped; a symlink is followed only to
 * a file inside the repository; a directory named like a prompt file is reported, not entered.
 * Synchronous on purpose, as the reads are: a promise per folder and per link costs a round
 * trip through libuv's thread pool each, several times the walk itself on a few hundred files.
 * Links are resolved by `realpathSync.native`, the call the promise-based `realpath` makes.
 */
export function listWorktreePrompts(root: string, dir: string): WorktreeEntry[] {
  const rootReal = realpathSync.native(root);
  const base = join(root, dir);
  const found: WorktreeEntry[] = [];
  /**
   * `file` and `name` of what is in `folder` start with `filePrefix` and `namePrefix`: paths
   * built as the walk goes down, rather than made relative for each of thousands of files.
   */
  const walk = (folder: string, filePrefix: string, namePrefix: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const path = `${folder}${sep}${entry.name}`;
      const file = `${filePrefix}${entry.name}`;
      const name = `${namePrefix}${entry.name}`.replace(/\.ya?ml$/, "");
      if (entry.isDirectory()) {
        if (isPromptFileName(entry.name)) found.push(directoryEntry(name, file, path));
        else walk(path, `${file}/`, `${namePrefix}${entry.name}/`);
      } else if (!isPromptFileName(entry.name)) {
        const outside = entry.isSymbolicLink() && folderLinkOutside(rootReal, path, file);
        if (outside) found.push({ name: `${namePrefix}${entry.name}/`, file, path, ...outside });
      } else if (entry.isSymbolicLink()) {
        found.push(followLink(rootReal, path, { name, file, path }));
      } else if (entry.isFile()) {
        found.push({ name, file, path });
      }
    }
  };
  const top = toPosix(relative(root, base));
  const outside = folderLinkOutside(rootReal, base, top);
  if (outside) return [{ name: "/", file: top, path: base, ...outside }];
  walk(base, `${top}/`, "");
  found.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return found;
}

/** A folder named like a prompt file: reported, never entered (its name would be ambiguous). */
function directoryEntry(name: string, file: string, path: string): WorktreeEntry {
  return {
    name,
    file,
    path,
    ...fileProblem(
      "directory",
      `"${file}" is a directory, though named like a prompt file; rename it`,
    ),
  };
}

function followLink(rootReal: string, path: string, entry: WorktreeEntry): WorktreeEntry {
  let target: string;
  try {
    target = realpathSync.native(path);
  } catch {
    return {
      ...entry,
      ...fileProblem("broken-symlink", `"${entry.file}" is a symlink to nothing`),
    };
  }
  if (!isInside(rootReal, target)) {
    return {
      ...entry,
      ...fileProblem(
        "symlink-outside",
        `"${entry.file}" is a symlink to ${target}, outside the repository; prompts must live in the repository`,
      ),
    };
  }
  const info = statSync(target);
  if (!info.isFile()) {
    return {
      ...entry,
      ...fileProblem(
        "symlink-not-file",
        `"${entry.file}" is a symlink to something that is not a file`,
      ),
    };
  }
  return { ...entry, path: target };
}

/**
 * The problem of a folder (or a symlink to one, or below one) that lies outside the repository:
 * its prompts are not read, and the folder is reported rather than silently left out.
 */
function folderLinkOutside(
  rootReal: string,
  path: string,
  file: string,
): Pick<WorktreeEntry, "problem"> | undefined {
  let target: string;
  try {
    target = realpathSync.native(path);
  } catch {
    return undefined;
  }
  if (isInside(rootReal, target)) return undefined;
  try {
    if (!statSync(target).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  return fileProblem(
    "symlink-outside",
    `"${file}" is a symlink to ${target}, a folder outside the repository, whose prompts are not read; prompts must live in the repository`,
  );
}

/** True when `path` is `root` or below it. */
function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
}

/**
 * Reads one prompt file, refusing an oversized one before reading it. Synchronous on purpose:
 * for thousands of small files, promise-based file handles cost several times the read itself.
 * `keyed` adds its key in the parse cache (for a load that uses the cache).
 */
export function readWorktreePrompt(
  entry: WorktreeEntry,
  { keyed = false }: { keyed?: boolean } = {},
): PromptFileText {
  const { name, file } = entry;
  if (entry.problem) return { name, file, problem: entry.problem };
  let fd: number | undefined;
  try {
    fd = openSync(entry.path, "r");
    const info = fstatSync(fd);
    if (!info.isFile())
      return { name, file, ...fileProblem("not-a-file", `"${file}" is not a regular file`) };
    if (info.size > MAX_PROMPT_FILE_BYTES) {
      return {
        name,
        file,
        ...fileProblem(
          "too-large",
          `the file is ${info.size} bytes, over the ${MAX_PROMPT_FILE_BYTES}-byte limit for a prompt file`,
        ),
      };
    }
    // Read and decoded in one native call, the cheapest read there is. Bytes that are not
    // UTF-8 come out as U+FFFD: a text holding one is read again as bytes, which say where.
    const read = readFileSync(fd, "utf8");
    if (read.includes("\ufffd")) return readAsBytes(fd, info.size, entry, keyed);
    const text = read.charCodeAt(0) === BOM ? read.slice(1) : read;
    if (!keyed) return { name, file, text };
    // The text is exactly the file's bytes decoded, so it gives their blob id.
    return { name, file, text, key: framedBlobId(blobHeader(Buffer.byteLength(read)) + read) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { name, file, ...fileProblem("unreadable", `cannot read the file: ${reason}`) };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const BOM = 0xfeff;

/** The first `size` bytes of a file: its text, or where it stops being UTF-8. */
function readAsBytes(
  fd: number,
  size: number,
  entry: WorktreeEntry,
  keyed: boolean,
): PromptFileText {
  const { name, file } = entry;
  const bytes = Buffer.allocUnsafe(size);
  let filled = 0;
  for (let count = 1; count > 0 && filled < size; filled += count) {
    count = readSync(fd, bytes, filled, size - filled, filled);
  }
  const content = bytes.subarray(0, filled);
  const decoded = decodePromptFile(content);
  if (!("text" in decoded)) return { name, file, problem: decoded.problem };
  return keyed
    ? { name, file, text: decoded.text, key: blobId(content) }
    : { name, file, ...decoded };
}

/** Candidates for one prompt by name: `name.yaml` and `name.yml` that exist. */
export async function findWorktreePrompt(
  root: string,
  dir: string,
  name: string,
): Promise<WorktreeEntry[]> {
  const rootReal = await realpath(root);
  const found: WorktreeEntry[] = [];
  for (const extension of [".yaml", ".yml"]) {
    const path = join(root, dir, `${name}${extension}`);
    const file = toPosix(relative(root, path));
    try {
      const info = await stat(path);
      if (info.isDirectory()) {
        found.push(directoryEntry(name, file, path));
      } else {
        found.push(followLink(rootReal, path, { name, file, path }));
      }
    } catch {
      // Not there under this extension.
    }
  }
  return found;
}
