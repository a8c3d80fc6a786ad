import type { Stats } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { type FSWatcher, watch } from "chokidar";

/** What a burst of file events amounts to. */
export interface FileChanges {
  /** Files added, changed or removed. */
  files: Set<string>;
  /** A folder appeared or went, or the watched folder came back: too wide to follow file by file. */
  folders: boolean;
  /**
   * The watched folder itself is gone (deleted, moved away, replaced by a file). Nothing is
   * seen until it is back; then a burst with `folders` follows.
   */
  gone: boolean;
}

/** Options of {@link watchTree}. */
export interface WatchOptions {
  /** Quiet time that closes a burst (an editor's atomic save, a `git checkout`). */
  debounceMs: number;
  /** How often the folder is checked for being gone, replaced or back (default 250 ms). */
  presencePollMs?: number;
  onChanges: (changes: FileChanges) => Promise<void>;
  onError: (error: unknown) => void;
}

const DEFAULT_PRESENCE_POLL_MS = 250;

/**
 * Watches a folder and hands over bursts of changes, one at a time: events that arrive while a
 * burst is being handled make the next burst.
 *
 * chokidar watches the folders only, and the file events come from its raw stream of those
 * folders' events: watching each of 10,000 files costs over 100 MB and 10,000 inotify watches,
 * while a few hundred folder watches see every change of the files in them. It also avoids
 * chokidar's 50 ms throttle of a file's `change` events, which hid a second quick save.
 * `awaitWriteFinish` is not used (it waits seconds): a torn read of a half-written file only
 * fails validation, and the write's next event brings the file back.
 *
 * When the folder itself goes (`rm -rf`, `mv` away, a `git checkout` of a branch without it),
 * chokidar stops watching it for good, even if it comes back. So the folder's identity is
 * checked on a timer too (a `stat`, cheap): once it is gone the watch is dropped, and once a
 * folder is there again a new watch is set up on it.
 */
export function watchTree(
  folder: string,
  options: WatchOptions,
): { ready: Promise<void>; close: () => Promise<void> } {
  // Over 80 lines on purpose: one closure holds the watcher's state (pending changes, timers, presence poll).
  const hidden = (path: string) => /(^|[/\\])\.[^/\\]/.test(path.slice(folder.length));
  let pending: FileChanges = { files: new Set(), folders: false, gone: false };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  const flush = () => {
    timer = undefined;
    if (running || closed) return;
    const changes = pending;
    pending = { files: new Set(), folders: false, gone: false };
    if (changes.files.size === 0 && !changes.folders && !changes.gone) return;
    running = options
      .onChanges(changes)
      .catch(options.onError)
      .finally(() => {
        running = undefined;
        if (pending.files.size > 0 || pending.folders || pending.gone) schedule();
      });
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, options.debounceMs);
  };

  /** The live watch of the folder, and the folder it watches (device and inode). */
  let current: { watcher: FSWatcher; identity: string | undefined } | undefined;
  const arm = (): Promise<void> => {
    const watcher: FSWatcher = watch(folder, {
      ignoreInitial: true,
      // Hidden entries (editor swap files, .git) are never prompts; files are seen through their folder.
      ignored: (path: string, stats?: Stats) => hidden(path) || stats?.isFile() === true,
    });
    const armed = { watcher, identity: undefined as string | undefined };
    current = armed;
    watcher.on("raw", (_event, name, details) => {
      const folderPath = (details as { watchedPath?: string } | undefined)?.watchedPath;
      if (!name || !folderPath || current !== armed) return;
      const path = join(folderPath, name);
      if (hidden(path)) return;
      pending.files.add(path);
      schedule();
    });
    watcher.on("addDir", () => {
      if (current !== armed) return;
      pending.folders = true;
      schedule();
    });
    watcher.on("unlinkDir", (path: string) => {
      if (current !== armed) return;
      if (path === folder) {
        lost = true;
        void checkPresence();
      } else {
        pending.folders = true;
        schedule();
      }
    });
    watcher.on("error", options.onError);
    return new Promise<void>((resolve) =>
      watcher.once("ready", () => {
        void identityOf(folder).then((identity) => {
          armed.identity = identity;
          resolve();
        });
      }),
    );
  };
  const disarm = async () => {
    const watcher = current?.watcher;
    current = undefined;
    await watcher?.close();
  };

  /** chokidar has said the folder went: it has dropped its watch, whatever is there now. */
  let lost = false;
  let checking: Promise<void> | undefined;
  const checkPresence = (): Promise<void> =>
    (checking ??= (async () => {
      try {
        const identity = await identityOf(folder);
        const dropped = lost;
        lost = false;
        if (closed) return;
        if (current) {
          if (!dropped && identity === current.identity) return;
          await disarm();
        } else if (identity === undefined) return;
        if (identity === undefined) {
          pending = { files: new Set(), folders: false, gone: true };
          schedule();
          return;
        }
        await arm();
        if (closed) return;
        // What was written before the new watch was ready is read by the reload this asks for.
        pending.gone = false;
        pending.folders = true;
        schedule();
      } catch (error) {
        options.onError(error);
      } finally {
        checking = undefined;
        if (lost && !closed) void checkPresence();
      }
    })());
  let poll: NodeJS.Timeout | undefined;
  const ready = arm().then(() => {
    if (closed) return;
    poll = setInterval(() => {
      void checkPresence();
    }, options.presencePollMs ?? DEFAULT_PRESENCE_POLL_MS);
    poll.unref();
  });

  return {
    ready,
    close: async () => {
      closed = true;
      if (poll) clearInterval(poll);
      if (timer) clearTimeout(timer);
      await checking;
      await disarm();
      await running;
    },
  };
}

/** Which folder is at `path` now (device and inode), or undefined when there is none. */
async function identityOf(path: string): Promise<string | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info?.isDirectory() ? `${info.dev}:${info.ino}` : undefined;
}
