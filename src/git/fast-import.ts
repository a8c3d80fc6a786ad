import { spawn } from "node:child_process";
import { PromptsError } from "../errors.js";
import { checkLabelName, LABEL_NAMESPACE } from "./labels.js";
import { runGit } from "./objects.js";

/** One commit of imported history: one file's new text. */
export interface HistoryCommit {
  /** Path relative to the repository root, `/`-separated. */
  path: string;
  text: string;
  /** ISO 8601 author and commit date; now when undefined. */
  date?: string;
  message: string;
  /** Who made the version in the source system (recorded as the author's name). */
  author?: string;
}

/** A label to point at one of the imported commits, with the files it deploys. */
export interface HistoryLabel {
  label: string;
  /** Index into the commits of the commit the label deploys. */
  target: number;
  /**
   * Files (path → text) the label deploys at other versions than the target commit has: the
   * label then deploys a commit on top of the target that holds them.
   */
  overrides: ReadonlyMap<string, string>;
  /** What the label pointed at in the source, for its history (`langfuse: a@3, b@5`). */
  ref: string;
}

/** What {@link writeHistory} did. */
export interface HistoryResult {
  /** The branch's new head. */
  head: string;
  /** Every imported commit's id, in order. */
  commits: string[];
}

/**
 * Writes imported history on top of the current branch with ONE `git fast-import` process:
 * each version a commit, dated and described from the source, then each label as a label
 * commit (the same layout and trailers as `prompts label`, so `prompts label --history` shows
 * it). The working tree must have no uncommitted changes; it is updated to the new head.
 */
export async function writeHistory(
  root: string,
  commits: readonly HistoryCommit[],
  labels: readonly HistoryLabel[],
): Promise<HistoryResult> {
  for (const label of labels) checkLabelName(label.label);
  const branch = await currentBranch(root);
  const dirty = await runGit(root, ["status", "--porcelain", "--untracked-files=no"]);
  if (dirty.trim() !== "") {
    throw new PromptsError(
      "E_INVALID_INPUT",
      "the working tree has uncommitted changes; commit or discard them before importing history",
    );
  }
  const parent = await optionalCommit(root, "HEAD");
  const committer = (await runGit(root, ["var", "GIT_COMMITTER_IDENT"]))
    .trim()
    .replace(/ \d+ [+-]\d{4}$/, "");
  const previousLabels = new Map<string, string>();
  for (const label of labels) {
    const commit = await optionalCommit(root, `${LABEL_NAMESPACE}${label.label}`);
    if (commit) previousLabels.set(label.label, commit);
  }

  const child = spawn("git", ["fast-import", "--quiet", "--done"], {
    cwd: root,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 1));
  });
  const answers = lineReader(child.stdout);
  const write = (text: string) => child.stdin.write(text);
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const now = Math.floor(Date.now() / 1000);
  const stamp = (date: string | undefined) => {
    const time = date ? Math.floor(Date.parse(date) / 1000) : now;
    return `${Number.isFinite(time) ? time : now} +0000`;
  };
  child.stdin.on("error", () => undefined);

  commits.forEach((commit, index) => {
    const when = stamp(commit.date);
    const author = commit.author ? `${commit.author.replace(/[<>\n]/g, "")} <>` : committer;
    write(`commit ${branch}\nmark :${index + 1}\n`);
    write(`author ${author} ${when}\ncommitter ${committer} ${when}\n${data(commit.message)}`);
    if (index === 0 && parent) write(`from ${parent}\n`);
    write(`M 100644 inline ${quotePath(commit.path)}\n${data(commit.text)}`);
  });
  const ids: string[] = [];
  for (let index = 0; index < commits.length; index++) {
    write(`get-mark :${index + 1}\n`);
    ids.push(await answers.next());
  }
  for (const label of labels) {
    const ref = `${LABEL_NAMESPACE}${label.label}`;
    let deployed = `:${label.target + 1}`;
    if (label.overrides.size > 0) {
      // A deployment commit on top of the target; the label's own commit keeps it reachable.
      deployed = `:${commits.length + labels.indexOf(label) + 1}`;
      write(`commit ${ref}\nmark ${deployed}\n`);
      write(`committer ${committer} ${stamp(undefined)}\n${data(`deploy ${label.ref}\n`)}`);
      write(`from :${label.target + 1}\n`);
      for (const [path, text] of label.overrides) {
        write(`M 100644 inline ${quotePath(path)}\n${data(text)}`);
      }
    }
    write(`get-mark ${deployed}\n`);
    const target = await answers.next();
    write(`ls ${deployed} ""\n`);
    const tree = (await answers.next()).split(/\s+/)[2] ?? "";
    const message = [
      `label ${label.label}: ${label.ref} (${target.slice(0, 12)})`,
      "",
      `Prompts-Label: ${label.label}`,
      `Prompts-Target: ${target}`,
      `Prompts-Ref: ${label.ref}`,
      "",
    ].join("\n");
    const previous = previousLabels.get(label.label);
    write(`reset ${ref}\n${previous ? `from ${previous}\n` : ""}\n`);
    write(`commit ${ref}\ncommitter ${committer} ${stamp(undefined)}\n${data(message)}`);
    write(`M 040000 ${tree} ""\n`);
  }
  write("done\n");
  child.stdin.end();
  const code = await exited;
  if (code !== 0) {
    throw new PromptsError("E_GIT", `git fast-import failed: ${stderr.split("\n")[0] ?? ""}`);
  }
  const head = ids.at(-1) ?? parent ?? "";
  if (ids.length > 0) {
    // Bring the index and files up to the new head; git refuses rather than overwrite a file.
    await runGit(
      root,
      parent ? ["read-tree", "-m", "-u", parent, head] : ["read-tree", "-m", "-u", head],
    );
  }
  return { head, commits: ids };
}

async function currentBranch(root: string): Promise<string> {
  try {
    return (await runGit(root, ["symbolic-ref", "-q", "HEAD"])).trim();
  } catch {
    throw new PromptsError(
      "E_INVALID_INPUT",
      "HEAD is detached; check out a branch to import history onto (git switch -c import)",
    );
  }
}

async function optionalCommit(root: string, ref: string): Promise<string | undefined> {
  try {
    return (
      (await runGit(root, ["rev-parse", "--verify", "-q", `${ref}^{commit}`])).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** fast-import's quoting of a path that holds spaces, quotes or line ends. */
function quotePath(path: string): string {
  return /[\s"\\]/.test(path) ? JSON.stringify(path) : path;
}

/** Reads the answers of fast-import's `get-mark`, one line each. */
function lineReader(stream: NodeJS.ReadableStream): { next(): Promise<string> } {
  let buffer = "";
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf("\n"); end !== -1; end = buffer.indexOf("\n")) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      const resolve = waiting.shift();
      if (resolve) resolve(line);
      else lines.push(line);
    }
  });
  stream.on("end", () => {
    for (const resolve of waiting.splice(0)) resolve("");
  });
  return {
    next: () => {
      const line = lines.shift();
      return line !== undefined
        ? Promise.resolve(line)
        : new Promise((resolve) => waiting.push(resolve));
    },
  };
}
