import { isPromptFileName, promptNameOf } from "../../core/names.js";
import {
  assertGitRepository,
  type GitFileEntry,
  listIndexFiles,
  listTreeFiles,
  missingObject,
  streamObjects,
  workTreePrefix,
} from "../../git/objects.js";
import { locatePromptRef } from "../../git/labels.js";
import { decodePromptFile, fileProblem, type PromptFileText } from "../files.js";

/**
 * The commit a ref names and the git tree of the prompt directory in it (undefined when the
 * commit has no such directory). A tree id names its whole content, so what is computed from
 * it can be cached for good. `top` is where the root sits in its work tree (`packages/app/`).
 */
export async function locateRefTree(
  root: string,
  dir: string,
  ref: string,
): Promise<{ commit: string; tree: string | undefined; top: string }> {
  await assertGitRepository(root, "--ref");
  const top = await workTreePrefix(root);
  const { commit, object } = await locatePromptRef(root, ref, `${top}${trimDir(dir)}`);
  return { commit, tree: object?.type === "tree" ? object.oid : undefined, top };
}

/** The prompt files under `dir` in a commit located by {@link locateRefTree}: one ls-tree, one cat-file. */
export async function readTreePrompts(
  root: string,
  top: string,
  dir: string,
  commit: string,
): Promise<PromptFileText[]> {
  const prefix = `${top}${trimDir(dir)}/`;
  return promptFiles(root, top, prefix, await listTreeFiles(root, commit, prefix));
}

/** The prompt files under `dir` staged in the git index (what the next commit holds). */
export async function readIndexPrompts(root: string, dir: string): Promise<PromptFileText[]> {
  await assertGitRepository(root, "--staged");
  // git lists paths from the top of the work tree; the project may sit below it (a monorepo).
  const top = await workTreePrefix(root);
  const prefix = `${top}${trimDir(dir)}/`;
  return promptFiles(root, top, prefix, await listIndexFiles(root, prefix));
}

function trimDir(dir: string): string {
  return dir.replace(/\/+$/, "");
}

async function promptFiles(
  root: string,
  top: string,
  prefix: string,
  entries: readonly GitFileEntry[],
): Promise<PromptFileText[]> {
  // As in the working tree, hidden files and folders are not prompts.
  const prompts = entries.filter((entry) => {
    if (!entry.path.startsWith(prefix) || !isPromptFileName(entry.path)) return false;
    const rel = entry.path.slice(prefix.length);
    return !rel.startsWith(".") && !rel.includes("/.");
  });
  const blobs = [...new Set(prompts.filter((e) => e.mode.startsWith("100")).map((e) => e.oid))];
  const decoded = new Map<string, ReturnType<typeof decodePromptFile>>();
  await streamObjects(root, blobs, (oid, bytes) => {
    if (bytes === undefined) throw missingObject(oid);
    decoded.set(oid, decodePromptFile(bytes));
  });
  return prompts.map((entry): PromptFileText => {
    const rel = entry.path.slice(prefix.length);
    const name = promptNameOf(rel);
    const file = entry.path.slice(top.length);
    const folder = folderNamedLikeAFile(rel);
    if (folder !== undefined) {
      const path = `${prefix.slice(top.length)}${folder}`;
      return {
        name,
        file,
        ...fileProblem(
          "directory",
          `"${path}" is a directory, though named like a prompt file; rename it`,
        ),
      };
    }
    if (entry.mode === "120000") {
      return {
        name,
        file,
        ...fileProblem("symlink", `"${file}" is a symlink in git; commit the prompt file itself`),
      };
    }
    const blob = decoded.get(entry.oid);
    if (!blob)
      return { name, file, ...fileProblem("unreadable", `"${file}" could not be read from git`) };
    return "text" in blob
      ? { name, file, text: blob.text, key: entry.oid }
      : { name, file, problem: blob.problem };
  });
}

/** The first folder of a path named like a prompt file (`a.yaml/b.yaml` → `a.yaml`), if any. */
function folderNamedLikeAFile(path: string): string | undefined {
  // Most paths have none: only those with such a name before a slash are split.
  if (!path.includes(".yaml/") && !path.includes(".yml/")) return undefined;
  return path.split("/").slice(0, -1).find(isPromptFileName);
}
