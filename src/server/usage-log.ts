import { mkdirSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { join } from "node:path";

/** Where usage events go, under the repository root (git-ignored with `.prompts/`). */
export const USAGE_DIR = ".prompts/usage";
/** The file events are appended to. */
export const USAGE_FILE = "events.jsonl";

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

  constructor(readonly path: string) {}

  /** The log of a repository. */
  static forRoot(root: string): UsageLog {
    return new UsageLog(join(root, USAGE_DIR, USAGE_FILE));
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
          await handle.appendFile(batch.map((item) => item.text).join(""));
          await handle.datasync();
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
