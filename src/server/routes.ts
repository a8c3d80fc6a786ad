import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { toBundlePrompt } from "../core/bundle.js";
import { ISO_DATE_EXAMPLE, parseIsoDate } from "../core/iso-date.js";
import { isPlainObject } from "../core/json.js";
import { PROMPT_NAME_PATTERN } from "../core/names.js";
import { renderPrompt } from "../core/render.js";
import { declaredSplits, type StatsOptions } from "../core/stats.js";
import { checkUsageBody, type PromptEvent } from "../core/usage.js";
import { chooseVariant } from "../core/variants.js";
import { PromptsError } from "../errors.js";
import { usageStats } from "../store/usage-store.js";
import {
  decodeURIComponentSafe,
  HttpError,
  matchesEtag,
  readJsonBody,
  sendBody,
  sendJson,
} from "./http.js";
import { gitRoute } from "./git-routes.js";
import type { RequestGuard } from "./request-guard.js";
import type { ServedPrompts } from "./served-prompts.js";
import { promptKind } from "./snapshot.js";
import type { WebPage } from "./web-page.js";
import { type UsageLog, UsageStorageError } from "./usage-log.js";

/** When a client should send events again after a storage failure, in seconds. */
const STORAGE_RETRY_AFTER_S = 5;

/** What the routes answer from. */
export interface RouteContext {
  root: string;
  /** The prompt directory relative to the root, when the server was given one. */
  dir?: string;
  served: ServedPrompts;
  usage: UsageLog;
  guard: RequestGuard;
  /** True when the request carries the server's token (or the server has none). */
  authorized(request: IncomingMessage): boolean;
  /** Largest request body accepted, in bytes. */
  maxBody: number;
  /** The web page and its assets. */
  page: WebPage;
}

/** One request, as a route reads it. */
export interface Exchange {
  request: IncomingMessage;
  response: ServerResponse;
  path: string;
  method: string;
  /** The query parameters, parsed when first asked for. */
  query: () => URLSearchParams;
  /** Refuses the request with 405 unless its method is one of these (GET allows HEAD). */
  allow: (...methods: string[]) => void;
}

/** The HTTP API: `/healthz`, the `/v1` routes, and the web page. Errors are thrown as {@link HttpError}. */
export function createRequestHandler(
  context: RouteContext,
): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  return async (request, response) => {
    if (context.guard.screen(request, response)) return;
    response.setHeader("x-content-type-options", "nosniff");
    const exchange = exchangeOf(request, response);
    const { path } = exchange;
    if (!path.startsWith("/v1/")) {
      if (path === "/healthz") return health(context, exchange);
      if (context.page.answer(request, response, path)) return;
      throw new HttpError(404, "not_found", `no route ${path}`);
    }
    if (!context.authorized(request)) {
      response.setHeader("www-authenticate", 'Bearer realm="prompts"');
      throw new HttpError(401, "unauthorized", "this server needs Authorization: Bearer <token>");
    }
    if (path === "/v1/bundle") return bundle(context, exchange);
    if (path === "/v1/prompts") {
      exchange.allow("GET");
      const flat = exchange.query().get("format") === "flat";
      const list = context.served.snapshot.listBody(flat);
      if (flat) return sendBody(response, 200, list);
      // The list is kept as bytes per snapshot; the issues change without it (an edit that
      // breaks a file keeps the last good prompts), so they are joined in at each request.
      const issues = Buffer.from(`,"issues":${JSON.stringify(context.served.issues)}}`);
      return sendBody(response, 200, [list.subarray(0, -1), issues]);
    }
    if (path.startsWith("/v1/prompts/")) return prompt(context, exchange);
    if (path === "/v1/events") return events(context, exchange);
    if (path === "/v1/usage") return usage(context, exchange);
    if (path === "/v1/stats") return stats(context, exchange);
    if (await gitRoute(context, exchange)) return;
    throw new HttpError(404, "not_found", `no route ${path}`);
  };
}

function exchangeOf(request: IncomingMessage, response: ServerResponse): Exchange {
  // Split by hand: a full URL parse costs more than serving a 304.
  const target = request.url ?? "/";
  const queryAt = target.indexOf("?");
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  // Made only for the routes that read it: most requests (the bundle's) have no query.
  let parsedQuery: URLSearchParams | undefined;
  const method = request.method ?? "GET";
  return {
    request,
    response,
    path,
    method,
    query: () =>
      (parsedQuery ??= new URLSearchParams(queryAt === -1 ? "" : target.slice(queryAt + 1))),
    allow: (...listed) => {
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
    },
  };
}

function health({ served, usage }: RouteContext, { response, allow }: Exchange): void {
  allow("GET", "HEAD");
  const storage = usage.health;
  const { snapshot, lastError } = served;
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
}

function bundle({ served }: RouteContext, { request, response, method, allow }: Exchange): void {
  allow("GET", "HEAD");
  const current = served.snapshot;
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
}

/** `GET /v1/prompts/NAME` and `POST /v1/prompts/NAME/render`. */
async function prompt(context: RouteContext, exchange: Exchange): Promise<void> {
  const { response, path, allow } = exchange;
  const rest = decodeURIComponentSafe(path.slice("/v1/prompts/".length));
  const isRender = rest.endsWith("/render");
  const name = isRender ? rest.slice(0, -"/render".length) : rest;
  // The name only ever looks up the in-memory snapshot; it never becomes a path.
  if (!PROMPT_NAME_PATTERN.test(name))
    throw new HttpError(404, "prompt_not_found", `no prompt named ${JSON.stringify(name)}`);
  const current = context.served.snapshot;
  const found = current.prompts.get(name);
  if (!found) throw new HttpError(404, "prompt_not_found", `no prompt named "${name}"`);
  if (!isRender) {
    allow("GET");
    sendJson(response, 200, {
      name,
      kind: promptKind(found),
      file: found.file,
      ...toBundlePrompt(found),
    });
    return;
  }
  allow("POST");
  const body = await readJsonBody(exchange.request, context.maxBody);
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
  if (body.log !== undefined && typeof body.log !== "boolean")
    throw new HttpError(400, "invalid_request", "log: must be a boolean");
  const unit = body.unit as string | undefined;
  const variant = (body.variant as string | undefined) ?? chooseVariant(name, found.variants, unit);
  let result;
  try {
    result = renderPrompt(current.prompts, name, variables, { variant });
  } catch (error) {
    if (error instanceof PromptsError) throw new HttpError(400, "invalid_variables", error.message);
    throw error;
  }
  // A try-out (the page's playground) is no usage of the prompt: nothing is logged.
  if (body.log === false) {
    sendJson(response, 200, { ...result, usage_id: null });
    return;
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
    await appendEvents(context.usage, [event]);
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
}

function events({ served }: RouteContext, { request, response, method, allow }: Exchange): void {
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
    `retry: 1000\nevent: bundle\ndata: ${JSON.stringify({ hash: served.snapshot.hash, changed: [] })}\n\n`,
  );
  const { lastError } = served;
  if (lastError)
    response.write(
      `event: invalid\ndata: ${JSON.stringify({ message: lastError.message, errors: lastError.issues })}\n\n`,
    );
  served.subscribe(request, response);
  request.socket.setTimeout(0);
}

async function usage(context: RouteContext, { request, response, allow }: Exchange): Promise<void> {
  allow("POST");
  const checked = checkUsageBody(await readJsonBody(request, context.maxBody));
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
    await appendEvents(context.usage, events);
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
}

function appendEvents(log: UsageLog, events: readonly PromptEvent[]): Promise<void> {
  return log.append(events.map((event) => JSON.stringify(event)));
}

async function stats(context: RouteContext, { response, query, allow }: Exchange): Promise<void> {
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
  const series = query().get("series");
  if (series !== null && series !== "") {
    if (series !== "day")
      throw new HttpError(
        400,
        "invalid_request",
        `series: must be day, got ${JSON.stringify(series)}`,
      );
    options.series = series;
  }
  // The split is checked against the weights of what this server serves.
  if (by === "variant") {
    const { snapshot } = context.served;
    const named = options.name === undefined ? undefined : snapshot.prompts.get(options.name);
    options.splits = declaredSplits(
      options.name === undefined ? snapshot.prompts.values() : named ? [named] : [],
    );
  }
  // Events the log is still writing are in it once acknowledged: the report sees them all.
  try {
    sendJson(response, 200, await usageStats(context.root, options));
  } catch (error) {
    if (error instanceof PromptsError) throw new HttpError(400, "invalid_request", error.message);
    throw error;
  }
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
