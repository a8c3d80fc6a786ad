import { isPromptFileName, promptNameOf } from "../core/names.js";
import {
  assertGitRepository,
  type GitFileEntry,
  listIndexFiles,
  listTreeFiles,
  missingObject,
  streamObjects,
  workTreePrefix,
} from "../git/objects.js";
import { locatePromptRef } from "../git/labels.js";
import { decodePromptFile, fileProblem, type PromptFileText } from "./files.js";

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
  return collect(streamTreePrompts(root, top, dir, commit));
}

/**
 * {@link readTreePrompts} one file at a time, each as soon as git has read it: a caller parses
 * the first files while git reads the next. A file whose blob `known` says the caller knows
 * already (its parse is cached) is not read: it comes with its `key` and no text.
 */
export async function* streamTreePrompts(
  root: string,
  top: string,
  dir: string,
  commit: string,
  known?: (oid: string) => boolean,
): AsyncGenerator<PromptFileText> {
  const prefix = `${top}${trimDir(dir)}/`;
  yield* promptFiles(root, top, prefix, await listTreeFiles(root, commit, prefix), known);
}

/** The prompt files under `dir` staged in the git index (what the next commit holds). */
export async function readIndexPrompts(root: string, dir: string): Promise<PromptFileText[]> {
  await assertGitRepository(root, "--staged");
  // git lists paths from the top of the work tree; the project may sit below it (a monorepo).
  const top = await workTreePrefix(root);
  const prefix = `${top}${trimDir(dir)}/`;
  return collect(promptFiles(root, top, prefix, await listIndexFiles(root, prefix)));
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const list: T[] = [];
  for await (const item of items) list.push(item);
  return list;
}

function trimDir(dir: string): string {
  return dir.replace(/\/+$/, "");
}

async function* promptFiles(
  root: string,
  top: string,
  prefix: string,
  entries: readonly GitFileEntry[],
  known: (oid: string) => boolean = () => false,
): AsyncGenerator<PromptFileText> {
  // As in the working tree, hidden files and folders are not prompts.
  const prompts = entries.filter((entry) => {
    if (!entry.path.startsWith(prefix) || !isPromptFileName(entry.path)) return false;
    const rel = entry.path.slice(prefix.length);
    return !rel.startsWith(".") && !rel.includes("/.");
  });
  // Two trees read one after the other (the sides of a diff) share most of their files: those
  // the caller has parsed already are not read from git again.
  const skipped = new Set<string>();
  const missing: string[] = [];
  for (const { oid, mode } of prompts) {
    if (!mode.startsWith("100") || skipped.has(oid)) continue;
    if (known(oid)) skipped.add(oid);
    else missing.push(oid);
  }
  const decoded = new Map<string, ReturnType<typeof decodePromptFile>>();
  // The blobs come in the order asked, which is the order of the files.
  let wake = () => {};
  let done = false;
  let failure: { error: unknown } | undefined;
  const reading = streamObjects(root, missing, (oid, bytes) => {
    if (bytes === undefined) throw missingObject(oid);
    decoded.set(oid, decodePromptFile(bytes));
    wake();
  }).then(
    () => {
      done = true;
      wake();
    },
    (error: unknown) => {
      failure = { error };
      wake();
    },
  );
  for (const entry of prompts) {
    const rel = entry.path.slice(prefix.length);
    const name = promptNameOf(rel);
    const file = entry.path.slice(top.length);
    const folder = folderNamedLikeAFile(rel);
    if (folder !== undefined) {
      const path = `${prefix.slice(top.length)}${folder}`;
      yield {
        name,
        file,
        ...fileProblem(
          "directory",
          `"${path}" is a directory, though named like a prompt file; rename it`,
        ),
      };
      continue;
    }
    if (entry.mode === "120000") {
      yield {
        name,
        file,
        ...fileProblem("symlink", `"${file}" is a symlink in git; commit the prompt file itself`),
      };
      continue;
    }
    if (skipped.has(entry.oid)) {
      yield { name, file, key: entry.oid };
      continue;
    }
    while (!decoded.has(entry.oid) && !done) {
      if (failure) throw failure.error;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    if (failure) throw failure.error;
    const blob = decoded.get(entry.oid);
    if (!blob) {
      yield { name, file, ...fileProblem("unreadable", `"${file}" could not be read from git`) };
    } else {
      yield "text" in blob
        ? { name, file, text: blob.text, key: entry.oid }
        : { name, file, problem: blob.problem };
    }
  }
  await reading;
  if (failure) throw failure.error;
}

/** The first folder of a path named like a prompt file (`a.yaml/b.yaml` → `a.yaml`), if any. */
function folderNamedLikeAFile(path: string): string | undefined {
  // Most paths have none: only those with such a name before a slash are split.
  if (!path.includes(".yaml/") && !path.includes(".yml/")) return undefined;
  return path.split("/").slice(0, -1).find(isPromptFileName);
}
