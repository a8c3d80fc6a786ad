import type { Stats } from "node:fs";
import { join } from "node:path";
import { type FSWatcher, watch } from "chokidar";

/** What a burst of file events amounts to. */
export interface FileChanges {
  /** Files added, changed or removed. */
  files: Set<string>;
  /** A folder appeared or went: too wide to follow file by file. */
  folders: boolean;
}

/** Options of {@link watchTree}. */
export interface WatchOptions {
  /** Quiet time that closes a burst (an editor's atomic save, a `git checkout`). */
  debounceMs: number;
  onChanges: (changes: FileChanges) => Promise<void>;
  onError: (error: unknown) => void;
}

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
 */
export function watchTree(
  folder: string,
  options: WatchOptions,
): { ready: Promise<void>; close: () => Promise<void> } {
  const hidden = (path: string) => /(^|[/\\])\.[^/\\]/.test(path.slice(folder.length));
  const watcher: FSWatcher = watch(folder, {
    ignoreInitial: true,
    // Hidden entries (editor swap files, .git) are never prompts; files are seen through their folder.
    ignored: (path: string, stats?: Stats) => hidden(path) || stats?.isFile() === true,
  });
  let pending: FileChanges = { files: new Set(), folders: false };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  const flush = () => {
    timer = undefined;
    if (running || closed) return;
    const changes = pending;
    pending = { files: new Set(), folders: false };
    if (changes.files.size === 0 && !changes.folders) return;
    running = options
      .onChanges(changes)
      .catch(options.onError)
      .finally(() => {
        running = undefined;
        if (pending.files.size > 0 || pending.folders) schedule();
      });
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, options.debounceMs);
  };
  watcher.on("raw", (_event, name, details) => {
    const folderPath = (details as { watchedPath?: string } | undefined)?.watchedPath;
    if (!name || !folderPath) return;
    const path = join(folderPath, name);
    if (hidden(path)) return;
    pending.files.add(path);
    schedule();
  });
  watcher.on("addDir", () => {
    pending.folders = true;
    schedule();
  });
  watcher.on("unlinkDir", () => {
    pending.folders = true;
    schedule();
  });
  watcher.on("error", options.onError);
  const ready = new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  return {
    ready,
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      await watcher.close();
      await running;
    },
  };
}
