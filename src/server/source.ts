import { join } from "node:path";
import type { BundleSource } from "../core/bundle.js";
import type { Issue } from "../core/types.js";
import { describeSystemError, isSystemError, PromptsError } from "../errors.js";
import { resolvePromptRef } from "../git/labels.js";
import { LivePrompts } from "../store/live-prompts.js";
import { loadPrompts, locatePromptDir } from "../store/load.js";
import type { Snapshot, SnapshotBuilder } from "./snapshot.js";
import { watchTree } from "./watch.js";

/** What a source of prompts tells the server as it follows them. */
export interface SourceListener {
  /** A good state, to serve from now on; `changed` names the prompts that differ. */
  swap(next: Snapshot, changed: string[]): void;
  /** The prompts have errors: the server keeps serving the last good ones. */
  invalid(issues: Issue[]): void;
  /** Every issue (errors and warnings) of the source's files now: after each load or reload. */
  issues(issues: Issue[]): void;
  /**
   * The prompts cannot be read at all (their folder is gone, the ref deleted) or there are none:
   * the server keeps serving the last good ones.
   */
  problem(message: string): void;
  log(line: string): void;
}

/** A source being followed: what it served first, and how to stop following it. */
export interface OpenedSource {
  first: Snapshot;
  stop(): Promise<void>;
}

/** Options of {@link followWorkingTree}. */
export interface WorkingTreeSourceOptions {
  root: string;
  dir?: string;
  debounceMs: number;
  /** How often the prompt folder is checked for being gone or back. */
  presencePollMs?: number;
}

/**
 * The working tree, watched and reloaded edit by edit. An empty tree is never served: like
 * `prompts publish`, it is a problem to report, not prompts to serve.
 */
export async function followWorkingTree(
  options: WorkingTreeSourceOptions,
  builder: SnapshotBuilder,
  listener: SourceListener,
): Promise<OpenedSource> {
  // Over 80 lines on purpose: the watcher starts before the load, and its handler shares the tree it awaits.
  const { root } = options;
  const { dir } = await locatePromptDir({
    root,
    ...(options.dir === undefined ? {} : { dir: options.dir }),
  });
  const source: BundleSource = { commit: null, ref: null, dirty: true };
  const empty = `no prompts in ${dir}/: serving the last good ones until there are`;
  // The watcher starts before the tree is read, so that an edit made while it loads is not
  // missed; its changes wait for the tree. Its scan of the folders also makes its garbage
  // before the load, whose collections take it, rather than after, where it stayed resident.
  // What changed since the last snapshot: while the tree has errors, edits add up here.
  const unbuilt = new Set<string>();
  let loaded: (tree: LivePrompts | undefined) => void = () => {};
  const treeReady = new Promise<LivePrompts | undefined>((resolve) => (loaded = resolve));
  const watcher = watchTree(join(root, dir), {
    debounceMs: options.debounceMs,
    ...(options.presencePollMs === undefined ? {} : { presencePollMs: options.presencePollMs }),
    onChanges: async (changes) => {
      const tree = await treeReady;
      if (!tree) return;
      if (changes.gone) {
        listener.problem(
          `the prompt folder ${dir}/ is gone (deleted, moved or checked out away): serving the last good prompts until it is back`,
        );
        return;
      }
      const names = new Set<string>();
      for (const file of changes.files) {
        const name = tree.nameOf(file);
        if (name !== undefined) names.add(name);
      }
      if (names.size === 0 && !changes.folders) return;
      let update;
      try {
        update = changes.folders ? await tree.reloadAll() : await tree.update(names);
      } catch (error) {
        // The folder went while it was read, or a file cannot be read: the tree is as it was.
        const message = problemOf(error, root);
        if (message === undefined) throw error;
        listener.problem(message);
        return;
      }
      for (const name of update.changed) unbuilt.add(name);
      listener.issues(tree.issues);
      if (tree.errorCount > 0) listener.invalid(tree.issues);
      else if (tree.prompts.size === 0) listener.problem(empty);
      else {
        listener.swap(builder.build(tree.prompts, source, unbuilt), update.changed);
        unbuilt.clear();
      }
    },
    onError: (error) =>
      listener.log(`✗ watcher: ${problemOf(error, root) ?? (error as Error).message}`),
  });
  try {
    await watcher.ready;
    const tree = await LivePrompts.open({ root, dir });
    if (tree.errorCount > 0) {
      throw new PromptsError(
        "E_INVALID_PROMPT",
        `cannot serve: ${tree.errorCount} error(s) in ${tree.dir}/ (run: prompts validate)`,
        {
          details: tree.issues
            .filter((issue) => issue.severity === "error")
            .map((issue) => `${issue.file}:${issue.line}:${issue.col}: ${issue.message}`),
        },
      );
    }
    if (tree.prompts.size === 0) {
      throw new PromptsError(
        "E_INVALID_INPUT",
        `cannot serve: no prompts in ${tree.dir}/ (add a prompt file, run: prompts init, or pass --dir)`,
      );
    }
    const first = builder.build(tree.prompts, source);
    listener.issues(tree.issues);
    loaded(tree);
    return { first, stop: watcher.close };
  } catch (error) {
    loaded(undefined);
    await watcher.close();
    throw error;
  }
}

/** Options of {@link followRef}. */
export interface RefSourceOptions {
  root: string;
  dir?: string;
  ref: string;
  /** How often the ref is checked for a move. */
  pollMs: number;
}

/**
 * A git ref (a tag, a label, a branch), checked for a move every `pollMs`. A ref that can no
 * longer be read (a deleted label, a commit without the prompt folder) is reported, and
 * followed again once it can.
 */
export async function followRef(
  options: RefSourceOptions,
  builder: SnapshotBuilder,
  listener: SourceListener,
): Promise<OpenedSource> {
  const { root, ref } = options;
  const loadRef = async (commit: string) => {
    const loaded = await loadPrompts({
      root,
      ref: commit,
      ...(options.dir === undefined ? {} : { dir: options.dir }),
    });
    const errors = loaded.issues.filter((issue) => issue.severity === "error");
    return { loaded, errors };
  };
  let commit = await resolvePromptRef(root, ref);
  const first = await loadRef(commit);
  if (first.errors.length > 0) {
    throw new PromptsError(
      "E_INVALID_PROMPT",
      `cannot serve ${ref}: its prompts have ${first.errors.length} error(s) (run: prompts validate --ref ${ref})`,
    );
  }
  let current = builder.build(first.loaded.prompts, { commit, ref, dirty: false });
  listener.issues(first.loaded.issues);
  /** A problem was reported and not yet followed by a good state. */
  let failing = false;
  const check = async () => {
    const next = await resolvePromptRef(root, ref);
    if (next === commit) {
      // Readable again where it was (a deleted label put back): what is served is right again.
      if (failing) listener.swap(current, []);
      failing = false;
      return;
    }
    const { loaded, errors } = await loadRef(next);
    // A commit with errors is not looked at again until the ref moves on.
    commit = next;
    listener.issues(loaded.issues);
    if (errors.length > 0) {
      failing = true;
      listener.invalid(errors);
      return;
    }
    const changed = [...new Set([...loaded.prompts.keys(), ...current.prompts.keys()])]
      .filter((name) => loaded.prompts.get(name)?.version !== current.prompts.get(name)?.version)
      .sort();
    listener.log(`${ref} moved to ${next.slice(0, 12)}`);
    current = builder.build(loaded.prompts, { commit: next, ref, dirty: false });
    failing = false;
    listener.swap(current, changed);
  };
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    check()
      .catch((error: unknown) => {
        failing = true;
        const message = problemOf(error, root) ?? (error as Error).message;
        listener.problem(`cannot follow ${ref}: ${message}`);
      })
      .finally(() => (polling = false));
  }, options.pollMs);
  timer.unref();
  return {
    first: current,
    stop: () => {
      clearInterval(timer);
      return Promise.resolve();
    },
  };
}

/** The one-line message of an error the user can act on, or undefined for a bug. */
function problemOf(error: unknown, root: string): string | undefined {
  if (error instanceof PromptsError) return error.message;
  if (isSystemError(error)) return describeSystemError(error, root);
  return undefined;
}
