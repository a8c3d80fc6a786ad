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
  const start = await importStart(root, labels);
  const stream = startFastImport(root);
  const ids = await writeCommits(stream, start, commits);
  for (const [index, label] of labels.entries()) {
    // A deployment commit, when the label needs one, is marked after every imported commit.
    await writeLabel(stream, start, label, commits.length + index + 1);
  }
  await stream.finish();
  const head = ids.at(-1) ?? start.parent ?? "";
  if (ids.length > 0) {
    // Bring the index and files up to the new head; git refuses rather than overwrite a file.
    await runGit(
      root,
      start.parent
        ? ["read-tree", "-m", "-u", start.parent, head]
        : ["read-tree", "-m", "-u", head],
    );
  }
  return { head, commits: ids };
}

/** Where the import starts: the branch and its head, who commits, where the labels were. */
interface ImportStart {
  branch: string;
  parent: string | undefined;
  /** The committer's name and email, as git would record them (without a date). */
  committer: string;
  /** Each label's commit before the import, if it had one. */
  previousLabels: Map<string, string>;
  /** The import's time (Unix seconds): the date of what the source gives none. */
  now: number;
}

/** Reads where the import starts; refuses a working tree with uncommitted changes. */
async function importStart(root: string, labels: readonly HistoryLabel[]): Promise<ImportStart> {
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
  return { branch, parent, committer, previousLabels, now: Math.floor(Date.now() / 1000) };
}

/** A running `git fast-import`: commands in, answers of `get-mark` and `ls` out. */
interface FastImport {
  write(text: string): void;
  /** The next line fast-import answered. */
  answer(): Promise<string>;
  /** Ends the stream and waits for git; a failure is an error that quotes git. */
  finish(): Promise<void>;
}

function startFastImport(root: string): FastImport {
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
  exited.catch(() => {}); // Awaited by finish(), unless writing fails first.
  child.stdin.on("error", () => undefined);
  const answers = lineReader(child.stdout);
  return {
    write: (text) => void child.stdin.write(text),
    answer: () => answers.next(),
    finish: async () => {
      child.stdin.write("done\n");
      child.stdin.end();
      const code = await exited;
      if (code !== 0) {
        throw new PromptsError("E_GIT", `git fast-import failed: ${stderr.split("\n")[0] ?? ""}`);
      }
    },
  };
}

/** fast-import's inline data: its byte length, then the text. */
const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;

/** A date as fast-import's raw time; `now` when there is none or it does not parse. */
function stamp(date: string | undefined, now: number): string {
  const time = date ? Math.floor(Date.parse(date) / 1000) : now;
  return `${Number.isFinite(time) ? time : now} +0000`;
}

/** Writes each commit on the branch (marks 1..n); resolves with their ids, in order. */
async function writeCommits(
  stream: FastImport,
  start: ImportStart,
  commits: readonly HistoryCommit[],
): Promise<string[]> {
  const { branch, parent, committer } = start;
  commits.forEach((commit, index) => {
    const when = stamp(commit.date, start.now);
    const author = commit.author ? `${commit.author.replace(/[<>\n]/g, "")} <>` : committer;
    stream.write(`commit ${branch}\nmark :${index + 1}\n`);
    stream.write(
      `author ${author} ${when}\ncommitter ${committer} ${when}\n${data(commit.message)}`,
    );
    if (index === 0 && parent) stream.write(`from ${parent}\n`);
    stream.write(`M 100644 inline ${quotePath(commit.path)}\n${data(commit.text)}`);
  });
  const ids: string[] = [];
  for (let index = 0; index < commits.length; index++) {
    stream.write(`get-mark :${index + 1}\n`);
    ids.push(await stream.answer());
  }
  return ids;
}

/**
 * Writes one label as `prompts label` would: a label commit whose tree is the deployed one.
 * A label with overrides deploys a commit (marked `mark`) on top of its target that holds them.
 */
async function writeLabel(
  stream: FastImport,
  start: ImportStart,
  label: HistoryLabel,
  mark: number,
): Promise<void> {
  const { committer } = start;
  const ref = `${LABEL_NAMESPACE}${label.label}`;
  let deployed = `:${label.target + 1}`;
  if (label.overrides.size > 0) {
    // The label's own commit keeps the deployment commit reachable.
    deployed = `:${mark}`;
    stream.write(`commit ${ref}\nmark ${deployed}\n`);
    stream.write(
      `committer ${committer} ${stamp(undefined, start.now)}\n${data(`deploy ${label.ref}\n`)}`,
    );
    stream.write(`from :${label.target + 1}\n`);
    for (const [path, text] of label.overrides) {
      stream.write(`M 100644 inline ${quotePath(path)}\n${data(text)}`);
    }
  }
  stream.write(`get-mark ${deployed}\n`);
  const target = await stream.answer();
  stream.write(`ls ${deployed} ""\n`);
  const tree = (await stream.answer()).split(/\s+/)[2] ?? "";
  const message = [
    `label ${label.label}: ${label.ref} (${target.slice(0, 12)})`,
    "",
    `Prompts-Label: ${label.label}`,
    `Prompts-Target: ${target}`,
    `Prompts-Ref: ${label.ref}`,
    "",
  ].join("\n");
  const previous = start.previousLabels.get(label.label);
  stream.write(`reset ${ref}\n${previous ? `from ${previous}\n` : ""}\n`);
  stream.write(
    `commit ${ref}\ncommitter ${committer} ${stamp(undefined, start.now)}\n${data(message)}`,
  );
  stream.write(`M 040000 ${tree} ""\n`);
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
