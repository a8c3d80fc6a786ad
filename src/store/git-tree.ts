import { isPromptFileName } from "../core/names.js";
import {
  assertGitRepository,
  type GitFileEntry,
  listIndexFiles,
  listTreeFiles,
  readBlobs,
  runGit,
  workTreePrefix,
} from "../git/objects.js";
import { resolvePromptRef } from "../git/labels.js";
import { decodePromptFile, fileProblem, type PromptFileText } from "./files.js";

/** Where to read prompts from in git: a commit-ish, or the index (what is staged). */
export type GitSource = { ref: string } | { staged: true };

/**
 * The commit a ref names and the git tree of the prompt directory in it (undefined when the
 * commit has no such directory). A tree id names its whole content, so what is computed from
 * it can be cached for good.
 */
export async function locateRefTree(
  root: string,
  dir: string,
  ref: string,
): Promise<{ commit: string; tree: string | undefined; top: string }> {
  await assertGitRepository(root, "--ref");
  const [top, commit] = await Promise.all([workTreePrefix(root), resolvePromptRef(root, ref)]);
  const path = `${top}${dir.replace(/\/+$/, "")}`;
  const tree = (
    await runGit(root, ["rev-parse", "--verify", "--quiet", `${commit}:${path}`]).catch(() => "")
  ).trim();
  return { commit, tree: /^[0-9a-f]{40,64}$/.test(tree) ? tree : undefined, top };
}

/** The prompt files under `dir` at a ref or in the index, read with one git process for all. */
export async function readGitPrompts(
  root: string,
  dir: string,
  source: GitSource,
): Promise<{ files: PromptFileText[]; commit?: string }> {
  await assertGitRepository(root, "ref" in source ? "--ref" : "--staged");
  // git lists paths from the top of the work tree; the project may sit below it (a monorepo).
  const top = await workTreePrefix(root);
  const prefix = `${top}${dir.replace(/\/+$/, "")}/`;
  let entries: GitFileEntry[];
  let commit: string | undefined;
  if ("ref" in source) {
    commit = await resolvePromptRef(root, source.ref);
    entries = await listTreeFiles(root, commit, prefix);
  } else {
    entries = await listIndexFiles(root, prefix);
  }
  // As in the working tree, hidden files and folders are not prompts.
  const prompts = entries.filter(
    (entry) =>
      entry.path.startsWith(prefix) &&
      isPromptFileName(entry.path) &&
      !entry.path
        .slice(prefix.length)
        .split("/")
        .some((segment) => segment.startsWith(".")),
  );
  const regular = prompts.filter((entry) => entry.mode.startsWith("100"));
  const blobs = await readBlobs(
    root,
    regular.map((entry) => entry.oid),
  );
  const files = prompts.map((entry): PromptFileText => {
    const name = entry.path.slice(prefix.length).replace(/\.ya?ml$/, "");
    const base = { name, file: entry.path.slice(top.length) };
    const folder = entry.path.slice(prefix.length).split("/").slice(0, -1).find(isPromptFileName);
    if (folder !== undefined) {
      return {
        ...base,
        ...fileProblem(
          "directory",
          `"${prefix.slice(top.length)}${folder}" is a directory, though named like a prompt file; rename it`,
        ),
      };
    }
    if (entry.mode === "120000") {
      return {
        ...base,
        ...fileProblem(
          "symlink",
          `"${base.file}" is a symlink in git; commit the prompt file itself`,
        ),
      };
    }
    const bytes = blobs.get(entry.oid);
    if (!bytes)
      return {
        ...base,
        ...fileProblem("unreadable", `"${base.file}" could not be read from git`),
      };
    return { ...base, ...decodePromptFile(bytes) };
  });
  return commit === undefined ? { files } : { files, commit };
}
