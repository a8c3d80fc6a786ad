import { PromptsError } from "../errors.js";
import { runGit } from "./objects.js";

/** A tag as `prompts tag --list` shows it. */
export interface TagInfo {
  name: string;
  /** The commit it points to. */
  commit: string;
  /** ISO 8601: when the tag was made (an annotated tag) or its commit's date. */
  date: string;
  subject: string;
}

/** True when `name` is a valid tag name for git. */
export async function isValidTagName(root: string, name: string): Promise<boolean> {
  if (name.startsWith("-")) return false;
  try {
    await runGit(root, ["check-ref-format", `refs/tags/${name}`]);
    return true;
  } catch {
    return false;
  }
}

/** The commit a tag points to, if the tag exists. */
export async function tagCommit(root: string, name: string): Promise<string | undefined> {
  const sha = (
    await runGit(root, ["rev-parse", "--verify", "--quiet", `refs/tags/${name}^{commit}`]).catch(
      () => "",
    )
  ).trim();
  return sha === "" ? undefined : sha;
}

/** Makes an annotated tag at `commit`; `force` moves an existing one. */
export async function createAnnotatedTag(
  root: string,
  name: string,
  commit: string,
  message: string,
  force: boolean,
): Promise<void> {
  const args = ["tag", "-a", "-m", message];
  if (force) args.push("-f");
  args.push("--", name, commit);
  try {
    await runGit(root, args);
  } catch (error) {
    throw new PromptsError("E_GIT", `could not create tag ${name}: ${(error as Error).message}`);
  }
}

/** Every tag, oldest first. */
export async function listTags(root: string): Promise<TagInfo[]> {
  const format = [
    "%(refname:strip=2)",
    "%(*objectname)",
    "%(objectname)",
    "%(creatordate:iso-strict)",
    "%(subject)",
  ].join("%00");
  const output = await runGit(root, [
    "for-each-ref",
    // The last key sorts first: by date, and tags of one second by version (v9 before v10).
    "--sort=version:refname",
    "--sort=creatordate",
    `--format=${format}%1e`,
    "refs/tags",
  ]);
  return output
    .split("\x1e")
    .map((record) => record.trim())
    .filter((record) => record !== "")
    .map((record) => {
      const [name = "", peeled = "", object = "", date = "", subject = ""] = record.split("\x00");
      // An annotated tag peels to its commit; a lightweight one is the commit itself.
      return { name, commit: peeled || object, date, subject };
    });
}

/** Paths under `dir` (from the top of the work tree) that differ between two commits. */
export async function changedPaths(
  root: string,
  from: string,
  to: string,
  dir: string,
): Promise<string[]> {
  const output = await runGit(root, [
    "diff",
    "--name-only",
    "-z",
    "--no-renames",
    from,
    to,
    "--",
    `:(top)${dir}`,
  ]);
  return output.split("\0").filter((path) => path !== "");
}

/** Paths under `dir` with uncommitted changes (staged, unstaged or untracked). */
export async function uncommittedPaths(root: string, dir: string): Promise<string[]> {
  const output = await runGit(root, [
    "status",
    "--porcelain=v1",
    "-z",
    "--untracked-files=all",
    "--",
    `:(top)${dir}`,
  ]);
  const fields = output.split("\0");
  const paths: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i] ?? "";
    if (entry.length < 4) continue;
    paths.push(entry.slice(3));
    // A rename or copy is followed by the path it came from.
    if (/^[RC]/.test(entry)) i++;
  }
  return paths;
}
