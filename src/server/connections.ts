import type { Server, ServerOptions } from "node:http";
import type { Socket } from "node:net";

/** Time a client gets to send a request's headers (the default of `headersTimeoutMs`). */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Time a client gets to send a whole request. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Connections held at once (the default of `maxConnections`). */
export const MAX_CONNECTIONS = 1000;
/** How long a refused connection may take to read its 503 before it is cut. */
const REFUSED_LINGER_MS = 1000;

/**
 * Options of the HTTP server for its time limits. Node checks them only every
 * `connectionsCheckingInterval` (30 s by default), so a client dribbling a header line a second
 * was held 30 s instead of 10: the check runs at a quarter of the headers timeout, at most 1 s.
 */
export function timeoutOptions(headersTimeoutMs: number): ServerOptions {
  return {
    headersTimeout: headersTimeoutMs,
    requestTimeout: Math.max(REQUEST_TIMEOUT_MS, headersTimeoutMs),
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
  };
}

/**
 * Holds at most `max` connections: one more is answered `503` with `connection: close` before
 * it is read, and closed, so that many idle or half-open sockets cannot exhaust the server.
 * Event streams count: each holds its connection.
 */
export function limitConnections(server: Server, max: number): void {
  const open = new Set<Socket>();
  // The HTTP server reads every socket it is given: a refused one must never reach it, so its
  // own listener is called from here, for the sockets under the limit only.
  const httpListeners = server.listeners("connection") as ((socket: Socket) => void)[];
  server.removeAllListeners("connection");
  server.on("connection", (socket: Socket) => {
    if (open.size >= max) {
      refuse(socket, max);
      return;
    }
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    for (const listener of httpListeners) listener.call(server, socket);
  });
  // Refused sockets linger a moment to read their answer; past twice the limit, a connection
  // is closed at once, without one, so a flood cannot pile them up either.
  server.maxConnections = max * 2;
}

function refuse(socket: Socket, max: number): void {
  const body = JSON.stringify({
    error: {
      code: "too_many_connections",
      message: `the server holds its limit of ${max} connections (--max-connections); retry shortly`,
    },
  });
  socket.on("error", () => socket.destroy());
  socket.setTimeout(REFUSED_LINGER_MS, () => socket.destroy());
  socket.end(
    "HTTP/1.1 503 Service Unavailable\r\n" +
      "content-type: application/json; charset=utf-8\r\n" +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      "retry-after: 1\r\nconnection: close\r\n\r\n" +
      body,
  );
  // What the client sent is read and dropped: closing with it unread would be a reset, which
  // can make the client lose the 503 before it reads it.
  socket.resume();
  socket.once("end", () => socket.destroy());
}
