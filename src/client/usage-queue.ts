import type { PromptEvent } from "../core/usage.js";
import { unsendable } from "./event-check.js";

/** What a {@link UsageSink} may say of a batch it took: the events it refused for good. */
export interface UsageSinkResult {
  /** Events of the batch that were not taken and never will be, by index, with why. */
  refused?: { index: number; message: string }[];
}

/**
 * Where usage events go: a function that sends one batch. It rejects when the batch could not
 * be delivered (it is kept and sent again later); it may resolve with the events it refused.
 */
export type UsageSink = (events: readonly PromptEvent[]) => Promise<void | UsageSinkResult>;

/** Options of {@link UsageQueue}. */
export interface UsageQueueOptions {
  sink: UsageSink;
  /** Most events held while the sink is slow or down; past it, new events are dropped (and counted). */
  maxQueue: number;
  /** Most events per send. */
  batchSize: number;
  /** How long an event waits for a batch to fill. */
  flushMs: number;
  /**
   * For the client's `error` event: once per failure streak while events are `kept` to be
   * sent again, and each time events are dropped for good.
   */
  onError: (error: unknown, kept: boolean) => void;
}

/** What a sink throws for a batch it will never accept (a 4xx): dropped, not retried. */
export class RefusedBatchError extends Error {}

/** Events dropped for good: they cannot be sent, or the sink refused them. */
class DroppedEventsError extends Error {
  override readonly name = "DroppedEventsError";

  constructor(
    /** How many events were dropped. */
    readonly count: number,
    reason: string,
  ) {
    super(`${count === 1 ? "1 usage event" : `${count} usage events`} dropped: ${reason}`);
  }
}

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 30_000;

/**
 * A bounded, batching queue in front of a sink. `push` never blocks and never throws: it is on
 * the application's hot path. A failed send keeps its batch and retries with backoff; when the
 * queue is full, new events are dropped and counted instead of growing without bound.
 */
export class UsageQueue {
  private queue: PromptEvent[] = [];
  private readonly times = new WeakMap<PromptEvent, number>();
  private sending: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retryMs = 0;
  private failing = false;
  /** Events dropped: the queue was full, they could not be sent, or the sink refused them. */
  dropped = 0;
  /** Events the sink accepted. */
  sent = 0;

  constructor(private readonly options: UsageQueueOptions) {}

  /**
   * Queues one event; no I/O. An event whose `ts` is empty gets the time of the push,
   * formatted only when it is sent (formatting a date costs more than the rest of a push).
   * An event that can never be sent (a NaN score, a circular or BigInt `metadata`) is dropped
   * here, counted and reported, so that it never holds back the others.
   */
  push(event: PromptEvent): void {
    const problem = unsendable(event);
    if (problem !== undefined) {
      this.dropped++;
      this.options.onError(
        new DroppedEventsError(1, `the ${event.type} event cannot be sent: ${problem}`),
        false,
      );
      return;
    }
    if (event.ts === "") this.times.set(event, Date.now());
    if (this.queue.length >= this.options.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(event);
    if (this.queue.length >= this.options.batchSize) this.kick(0);
    else if (!this.timer && !this.sending) this.kick(this.options.flushMs);
  }

  /** Events waiting to be sent. */
  get pending(): number {
    return this.queue.length;
  }

  private kick(delayMs: number): void {
    if (this.sending) return;
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sending = this.sendAll().finally(() => {
        this.sending = undefined;
        // A failed send is retried after its backoff; events that came meanwhile go next.
        if (this.queue.length > 0) this.kick(this.failing ? this.retryMs : this.options.flushMs);
      });
    }, delayMs);
    // A queued event must not keep the application alive; close() and beforeExit flush.
    this.timer.unref();
  }

  /** Sends batches until the queue is empty or the sink fails (then retries later). */
  private async sendAll(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.options.batchSize);
      for (const event of batch) {
        const at = this.times.get(event);
        if (at !== undefined) {
          event.ts = new Date(at).toISOString();
          this.times.delete(event);
        }
      }
      let result: void | UsageSinkResult;
      try {
        result = await this.options.sink(batch);
      } catch (error) {
        if (error instanceof RefusedBatchError) {
          // Retrying what the sink refuses would block everything behind it: drop and count it.
          this.queue.splice(0, batch.length);
          this.dropped += batch.length;
          this.options.onError(new DroppedEventsError(batch.length, error.message), false);
          continue;
        }
        if (!this.failing) this.options.onError(error, true);
        this.failing = true;
        this.retryMs = Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, this.retryMs * 2));
        return;
      }
      this.queue.splice(0, batch.length);
      // A function sink is the application's code: take only a list that makes sense.
      const said: unknown = (result as UsageSinkResult | undefined)?.refused;
      const refused = Array.isArray(said)
        ? (said as { message?: unknown }[]).slice(0, batch.length)
        : [];
      this.sent += batch.length - refused.length;
      this.dropped += refused.length;
      if (refused.length > 0) {
        const reasons = refused.map((item) => String(item?.message));
        const shown = reasons.slice(0, 3).join("; ") + (reasons.length > 3 ? "; …" : "");
        this.options.onError(new DroppedEventsError(refused.length, `refused: ${shown}`), false);
      }
      this.failing = false;
      this.retryMs = 0;
    }
  }

  /**
   * Sends everything queued, retrying until it is sent or `deadlineMs` passes. Resolves either
   * way: what could not be sent stays counted in `pending`.
   */
  async flush(deadlineMs = 10_000): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.queue.length > 0 && Date.now() < deadline) {
      if (this.sending) await this.sending;
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      const before = this.queue.length;
      this.sending = this.sendAll().finally(() => {
        this.sending = undefined;
      });
      await this.sending;
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      if (this.queue.length >= before) {
        await new Promise((resolve) =>
          setTimeout(
            resolve,
            Math.min(this.retryMs || RETRY_MIN_MS, Math.max(0, deadline - Date.now())),
          ),
        );
      }
    }
  }
}
