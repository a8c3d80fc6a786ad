import type { IncomingMessage, ServerResponse } from "node:http";
import type { Issue } from "../core/types.js";
import { writeEvent } from "./event-stream.js";
import { type Snapshot, SnapshotBuilder } from "./snapshot.js";
import { followRef, followWorkingTree, type OpenedSource, type SourceListener } from "./source.js";

/** Where {@link ServedPrompts} takes its prompts from, and how often it looks. */
export interface ServedPromptsOptions {
  root: string;
  dir?: string;
  /** A git ref to follow; the working tree when not given. */
  ref?: string;
  /** Quiet time that ends a burst of file events. */
  debounceMs: number;
  /** How often a followed ref is checked for a move. */
  refPollMs: number;
}

/** The last problem of the source: what is served is no longer what it holds. */
export interface SourceError {
  message: string;
  issues: Issue[];
}

/**
 * What the server serves now, reloaded as its source changes: the snapshot of the last good
 * state, the source's last problem, and the event streams told of each change. A source with
 * errors never replaces a good snapshot.
 */
export class ServedPrompts {
  private current!: Snapshot;
  private problem: SourceError | null = null;
  /** Every issue of the source's files as last loaded (errors and warnings), `[]` when clean. */
  issues: readonly Issue[] = [];
  private readonly streams = new Set<ServerResponse>();
  /** Set by the first reload, which may come before the source's first snapshot is taken. */
  private reloaded = false;
  private source!: OpenedSource;

  private constructor(private readonly log: (line: string) => void) {}

  /** Loads the source and follows it; fails when its prompts cannot be served at all. */
  static async open(
    options: ServedPromptsOptions,
    log: (line: string) => void,
  ): Promise<ServedPrompts> {
    const served = new ServedPrompts(log);
    const listener: SourceListener = {
      swap: (next, changed) => served.swap(next, changed),
      invalid: (issues) => served.reportInvalid(issues),
      issues: (issues) => (served.issues = issues),
      problem: (message) => served.reportProblem(message),
      log,
    };
    const builder = new SnapshotBuilder();
    const dir = options.dir === undefined ? {} : { dir: options.dir };
    served.source =
      options.ref === undefined
        ? await followWorkingTree(
            { root: options.root, ...dir, debounceMs: options.debounceMs },
            builder,
            listener,
          )
        : await followRef(
            { root: options.root, ...dir, ref: options.ref, pollMs: options.refPollMs },
            builder,
            listener,
          );
    if (!served.reloaded) served.current = served.source.first;
    return served;
  }

  /** What is served now. */
  get snapshot(): Snapshot {
    return this.current;
  }

  /** The source's last problem, or null while what is served is current. */
  get lastError(): SourceError | null {
    return this.problem;
  }

  /** Tells the event stream answering `request` of every change from now on, until it closes. */
  subscribe(request: IncomingMessage, stream: ServerResponse): void {
    this.streams.add(stream);
    request.on("close", () => this.streams.delete(stream));
  }

  /** Writes an SSE comment to every stream, so that idle connections stay open. */
  ping(): void {
    for (const stream of this.streams) writeEvent(stream, ": ping\n\n", this.dropSlowStream);
  }

  /** Stops following the source: what is served stays as it is. */
  stopSource(): Promise<void> {
    return this.source.stop();
  }

  /** Ends every event stream. */
  endStreams(): void {
    for (const stream of this.streams) stream.end();
    this.streams.clear();
  }

  private readonly dropSlowStream = (unsent: number) =>
    this.log(`✗ cut an event stream whose client left ${unsent} bytes unread (it can reconnect)`);

  private broadcast(event: string, data: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const stream of this.streams) writeEvent(stream, frame, this.dropSlowStream);
  }

  /** Tells everyone that what is served is no longer what the source holds. */
  private reportError(message: string, issues: Issue[]): void {
    this.problem = { message, issues };
    this.broadcast("invalid", { message, errors: issues });
  }

  private reportInvalid(issues: Issue[]): void {
    const errors = issues.filter((issue) => issue.severity === "error");
    const first = errors[0];
    const message = first
      ? `${first.file}:${first.line}:${first.col}: ${first.message}`
      : "invalid prompts";
    this.log(`✗ kept the last good bundle: ${errors.length} error(s); first: ${message}`);
    this.reportError(message, errors);
  }

  /** A source that cannot be read says so again at every attempt: said once until it changes. */
  private reportProblem(message: string): void {
    if (this.problem?.message === message) return;
    this.log(`✗ kept the last good bundle: ${message}`);
    this.reportError(message, []);
  }

  private swap(next: Snapshot, changed: string[]): void {
    // Undefined while the source is still loading its first state.
    const before = (this.current as Snapshot | undefined)?.hash;
    const recovered = this.problem !== null;
    this.current = next;
    this.reloaded = true;
    if (recovered) this.log("✓ recovered: the prompts are valid again");
    this.problem = null;
    // After a recovery subscribers hear of it even when the content is back where it was.
    if (before !== undefined && (before !== next.hash || recovered)) {
      this.log(
        `↻ reloaded ${changed.length} prompt(s) [${changed.slice(0, 5).join(", ")}${changed.length > 5 ? ", …" : ""}] → ${next.hash.slice(0, 12)}`,
      );
      this.broadcast("bundle", { hash: next.hash, changed });
    }
  }
}
