import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { toBundlePrompt } from "../core/bundle.js";
import { ISO_DATE_EXAMPLE, parseIsoDate } from "../core/iso-date.js";
import { isPlainObject } from "../core/json.js";
import { PROMPT_NAME_PATTERN } from "../core/names.js";
import { renderPrompt } from "../core/render.js";
import type { Issue } from "../core/types.js";
import { declaredSplits, type StatsOptions } from "../core/stats.js";
import { checkUsageBody, type PromptEvent } from "../core/usage.js";
import { chooseVariant } from "../core/variants.js";
import { PromptsError } from "../errors.js";
import { findRoot } from "../store/config.js";
import { usageStats } from "../store/stats.js";
import {
  HEADERS_TIMEOUT_MS,
  limitConnections,
  MAX_CONNECTIONS,
  timeoutOptions,
} from "./connections.js";
import { writeEvent } from "./event-stream.js";
import { jsonContentTypeProblem, RequestGuard } from "./request-guard.js";
import { type Snapshot, SnapshotBuilder } from "./snapshot.js";
import { systemFailure } from "./failure.js";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "./json-body.js";
import { listen } from "./listen.js";
import { followRef, followWorkingTree, type SourceListener } from "./source.js";
import { UsageLog, UsageStorageError } from "./usage-log.js";

/** Options of {@link createServer}. */
export interface ServeOptions {
  /** Repository root, taken as given. */
  root?: string;
  /** Where to look for the root when `root` is not given. */
  cwd?: string;
  /** Prompt directory relative to the root. */
  dir?: string;
  /** Serve this git ref (a tag, a label, a branch) instead of the working tree; follow it when it moves. */
  ref?: string;
  /** Interface to bind: loopback unless told otherwise. */
  host?: string;
  /** Port; 0 picks a free one. Default 7411. */
  port?: number;
  /** Require `Authorization: Bearer <token>` on every /v1 route. An empty token is refused. */
  token?: string;
  /**
   * Names a request's `Host` may give besides the bound address and `localhost` (a page whose
   * own DNS name points at this machine must not read the prompts).
   */
  allowedHosts?: string[];
  /** Origins whose pages may call the API from a browser (CORS); none by default. */
  corsOrigins?: string[];
  /** Connections held at once; one more is answered 503 (default 1000). */
  maxConnections?: number;
  /** Time a client gets to send its request's headers (default 10 000 ms). */
  headersTimeoutMs?: number;
  /** Largest request body accepted, in bytes (default 4 MiB). */
  maxBodyBytes?: number;
  /** Log every request. */
  verbose?: boolean;
  /** Where log lines go (default: stderr). */
  log?: (line: string) => void;
  /** Quiet time that ends a burst of file events (default 25 ms). */
  debounceMs?: number;
  /** How often a served ref is checked for a move (default 1000 ms). */
  refPollMs?: number;
}

/** A running prompt server. */
export interface PromptServer {
  /** Base URL, e.g. `http://127.0.0.1:7411`. */
  url: string;
  /** What is served now. */
  readonly snapshot: Snapshot;
  /** Stops accepting, finishes requests in flight, ends event streams, flushes the usage log. */
  close(): Promise<void>;
}

const DEFAULT_PORT = 7411;
const MAX_BODY = 4 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;
/** How long requests in flight get to finish when the server stops. */
const CLOSE_DEADLINE_MS = 10_000;
/** When a client should send events again after a storage failure, in seconds. */
const STORAGE_RETRY_AFTER_S = 5;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Starts `prompts serve`: the bundle and the prompts over HTTP, hot-reloaded, with usage ingest. */
export async function createServer(options: ServeOptions = {}): Promise<PromptServer> {
  // Taken as "no auth", an empty token would leave the server open to anyone who tried it.
  if (options.token !== undefined && options.token.trim() === "")
    throw new PromptsError(
      "E_USAGE",
      "the token is empty: give a token, or none to serve without auth",
    );
  const guard = new RequestGuard({
    host: options.host ?? "127.0.0.1",
    ...(options.allowedHosts === undefined ? {} : { allowedHosts: options.allowedHosts }),
    ...(options.corsOrigins === undefined ? {} : { corsOrigins: options.corsOrigins }),
  });
  const root = options.root ?? findRoot(options.cwd ?? process.cwd());
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const usage = UsageLog.forRoot(root, {
    onHealthChange: (error) =>
      log(
        error
          ? `✗ usage log: ${error.message}; /v1/usage answers 503 and renders go unlogged until a write succeeds`
          : "✓ usage log: writing again",
      ),
  });
  const builder = new SnapshotBuilder();
  const streams = new Set<ServerResponse>();
  let lastError: { message: string; issues: Issue[] } | null = null;
  let snapshot: Snapshot;
  /** Set by the first reload, which may come before the source's first snapshot is taken here. */
  let reloaded = false;

  const dropSlowStream = (unsent: number) =>
    log(`✗ cut an event stream whose client left ${unsent} bytes unread (it can reconnect)`);
  const broadcast = (event: string, data: unknown) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const stream of streams) writeEvent(stream, frame, dropSlowStream);
  };
  /** Tells everyone that what is served is no longer what the source holds. */
  const reportError = (message: string, issues: Issue[]) => {
    lastError = { message, issues };
    broadcast("invalid", { message, errors: issues });
  };
  const reportInvalid = (issues: Issue[]) => {
    const errors = issues.filter((issue) => issue.severity === "error");
    const first = errors[0];
    const message = first
      ? `${first.file}:${first.line}:${first.col}: ${first.message}`
      : "invalid prompts";
    log(`✗ kept the last good bundle: ${errors.length} error(s); first: ${message}`);
    reportError(message, errors);
  };
  // A source that cannot be read says so again at every attempt: said once until it changes.
  const reportProblem = (message: string) => {
    if (lastError?.message === message) return;
    log(`✗ kept the last good bundle: ${message}`);
    reportError(message, []);
  };
  const swap = (next: Snapshot, changed: string[]) => {
    const before = snapshot?.hash;
    const recovered = lastError !== null;
    snapshot = next;
    reloaded = true;
    if (recovered) log("✓ recovered: the prompts are valid again");
    lastError = null;
    // After a recovery subscribers hear of it even when the content is back where it was.
    if (before !== undefined && (before !== next.hash || recovered)) {
      log(
        `↻ reloaded ${changed.length} prompt(s) [${changed.slice(0, 5).join(", ")}${changed.length > 5 ? ", …" : ""}] → ${next.hash.slice(0, 12)}`,
      );
      broadcast("bundle", { hash: next.hash, changed });
    }
  };
  const listener: SourceListener = {
    swap,
    invalid: reportInvalid,
    problem: reportProblem,
    log,
  };
  const opened =
    options.ref === undefined
      ? await followWorkingTree(
          {
            root,
            ...(options.dir === undefined ? {} : { dir: options.dir }),
            debounceMs: options.debounceMs ?? 25,
          },
          builder,
          listener,
        )
      : await followRef(
          {
            root,
            ...(options.dir === undefined ? {} : { dir: options.dir }),
            ref: options.ref,
            pollMs: options.refPollMs ?? 1000,
          },
          builder,
          listener,
        );
  if (!reloaded) snapshot = opened.first;
  const stopSource = () => opened.stop();

  const tokenDigest =
    options.token === undefined ? undefined : createHash("sha256").update(options.token).digest();
  const authorized = (request: IncomingMessage): boolean => {
    if (!tokenDigest) return true;
    const header = request.headers.authorization ?? "";
    const given = /^Bearer (.+)$/i.exec(header)?.[1] ?? "";
    // Comparing digests of equal length in constant time: no timing hint about the token.
    return timingSafeEqual(createHash("sha256").update(given).digest(), tokenDigest);
  };
  const maxBody = options.maxBodyBytes ?? MAX_BODY;

  const readJson = async (request: IncomingMessage): Promise<unknown> => {
    const notJson = jsonContentTypeProblem(request.headers["content-type"]);
    if (notJson !== undefined) throw new HttpError(415, "unsupported_media_type", notJson);
    const declared = Number(request.headers["content-length"] ?? 0);
    if (declared > maxBody)
      throw new HttpError(413, "body_too_large", `the body is over ${maxBody} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBody)
        throw new HttpError(413, "body_too_large", `the body is over ${maxBody} bytes`);
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    if (text.trim() === "")
      throw new HttpError(400, "invalid_json", "the body is empty; send JSON");
    if (nestsDeeperThan(text))
      throw new HttpError(
        400,
        "invalid_json",
        `the body nests arrays and objects more than ${MAX_JSON_DEPTH} deep`,
      );
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new HttpError(
        400,
        "invalid_json",
        `the body is not valid JSON: ${(error as Error).message}`,
      );
    }
  };

  const appendEvents = async (events: PromptEvent[]) => {
    await usage.append(events.map((event) => JSON.stringify(event)));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (guard.screen(request, response)) return;
    // Split by hand: a full URL parse costs more than serving a 304.
    const target = request.url ?? "/";
    const queryAt = target.indexOf("?");
    const path = queryAt === -1 ? target : target.slice(0, queryAt);
    // Made only for the routes that read it: most requests (the bundle's) have no query.
    let parsedQuery: URLSearchParams | undefined;
    const query = () =>
      (parsedQuery ??= new URLSearchParams(queryAt === -1 ? "" : target.slice(queryAt + 1)));
    const method = request.method ?? "GET";
    const allow = (...listed: string[]) => {
      // HEAD is GET without the body (Node leaves the body out): every GET route answers it.
      const methods =
        listed.includes("GET") && !listed.includes("HEAD") ? [...listed, "HEAD"] : listed;
      if (!methods.includes(method)) {
        response.setHeader("allow", methods.join(", "));
        throw new HttpError(
          405,
          "method_not_allowed",
          `${method} is not allowed on ${path}; use ${methods.join(" or ")}`,
        );
      }
    };
    if (path === "/healthz") {
      allow("GET", "HEAD");
      const storage = usage.health;
      sendJson(response, 200, {
        // Still 200: the last good prompts are served; `ok` says whether they are current and
        // whether usage is being recorded.
        ok: lastError === null && storage.ok,
        hash: snapshot.hash,
        prompts: snapshot.prompts.size,
        last_error:
          lastError?.message ?? (storage.error === null ? null : `usage log: ${storage.error}`),
        usage: storage,
      });
      return;
    }
    if (!path.startsWith("/v1/")) throw new HttpError(404, "not_found", `no route ${path}`);
    if (!authorized(request)) {
      response.setHeader("www-authenticate", 'Bearer realm="prompts"');
      throw new HttpError(401, "unauthorized", "this server needs Authorization: Bearer <token>");
    }
    if (path === "/v1/bundle") {
      allow("GET", "HEAD");
      const current = snapshot;
      response.setHeader("etag", current.etag);
      response.setHeader("cache-control", "no-cache");
      response.appendHeader("vary", "accept-encoding");
      if (matchesEtag(request.headers["if-none-match"], current.etag)) {
        response.writeHead(304).end();
        return;
      }
      const gzip = /\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""));
      const body = gzip ? current.gzipped() : current.bundle();
      response.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "content-length": body.length,
        ...(gzip ? { "content-encoding": "gzip" } : {}),
      });
      response.end(method === "HEAD" ? undefined : body);
      return;
    }
    if (path === "/v1/prompts") {
      allow("GET");
      const flat = query().get("format") === "flat";
      sendBody(response, 200, snapshot.listBody(flat));
      return;
    }
    if (path.startsWith("/v1/prompts/")) {
      const rest = decodeURIComponentSafe(path.slice("/v1/prompts/".length));
      const isRender = rest.endsWith("/render");
      const name = isRender ? rest.slice(0, -"/render".length) : rest;
      // The name only ever looks up the in-memory snapshot; it never becomes a path.
      if (!PROMPT_NAME_PATTERN.test(name))
        throw new HttpError(404, "prompt_not_found", `no prompt named ${JSON.stringify(name)}`);
      const current = snapshot;
      const prompt = current.prompts.get(name);
      if (!prompt) throw new HttpError(404, "prompt_not_found", `no prompt named "${name}"`);
      if (!isRender) {
        allow("GET");
        sendJson(response, 200, { name, ...toBundlePrompt(prompt) });
        return;
      }
      allow("POST");
      const body = await readJson(request);
      if (!isPlainObject(body))
        throw new HttpError(
          400,
          "invalid_request",
          "the body must be an object: {variables, variant?, unit?, metadata?}",
        );
      const variables = body.variables ?? {};
      if (!isPlainObject(variables))
        throw new HttpError(400, "invalid_request", "variables: must be an object");
      for (const field of ["variant", "unit", "call_site"] as const) {
        if (body[field] !== undefined && typeof body[field] !== "string")
          throw new HttpError(400, "invalid_request", `${field}: must be a string`);
      }
      if (body.metadata !== undefined && !isPlainObject(body.metadata))
        throw new HttpError(400, "invalid_request", "metadata: must be an object");
      const unit = body.unit as string | undefined;
      const variant =
        (body.variant as string | undefined) ?? chooseVariant(name, prompt.variants, unit);
      let result;
      try {
        result = renderPrompt(current.prompts, name, variables, { variant });
      } catch (error) {
        if (error instanceof PromptsError)
          throw new HttpError(400, "invalid_variables", error.message);
        throw error;
      }
      const usageId = randomUUID();
      const event: PromptEvent = {
        type: "usage",
        id: usageId,
        ts: new Date().toISOString(),
        name,
        version: result.version,
        variant: result.variant,
        ...(unit === undefined ? {} : { unit }),
        ...(body.call_site === undefined ? {} : { call_site: body.call_site as string }),
        input: variables,
        ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
      };
      // The prompt is what the caller needs: a log that cannot be written does not cost it.
      try {
        await appendEvents([event]);
      } catch (error) {
        if (!(error instanceof UsageStorageError)) throw error;
        sendJson(response, 200, {
          ...result,
          usage_id: null,
          warning: `usage not logged: ${error.message}`,
        });
        return;
      }
      sendJson(response, 200, { ...result, usage_id: usageId });
      return;
    }
    if (path === "/v1/events") {
      allow("GET");
      response.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      if (method === "HEAD") {
        response.end();
        return;
      }
      response.write(
        `retry: 1000\nevent: bundle\ndata: ${JSON.stringify({ hash: snapshot.hash, changed: [] })}\n\n`,
      );
      if (lastError)
        response.write(
          `event: invalid\ndata: ${JSON.stringify({ message: lastError.message, errors: lastError.issues })}\n\n`,
        );
      streams.add(response);
      request.socket.setTimeout(0);
      request.on("close", () => streams.delete(response));
      return;
    }
    if (path === "/v1/usage") {
      allow("POST");
      const checked = checkUsageBody(await readJson(request));
      if ("problem" in checked) {
        sendJson(response, 400, {
          error: { code: "invalid_event", message: checked.problem },
          ...(checked.rejected === undefined ? {} : { rejected: checked.rejected }),
        });
        return;
      }
      const { events, rejected } = checked;
      // 202 only once the events are on disk: an accepted event is never lost.
      try {
        await appendEvents(events);
      } catch (error) {
        if (!(error instanceof UsageStorageError)) throw error;
        // The client keeps the events and sends them again.
        response.setHeader("retry-after", String(STORAGE_RETRY_AFTER_S));
        throw new HttpError(503, "storage_unavailable", error.message);
      }
      sendJson(response, 202, {
        accepted: events.length,
        ids: events.map((event) => event.id),
        rejected,
      });
      return;
    }
    if (path === "/v1/stats") {
      allow("GET");
      const by = query().get("by") ?? "version";
      if (by !== "version" && by !== "variant") {
        throw new HttpError(400, "invalid_request", `by: must be version or variant, got "${by}"`);
      }
      const options: StatsOptions = { by };
      for (const field of ["name", "since", "until"] as const) {
        const value = query().get(field);
        if (value === null || value === "") continue;
        if (field !== "name" && parseIsoDate(value) === undefined)
          throw new HttpError(
            400,
            "invalid_request",
            `${field}: must be an ISO 8601 date (${ISO_DATE_EXAMPLE}), got ${JSON.stringify(value)}`,
          );
        options[field] = value;
      }
      Object.assign(options, statsMethodQuery(query()));
      // The split is checked against the weights of what this server serves.
      if (by === "variant") {
        const named = options.name === undefined ? undefined : snapshot.prompts.get(options.name);
        options.splits = declaredSplits(
          options.name === undefined ? snapshot.prompts.values() : named ? [named] : [],
        );
      }
      // Events the log is still writing are in it once acknowledged: the report sees them all.
      try {
        sendJson(response, 200, await usageStats(root, options));
      } catch (error) {
        if (error instanceof PromptsError)
          throw new HttpError(400, "invalid_request", error.message);
        throw error;
      }
      return;
    }
    throw new HttpError(404, "not_found", `no route ${path}`);
  };

  let closing: Promise<void> | undefined;
  const httpOptions = timeoutOptions(options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS);
  const server = createHttpServer(httpOptions, (request, response) => {
    // While stopping, a keep-alive client must not go on sending on this connection.
    if (closing) response.setHeader("connection", "close");
    if (options.verbose) {
      const started = performance.now();
      response.once("finish", () =>
        log(
          `${request.method} ${request.url} ${response.statusCode} ${(performance.now() - started).toFixed(1)}ms`,
        ),
      );
    }
    handle(request, response).catch((error: unknown) => {
      // A client that went away (an aborted upload, a closed tab) has nobody to hear an answer,
      // and is not the server's error.
      if (response.headersSent || response.socket?.destroyed !== false) {
        response.destroy();
        return;
      }
      if (error instanceof HttpError) {
        // The body was left unread: the connection cannot carry another request.
        if (error.status === 413 || error.status === 415) response.setHeader("connection", "close");
        sendJson(response, error.status, { error: { code: error.code, message: error.message } });
        return;
      }
      const failure = systemFailure(error, root);
      if (failure) {
        // A full disk, a read-only folder: what it is, not an "internal error" with a stack.
        log(`✗ ${request.method} ${request.url}: ${failure.message}`);
        sendJson(response, failure.status, {
          error: { code: failure.code, message: failure.message },
        });
        return;
      }
      log(
        `✗ ${request.method} ${request.url}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      sendJson(response, 500, {
        error: { code: "internal", message: "internal error (see the server's log)" },
      });
    });
  });
  // Slow or stalled clients cannot hold connections open forever, nor many of them at once.
  server.keepAliveTimeout = 5_000;
  limitConnections(server, options.maxConnections ?? MAX_CONNECTIONS);

  const host = options.host ?? "127.0.0.1";
  try {
    await listen(server, options.port ?? DEFAULT_PORT, host);
  } catch (error) {
    // Nothing may keep the process alive once it has failed to start: the watcher goes too.
    await stopSource();
    await usage.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const heartbeat = setInterval(() => {
    for (const stream of streams) writeEvent(stream, ": ping\n\n", dropSlowStream);
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    url: `http://${shownHost}:${address.port}`,
    get snapshot() {
      return snapshot;
    },
    close: () =>
      (closing ??= (async () => {
        clearInterval(heartbeat);
        await stopSource();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const stream of streams) stream.end();
        streams.clear();
        // Idle keep-alive connections go now, busy ones as soon as their response is out;
        // past a deadline, whatever is left is cut.
        server.closeIdleConnections();
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        const deadline = setTimeout(() => server.closeAllConnections(), CLOSE_DEADLINE_MS);
        await closed;
        clearInterval(sweep);
        clearTimeout(deadline);
        await usage.close();
      })()),
  };
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  sendBody(response, status, Buffer.from(JSON.stringify(value)));
}

function sendBody(response: ServerResponse, status: number, body: Buffer): void {
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": body.length,
  });
  response.end(body);
}

function matchesEtag(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const values = (Array.isArray(header) ? header.join(",") : header)
    .split(",")
    .map((value) => value.trim().replace(/^W\//, ""));
  return values.includes(etag) || values.includes("*");
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return "\0";
  }
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

/**
 * The `/v1/stats` query parameters of the statistics themselves: `method`, `correction`, and
 * `lift` (which asks for the plan), checked, each error naming its parameter.
 */
function statsMethodQuery(query: URLSearchParams): Partial<StatsOptions> {
  const options: Partial<StatsOptions> = {};
  const method = query.get("method");
  if (method !== null && method !== "") {
    if (method !== "always-valid" && method !== "fixed") {
      throw new HttpError(
        400,
        "invalid_request",
        `method: must be always-valid or fixed, got "${method}"`,
      );
    }
    options.method = method;
  }
  const correction = query.get("correction");
  if (correction !== null && correction !== "") {
    if (correction !== "holm" && correction !== "none") {
      throw new HttpError(
        400,
        "invalid_request",
        `correction: must be holm or none, got "${correction}"`,
      );
    }
    options.correction = correction;
  }
  const lift = query.get("lift");
  if (lift !== null && lift !== "") {
    const value = Number(lift);
    if (!Number.isFinite(value) || value === 0) {
      throw new HttpError(
        400,
        "invalid_request",
        `lift: must be a non-zero number such as 0.05, got "${lift}"`,
      );
    }
    options.plan = { lift: value };
  }
  return options;
}
