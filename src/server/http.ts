import type { IncomingMessage, ServerResponse } from "node:http";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "./json-body.js";
import { jsonContentTypeProblem } from "./request-guard.js";

/** An error a route answers with: its HTTP status and a stable `code` for the JSON body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Answers with a JSON value. */
export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  sendBody(response, status, Buffer.from(JSON.stringify(value)));
}

/** Answers with JSON already serialized. */
export function sendBody(
  response: ServerResponse,
  status: number,
  body: Buffer | readonly Buffer[],
): void {
  // Parts are written one after the other: a large body put together per request is not copied.
  const parts = Buffer.isBuffer(body) ? [body] : body;
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": parts.reduce((length, part) => length + part.length, 0),
  });
  for (const part of parts.slice(0, -1)) response.write(part);
  response.end(parts.at(-1));
}

/** True when an `If-None-Match` header names this entity tag (or `*`). */
export function matchesEtag(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const values = (Array.isArray(header) ? header.join(",") : header)
    .split(",")
    .map((value) => value.trim().replace(/^W\//, ""));
  return values.includes(etag) || values.includes("*");
}

/** A path segment decoded, or a NUL (which no name holds) when it cannot be. */
export function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return "\0";
  }
}

/**
 * The JSON body of a request, refused with the status that says why: not JSON (415), over
 * `maxBody` bytes (413), empty, nested too deep or malformed (400).
 */
export async function readJsonBody(request: IncomingMessage, maxBody: number): Promise<unknown> {
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
  if (text.trim() === "") throw new HttpError(400, "invalid_json", "the body is empty; send JSON");
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
}
