import { spawn } from "node:child_process";
import { type GitChange, parseNameStatus, runGit } from "./objects.js";

/** A commit and what it changed under a directory. */
export interface CommitChanges {
  sha: string;
  author: string;
  /** ISO 8601 author date. */
  date: string;
  subject: string;
  changes: GitChange[];
}

/**
 * Every commit reachable from `ref` that changed something under `dir` (a path from the top of
 * the work tree), newest first, with git's rename detection — one `git log` for all of history.
 */
export async function commitsTouching(
  root: string,
  ref: string,
  dir: string,
): Promise<CommitChanges[]> {
  const output = await runGit(root, [
    "log",
    "-M",
    // The mainline's view: a merge counts with what it brought, so the version a clean merge
    // makes is in the log, and side branches do not interleave with it.
    "--first-parent",
    "--diff-merges=first-parent",
    "--name-status",
    "-z",
    "--format=%x1e%H%x00%an%x00%aI%x00%s",
    ref,
    "--",
    `:(top)${dir}`,
  ]);
  return output
    .split("\x1e")
    .filter((record) => record !== "")
    .map(parseCommit);
}

function parseCommit(record: string): CommitChanges {
  const fields = record.split("\0");
  const [sha = "", author = "", date = "", subject = ""] = fields;
  return { sha, author, date, subject, changes: parseNameStatus(fields, 4) };
}

/**
 * For each commit, the first tag that contains it (`v1.2` for a commit 3 commits before v1.2),
 * from one `git name-rev` process.
 */
export function firstTagsContaining(
  root: string,
  shas: readonly string[],
): Promise<Map<string, string>> {
  const tags = new Map<string, string>();
  if (shas.length === 0) return Promise.resolve(tags);
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["name-rev", "--tags", "--annotate-stdin"], {
      cwd: root,
      stdio: ["pipe", "pipe", "ignore"],
    });
    let output = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      output += chunk;
    });
    child.on("error", reject);
    child.on("close", () => {
      for (const line of output.split("\n")) {
        const match = /^([0-9a-f]{40,64}) \((?:tags\/)?([^~^)]+)[~^)]/.exec(line);
        if (match?.[1] && match[2]) tags.set(match[1], match[2]);
      }
      resolve(tags);
    });
    child.stdin.on("error", () => {});
    child.stdin.end(`${shas.join("\n")}\n`);
  });
}
