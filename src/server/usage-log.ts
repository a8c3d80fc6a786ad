import { mkdirSync } from "node:fs";
import { type FileHandle, open, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import { USAGE_DIR } from "../store/usage-store.js";

/** The file events are appended to. */
export const USAGE_FILE = "events.jsonl";
/** Size at which the log file is rotated. */
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

interface Pending {
  text: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * An append-only JSON-lines log with group commit: whatever arrives while a write is in flight
 * goes out in the next single write, and every caller's promise settles only after the data is
 * on disk (fdatasync). A batch is written whole, so a line is never interleaved with another.
 */
export class UsageLog {
  private handle: Promise<FileHandle> | undefined;
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  /** Events durably written since start. */
  written = 0;
  private size = -1;

  /**
   * @param path the file appended to
   * @param maxBytes past this size the file is renamed aside (`events-<time>.jsonl`) and a new
   *   one started, so no file grows without bound; readers read them all in order
   */
  constructor(
    readonly path: string,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {}

  /** The log of a repository. */
  static forRoot(root: string, maxBytes?: number): UsageLog {
    return new UsageLog(join(root, USAGE_DIR, USAGE_FILE), maxBytes);
  }

  /** Appends whole lines (one JSON event each); resolves once they are durable. */
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
        try {
          const handle = await this.open();
          const text = batch.map((item) => item.text).join("");
          await handle.appendFile(text);
          await handle.datasync();
          if (this.size < 0) this.size = (await handle.stat()).size;
          else this.size += Buffer.byteLength(text);
          if (this.size >= this.maxBytes) await this.rotate();
          this.written += batch.reduce((sum, item) => sum + item.text.split("\n").length - 1, 0);
          for (const item of batch) item.resolve();
        } catch (error) {
          for (const item of batch) item.reject(error);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  /** Moves the full file aside; the next batch starts a new one. */
  private async rotate(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.size = -1;
    if (handle) await (await handle).close();
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    await rename(this.path, join(dirname(this.path), `events-${stamp}-${process.pid}.jsonl`));
  }

  private open(): Promise<FileHandle> {
    this.handle ??= (async () => {
      mkdirSync(join(this.path, ".."), { recursive: true });
      return open(this.path, "a");
    })();
    return this.handle;
  }

  /** Waits for every accepted event to be written, then closes the file. */
  async close(): Promise<void> {
    while (this.writing) await this.writing;
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await (await handle).close();
  }
}
