import { isIP } from "node:net";
import { hostname as machineName } from "node:os";
import type { IncomingMessage, ServerResponse } from "node:http";
import { PromptsError } from "../errors.js";

/** Options of {@link RequestGuard}. */
export interface RequestGuardOptions {
  /** The interface the server binds, as given (`127.0.0.1`, `0.0.0.0`, `::1`, a name). */
  host: string;
  /** More names a `Host` header may give (`--allowed-host`). */
  allowedHosts?: readonly string[];
  /** Origins whose pages may call the API (`--cors`); none by default. */
  corsOrigins?: readonly string[];
}

/** What a browser may send across origins once a preflight allowed it. */
const CORS_METHODS = "GET, HEAD, POST";
const CORS_HEADERS = "authorization, content-type";
const CORS_MAX_AGE_S = 600;
const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1"];
const WILDCARDS = new Set(["0.0.0.0", "::"]);

/**
 * The checks every request passes before it is routed: its `Host` must name this server, so a
 * page that rebinds its own DNS name to 127.0.0.1 cannot read the prompts; a browser's request
 * for another site's page is refused unless it is the user's own navigation; and pages of the
 * origins given with `--cors` get their CORS headers and preflights answered.
 */
export class RequestGuard {
  private readonly hosts = new Set<string>();
  private readonly anyAddress: boolean;
  private readonly origins: ReadonlySet<string>;

  /** Throws a usage error naming the option when a host or an origin is malformed. */
  constructor(options: RequestGuardOptions) {
    const bound = normalizeHost(options.host);
    if (bound === undefined)
      throw new PromptsError("E_USAGE", `--host takes an address or a name, got "${options.host}"`);
    for (const name of [...LOOPBACK_NAMES, bound]) this.hosts.add(name);
    // An IP address in Host cannot be rebound to us by someone else's DNS; a server on all
    // interfaces is reached by any of the machine's addresses, and by the machine's name.
    this.anyAddress = WILDCARDS.has(bound);
    const machine = normalizeHost(machineName());
    if (!isLoopbackHost(bound) && machine !== undefined) this.hosts.add(machine);
    for (const name of options.allowedHosts ?? []) {
      const allowed = normalizeHost(name);
      if (allowed === undefined)
        throw new PromptsError(
          "E_USAGE",
          `--allowed-host takes a host name such as prompts.internal, got "${name}"`,
        );
      this.hosts.add(allowed);
    }
    this.origins = new Set((options.corsOrigins ?? []).map(checkOrigin));
  }

  /**
   * Screens a request: answers it when its Host is refused or it is a CORS preflight of an
   * allowed origin (returns true, the request is done), else adds its CORS headers and returns
   * false for the routes to answer.
   */
  screen(request: IncomingMessage, response: ServerResponse): boolean {
    const host = request.headers.host;
    // Browsers always send Host: a request without one (HTTP/1.0) is no page's doing.
    if (host !== undefined && !this.allowsHost(host)) {
      const shown = JSON.stringify(host.length > 100 ? `${host.slice(0, 100)}…` : host);
      const name = normalizeHost(host, true) ?? "NAME";
      sendError(
        response,
        421,
        "host_not_allowed",
        `Host ${shown} does not name this server (start it with --allowed-host ${name} to allow it)`,
      );
      return true;
    }
    const crossSite = this.crossSiteProblem(request);
    if (crossSite !== undefined) {
      sendError(response, 403, "cross_site_refused", crossSite);
      return true;
    }
    if (this.origins.size === 0) return false;
    // The answer depends on the origin: caches must keep one per origin.
    response.setHeader("vary", "origin");
    const origin = request.headers.origin;
    if (origin === undefined || !this.origins.has(origin)) return false;
    response.setHeader("access-control-allow-origin", origin);
    response.setHeader("access-control-expose-headers", "etag");
    if (request.method === "OPTIONS" && request.headers["access-control-request-method"]) {
      response.writeHead(204, {
        "access-control-allow-methods": CORS_METHODS,
        "access-control-allow-headers": CORS_HEADERS,
        "access-control-max-age": String(CORS_MAX_AGE_S),
      });
      response.end();
      return true;
    }
    return false;
  }

  /**
   * Why a request a browser sent for another site's page is refused, if it is. Browsers say
   * where a request comes from (`Sec-Fetch-Site`): another site's page may still make the
   * browser send GETs without reading the answers (an image, a no-cors fetch) — each could make
   * this server diff 10,000 prompts. Only the user's own navigations (a pasted or clicked link,
   * GET) and the `--cors` origins get through; requests without the header are no browser's.
   */
  private crossSiteProblem(request: IncomingMessage): string | undefined {
    const site = request.headers["sec-fetch-site"];
    if (site === undefined || site === "same-origin" || site === "none") return undefined;
    const navigation =
      request.headers["sec-fetch-mode"] === "navigate" &&
      (request.method === "GET" || request.method === "HEAD");
    if (navigation) return undefined;
    const origin = request.headers.origin;
    if (origin !== undefined && this.origins.has(origin)) return undefined;
    return `a request from another site's page is refused (${origin === undefined ? "no origin" : `origin ${JSON.stringify(origin.slice(0, 100))}`}; start the server with --cors ORIGIN to allow one)`;
  }

  private allowsHost(header: string): boolean {
    const name = normalizeHost(header, true);
    if (name === undefined) return false;
    return this.hosts.has(name) || (this.anyAddress && isIP(name) !== 0);
  }
}

/**
 * Why a request's `content-type` is not JSON, or undefined when it is (`application/json`,
 * optionally with `charset=utf-8`). Pages can post `text/plain` across origins without asking
 * the server first; only JSON bodies are accepted, so they cannot.
 */
export function jsonContentTypeProblem(header: string | undefined): string | undefined {
  const [type = "", ...parameters] = (header ?? "").split(";").map((part) => part.trim());
  const utf8 = parameters.every(
    (parameter) =>
      parameter === "" || /^charset=(?:utf-8|"utf-8")$/i.test(parameter.replace(/\s*=\s*/, "=")),
  );
  if (type.toLowerCase() === "application/json" && utf8) return undefined;
  const given = header === undefined ? "none" : JSON.stringify(header.slice(0, 100));
  return `send the body as JSON with content-type: application/json (got ${given})`;
}

/**
 * The host name of a Host header (or of `--host`/`--allowed-host`), lowercase, without port,
 * brackets or a final dot, IP addresses in their usual form; undefined when it is malformed.
 */
function normalizeHost(text: string, withPort = false): string | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9_.-]+))(?::(\d{1,5}))?$/.exec(text.trim());
  if (!match || (match[3] !== undefined && !withPort)) {
    // `--host ::1` names an IPv6 address without brackets.
    return !withPort && isIP(text) === 6 ? canonicalHost(`[${text}]`) : undefined;
  }
  if (match[1] !== undefined)
    return isIP(match[1]) === 6 ? canonicalHost(`[${match[1]}]`) : undefined;
  const name = (match[2] ?? "").toLowerCase().replace(/\.$/, "");
  return name === "" ? undefined : canonicalHost(name);
}

/** `[0:0::1]` → `::1`, `127.1` → `127.0.0.1`: one spelling per address, as browsers send it. */
function canonicalHost(host: string): string | undefined {
  try {
    const name = new URL(`http://${host}/`).hostname;
    return name.startsWith("[") ? name.slice(1, -1) : name;
  } catch {
    return undefined;
  }
}

function isLoopbackHost(name: string): boolean {
  return LOOPBACK_NAMES.includes(name) || name.startsWith("127.");
}

function checkOrigin(origin: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(origin);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
    throw new PromptsError(
      "E_USAGE",
      `--cors takes an origin such as https://app.example or http://localhost:3000 (scheme, host and port, no path), got "${origin}"`,
    );
  }
  return origin;
}

function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  const body = Buffer.from(JSON.stringify({ error: { code, message } }));
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": body.length,
  });
  response.end(body);
}
