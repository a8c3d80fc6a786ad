import { createHash, timingSafeEqual } from "node:crypto";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { PromptsError } from "../errors.js";
import { findRoot } from "../store/config.js";
import {
  HEADERS_TIMEOUT_MS,
  limitConnections,
  MAX_CONNECTIONS,
  timeoutOptions,
} from "./connections.js";
import { systemFailure } from "./failure.js";
import { HttpError, sendJson } from "./http.js";
import { listen } from "./listen.js";
import { RequestGuard } from "./request-guard.js";
import { createRequestHandler } from "./routes.js";
import { ServedPrompts } from "./served-prompts.js";
import type { Snapshot } from "./snapshot.js";
import { UsageLog } from "./usage-log.js";
import { WebPage } from "./web-page.js";

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
  /** The built web page's folder (default: the package's `dist/web`). */
  webDir?: string;
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

/**
 * Starts `prompts serve`: the bundle and the prompts over HTTP, hot-reloaded, with usage ingest.
 * What is served and its reloads live in served-prompts.ts, the routes in routes.ts, the usage
 * log in usage-log.ts: this wires them to an HTTP server and stops them in order.
 */
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
  // Read before anything is started that would need stopping if it failed.
  const page = await WebPage.load(options.webDir);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const usage = UsageLog.forRoot(root, {
    onHealthChange: (error) =>
      log(
        error
          ? `✗ usage log: ${error.message}; /v1/usage answers 503 and renders go unlogged until a write succeeds`
          : "✓ usage log: writing again",
      ),
  });
  const served = await ServedPrompts.open(
    {
      root,
      ...(options.dir === undefined ? {} : { dir: options.dir }),
      ...(options.ref === undefined ? {} : { ref: options.ref }),
      debounceMs: options.debounceMs ?? 25,
      refPollMs: options.refPollMs ?? 1000,
    },
    log,
  );
  const handle = createRequestHandler({
    root,
    ...(options.dir === undefined ? {} : { dir: options.dir }),
    served,
    usage,
    guard,
    authorized: tokenCheck(options.token),
    maxBody: options.maxBodyBytes ?? MAX_BODY,
    page,
  });

  let closing: Promise<void> | undefined;
  const httpOptions = timeoutOptions(options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS);
  const server = createHttpServer(httpOptions, (request, response) => {
    // While stopping, a keep-alive client must not go on sending on this connection.
    if (closing) response.setHeader("connection", "close");
    if (options.verbose) logWhenAnswered(request, response, log);
    handle(request, response).catch((error: unknown) =>
      answerFailure(request, response, error, root, log),
    );
  });
  // Slow or stalled clients cannot hold connections open forever, nor many of them at once.
  server.keepAliveTimeout = 5_000;
  limitConnections(server, options.maxConnections ?? MAX_CONNECTIONS);

  const host = options.host ?? "127.0.0.1";
  try {
    await listen(server, options.port ?? DEFAULT_PORT, host);
  } catch (error) {
    // Nothing may keep the process alive once it has failed to start: the watcher goes too.
    await served.stopSource();
    await usage.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const heartbeat = setInterval(() => served.ping(), HEARTBEAT_MS);
  heartbeat.unref();

  return {
    url: `http://${shownHost}:${address.port}`,
    get snapshot() {
      return served.snapshot;
    },
    close: () => {
      clearInterval(heartbeat);
      return (closing ??= stopGracefully(server, served, usage));
    },
  };
}

/**
 * Stops the source, then the server: idle keep-alive connections go now, busy ones as soon as
 * their response is out; past a deadline, whatever is left is cut. The usage log is flushed last.
 */
async function stopGracefully(
  server: Server,
  served: ServedPrompts,
  usage: UsageLog,
): Promise<void> {
  await served.stopSource();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  served.endStreams();
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  const deadline = setTimeout(() => server.closeAllConnections(), CLOSE_DEADLINE_MS);
  await closed;
  clearInterval(sweep);
  clearTimeout(deadline);
  await usage.close();
}

/** Logs a request's method, URL, status and time once it is answered (`--verbose`). */
function logWhenAnswered(
  request: IncomingMessage,
  response: ServerResponse,
  log: (line: string) => void,
): void {
  const started = performance.now();
  response.once("finish", () =>
    log(
      `${request.method} ${request.url} ${response.statusCode} ${(performance.now() - started).toFixed(1)}ms`,
    ),
  );
}

/** Answers a request whose handling threw: with the error's status, or 500 for a bug. */
function answerFailure(
  request: IncomingMessage,
  response: ServerResponse,
  error: unknown,
  root: string,
  log: (line: string) => void,
): void {
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
    sendJson(response, failure.status, { error: { code: failure.code, message: failure.message } });
    return;
  }
  log(
    `✗ ${request.method} ${request.url}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  sendJson(response, 500, {
    error: { code: "internal", message: "internal error (see the server's log)" },
  });
}

/** Whether a request carries the token, compared in constant time; every request without one. */
function tokenCheck(token: string | undefined): (request: IncomingMessage) => boolean {
  if (token === undefined) return () => true;
  const tokenDigest = createHash("sha256").update(token).digest();
  return (request) => {
    const header = request.headers.authorization ?? "";
    const given = /^Bearer (.+)$/i.exec(header)?.[1] ?? "";
    // Comparing digests of equal length: no timing hint about the token.
    return timingSafeEqual(createHash("sha256").update(given).digest(), tokenDigest);
  };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}
