import { type FileHandle, mkdir, open, rename, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isSystemError, systemErrorText } from "../errors.js";
import { USAGE_DIR } from "../store/usage-store.js";

/** The file events are appended to. */
const USAGE_FILE = "events.jsonl";
/** Size at which the log file is rotated. */
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
/** How many times a batch is written again when its file was deleted while it was written. */
const MAX_REWRITES = 2;

/** Options of {@link UsageLog}. */
export interface UsageLogOptions {
  /**
   * Past this size the file is renamed aside (`events-<time>.jsonl`) and a new one started, so
   * no file grows without bound; readers read them all in order.
   */
  maxBytes?: number;
  /** How the file is named in error messages (default: its path as given). */
  shownPath?: string;
  /** Called when the log starts failing (with the error) and when it recovers (with null). */
  onHealthChange?: (error: UsageStorageError | null) => void;
}

/**
 * The log cannot take events now: the disk is full, the folder is read-only or cannot be
 * opened. Nothing of the batch is in the file; the same events can be sent again later.
 */
export class UsageStorageError extends Error {
  override readonly name = "UsageStorageError";

  /**
   * @param errno the system error code (`ENOSPC`, `EROFS`, `EACCES`), when there is one
   */
  constructor(
    message: string,
    readonly errno: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The state of the log as `/healthz` shows it: the outcome of the last write. */
export interface UsageLogHealth {
  ok: boolean;
  /** Why the last write failed; null once a write succeeds again. */
  error: string | null;
  /** When the current failure streak began (ISO 8601), or null. */
  since: string | null;
}

interface Pending {
  text: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface OpenFile {
  handle: FileHandle;
  dev: number;
  ino: number;
  /** Its size after the last batch: where a failed append is cut back to. */
  size: number;
}

/**
 * An append-only JSON-lines log with group commit: whatever arrives while a write is in flight
 * goes out in the next single write, and every caller's promise settles only after the data is
 * on disk (fdatasync). A batch is written whole, so a line is never interleaved with another.
 *
 * What resolves is in the file at its path. Before each batch the open file is compared with
 * the path, so a deleted or replaced folder is recreated and the file reopened; a batch that
 * fails (disk full, I/O error) is cut off again, so the file is as it was and the next batch
 * starts on a line of its own; a file that cannot be opened is tried again on the next batch.
 */
export class UsageLog {
  private file: OpenFile | undefined;
  /** The file may end in a torn line (opened after a crash, or a cut-back that failed). */
  private checkTail = true;
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  private failure: { error: UsageStorageError; since: string } | undefined;
  private rotations = 0;
  /** Events durably written since start. */
  written = 0;
  private readonly maxBytes: number;
  private readonly shownPath: string;

  constructor(
    readonly path: string,
    private readonly options: UsageLogOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.shownPath = options.shownPath ?? path;
  }

  /** The log of a repository. */
  static forRoot(root: string, options: UsageLogOptions = {}): UsageLog {
    return new UsageLog(join(root, USAGE_DIR, USAGE_FILE), {
      shownPath: `${USAGE_DIR}/${USAGE_FILE}`,
      ...options,
    });
  }

  /** Whether the last write went to disk, and if not, why. */
  get health(): UsageLogHealth {
    return this.failure
      ? { ok: false, error: this.failure.error.message, since: this.failure.since }
      : { ok: true, error: null, since: null };
  }

  /**
   * Appends whole lines (one JSON event each); resolves once they are durable. Rejects with a
   * {@link UsageStorageError} when the storage cannot take them, and then none of them is in
   * the file.
   */
  append(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ text: `${lines.join("\n")}\n`, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        const text = batch.map((item) => item.text).join("");
        try {
          await this.commit(text);
        } catch (error) {
          const failed = this.storageError(error);
          this.setHealth(failed);
          for (const item of batch) item.reject(failed);
          continue;
        }
        this.setHealth(null);
        this.written += batch.reduce((sum, item) => sum + item.text.split("\n").length - 1, 0);
        for (const item of batch) item.resolve();
      }
    } finally {
      this.writing = undefined;
    }
  }

  /** Writes and syncs one batch into the file at the path, or leaves the file as it was. */
  private async commit(text: string): Promise<void> {
    for (let rewrite = 0; ; rewrite++) {
      const file = this.file ?? (await this.open());
      if (await this.write(file, text)) {
        if (file.size >= this.maxBytes) await this.rotate();
        return;
      }
      // Deleted or replaced while being written: the bytes are in a file no path names any
      // more. The batch is written again, to the file now at the path.
      await this.forget();
      if (rewrite >= MAX_REWRITES) {
        throw new UsageStorageError(
          `${this.shownPath} was deleted each time it was written; the events were not logged, send them again later`,
          undefined,
        );
      }
    }
  }

  /**
   * Appends `text` and syncs it; true when the file is still the one at the path. On failure the
   * file is cut back to its size before, so no part of the batch stays in it.
   */
  private async write(file: OpenFile, text: string): Promise<boolean> {
    const size = file.size;
    let bytes = text;
    if (this.checkTail && size > 0) {
      const last = Buffer.alloc(1);
      await file.handle.read(last, 0, 1, size - 1);
      // A torn line left by a crash must not swallow the first line of this batch.
      if (last[0] !== 0x0a) bytes = `\n${text}`;
    }
    let named: boolean;
    try {
      await file.handle.appendFile(bytes);
      // Whether the path still names this file is asked while the data goes to disk: the
      // check costs the batch no time of its own, and the batch is acknowledged only after both.
      const [, onDisk, opened] = await Promise.all([
        file.handle.datasync(),
        stat(this.path).catch(() => undefined),
        file.handle.stat(),
      ]);
      named = onDisk?.ino === opened.ino && onDisk.dev === opened.dev && opened.nlink > 0;
      file.size = opened.size;
    } catch (error) {
      // Cut back, the file is as it was (a torn tail it had stays to be checked next time);
      // if even that fails, the next batch checks the tail itself.
      await file.handle.truncate(size).catch(() => (this.checkTail = true));
      throw error;
    }
    this.checkTail = false;
    return named;
  }

  /** Opens the file at the path, making its folder when it is not there (deleted, or new). */
  private async open(): Promise<OpenFile> {
    await mkdir(dirname(this.path), { recursive: true });
    // Read as well as append: the last byte is checked for a torn line.
    const handle = await open(this.path, "a+");
    let opened;
    try {
      opened = await handle.stat();
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
    this.file = { handle, dev: opened.dev, ino: opened.ino, size: opened.size };
    this.checkTail = true;
    return this.file;
  }

  private async forget(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.handle.close().catch(() => {});
  }

  /**
   * Moves the full file aside; the next batch starts a new one. The batch that filled it is
   * already on disk, so a failed rename only means it is tried again after the next batch.
   */
  private async rotate(): Promise<void> {
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    // The counter keeps two rotations within one millisecond from taking the same name.
    const sequence = String(this.rotations++).padStart(6, "0");
    const aside = join(dirname(this.path), `events-${stamp}-${process.pid}-${sequence}.jsonl`);
    try {
      await rename(this.path, aside);
    } catch {
      return;
    }
    await this.forget();
  }

  private setHealth(error: UsageStorageError | null): void {
    if (error) {
      const changed = this.failure?.error.message !== error.message;
      this.failure = { error, since: this.failure?.since ?? new Date().toISOString() };
      if (changed) this.options.onHealthChange?.(error);
    } else if (this.failure) {
      this.failure = undefined;
      this.options.onHealthChange?.(null);
    }
  }

  /**
   * `cannot write .prompts/usage/events.jsonl: no space left on device (ENOSPC)`, worded as the
   * CLI words system errors.
   */
  private storageError(error: unknown): UsageStorageError {
    if (error instanceof UsageStorageError) return error;
    const what = isSystemError(error)
      ? `cannot write ${this.shownPath}: ${systemErrorText(error)}`
      : `cannot write ${this.shownPath}: ${error instanceof Error ? error.message : String(error)}`;
    return new UsageStorageError(
      `${what}; the events were not logged, send them again later`,
      isSystemError(error) ? error.code : undefined,
      { cause: error },
    );
  }

  /** Waits for every accepted event to be written, then closes the file. */
  async close(): Promise<void> {
    while (this.writing) await this.writing;
    await this.forget();
  }
}
