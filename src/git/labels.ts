import { PromptsError } from "../errors.js";
import { describeRevisions, type GitObjectInfo, resolveCommit, runGit } from "./objects.js";

/**
 * Labels (environments such as `production`) are refs under `refs/prompts/labels/`. Each points
 * at a "label commit" whose tree is the tree of the commit it deploys and whose parent is the
 * label's previous commit, so:
 * - the history of moves is a plain first-parent chain (`git log refs/prompts/labels/production`),
 *   with who moved it, when, and from where to where (in the message's trailers);
 * - a label carries the prompts it deploys: reading it needs nothing else, and `git gc` cannot
 *   drop what production serves even if the deployed commit is deleted elsewhere;
 * - labels travel like any ref: `git push origin 'refs/prompts/*:refs/prompts/*'` and
 *   `git fetch origin '+refs/prompts/*:refs/prompts/*'`.
 * A ref outside refs/heads and refs/tags keeps labels out of branch and tag listings, and moving
 * one is an ordinary compare-and-swap `git update-ref`.
 */
const LABEL_NAMESPACE = "refs/prompts/labels/";

const LABEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const TRAILER_LABEL = "Prompts-Label";
const TRAILER_TARGET = "Prompts-Target";
const TRAILER_REF = "Prompts-Ref";

/** One position of a label: where it pointed from a given moment. */
export interface LabelMove {
  label: string;
  /** The commit deployed. */
  target: string;
  /** The ref the user named when moving it (`v2`, `main`, a sha). */
  ref: string;
  /** The label commit recording the move. */
  commit: string;
  author: string;
  /** ISO 8601. */
  date: string;
}

/**
 * Git's own names for commits (`HEAD`, `FETCH_HEAD`, `ORIG_HEAD`, `MERGE_HEAD`,
 * `CHERRY_PICK_HEAD`, `AUTO_MERGE`…), in any case since some file systems ignore it: a label
 * so named would shadow them wherever a ref is read (`--ref HEAD`, `diff HEAD`).
 */
const GIT_OWN_NAME = /^(?:(?:[a-z]+_)*head|auto_merge)$/i;

/** True when `name` can be a label (and so is looked up as one when a ref is read). */
function isLabelName(name: string): boolean {
  return (
    LABEL_NAME.test(name) &&
    !name.endsWith(".lock") &&
    !name.includes("..") &&
    !GIT_OWN_NAME.test(name) &&
    // Named like a commit id, a label would shadow that commit wherever a ref is read.
    !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(name)
  );
}

/** Fails unless `name` can be a label. */
export function checkLabelName(name: string): void {
  if (GIT_OWN_NAME.test(name)) {
    throw new PromptsError(
      "E_USAGE",
      `"${name}" cannot be a label: git uses that name itself (choose another, e.g. production)`,
    );
  }
  if (!isLabelName(name)) {
    throw new PromptsError(
      "E_USAGE",
      `"${name}" cannot be a label: use letters, digits, . _ - (e.g. production, staging)`,
    );
  }
}

const FIELDS = [
  "%H",
  "%an",
  "%aI",
  `%(trailers:key=${TRAILER_LABEL},valueonly)`,
  `%(trailers:key=${TRAILER_TARGET},valueonly)`,
  `%(trailers:key=${TRAILER_REF},valueonly)`,
];

function parseMoves(output: string): LabelMove[] {
  return output
    .split("\x1e")
    .map((record) => record.trim())
    .filter((record) => record !== "")
    .map((record) => {
      const [commit = "", author = "", date = "", label = "", target = "", ref = ""] = record
        .split("\x00")
        .map((field) => field.trim());
      return { label, target, ref, commit, author, date };
    });
}

/** Every label's current position, sorted by name: one for-each-ref and one log for all. */
export async function listLabels(root: string): Promise<LabelMove[]> {
  const commits = (
    await runGit(root, [
      "for-each-ref",
      "--sort=refname",
      "--format=%(objectname)",
      LABEL_NAMESPACE,
    ])
  )
    .split("\n")
    .filter((line) => line !== "");
  if (commits.length === 0) return [];
  // for-each-ref cannot pick one trailer; log can.
  const output = await runGit(root, [
    "log",
    "--no-walk=unsorted",
    `--format=${FIELDS.join("%x00")}%x1e`,
    ...commits,
  ]);
  return parseMoves(output).sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

/** The moves of one label, newest first. */
export async function labelHistory(root: string, label: string): Promise<LabelMove[]> {
  checkLabelName(label);
  const current = await labelCommit(root, label);
  if (current === undefined) throw unknownLabel(label);
  return movesFrom(root, label, current);
}

/** The moves of `label` recorded up to its label commit `commit`, newest first. */
async function movesFrom(root: string, label: string, commit: string): Promise<LabelMove[]> {
  const output = await runGit(root, [
    "log",
    "--first-parent",
    `--format=${FIELDS.join("%x00")}%x1e`,
    commit,
  ]);
  return parseMoves(output).filter((move) => move.label === label);
}

/** The label commit a label points at, if the label exists. */
async function labelCommit(root: string, label: string): Promise<string | undefined> {
  try {
    const sha = (
      await runGit(root, [
        "rev-parse",
        "--verify",
        "--quiet",
        `${LABEL_NAMESPACE}${label}^{commit}`,
      ])
    ).trim();
    return /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}

function unknownLabel(label: string): PromptsError {
  return new PromptsError("E_GIT", `no label "${label}" (run: prompts label)`);
}

/**
 * What a move does, from where the label pointed:
 * - `new`: the label did not exist;
 * - `unchanged`: it points at that commit already, and nothing is recorded;
 * - `deploy`: the commit descends from the one it pointed at (a move forward);
 * - `rollback`: the label deployed the commit before (`earlier` says when), or the commit is an
 *   ancestor of the one it pointed at;
 * - `move`: neither, such as a move to another branch.
 */
export type LabelMoveKind = "new" | "unchanged" | "deploy" | "rollback" | "move";

/** What {@link moveLabel} did. */
export interface LabelMoveResult {
  /** Where the label points now. */
  move: LabelMove;
  /** Where it pointed before, if it existed. */
  previous?: LabelMove;
  kind: LabelMoveKind;
  /** For a rollback to a commit the label deployed before: the latest such move. */
  earlier?: LabelMove;
}

/**
 * Points `label` at `ref` and records the move, unless it points at that commit already.
 * Concurrent moves cannot lose one another: the ref is swapped only if it still holds the
 * commit this move was built on; a move that loses that race fails and records nothing.
 */
export async function moveLabel(
  root: string,
  label: string,
  ref: string,
): Promise<LabelMoveResult> {
  checkLabelName(label);
  // Promoting one environment to another (`label production staging`) is a move like any other.
  const target = await resolvePromptRef(root, ref);
  const previousCommit = await labelCommit(root, label);
  const history = previousCommit === undefined ? [] : await movesFrom(root, label, previousCommit);
  const [previous, ...older] = history;
  if (previous?.target === target) return { move: previous, previous, kind: "unchanged" };

  const message = [
    `label ${label}: ${ref} (${target.slice(0, 12)})`,
    "",
    `${TRAILER_LABEL}: ${label}`,
    `${TRAILER_TARGET}: ${target}`,
    `${TRAILER_REF}: ${ref}`,
    "",
  ].join("\n");
  const args = ["commit-tree", `${target}^{tree}`, "-m", message];
  if (previousCommit !== undefined) args.push("-p", previousCommit);
  const commit = (await runGit(root, args)).trim();
  await swapLabel(root, label, ref, commit, previousCommit ?? "0".repeat(target.length));
  const [move] = parseMoves(
    await runGit(root, ["log", "-1", `--format=${FIELDS.join("%x00")}%x1e`, commit]),
  );
  if (!move) throw unknownLabel(label);
  if (previous === undefined) return { move, kind: "new" };
  if (await isAncestor(root, previous.target, target)) return { move, previous, kind: "deploy" };
  const earlier = older.find((old) => old.target === target);
  if (earlier) return { move, previous, kind: "rollback", earlier };
  if (await isAncestor(root, target, previous.target)) return { move, previous, kind: "rollback" };
  return { move, previous, kind: "move" };
}

/**
 * Moves the label's ref from `expected` to `commit`. When another command moved it meanwhile
 * (or is moving it: git's lock file is there), git's own words ("cannot lock ref …") say
 * little to someone deploying, so that failure becomes one line that says what to do.
 */
async function swapLabel(
  root: string,
  label: string,
  ref: string,
  commit: string,
  expected: string,
): Promise<void> {
  try {
    await runGit(root, [
      "update-ref",
      "-m",
      `prompts label ${label} ${ref}`,
      `${LABEL_NAMESPACE}${label}`,
      commit,
      expected,
    ]);
  } catch (error) {
    const now = (await labelCommit(root, label)) ?? "0".repeat(expected.length);
    const locked = /File exists/.test(causeText(error));
    if (now !== expected || locked) {
      throw new PromptsError(
        "E_GIT",
        `label ${label} moved while this command ran; run it again (see: prompts label --history ${label})`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Git's stderr behind a failed {@link runGit}. */
function causeText(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error ? cause.message : String(cause ?? error);
}

/** True when `ancestor` is `commit` or one of its ancestors; false too when either is not here. */
async function isAncestor(root: string, ancestor: string, commit: string): Promise<boolean> {
  try {
    await runGit(root, ["merge-base", "--is-ancestor", ancestor, commit]);
    return true;
  } catch {
    return false;
  }
}

/** Removes a label (its history goes with it). */
export async function deleteLabel(root: string, label: string): Promise<void> {
  checkLabelName(label);
  const current = await labelCommit(root, label);
  if (current === undefined) throw unknownLabel(label);
  await runGit(root, ["update-ref", "-d", `${LABEL_NAMESPACE}${label}`, current]);
}

/**
 * The commit to read prompts from for a `--ref`: a label's deployed commit when a label has the
 * name (labels shadow branches and tags of the same name), otherwise what git resolves.
 * A label whose deployed commit is gone locally reads from its own commit, which has the same tree.
 */
export async function resolvePromptRef(root: string, ref: string): Promise<string> {
  return (await locatePromptRef(root, ref)).commit;
}

/**
 * {@link resolvePromptRef}, and what `path` (from the top of the work tree) is in that commit,
 * asked together: one `git cat-file --batch-check` in the usual case. `object` is undefined
 * when the commit has nothing at `path`.
 */
export async function locatePromptRef(
  root: string,
  ref: string,
  path?: string,
): Promise<PromptRefLocation> {
  return locate(root, ref, path, undefined);
}

/** Where a ref's prompts are: see {@link locatePromptRef}. */
export interface PromptRefLocation {
  commit: string;
  object: GitObjectInfo | undefined;
}

/**
 * {@link locatePromptRef} for refs that may be asked for (FROM and TO of a diff), with what
 * git has to say of all of them asked at once: one `git cat-file --batch-check` rather than one
 * each. What else locating one needs (a label's target, the error for an unknown ref) is
 * asked only when that ref is.
 */
export async function promptRefLocator(
  root: string,
  refs: readonly string[],
  path: string,
): Promise<(ref: string) => Promise<PromptRefLocation>> {
  const specs = refs.flatMap((ref) => (ref.startsWith("-") ? [] : refSpecs(ref, path).specs));
  const found = specs.length === 0 ? undefined : await describeRevisions(root, specs);
  return (ref) => locate(root, ref, path, refs.includes(ref) ? found : undefined);
}

async function locate(
  root: string,
  ref: string,
  path: string | undefined,
  found: Map<string, GitObjectInfo | undefined> | undefined,
): Promise<PromptRefLocation> {
  const known = path === undefined ? undefined : objectsAtCommits.get(`${root}\0${ref}:${path}`);
  if (known) return { commit: ref, object: known.object };
  const located = await lookUpPromptRef(root, ref, path, found);
  if (path !== undefined) {
    // Bounded for a long-running server that follows a label through many deploys.
    if (objectsAtCommits.size >= 1024) objectsAtCommits.clear();
    objectsAtCommits.set(`${root}\0${located.commit}:${path}`, { object: located.object });
  }
  return located;
}

/**
 * What a path is in a commit, by root and `<commit>:<path>`: that never changes, so a command
 * that resolved a ref (`prompts diff v1 v2`) does not ask git again when it reads the commit.
 * A label cannot be named like a commit id, so a commit id here is never a label's name.
 */
const objectsAtCommits = new Map<string, { object: GitObjectInfo | undefined }>();

/** What to ask `git cat-file --batch-check` to locate a ref and `path` in it. */
function refSpecs(
  ref: string,
  path: string | undefined,
): { specs: string[]; commitSpec: string; labelRef: string | undefined } {
  const labelRef = isLabelName(ref) ? `${LABEL_NAMESPACE}${ref}^{commit}` : undefined;
  const commitSpec = `${ref}^{commit}`;
  const specs = [commitSpec];
  if (labelRef !== undefined) specs.push(labelRef);
  if (path !== undefined) specs.push(`${commitSpec}:${path}`);
  return { specs, commitSpec, labelRef };
}

/** Locates a ref; `asked` holds what git said of its specs, when they were asked already. */
async function lookUpPromptRef(
  root: string,
  ref: string,
  path: string | undefined,
  asked: Map<string, GitObjectInfo | undefined> | undefined,
): Promise<PromptRefLocation> {
  const { specs, commitSpec, labelRef } = refSpecs(ref, path);
  const pathSpec = (commit: string) => `${commit}:${path}`;
  // A ref git would read as an option, or with a line break, is never looked up in a batch.
  const found = ref.startsWith("-") ? undefined : (asked ?? (await describeRevisions(root, specs)));
  const labelCommit = labelRef === undefined ? undefined : found?.get(labelRef);
  let commit: string;
  if (labelCommit !== undefined) {
    commit = await deployedCommit(root, labelCommit.oid);
  } else {
    const resolved = found?.get(commitSpec)?.oid;
    // resolveCommit fails with the precise one-line error (and a hint in a shallow clone).
    commit = resolved ?? (await resolveCommit(root, ref));
    if (resolved !== undefined && path !== undefined) {
      return { commit, object: found?.get(pathSpec(commitSpec)) };
    }
  }
  if (path === undefined) return { commit, object: undefined };
  return {
    commit,
    object: (await describeRevisions(root, [pathSpec(commit)])).get(pathSpec(commit)),
  };
}

/** What a label commit deploys: its target when that commit is here, else itself (same tree). */
async function deployedCommit(root: string, labelCommit: string): Promise<string> {
  const [move] = parseMoves(
    await runGit(root, ["log", "-1", `--format=${FIELDS.join("%x00")}%x1e`, labelCommit]),
  );
  const target = move?.target;
  if (target && (await commitExists(root, target))) return target;
  return labelCommit;
}

async function commitExists(root: string, sha: string): Promise<boolean> {
  try {
    return (await runGit(root, ["cat-file", "-t", sha])).trim() === "commit";
  } catch {
    return false;
  }
}
