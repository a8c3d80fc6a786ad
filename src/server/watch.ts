import { type FSWatcher, watch } from "chokidar";

/** When a changed file is looked at again (past chokidar's 50 ms throttle of `change`). */
const ECHO_MS = 80;

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
 * burst is being handled make the next burst. chokidar's `awaitWriteFinish` is off (it waits
 * seconds); a torn read of a half-written file only fails validation, and the server keeps the
 * last good bundle until the write completes and its event arrives.
 */
export function watchTree(
  folder: string,
  options: WatchOptions,
): { ready: Promise<void>; close: () => Promise<void> } {
  const watcher: FSWatcher = watch(folder, {
    ignoreInitial: true,
    awaitWriteFinish: false,
    atomic: false,
    // Hidden files (editor swap files, .git) are never prompts.
    ignored: (path: string) => /(^|[/\\])\.[^/\\]/.test(path.slice(folder.length)),
  });
  let pending: FileChanges = { files: new Set(), folders: false };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;
  // chokidar drops a second `change` of a path within 50 ms of the first (with
  // awaitWriteFinish off), so a format-on-save or a quick revert would go unseen: each burst's
  // files are looked at once more a little later. An unchanged file costs a read and no reload.
  const echoes = new Set<string>();
  let echoTimer: NodeJS.Timeout | undefined;

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
  const echo = (path: string) => {
    echoes.add(path);
    if (echoTimer) return;
    echoTimer = setTimeout(() => {
      echoTimer = undefined;
      for (const file of echoes) pending.files.add(file);
      echoes.clear();
      schedule();
    }, ECHO_MS);
  };
  watcher.on("all", (event, path) => {
    if (event === "addDir" || event === "unlinkDir") {
      pending.folders = true;
    } else {
      pending.files.add(path);
      echo(path);
    }
    schedule();
  });
  watcher.on("error", options.onError);
  const ready = new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  return {
    ready,
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      if (echoTimer) clearTimeout(echoTimer);
      await watcher.close();
      await running;
    },
  };
}
