import { randomUUID } from "node:crypto";
import { type FSWatcher, watch as watchFs } from "node:fs";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { type Bundle, bundleToPrompts, parseBundle } from "../core/bundle.js";
import { type RenderResult, renderPrompt } from "../core/render.js";
import { didYouMean } from "../core/suggest.js";
import type { Message, Prompt } from "../core/types.js";
import type { OutcomeEvent, PromptEvent, UsageEvent } from "../core/usage.js";
import { chooseVariant } from "../core/variants.js";
import { PromptsError } from "../errors.js";
import type { PromptName, VariablesOf } from "./registry.js";
import {
  RefusedBatchError,
  UsageQueue,
  type UsageSink,
  type UsageSinkResult,
} from "./usage-queue.js";

/** Options of {@link PromptClient}. */
export interface PromptClientOptions {
  /**
   * Where prompts come from: the base URL of `prompts serve` (`http://127.0.0.1:7411`), the URL
   * of a bundle file on any static host (a path ending in `.json`), or a local bundle file.
   */
  source: string;
  /** Background refresh period in ms (default 60 000; 0 turns it off). Unchanged bundles cost a 304. */
  refreshMs?: number;
  /** Swap prompts the moment they change: SSE from `prompts serve`, file watching for a local bundle. */
  watch?: boolean;
  /** What to serve when the source cannot be read at start: a bundle file path or a bundle object. */
  fallback?: string | Bundle;
  /**
   * Where usage events go: `false` for nowhere, a path (JSON lines), the URL of a `prompts serve`,
   * or a function. Default: the server for a serve source, `.prompts/usage/events.jsonl` under the
   * working directory for a local bundle, nowhere for a static bundle URL.
   */
  usage?: false | string | UsageSink;
  /** Bearer token for a `prompts serve` started with `--token`. */
  token?: string;
  /** Most usage events held while the sink is down (default 10 000); more are dropped and counted. */
  maxQueue?: number;
  /** Most events per usage batch (default 500). */
  batchSize?: number;
  /** How long an event waits for its batch, in ms (default 1 000). */
  flushMs?: number;
  /** Record the caller's file:line in usage events (costs a stack trace per render; default false). */
  callSite?: boolean;
  /**
   * What usage events keep of the variables (default true: all of them). `false` keeps none,
   * a list of names keeps only those: inputs can be large, or private.
   */
  logInput?: boolean | readonly string[];
}

/** Options of one {@link PromptClient.render}. */
export interface ClientRenderOptions {
  /** Who the call is for (a user id, a session): makes the A/B variant sticky. */
  unit?: string;
  /** Force a variant instead of choosing one. */
  variant?: string;
  /** Anything to keep with the usage event. */
  metadata?: Record<string, unknown>;
}

/** What {@link PromptClient.render} returns. */
export interface ClientRenderResult {
  name: string;
  version: string;
  variant: string;
  text?: string;
  messages?: Message[];
  model: RenderResult["model"];
  /** The usage event's id, for {@link PromptClient.outcome} ("" when usage is not logged). */
  usageId: string;
}

/** What happened after a call, for {@link PromptClient.outcome}. */
export interface Outcome {
  score?: number;
  success?: boolean;
  latencyMs?: number;
  tokens?: { input?: number; output?: number };
  cost?: number;
  metadata?: Record<string, unknown>;
}

/** Events of a {@link PromptClient}. */
export interface PromptClientEvents {
  /** New prompts are in use. */
  update: { hash: string; changed: string[] };
  /** A refresh, the watch stream or the usage sink failed; the last good prompts stay in use. */
  error: Error;
}

type Listener<K extends keyof PromptClientEvents> = (value: PromptClientEvents[K]) => void;

type Source =
  { kind: "serve"; base: string } | { kind: "url"; url: string } | { kind: "file"; path: string };

interface Loaded {
  bundle: Bundle;
  prompts: Map<string, Prompt>;
  etag: string | undefined;
}

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;

/** Tells which kind of source a string names (README: The client library). */
function classifySource(source: string): Source {
  if (/^https?:\/\//i.test(source)) {
    const url = new URL(source);
    if (url.pathname.endsWith(".json")) return { kind: "url", url: source };
    return { kind: "serve", base: source.replace(/\/+$/, "") };
  }
  return { kind: "file", path: resolve(source) };
}

/**
 * Prompts for an application: loaded once, read from memory on every call, swapped live when
 * they change, with usage logged in the background.
 *
 * @example
 * const prompts = new PromptClient({ source: "http://127.0.0.1:7411", watch: true, fallback: "dist/prompts.json" });
 * await prompts.ready();
 * const r = prompts.render("answerer_prompt", { infos, user_query }, { unit: userId });
 * prompts.outcome(r.usageId, { score: 1, latencyMs: 820 });
 * await prompts.close();
 */
export class PromptClient {
  /** Undefined when no usable source was given (an unset environment variable, say). */
  private readonly source: Source | undefined;
  private current: Loaded | undefined;
  private readonly listeners = new Map<keyof PromptClientEvents, Set<(value: never) => void>>();
  private readonly usage: UsageQueue | undefined;
  private readyPromise: Promise<void> | undefined;
  private refreshing: Promise<boolean> | undefined;
  private refreshAgain = false;
  private refreshTimer: NodeJS.Timeout | undefined;
  private fileWatcher: FSWatcher | undefined;
  private stream: AbortController | undefined;
  private closed = false;
  private readonly onBeforeExit = () => {
    if (this.usage && this.usage.pending > 0) void this.usage.flush();
  };

  constructor(private readonly options: PromptClientOptions) {
    const given: unknown = options.source;
    this.source =
      typeof given === "string" && given.trim() !== "" ? classifySource(given) : undefined;
    const sink = this.usageSink();
    if (sink) {
      this.usage = new UsageQueue({
        sink,
        maxQueue: options.maxQueue ?? 10_000,
        batchSize: options.batchSize ?? 500,
        flushMs: options.flushMs ?? 1_000,
        onError: (error, kept) =>
          this.emit(
            "error",
            kept
              ? asError(error, "usage events could not be sent (they are kept and retried)")
              : new PromptsError("E_INVALID_INPUT", describe(error), { cause: error }),
          ),
      });
      process.on("beforeExit", this.onBeforeExit);
    }
  }

  /** Resolves once prompts are loaded (from the source, or else the fallback); rejects only when there is nothing to serve. */
  ready(): Promise<void> {
    this.readyPromise ??= this.start();
    return this.readyPromise;
  }

  /** The bundle's hash in use (undefined before `ready()`). */
  get hash(): string | undefined {
    return this.current?.bundle.hash;
  }

  /**
   * Usage events dropped: the queue was full, the event could not be sent (a NaN score, an
   * empty usage id, a circular or BigInt metadata), or the sink refused it for good (a 400).
   */
  get droppedEvents(): number {
    return this.usage?.dropped ?? 0;
  }

  /** Usage events waiting to be sent. */
  get pendingEvents(): number {
    return this.usage?.pending ?? 0;
  }

  /** A prompt by name, from memory. */
  get(name: PromptName): Prompt {
    const loaded = this.loaded();
    const prompt = loaded.prompts.get(name);
    if (!prompt) {
      throw new PromptsError(
        "E_PROMPT_NOT_FOUND",
        `prompt "${name}" not found in ${this.describeSource()}${didYouMean(name, loaded.prompts.keys())}`,
      );
    }
    return prompt;
  }

  /** The names of the prompts in use. */
  names(): string[] {
    return [...this.loaded().prompts.keys()];
  }

  /**
   * Renders a prompt from memory, synchronously, with the same rules and errors as the CLI, and
   * queues a usage event (never blocking, never throwing because of logging).
   */
  render<N extends PromptName>(
    name: N,
    variables: VariablesOf<N>,
    options: ClientRenderOptions = {},
  ): ClientRenderResult {
    const { prompts } = this.loaded();
    const prompt = this.get(name);
    const variant = options.variant ?? chooseVariant(name, prompt.variants, options.unit);
    const result = renderPrompt(prompts, name, variables, { variant });
    // With no usage sink there is nothing to tie an outcome to: no id is made.
    const usageId = this.usage ? randomUUID() : "";
    if (this.usage) {
      const event: UsageEvent = {
        type: "usage",
        id: usageId,
        ts: "",
        name,
        version: result.version,
        variant: result.variant,
      };
      const input = this.loggedInput(variables);
      if (input !== undefined) event.input = input;
      // What a server would refuse (an empty or huge unit) is left out rather than sent.
      if (isEventString(options.unit)) event.unit = options.unit;
      if (options.metadata !== undefined) event.metadata = { ...options.metadata };
      if (this.options.callSite) {
        const site = callSite();
        if (isEventString(site)) event.call_site = site;
      }
      this.usage.push(event);
    }
    const rendered = result as ClientRenderResult;
    rendered.usageId = usageId;
    return rendered;
  }

  /** What a usage event keeps of a render's variables (`logInput`). */
  private loggedInput(variables: Record<string, unknown>): Record<string, unknown> | undefined {
    const keep = this.options.logInput ?? true;
    if (keep === false) return undefined;
    // Copies: the event is written later, and the caller may reuse its objects meanwhile.
    if (keep === true) return { ...variables };
    const kept: Record<string, unknown> = {};
    for (const name of keep) if (Object.hasOwn(variables, name)) kept[name] = variables[name];
    return kept;
  }

  /** Queues how a rendered prompt did (score, success, latency, tokens, cost). */
  outcome(usageId: string, outcome: Outcome): void {
    if (!this.usage) return;
    const event: OutcomeEvent = {
      type: "outcome",
      id: randomUUID(),
      ts: "",
      usage_id: usageId,
    };
    if (outcome.score !== undefined) event.score = outcome.score;
    if (outcome.success !== undefined) event.success = outcome.success;
    if (outcome.latencyMs !== undefined) event.latency_ms = outcome.latencyMs;
    if (outcome.tokens !== undefined) event.tokens = { ...outcome.tokens };
    if (outcome.cost !== undefined) event.cost = outcome.cost;
    if (outcome.metadata !== undefined) event.metadata = { ...outcome.metadata };
    this.usage.push(event);
  }

  /** Fetches the bundle now; resolves true when new prompts were swapped in. A failure keeps the last good ones. */
  refresh(): Promise<boolean> {
    if (this.refreshing) {
      // A change announced while a fetch is in flight may be newer than what it brings.
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = this.load()
      .then((changed) => changed)
      .catch((error: unknown) => {
        this.emit("error", asError(error, `cannot refresh prompts from ${this.describeSource()}`));
        return false;
      })
      .finally(() => {
        this.refreshing = undefined;
        if (this.refreshAgain && !this.closed) {
          this.refreshAgain = false;
          void this.refresh();
        }
      });
    return this.refreshing;
  }

  /** Subscribes to `update` or `error`. */
  on<K extends keyof PromptClientEvents>(event: K, listener: Listener<K>): this {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return this;
  }

  /** Unsubscribes. */
  off<K extends keyof PromptClientEvents>(event: K, listener: Listener<K>): this {
    this.listeners.get(event)?.delete(listener);
    return this;
  }

  /** Stops refreshing and watching, and sends the usage events still queued. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.fileWatcher?.close();
    this.stream?.abort();
    process.off("beforeExit", this.onBeforeExit);
    await this.usage?.flush();
  }

  private async start(): Promise<void> {
    try {
      await this.load();
    } catch (error) {
      const fallback = this.options.fallback;
      if (fallback === undefined) {
        throw new PromptsError(
          "E_IO",
          `no prompts to serve: cannot read ${this.describeSource()}: ${describe(error)} (and no fallback was given)`,
          { cause: error },
        );
      }
      try {
        const bundle =
          typeof fallback === "string"
            ? parseBundle(await readFile(fallback, "utf8"), fallback)
            : fallback;
        this.swap({ bundle, prompts: bundleToPrompts(bundle), etag: undefined });
      } catch (fallbackError) {
        throw new PromptsError(
          "E_IO",
          `no prompts to serve: cannot read ${this.describeSource()}: ${describe(error)}; the fallback failed too: ${describe(fallbackError)}`,
          { cause: error },
        );
      }
      this.emit(
        "error",
        asError(
          error,
          `${this.describeSource()} could not be read; serving the fallback until it can`,
        ),
      );
    }
    this.startBackground();
  }

  private startBackground(): void {
    const refreshMs = this.options.refreshMs ?? 60_000;
    if (refreshMs > 0) {
      this.refreshTimer = setInterval(() => void this.refresh(), refreshMs);
      this.refreshTimer.unref();
    }
    if (!this.options.watch || !this.source) return;
    if (this.source.kind === "file") this.watchFile(this.source.path);
    else if (this.source.kind === "serve") void this.watchEvents(this.source.base);
  }

  /** Loads from the source; true when the prompts changed. */
  private async load(): Promise<boolean> {
    const source = this.source;
    if (!source) {
      throw new PromptsError(
        "E_USAGE",
        "no source given: pass source: a prompts serve URL, a bundle URL or a bundle file",
      );
    }
    if (source.kind === "file") {
      const text = await readFile(source.path, "utf8");
      const bundle = parseBundle(text, source.path);
      if (bundle.hash === this.current?.bundle.hash) return false;
      return this.swap({ bundle, prompts: bundleToPrompts(bundle), etag: undefined });
    }
    const url = source.kind === "serve" ? `${source.base}/v1/bundle` : source.url;
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.current?.etag) headers["if-none-match"] = this.current.etag;
    if (this.options.token && source.kind === "serve")
      headers.authorization = `Bearer ${this.options.token}`;
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
    if (response.status === 304) return false;
    if (!response.ok) throw new PromptsError("E_IO", `GET ${url} answered ${response.status}`);
    const bundle = parseBundle(await response.text(), url);
    if (bundle.hash === this.current?.bundle.hash) return false;
    return this.swap({
      bundle,
      prompts: bundleToPrompts(bundle),
      etag: response.headers.get("etag") ?? undefined,
    });
  }

  private swap(next: Loaded): boolean {
    const before = this.current?.prompts;
    this.current = next;
    if (!before) return true;
    const names = new Set([...before.keys(), ...next.prompts.keys()]);
    const changed = [...names]
      .filter((name) => before.get(name)?.version !== next.prompts.get(name)?.version)
      .sort();
    this.emit("update", { hash: next.bundle.hash, changed });
    return true;
  }

  private watchFile(path: string): void {
    // The folder, not the file: an atomic save replaces the file, and a watch on it would be lost.
    const name = basename(path);
    let timer: NodeJS.Timeout | undefined;
    try {
      this.fileWatcher = watchFs(dirname(path), (_event, file) => {
        if (file !== null && file !== name) return;
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => void this.refresh(), 10);
      });
      this.fileWatcher.on("error", (error) =>
        this.emit("error", asError(error, `cannot watch ${path}`)),
      );
      this.fileWatcher.unref();
    } catch (error) {
      this.emit("error", asError(error, `cannot watch ${path}`));
    }
  }

  /** Follows `/v1/events`, reconnecting with backoff while the server is away. */
  private async watchEvents(base: string): Promise<void> {
    let delay = RECONNECT_MIN_MS;
    while (!this.closed) {
      const controller = new AbortController();
      this.stream = controller;
      try {
        const headers: Record<string, string> = { accept: "text/event-stream" };
        if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
        const response = await fetch(`${base}/v1/events`, { headers, signal: controller.signal });
        if (!response.ok || !response.body)
          throw new PromptsError("E_IO", `GET ${base}/v1/events answered ${response.status}`);
        delay = RECONNECT_MIN_MS;
        const decoder = new TextDecoder();
        let buffer = "";
        for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            this.onFrame(frame);
          }
        }
      } catch (error) {
        if (this.closed) return;
        this.emit("error", asError(error, `lost the event stream of ${base}; reconnecting`));
      }
      if (this.closed) return;
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      delay = Math.min(RECONNECT_MAX_MS, delay * 2);
    }
  }

  private onFrame(frame: string): void {
    const event = /^event: (.*)$/m.exec(frame)?.[1];
    const data = /^data: (.*)$/m.exec(frame)?.[1];
    if (event === "bundle" && data) {
      const hash = (JSON.parse(data) as { hash?: string }).hash;
      if (hash !== this.current?.bundle.hash) void this.refresh();
    } else if (event === "invalid" && data) {
      this.emit(
        "error",
        new PromptsError(
          "E_INVALID_PROMPT",
          `the server's prompts have errors; it keeps serving the last good ones`,
        ),
      );
    }
  }

  private usageSink(): UsageSink | undefined {
    const choice = this.options.usage;
    if (choice === false) return undefined;
    if (typeof choice === "function") return choice;
    if (typeof choice === "string")
      return /^https?:\/\//i.test(choice)
        ? serveSink(choice, this.options.token)
        : fileSink(choice);
    if (this.source?.kind === "serve") return serveSink(this.source.base, this.options.token);
    if (this.source?.kind === "file")
      return fileSink(join(process.cwd(), ".prompts", "usage", "events.jsonl"));
    // A bare static bundle has nowhere to send events: say so once, and log nothing.
    queueMicrotask(() =>
      this.emit(
        "error",
        new PromptsError(
          "E_USAGE",
          `usage is not logged: ${this.options.source} is a static bundle; pass usage: a path, a prompts serve URL or a function`,
        ),
      ),
    );
    return undefined;
  }

  private loaded(): Loaded {
    if (!this.current)
      throw new PromptsError("E_USAGE", "prompts are not loaded yet: await client.ready() first");
    return this.current;
  }

  private describeSource(): string {
    return this.source ? this.options.source : "(no source)";
  }

  private emit<K extends keyof PromptClientEvents>(event: K, value: PromptClientEvents[K]): void {
    // No listener for `error` is not a crash: the client goes on with what it has.
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as Listener<K>)(value);
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}

function serveSink(base: string, token: string | undefined): UsageSink {
  const url = `${base.replace(/\/+$/, "")}/v1/usage`;
  return async (events) => {
    const { lines, positions, refused } = serialize(events);
    if (lines.length === 0) return { refused };
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(url, {
      method: "POST",
      headers,
      body: `[${lines.join(",")}]`,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    // The events the server refused one by one (a 202 or, when it refused them all, a 400).
    const rejected = parseJson<{ rejected?: unknown }>(text)?.rejected;
    if ((response.status === 202 || response.status === 400) && Array.isArray(rejected)) {
      for (const item of rejected as { index?: unknown; message?: unknown }[]) {
        const at = typeof item.index === "number" ? positions[item.index] : undefined;
        if (at !== undefined) refused.push({ index: at, message: String(item.message) });
      }
      return { refused };
    }
    // Malformed or too large: sending it again would fail again.
    if (response.status === 400 || response.status === 413 || response.status === 422) {
      throw new RefusedBatchError(
        `POST ${url} refused ${events.length} event(s): ${response.status} ${text}`,
      );
    }
    // Anything else (503 while the server's disk is full, a restart) is worth another try.
    if (response.status !== 202)
      throw new PromptsError("E_IO", `POST ${url} answered ${response.status}: ${text}`);
    return { refused };
  };
}

function fileSink(path: string): UsageSink {
  let made = false;
  return async (events) => {
    const { lines, refused } = serialize(events);
    if (lines.length === 0) return { refused };
    if (!made) {
      await mkdir(dirname(path), { recursive: true });
      made = true;
    }
    await appendFile(path, `${lines.join("\n")}\n`);
    return { refused };
  };
}

/**
 * Each event as a JSON line, one by one: an event JSON cannot write (a `toJSON` that throws)
 * is refused alone. `positions` maps each line back to its index in `events`.
 */
function serialize(events: readonly PromptEvent[]): {
  lines: string[];
  positions: number[];
  refused: NonNullable<UsageSinkResult["refused"]>;
} {
  const lines: string[] = [];
  const positions: number[] = [];
  const refused: NonNullable<UsageSinkResult["refused"]> = [];
  for (const [index, event] of events.entries()) {
    try {
      lines.push(JSON.stringify(event));
      positions.push(index);
    } catch (error) {
      refused.push({ index, message: `[${index}]: cannot be written as JSON: ${describe(error)}` });
    }
  }
  return { lines, positions, refused };
}

/** The JSON of a body, or undefined when it is none (a proxy's HTML error page). */
function parseJson<T>(text: string): Partial<T> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/** `file:line` of the application's call to render, from a stack trace. */
function callSite(): string | undefined {
  const lines = new Error().stack?.split("\n") ?? [];
  const frame = lines
    .slice(3)
    .find((line) => !line.includes("/gitprompts/") && !line.includes("node:"));
  return frame ? /\(?([^()\s]+:\d+):\d+\)?$/.exec(frame.trim())?.[1] : undefined;
}

/** A string a usage event can carry (the server's limits). */
function isEventString(value: string | undefined): value is string {
  return value !== undefined && value !== "" && value.length <= 1024;
}

/** An error's message, with the system error code of its cause (ECONNREFUSED) when there is one. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown } | undefined;
  return typeof cause?.code === "string" ? `${error.message} (${cause.code})` : error.message;
}

function asError(error: unknown, context: string): Error {
  return new PromptsError("E_IO", `${context}: ${describe(error)}`, { cause: error });
}
