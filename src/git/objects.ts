import { execFile, spawn } from "node:child_process";
import { PromptsError } from "../errors.js";

/** A file recorded in a git tree or in the index. */
export interface GitFileEntry {
  /** Path relative to the repository root, `/`-separated. */
  path: string;
  /** Git file mode: `100644`, `100755`, `120000` (symlink), `160000` (submodule). */
  mode: string;
  oid: string;
}

/**
 * Runs git in `root` and resolves with its stdout; a non-zero exit rejects with git's stderr.
 * Git is spawned directly: simple-git, which this used before, costs 28 ms to import and waits
 * 50 ms after every command that prints nothing (`rev-parse --quiet` of a missing ref,
 * `update-ref`), which was most of the time of a read at a ref.
 */
function execGit(root: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      { cwd: root, encoding: "utf8", maxBuffer: MAX_OUTPUT, windowsHide: true },
      (error, stdout, stderr) => {
        if (!error) resolve(stdout);
        else reject(new Error(stderr.trim() || error.message, { cause: error }));
      },
    );
  });
}

/** The most a git command may print (a `git log` of years of history stays far below). */
const MAX_OUTPUT = 256 * 1024 * 1024;

/** Runs one git command and returns its stdout; a failure becomes a `PromptsError` with git's words. */
export async function runGit(root: string, args: readonly string[]): Promise<string> {
  try {
    return await execGit(root, args);
  } catch (error) {
    throw gitError(args, error);
  }
}

function gitError(args: readonly string[], error: unknown): PromptsError {
  const stderr = error instanceof Error ? error.message : String(error);
  const reason = stderr.split("\n").find((line) => line.trim() !== "") ?? "failed";
  return new PromptsError("E_GIT", `git ${args[0] ?? ""} failed: ${reason.trim()}`, {
    cause: error,
  });
}

/** Fails with a one-line error unless `root` is inside a git work tree. */
export async function assertGitRepository(root: string, why: string): Promise<void> {
  try {
    await workTreePrefix(root);
  } catch {
    throw new PromptsError(
      "E_GIT",
      `${root} is not a git repository (${why} needs git; run: git init)`,
    );
  }
}

/** The commit a ref names, or a one-line error naming the ref. */
export async function resolveCommit(root: string, ref: string): Promise<string> {
  const unknown = async () => {
    // In a shallow clone the commit may exist upstream but not here: say how to get it.
    const shallow =
      (await runGit(root, ["rev-parse", "--is-shallow-repository"]).catch(() => "")).trim() ===
      "true";
    const next = shallow
      ? "this is a shallow clone; run: git fetch --unshallow"
      : "run: git tag --list, git branch --all";
    return new PromptsError("E_GIT", `unknown git ref "${ref}" (${next})`);
  };
  if (ref.startsWith("-") || ref.trim() === "") throw await unknown();
  let sha = "";
  try {
    // --quiet makes git say nothing on stderr, so an unknown ref shows as empty output.
    sha = (
      await execGit(root, [
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        `${ref}^{commit}`,
      ])
    ).trim();
  } catch {
    throw await unknown();
  }
  if (!/^[0-9a-f]{40,64}$/.test(sha)) throw await unknown();
  return sha;
}

const prefixes = new Map<string, Promise<string>>();

/**
 * Where `root` sits inside its git work tree, as git writes paths (`packages/app/`, or "" at
 * the top): paths from ls-tree and ls-files start with it. Asked once per root and process,
 * since commands ask it several times and it cannot change under a running command.
 */
export function workTreePrefix(root: string): Promise<string> {
  let prefix = prefixes.get(root);
  if (!prefix) {
    prefix = runGit(root, ["rev-parse", "--show-prefix"]).then((output) => output.trim());
    // A failure is not kept: `git init` may make the folder a repository afterwards.
    prefix.catch(() => prefixes.delete(root));
    prefixes.set(root, prefix);
  }
  return prefix;
}

function splitNul(output: string): string[] {
  return output.split("\0").filter((record) => record !== "");
}

/** The files under `dir` in the tree of `commit`: one `git ls-tree` for the whole directory. */
export async function listTreeFiles(
  root: string,
  commit: string,
  dir: string,
): Promise<GitFileEntry[]> {
  const output = await runGit(root, ["ls-tree", "-r", "-z", "--full-tree", commit, "--", dir]);
  return splitNul(output).flatMap((record) => {
    const tab = record.indexOf("\t");
    const [mode, type, oid] = record.slice(0, tab).split(" ");
    if (type !== "blob" || !mode || !oid) return [];
    return [{ path: record.slice(tab + 1), mode, oid }];
  });
}

/**
 * The files under `dir` (a path from the top of the work tree) in the git index — what the next
 * commit holds — stage 0 only.
 */
export async function listIndexFiles(root: string, dir: string): Promise<GitFileEntry[]> {
  const output = await runGit(root, [
    "ls-files",
    "--stage",
    "-z",
    "--full-name",
    "--",
    `:(top)${dir}`,
  ]);
  return splitNul(output).flatMap((record) => {
    const tab = record.indexOf("\t");
    const [mode, oid, stage] = record.slice(0, tab).split(" ");
    if (!mode || !oid || mode === "160000") return [];
    if (stage !== "0") {
      throw new PromptsError(
        "E_GIT",
        `${record.slice(tab + 1)} has unresolved merge conflicts in the index`,
      );
    }
    return [{ path: record.slice(tab + 1), mode, oid }];
  });
}

/**
 * Runs git with `input` on its stdin and resolves with all of its stdout: the batch commands
 * (`cat-file --batch`) that answer any number of questions with one process.
 */
function gitWithInput(root: string, args: readonly string[], input: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", (error) => reject(gitError(args, error)));
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(chunks));
      else reject(gitError(args, new Error(stderr || `exit ${code}`)));
    });
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}

/**
 * Asks `git cat-file --batch-check=…` about each spec fit for a batch, once each; `asked` is
 * what was asked, in the order of the output.
 */
async function catFileBatch(
  root: string,
  mode: string,
  specs: readonly string[],
): Promise<{ asked: string[]; output: Buffer }> {
  const asked = batchSpecs(specs);
  if (asked.length === 0) return { asked, output: Buffer.alloc(0) };
  return {
    asked,
    output: await gitWithInput(root, ["cat-file", mode, "--buffer"], `${asked.join("\n")}\n`),
  };
}

/**
 * The specs a `cat-file` batch can be asked about (one per line, none empty), once each. The
 * batch runs with `--buffer`: without it git flushes after every object, and ten thousand small
 * writes take several times longer to read than the same bytes in large ones.
 */
function batchSpecs(specs: readonly string[]): string[] {
  return [...new Set(specs)].filter((spec) => !/[\n\r]/.test(spec) && spec.trim() !== "");
}

/** "<spec> missing" (or ambiguous): a spec may hold spaces, so it is read from the end. */
const NOT_FOUND = / (missing|ambiguous)$/;

/**
 * Reads many objects with one `git cat-file --batch` process, whatever their number. `specs`
 * are object ids or `<commit>:<path>`; one that does not exist maps to undefined.
 */
export async function readObjects(
  root: string,
  specs: readonly string[],
): Promise<Map<string, Buffer | undefined>> {
  const objects = new Map<string, Buffer | undefined>();
  await streamObjects(root, specs, (spec, content) => objects.set(spec, content));
  return objects;
}

/**
 * Reads many objects with one `git cat-file --batch` process, handing each to `onObject` as soon
 * as git has written it (in the order of `specs`, each once; undefined for one that does not
 * exist): a caller can work on the first objects while git reads the next — thousands of loose
 * objects take git a good part of a second.
 */
export function streamObjects(
  root: string,
  specs: readonly string[],
  onObject: (spec: string, content: Buffer | undefined) => void,
): Promise<void> {
  const asked = batchSpecs(specs);
  if (asked.length === 0) return Promise.resolve();
  const args = ["cat-file", "--batch", "--buffer"];
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
    let next = 0;
    /** Bytes received and not yet taken, and the size of the object being read, if known. */
    let pending: Buffer = Buffer.alloc(0);
    let size: number | undefined;
    let stderr = "";
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      child.kill();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    child.stdout.on("data", (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let offset = 0;
      try {
        while (next < asked.length && !failed) {
          if (size === undefined) {
            const headerEnd = pending.indexOf(10, offset);
            if (headerEnd === -1) break;
            const header = pending.toString("utf8", offset, headerEnd);
            offset = headerEnd + 1;
            if (NOT_FOUND.test(header)) {
              onObject(asked[next++] as string, undefined);
              continue;
            }
            size = Number(header.slice(header.lastIndexOf(" ") + 1));
          }
          // The object and the line feed after it.
          if (pending.length - offset < size + 1) break;
          onObject(asked[next++] as string, pending.subarray(offset, offset + size));
          offset += size + 1;
          size = undefined;
        }
      } catch (error) {
        fail(error);
        return;
      }
      pending = pending.subarray(offset);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", (error) => fail(gitError(args, error)));
    child.on("close", (code) => {
      if (failed) return;
      if (code === 0 && next === asked.length) resolve();
      else fail(gitError(args, new Error(stderr || `exit ${code}`)));
    });
    child.stdin.on("error", () => {});
    child.stdin.end(`${asked.join("\n")}\n`);
  });
}

/** What a revision names: an object id and its type (`commit`, `tree`, `blob`, `tag`). */
export interface GitObjectInfo {
  oid: string;
  type: string;
}

/**
 * What each of `specs` (`v1^{commit}`, `v1:prompts`, an object id) names, with one
 * `git cat-file --batch-check` however many there are; one that names nothing maps to undefined.
 */
export async function describeRevisions(
  root: string,
  specs: readonly string[],
): Promise<Map<string, GitObjectInfo | undefined>> {
  const found = new Map<string, GitObjectInfo | undefined>();
  const { asked, output } = await catFileBatch(
    root,
    "--batch-check=%(objectname) %(objecttype)",
    specs,
  );
  const lines = output.toString().split("\n");
  asked.forEach((spec, index) => {
    const line = lines[index] ?? "";
    const [oid, type] = line.split(" ");
    found.set(
      spec,
      NOT_FOUND.test(line) || !oid || !type || !/^[0-9a-f]{40,64}$/.test(oid)
        ? undefined
        : { oid, type },
    );
  });
  return found;
}

/** The error for an object a tree names that this clone does not have. */
export function missingObject(oid: string): PromptsError {
  return new PromptsError(
    "E_GIT",
    `git object ${oid} is missing (a shallow or partial clone? run: git fetch --unshallow)`,
  );
}

/** Where git looks for hooks in this repository (honours `core.hooksPath`). */
export async function hooksDirectory(root: string): Promise<string> {
  const path = await runGit(root, ["rev-parse", "--path-format=absolute", "--git-path", "hooks"]);
  return path.trim();
}

/** How a path changed between two trees, as git's rename detection sees it. */
export interface GitChange {
  status: "added" | "deleted" | "modified" | "renamed" | "copied" | "type-changed";
  /** The path before (for renames and copies), from the repository root's point of view. */
  from?: string;
  path: string;
}

const CHANGE_STATUS: Record<string, GitChange["status"]> = {
  A: "added",
  D: "deleted",
  M: "modified",
  R: "renamed",
  C: "copied",
  T: "type-changed",
};

/**
 * The files changed under `dir` (a path from the top of the work tree) between commit `from`
 * and commit `to`, or the working tree when `to` is undefined — one `git diff` with rename
 * detection. Untracked files are not seen by git; callers compare file sets for those.
 */
export async function diffNameStatus(
  root: string,
  from: string,
  to: string | undefined,
  dir: string,
): Promise<GitChange[]> {
  const args = ["diff", "--name-status", "-z", "-M", "--no-ext-diff", "--no-textconv", from];
  if (to !== undefined) args.push(to);
  args.push("--", `:(top)${dir}`);
  return parseNameStatus(splitNul(await runGit(root, args)), 0);
}

/**
 * Reads `--name-status -z` records (`M\0path`, `R100\0old\0new`) from `fields[start]` to the end.
 * A status may carry the newline that ends a `git log` format line before it.
 */
export function parseNameStatus(fields: readonly string[], start: number): GitChange[] {
  const changes: GitChange[] = [];
  for (let i = start; i < fields.length;) {
    const status = CHANGE_STATUS[(fields[i++] ?? "").replace(/^\n/, "").charAt(0)];
    if (status === "renamed" || status === "copied") {
      const from = fields[i++] ?? "";
      changes.push({ status, from, path: fields[i++] ?? "" });
    } else if (status) {
      changes.push({ status, path: fields[i++] ?? "" });
    }
  }
  return changes;
}
