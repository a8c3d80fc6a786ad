import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type PromptServer, type ServeOptions } from "../src/server/app.js";
import { cli, git, gitRepo, tempDir, waitUntil, writeFiles } from "./helpers.js";
import { ANSWERER, GREETING, PLANNER } from "./sample-prompts.js";

/** A partial, included by {@link CALLER}. */
const TOOL_RULES = `description: Rules shared by tool-calling prompts.
template: Call at most one tool per step.
`;

const CALLER = `description: Picks the next tool.
variables:
  user_query: string
template: |
  Rules: {{> shared/tool_rules}}
  Q: {{user_query}}
`;

const PROMPTS = {
  "prompts/greeting.yaml": GREETING,
  "prompts/answerer_prompt.yaml": ANSWERER,
  "prompts/planner.yaml": PLANNER,
  "prompts/shared/tool_rules.yaml": TOOL_RULES,
  "prompts/caller.yaml": CALLER,
};
const NAMES = ["answerer_prompt", "caller", "greeting", "planner", "shared/tool_rules"];

/** A greeting whose template says `word` instead of "Hello". */
const greetingSaying = (word: string) => GREETING.replace("Hello", word);

const USAGE_LOG = join(".prompts", "usage", "events.jsonl");
const TOKEN = "s3cret";

interface BundleJson {
  format: string;
  source: { commit: string | null; ref: string | null; dirty: boolean };
  hash: string;
  prompts: Record<string, Record<string, unknown> & { version: string }>;
}
interface ErrorJson {
  error: { code: string; message: string };
}
interface SseEvent {
  event: string;
  data: unknown;
}
interface BundleEventData {
  hash: string;
  changed: string[];
}

const servers: PromptServer[] = [];
const streams: AbortController[] = [];
// Registered after helpers' own afterEach, so it runs first: servers close before their dirs go.
afterEach(async () => {
  for (const controller of streams.splice(0)) controller.abort();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A server on a free port whose log lines are kept in `logs`. */
async function serve(root: string, options: ServeOptions = {}) {
  const logs: string[] = [];
  const server = await createServer({
    root,
    port: 0,
    log: (line) => logs.push(line),
    ...options,
  });
  servers.push(server);
  return { server, url: server.url, logs };
}

async function getJson<T = unknown>(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as T };
}

function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return getJson(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function expectError(
  response: Promise<{ status: number; body: unknown }>,
  status: number,
  code: string,
  message?: string | RegExp,
) {
  const { status: actual, body } = await response;
  expect({ status: actual, body }).toMatchObject({
    status,
    body: { error: { code, message: expect.any(String) } },
  });
  expect(Object.keys(body as object)).toEqual(["error"]);
  if (message !== undefined) expect((body as ErrorJson).error.message).toMatch(message);
}

async function getBundle(url: string, headers: Record<string, string> = {}) {
  return getJson<BundleJson>(`${url}/v1/bundle`, { headers });
}

/** A raw HTTP exchange: no decompression, no normalisation of the path, bodies sent as given. */
function rawRequest(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname, port, path, method: options.method ?? "GET", headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

function readUsage(root: string): string {
  const path = join(root, USAGE_LOG);
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

function usageEvents(root: string): Record<string, unknown>[] {
  return readUsage(root)
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const TIMEOUT = Symbol("timeout");

/** Reads `GET /v1/events` frame by frame with fetch's body reader. */
async function openEvents(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  streams.push(controller);
  const response = await fetch(`${url}/v1/events`, { headers, signal: controller.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let reading: ReturnType<typeof reader.read> | undefined;
  const seen: SseEvent[] = [];

  const parse = (raw: string): SseEvent | undefined => {
    let event = "message";
    const data: string[] = [];
    for (const line of raw.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    return data.length === 0 ? undefined : { event, data: JSON.parse(data.join("\n")) };
  };

  const next = async (deadline: number): Promise<SseEvent> => {
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const frame = parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (frame) {
          seen.push(frame);
          return frame;
        }
        continue;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error("timed out");
      reading ??= reader.read();
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        reading,
        new Promise<typeof TIMEOUT>((resolve) => (timer = setTimeout(resolve, remaining, TIMEOUT))),
      ]);
      clearTimeout(timer);
      if (result === TIMEOUT) throw new Error("timed out");
      reading = undefined;
      if (result.done) throw new Error("the event stream ended");
      buffer += decoder.decode(result.value, { stream: true });
    }
  };

  return {
    /** Every frame read so far. */
    seen,
    /** The next frame that satisfies `match`; `skipped` holds the frames read before it. */
    async waitFor(
      what: string,
      match: (event: SseEvent) => boolean,
      timeoutMs = 5000,
    ): Promise<{ event: SseEvent; skipped: SseEvent[] }> {
      const deadline = Date.now() + timeoutMs;
      const skipped: SseEvent[] = [];
      for (;;) {
        let event: SseEvent;
        try {
          event = await next(deadline);
        } catch (error) {
          throw new Error(
            `waiting for ${what}: ${(error as Error).message}; frames read meanwhile: ${JSON.stringify(skipped)}`,
          );
        }
        if (match(event)) return { event, skipped };
        skipped.push(event);
      }
    },
    /** The next `bundle` event whose `changed` includes every given name. */
    async bundle(...names: string[]): Promise<BundleEventData> {
      const { event } = await this.waitFor(`a bundle event naming ${names.join(", ")}`, (e) => {
        if (e.event !== "bundle") return false;
        const { changed } = e.data as BundleEventData;
        return names.every((name) => changed.includes(name));
      });
      return event.data as BundleEventData;
    },
    close: () => controller.abort(),
  };
}

describe("GET /healthz and /v1/bundle", () => {
  it("GET /healthz gives {ok, hash, prompts, last_error, usage}", async () => {
    const { url } = await serve(tempDir(PROMPTS));
    const health = await getJson(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get("content-type")).toMatch(/^application\/json/);
    const bundle = await getBundle(url);
    expect(health.body).toEqual({
      ok: true,
      hash: bundle.body.hash,
      prompts: NAMES.length,
      last_error: null,
      usage: { ok: true, error: null, since: null },
    });
  });

  it("GET /v1/bundle serves what `prompts publish` writes, with ETag = its hash", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const response = await fetch(`${url}/v1/bundle`, {
      headers: { "accept-encoding": "identity" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.get("content-encoding")).toBeNull();
    const text = await response.text();
    const bundle = JSON.parse(text) as BundleJson;
    expect(response.headers.get("etag")).toBe(`"${bundle.hash}"`);
    expect(Number(response.headers.get("content-length"))).toBe(Buffer.byteLength(text));
    expect(bundle.format).toBe("gitprompts-bundle/1");
    expect(bundle.source).toEqual({ commit: null, ref: null, dirty: true });
    expect(Object.keys(bundle.prompts)).toEqual(NAMES);
    expect(bundle.hash).toMatch(/^[0-9a-f]{64}$/);

    const out = join(tempDir(), "prompts.json");
    expect((await cli(root, "publish", "--out", out)).code).toBe(0);
    const published = JSON.parse(readFileSync(out, "utf8")) as BundleJson;
    expect(bundle.prompts).toEqual(published.prompts);
    expect(bundle.hash).toBe(published.hash);
  });

  it("If-None-Match with the ETag gives 304 and no body; another ETag gives 200", async () => {
    const { url } = await serve(tempDir(PROMPTS));
    const etag = (await fetch(`${url}/v1/bundle`)).headers.get("etag") as string;
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const response = await fetch(`${url}/v1/bundle`, { headers: { "if-none-match": header } });
      expect({ header, status: response.status }).toEqual({ header, status: 304 });
      expect(response.headers.get("etag")).toBe(etag);
      expect(await response.text()).toBe("");
    }
    const stale = await fetch(`${url}/v1/bundle`, { headers: { "if-none-match": '"stale"' } });
    expect(stale.status).toBe(200);
    expect(((await stale.json()) as BundleJson).hash).toBe(etag.slice(1, -1));
  });

  it("gzips the bundle when the client accepts gzip; the bytes unzip to the plain bundle", async () => {
    const { url } = await serve(tempDir(PROMPTS));
    const plain = await rawRequest(url, "/v1/bundle");
    expect(plain.status).toBe(200);
    expect(plain.headers["content-encoding"]).toBeUndefined();
    const zipped = await rawRequest(url, "/v1/bundle", {
      headers: { "accept-encoding": "gzip, deflate" },
    });
    expect(zipped.status).toBe(200);
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    expect(zipped.headers.vary).toMatch(/accept-encoding/i);
    expect(zipped.headers.etag).toBe(plain.headers.etag);
    expect(Number(zipped.headers["content-length"])).toBe(zipped.body.length);
    expect(zipped.body.length).toBeLessThan(plain.body.length);
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
  });

  it("HEAD /v1/bundle gives the headers and no body; other methods get 405", async () => {
    const { url } = await serve(tempDir(PROMPTS));
    const plain = await rawRequest(url, "/v1/bundle");
    const head = await rawRequest(url, "/v1/bundle", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.etag).toBe(plain.headers.etag);
    expect(Number(head.headers["content-length"])).toBe(plain.body.length);
    expect(head.body.length).toBe(0);
    const put = await getJson<ErrorJson>(`${url}/v1/bundle`, { method: "PUT", body: "{}" });
    expect(put.status).toBe(405);
    expect(put.body.error.code).toBe("method_not_allowed");
    expect(put.headers.get("allow")).toMatch(/GET/);
  });
});

describe("GET /v1/prompts", () => {
  it("lists {name, version, kind, file, description, variables, variants} of every prompt, sorted, and the tree's issues", async () => {
    const { url } = await serve(tempDir(PROMPTS));
    const bundle = (await getBundle(url)).body;
    const { status, body } = await getJson<{ prompts: Record<string, unknown>[] }>(
      `${url}/v1/prompts`,
    );
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(["prompts", "issues"]);
    expect(body.prompts.map((prompt) => prompt.name)).toEqual(NAMES);
    for (const prompt of body.prompts) {
      expect(Object.keys(prompt).sort()).toEqual([
        "description",
        "file",
        "kind",
        "name",
        "variables",
        "variants",
        "version",
      ]);
      expect(prompt.version).toBe(bundle.prompts[prompt.name as string]?.version);
    }
    expect(body.prompts[0]).toMatchObject({
      name: "answerer_prompt",
      description: "Answers from the facts it is given.",
      variables: {
        infos: { type: "array", required: true, description: "Facts" },
        user_query: { type: "string", required: true },
      },
    });
    // Each A/B arm with its weight (percent).
    expect(body.prompts[0]?.variants).toMatchObject({ concise: 30 });
    expect(body.prompts[2]).toMatchObject({
      name: "greeting",
      variants: {},
      kind: "text",
      file: "prompts/greeting.yaml",
    });
    expect(body.prompts[3]).toMatchObject({ name: "planner", kind: "chat" });
  });

  it("?format=flat maps each name to its template, a chat prompt to its messages", async () => {
    const { url } = await serve(tempDir(PROMPTS));
    const { status, body } = await getJson(`${url}/v1/prompts?format=flat`);
    expect(status).toBe(200);
    expect(body).toEqual({
      answerer_prompt: expect.stringContaining("Q: {{user_query}}"),
      caller: "Rules: {{> shared/tool_rules}}\nQ: {{user_query}}\n",
      greeting: "Hello {{name}}!\n",
      planner: [
        { role: "system", content: "Write at most {{max_queries}} queries." },
        { role: "user", content: "{{user_query}}" },
      ],
      "shared/tool_rules": "Call at most one tool per step.",
    });
  });

  it("GET /v1/prompts/:name gives one prompt with its name and version, nested names too", async () => {
    const { url } = await serve(tempDir(PROMPTS));
    const bundle = (await getBundle(url)).body;
    const greeting = await getJson(`${url}/v1/prompts/greeting`);
    expect(greeting.status).toBe(200);
    expect(greeting.body).toEqual({
      name: "greeting",
      kind: "text",
      file: "prompts/greeting.yaml",
      ...bundle.prompts.greeting,
    });
    expect(greeting.body).toMatchObject({
      version: expect.stringMatching(/^[0-9a-f]{12}$/),
      template: "Hello {{name}}!\n",
    });
    for (const path of ["shared/tool_rules", "shared%2Ftool_rules"]) {
      const nested = await getJson(`${url}/v1/prompts/${path}`);
      expect({ path, status: nested.status }).toEqual({ path, status: 200 });
      expect(nested.body).toEqual({
        name: "shared/tool_rules",
        kind: "text",
        file: "prompts/shared/tool_rules.yaml",
        ...bundle.prompts["shared/tool_rules"],
      });
    }
    await expectError(getJson(`${url}/v1/prompts/nope`), 404, "prompt_not_found", /nope/);
    await expectError(getJson(`${url}/v1/prompts/shared`), 404, "prompt_not_found");
  });

  it("a path that is no prompt name is 404 and never reads a file", async () => {
    const root = tempDir({ ...PROMPTS, "secret.txt": "TOP-SECRET-CONTENT\n" });
    writeFiles(root, { "prompts/notes.txt": "NOT-A-PROMPT\n" });
    const { url } = await serve(root);
    const hostile = [
      "..%2F..%2Fetc%2Fpasswd",
      "..%2F..%2F..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
      "%2Fetc%2Fpasswd",
      "%00",
      "greeting%00",
      "greeting%00.yaml",
      "greeting.yaml",
      "notes.txt",
      "notes",
      "..%2Fsecret.txt",
      "..%2Fsecret",
      "%2e%2e%2fsecret",
      "shared%2F..%2F..%2Fsecret",
      "shared%2F..%2Fgreeting",
      "shared%2F",
      "%ZZ",
      "%E0%A4%A",
      "..%5C..%5Csecret.txt",
    ];
    for (const path of hostile) {
      for (const [method, suffix] of [
        ["GET", ""],
        ["POST", "/render"],
      ] as const) {
        const response = await fetch(`${url}/v1/prompts/${path}${suffix}`, {
          method,
          ...(method === "POST" ? { body: JSON.stringify({ variables: {} }) } : {}),
        });
        const text = await response.text();
        expect({ path, method, status: response.status }).toEqual({ path, method, status: 404 });
        expect(text).not.toMatch(/TOP-SECRET|NOT-A-PROMPT|root:|Hello \{\{name\}\}/);
        expect((JSON.parse(text) as ErrorJson).error.code).toMatch(/not_found/);
      }
    }
    // Unnormalised dot segments sent as they are: they must not reach a file either.
    for (const path of ["/v1/prompts/../../secret.txt", "/v1/prompts/../../../../../etc/passwd"]) {
      const response = await rawRequest(url, path);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      expect(response.body.toString()).not.toMatch(/TOP-SECRET|root:/);
    }
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});

describe("POST /v1/prompts/:name/render", () => {
  it("renders and logs a usage event whose id it returns", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const greeting = (await getBundle(url)).body.prompts.greeting;
    const { status, body } = await post(`${url}/v1/prompts/greeting/render`, {
      variables: { name: "Ada" },
      unit: "user-1",
      metadata: { request: 7 },
    });
    expect(status).toBe(200);
    expect(body).toEqual({
      name: "greeting",
      version: greeting?.version,
      variant: "default",
      text: "Hello Ada!\n",
      model: {},
      usage_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    // The event is on disk by the time the answer arrives.
    const events = usageEvents(root);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "usage",
      id: (body as { usage_id: string }).usage_id,
      name: "greeting",
      version: greeting?.version,
      variant: "default",
      unit: "user-1",
      input: { name: "Ada" },
      metadata: { request: 7 },
    });
    expect(Date.parse(events[0]?.ts as string)).not.toBeNaN();
  });

  it("renders chat prompts to messages, nested names, and prompts with partials", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const chat = await post(`${url}/v1/prompts/planner/render`, {
      variables: { user_query: "What is RAG?" },
    });
    expect(chat.status).toBe(200);
    expect(chat.body).toMatchObject({
      name: "planner",
      variant: "default",
      model: { name: "model-two" },
      messages: [
        { role: "system", content: "Write at most 3 queries." },
        { role: "user", content: "What is RAG?" },
      ],
    });
    expect(chat.body).not.toHaveProperty("text");
    const caller = await post(`${url}/v1/prompts/caller/render`, {
      variables: { user_query: "Hi" },
    });
    expect(caller.body).toMatchObject({
      text: "Rules: Call at most one tool per step.\nQ: Hi\n",
    });
    const nested = await post(`${url}/v1/prompts/shared/tool_rules/render`, {});
    expect(nested.body).toMatchObject({
      name: "shared/tool_rules",
      text: "Call at most one tool per step.",
    });
    expect(usageEvents(root).map((event) => event.name)).toEqual([
      "planner",
      "caller",
      "shared/tool_rules",
    ]);
  });

  it("missing variables: 400 listing all of them; unknown variant: 400; nothing logged", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const render = `${url}/v1/prompts/answerer_prompt/render`;
    const missing = await post(render, { variables: {} });
    expect(missing.status).toBe(400);
    const message = (missing.body as ErrorJson).error.message;
    expect(message).toMatch(/infos/);
    expect(message).toMatch(/user_query/);
    const variant = await post(render, {
      variables: { infos: [], user_query: "q" },
      variant: "verbose",
    });
    expect(variant.status).toBe(400);
    expect((variant.body as ErrorJson).error.message).toMatch(/verbose/);
    await expectError(
      post(render, { variables: { infos: "not a list", user_query: "q" } }),
      400,
      "invalid_variables",
      /infos/,
    );
    await expectError(post(render, { variables: [1] }), 400, "invalid_request", /variables/);
    await expectError(post(render, [1, 2]), 400, "invalid_request");
    await expectError(post(render, { unit: 42 }), 400, "invalid_request", /unit/);
    await expectError(post(render, '{"variables": '), 400, "invalid_json");
    await expectError(post(render, ""), 400, "invalid_json");
    await expectError(post(`${url}/v1/prompts/nope/render`, {}), 404, "prompt_not_found");
    expect(readUsage(root)).toBe("");
  });

  it("GET on the render route is 405", async () => {
    const { url } = await serve(tempDir(PROMPTS));
    const response = await getJson<ErrorJson>(`${url}/v1/prompts/greeting/render`);
    expect(response.status).toBe(405);
    expect(response.body.error.code).toBe("method_not_allowed");
    expect(response.headers.get("allow")).toBe("POST");
  });

  it("variants are sticky per unit, split 70/30 over 2,000 units, and an explicit variant wins", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const render = (body: Record<string, unknown>) =>
      post(`${url}/v1/prompts/answerer_prompt/render`, {
        variables: { infos: ["a"], user_query: "q" },
        ...body,
      }).then(({ status, body: result }) => {
        expect(status).toBe(200);
        return result as { variant: string; text: string };
      });

    const variantOf = new Map<string, string>();
    const units = Array.from({ length: 2000 }, (_, i) => `user-${i}`);
    for (let i = 0; i < units.length; i += 100) {
      const batch = units.slice(i, i + 100);
      const results = await Promise.all(batch.map((unit) => render({ unit })));
      batch.forEach((unit, j) => variantOf.set(unit, results[j]?.variant as string));
    }
    const concise = [...variantOf.values()].filter((variant) => variant === "concise").length;
    expect(concise / units.length).toBeGreaterThanOrEqual(0.25);
    expect(concise / units.length).toBeLessThanOrEqual(0.35);
    expect(new Set(variantOf.values())).toEqual(new Set(["default", "concise"]));

    const conciseUnit = units.find((unit) => variantOf.get(unit) === "concise") as string;
    const defaultUnit = units.find((unit) => variantOf.get(unit) === "default") as string;
    for (let i = 0; i < 5; i++) {
      expect((await render({ unit: conciseUnit })).variant).toBe("concise");
      expect((await render({ unit: defaultUnit })).variant).toBe("default");
    }
    const forced = await render({ unit: defaultUnit, variant: "concise" });
    expect(forced).toMatchObject({ variant: "concise", text: "Briefly: q\n" });
    const back = await render({ unit: conciseUnit, variant: "default" });
    expect(back.variant).toBe("default");
    expect(back.text).toMatch(/^Facts:/);

    // Every render was logged with the variant it was given.
    const logged = usageEvents(root);
    expect(logged).toHaveLength(2000 + 10 + 2);
    for (const event of logged.slice(0, 2000)) {
      expect(event.variant).toBe(variantOf.get(event.unit as string));
    }
  });
});

describe("POST /v1/usage", () => {
  const usage = (extra: Record<string, unknown> = {}) => ({
    type: "usage",
    id: randomUUID(),
    name: "greeting",
    version: "0123456789ab",
    unit: "u1",
    input: { name: "Ada" },
    ...extra,
  });
  const outcome = (usageId: string, extra: Record<string, unknown> = {}) => ({
    type: "outcome",
    id: randomUUID(),
    usage_id: usageId,
    score: 0.8,
    success: true,
    latency_ms: 812,
    tokens: { input: 300, output: 120 },
    ...extra,
  });

  it("one event or an array: 202 {accepted} once the lines are in the file", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const one = usage();
    const first = await post(`${url}/v1/usage`, one);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ accepted: 1 });
    // Read as soon as the 202 is in: the line must already be there.
    expect(usageEvents(root)).toEqual([{ ...one, ts: expect.any(String), variant: "default" }]);

    const batch = [usage(), outcome(one.id), outcome(one.id, { score: 0.1, success: false })];
    const second = await post(`${url}/v1/usage`, batch);
    expect(second.status).toBe(202);
    expect(second.body).toMatchObject({ accepted: 3 });
    const events = usageEvents(root);
    expect(events.map((event) => event.id)).toEqual([one.id, ...batch.map((event) => event.id)]);
    expect(events[2]).toMatchObject({ type: "outcome", usage_id: one.id, score: 0.8 });
    expect(readUsage(root).endsWith("\n")).toBe(true);

    // An event without id or ts gets both.
    const bare = await post(`${url}/v1/usage`, { type: "usage", name: "greeting", version: "v" });
    expect(bare.status).toBe(202);
    const last = usageEvents(root).at(-1);
    expect(last).toMatchObject({ type: "usage", name: "greeting", version: "v" });
    expect(last?.id).toEqual(expect.any(String));
    expect(Date.parse(last?.ts as string)).not.toBeNaN();
  });

  it("an invalid event is 400 naming the field, and nothing of that request is written", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const good = usage();
    expect((await post(`${url}/v1/usage`, good)).status).toBe(202);
    const before = readUsage(root);

    await expectError(
      post(`${url}/v1/usage`, { type: "click", id: randomUUID() }),
      400,
      "invalid_event",
      /^event\.type: /,
    );
    await expectError(
      post(`${url}/v1/usage`, usage({ name: undefined })),
      400,
      "invalid_event",
      /^event\.name: required/,
    );
    await expectError(
      post(`${url}/v1/usage`, usage({ ts: "yesterday" })),
      400,
      "invalid_event",
      /^event\.ts: /,
    );
    await expectError(post(`${url}/v1/usage`, []), 400, "invalid_event");
    await expectError(post(`${url}/v1/usage`, '[{"type":"usage",'), 400, "invalid_json");
    await expectError(post(`${url}/v1/usage`, "not json at all"), 400, "invalid_json");
    await expectError(post(`${url}/v1/usage`, ""), 400, "invalid_json");
    const get = await getJson<ErrorJson>(`${url}/v1/usage`);
    expect(get.status).toBe(405);
    expect(readUsage(root)).toBe(before);
  });

  it("a batch keeps its valid events and names each refused one by index and field", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const first = usage();
    const last = usage();
    const batch = [
      first,
      { type: "outcome", id: randomUUID(), score: 1 },
      outcome(first.id, { score: "high" }),
      42,
      last,
    ];
    const answer = await post(`${url}/v1/usage`, batch);
    expect(answer).toMatchObject({
      status: 202,
      body: {
        accepted: 2,
        ids: [first.id, last.id],
        rejected: [
          { index: 1, code: "invalid_event", message: "[1].usage_id: required" },
          { index: 2, code: "invalid_event", message: expect.stringMatching(/^\[2\]\.score: /) },
          { index: 3, code: "invalid_event", message: "[3]: must be an object" },
        ],
      },
    });
    expect(usageEvents(root).map((event) => event.id)).toEqual([first.id, last.id]);

    // A batch whose every event is refused: 400 with the same list, nothing written.
    const before = readUsage(root);
    const refused = await post(`${url}/v1/usage`, [
      usage({ name: undefined }),
      outcome(first.id, { usage_id: "" }),
    ]);
    expect(refused).toMatchObject({
      status: 400,
      body: {
        error: {
          code: "invalid_event",
          message: "[0].name: required (and 1 more, see rejected)",
        },
        rejected: [
          { index: 0, code: "invalid_event", message: "[0].name: required" },
          { index: 1, code: "invalid_event", message: expect.stringMatching(/^\[1\]\.usage_id/) },
        ],
      },
    });
    expect(readUsage(root)).toBe(before);

    // Every accepted answer has the list, empty when nothing was refused.
    expect((await post(`${url}/v1/usage`, [usage()])).body).toMatchObject({ rejected: [] });
  });

  it("a body over maxBodyBytes is 413, whether announced or streamed, and nothing is written", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root, { maxBodyBytes: 1024 });
    const big = JSON.stringify(usage({ metadata: { pad: "x".repeat(1500) } }));
    expect(Buffer.byteLength(big)).toBeGreaterThan(1024);
    await expectError(post(`${url}/v1/usage`, big), 413, "body_too_large");
    await expectError(
      post(`${url}/v1/prompts/greeting/render`, {
        variables: { name: "x".repeat(2000) },
      }),
      413,
      "body_too_large",
    );
    // Chunked, without a Content-Length: the limit holds while reading.
    const chunked = await rawRequest(url, "/v1/usage", {
      method: "POST",
      headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      body: big,
    });
    expect(chunked.status).toBe(413);
    expect((JSON.parse(chunked.body.toString()) as ErrorJson).error.code).toBe("body_too_large");
    expect(readUsage(root)).toBe("");

    const small = JSON.stringify(usage({ metadata: { pad: "x".repeat(700) } }));
    expect(Buffer.byteLength(small)).toBeLessThan(1024);
    expect((await post(`${url}/v1/usage`, small)).status).toBe(202);
    expect(usageEvents(root)).toHaveLength(1);
  });
});

describe("other routes", () => {
  it("an unknown route is 404; /v1/stats serves what prompts stats computes", async () => {
    const { url } = await serve(tempDir(PROMPTS));
    // "/" is the web page's (see server-web-page.test.ts).
    for (const path of ["/nope", "/v1", "/v1/", "/v1/nope", "/v2/bundle", "/v1/bundle/x"]) {
      const response = await getJson<ErrorJson>(`${url}${path}`);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      expect(response.body.error.code).toBe("not_found");
    }
    const rendered = await fetch(`${url}/v1/prompts/greeting/render`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ variables: { name: "Ada" } }),
    });
    const usageId = ((await rendered.json()) as { usage_id: string }).usage_id;
    await fetch(`${url}/v1/usage`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "outcome", usage_id: usageId, success: true, score: 0.5 }),
    });
    const stats = await getJson<{
      by: string;
      prompts: { name: string; groups: { usages: number; outcomes: number }[] }[];
    }>(`${url}/v1/stats?name=greeting&by=variant`);
    expect(stats.status).toBe(200);
    expect(stats.body.by).toBe("variant");
    expect(stats.body.prompts.map((prompt) => prompt.name)).toEqual(["greeting"]);
    expect(stats.body.prompts[0]?.groups[0]).toMatchObject({ usages: 1, outcomes: 1 });
    await expectError(getJson(`${url}/v1/stats?by=color`), 400, "invalid_request");
  });

  it("never dies of bad input: after every kind of bad request /healthz still answers 200", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root, { maxBodyBytes: 1024 });
    const statuses = await Promise.all([
      post(`${url}/v1/usage`, "{").then((r) => r.status),
      post(`${url}/v1/usage`, [{}]).then((r) => r.status),
      post(`${url}/v1/usage`, "x".repeat(5000)).then((r) => r.status),
      post(`${url}/v1/prompts/greeting/render`, { variables: { nope: 1 } }).then((r) => r.status),
      post(`${url}/v1/prompts/greeting/render`, "null").then((r) => r.status),
      post(`${url}/v1/prompts/greeting/render`, { variables: { name: { toString: 1 } } }).then(
        (r) => r.status,
      ),
      post(
        `${url}/v1/prompts/greeting/render`,
        '{"__proto__": {"variables": 1}, "variables": {"name": "P"}}',
      ).then((r) => r.status),
      fetch(`${url}/v1/prompts/%E0%A4%A`).then((r) => r.status),
      fetch(`${url}/v1/prompts/..%2F..%2Fetc%2Fpasswd`).then((r) => r.status),
      fetch(`${url}/v1/bundle`, { method: "DELETE" }).then((r) => r.status),
      fetch(`${url}/v1/stats`).then((r) => r.status),
    ]);
    expect(statuses).toEqual([400, 400, 413, 400, 400, 400, 200, 404, 404, 405, 200]);

    // Not HTTP at all, and a request whose body never finishes.
    const { hostname, port } = new URL(url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), hostname, () => socket.end("GARBAGE\r\n\r\n\0\0\0"));
      socket.on("close", () => resolve());
      socket.on("error", () => resolve());
      socket.resume();
    });
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(
          "POST /v1/usage HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n[{",
          () => socket.destroy(),
        );
      });
      socket.on("close", () => resolve());
      socket.on("error", () => resolve());
    });

    const health = await getJson(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: true, last_error: null });
    const render = await post(`${url}/v1/prompts/greeting/render`, { variables: { name: "Ok" } });
    expect(render.body).toMatchObject({ text: "Hello Ok!\n" });
    // Only the two good renders were logged.
    expect(usageEvents(root).map((event) => event.name)).toEqual(["greeting", "greeting"]);
  });
});

describe("auth", () => {
  const routes: { method: string; path: string; body?: unknown; ok: number }[] = [
    { method: "GET", path: "/v1/bundle", ok: 200 },
    { method: "HEAD", path: "/v1/bundle", ok: 200 },
    { method: "GET", path: "/v1/prompts", ok: 200 },
    { method: "GET", path: "/v1/prompts?format=flat", ok: 200 },
    { method: "GET", path: "/v1/prompts/greeting", ok: 200 },
    { method: "GET", path: "/v1/prompts/shared/tool_rules", ok: 200 },
    {
      method: "POST",
      path: "/v1/prompts/greeting/render",
      body: { variables: { name: "A" } },
      ok: 200,
    },
    {
      method: "POST",
      path: "/v1/usage",
      body: { type: "usage", name: "greeting", version: "v" },
      ok: 202,
    },
    { method: "GET", path: "/v1/stats", ok: 200 },
    { method: "GET", path: "/v1/prompts/nope", ok: 404 },
  ];

  const call = (url: string, route: (typeof routes)[number], headers: Record<string, string>) =>
    fetch(`${url}${route.path}`, {
      method: route.method,
      headers: { "content-type": "application/json", ...headers },
      ...(route.body === undefined ? {} : { body: JSON.stringify(route.body) }),
    });

  it("with a token every /v1 route is 401 without the right Bearer, and works with it", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root, { token: TOKEN });
    const wrong: Record<string, string>[] = [
      {},
      { authorization: "Bearer nope" },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString("base64")}` },
      { authorization: TOKEN },
      { authorization: "Bearer " },
    ];
    for (const route of routes) {
      for (const headers of wrong) {
        const response = await call(url, route, headers);
        const what = `${route.method} ${route.path} ${JSON.stringify(headers)}`;
        expect({ what, status: response.status }).toEqual({ what, status: 401 });
        if (route.method !== "HEAD") {
          const body = (await response.json()) as ErrorJson;
          expect(body.error.code).toBe("unauthorized");
        }
      }
      const response = await call(url, route, { authorization: `Bearer ${TOKEN}` });
      const what = `${route.method} ${route.path} with the token`;
      expect({ what, status: response.status }).toEqual({ what, status: route.ok });
      await response.arrayBuffer();
    }
    for (const headers of wrong) {
      const events = await fetch(`${url}/v1/events`, { headers });
      expect(events.status).toBe(401);
      await events.arrayBuffer();
    }
    const stream = await openEvents(url, { authorization: `Bearer ${TOKEN}` });
    const { event } = await stream.waitFor("the first frame", () => true);
    expect(event.event).toBe("bundle");
    // Nothing was logged by the refused requests: one render and one posted event.
    expect(usageEvents(root)).toHaveLength(2);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
  });

  it("without a token no header is needed", async () => {
    const { url } = await serve(tempDir(PROMPTS));
    for (const route of routes) {
      const response = await call(url, route, {});
      const what = `${route.method} ${route.path}`;
      expect({ what, status: response.status }).toEqual({ what, status: route.ok });
      await response.arrayBuffer();
    }
  });
});

describe("hot reload of the working tree", () => {
  it("first frame on connect is a bundle with the current hash; an edit sends {hash, changed}", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const before = await getBundle(url);
    const events = await openEvents(url);
    const { event: first } = await events.waitFor("the first frame", () => true);
    expect(first).toEqual({ event: "bundle", data: { hash: before.body.hash, changed: [] } });

    writeFileSync(join(root, "prompts/greeting.yaml"), greetingSaying("Howdy"));
    const event = await events.bundle("greeting");
    expect(event.changed).toEqual(["greeting"]);
    expect(event.hash).not.toBe(before.body.hash);

    const after = await getBundle(url);
    expect(after.headers.get("etag")).toBe(`"${event.hash}"`);
    expect(after.body.hash).toBe(event.hash);
    expect(after.body.prompts.greeting?.template).toBe("Howdy {{name}}!\n");
    expect(after.body.prompts.greeting?.version).not.toBe(before.body.prompts.greeting?.version);
    expect(after.body.prompts.planner).toEqual(before.body.prompts.planner);
    // A client holding the old ETag now gets the new bundle.
    const revalidated = await fetch(`${url}/v1/bundle`, {
      headers: { "if-none-match": before.headers.get("etag") as string },
    });
    expect(revalidated.status).toBe(200);
    await revalidated.arrayBuffer();
    const render = await post(`${url}/v1/prompts/greeting/render`, { variables: { name: "Ada" } });
    expect(render.body).toMatchObject({
      text: "Howdy Ada!\n",
      version: after.body.prompts.greeting?.version,
    });
  });

  it("an editor's atomic save (temp file renamed over the prompt) is seen, without an invalid state", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const events = await openEvents(url);
    await events.waitFor("the first frame", () => true);
    const temp = join(root, "prompts/greeting.yaml.tmp-4913");
    writeFileSync(temp, greetingSaying("Saved"));
    renameSync(temp, join(root, "prompts/greeting.yaml"));
    const { event, skipped } = await events.waitFor(
      "a bundle event naming greeting",
      (e) => e.event === "bundle" && (e.data as BundleEventData).changed.includes("greeting"),
    );
    expect(skipped.filter((e) => e.event === "invalid")).toEqual([]);
    expect((event.data as BundleEventData).changed).toEqual(["greeting"]);
    const bundle = await getBundle(url);
    expect(bundle.body.prompts.greeting?.template).toBe("Saved {{name}}!\n");
    expect(Object.keys(bundle.body.prompts)).toEqual(NAMES);
    const health = await getJson(`${url}/healthz`);
    expect(health.body).toMatchObject({ hash: bundle.body.hash, last_error: null });
  });

  it("a deleted prompt disappears (404) with an event naming it, and comes back when recreated", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const original = (await getJson(`${url}/v1/prompts/planner`)).body;
    const events = await openEvents(url);
    await events.waitFor("the first frame", () => true);

    rmSync(join(root, "prompts/planner.yaml"));
    const removed = await events.bundle("planner");
    expect(removed.changed).toEqual(["planner"]);
    await expectError(getJson(`${url}/v1/prompts/planner`), 404, "prompt_not_found");
    const bundle = await getBundle(url);
    expect(bundle.body.hash).toBe(removed.hash);
    expect(Object.keys(bundle.body.prompts)).not.toContain("planner");
    expect((await getJson(`${url}/healthz`)).body).toMatchObject({ prompts: NAMES.length - 1 });
    await expectError(
      post(`${url}/v1/prompts/planner/render`, { variables: { user_query: "q" } }),
      404,
      "prompt_not_found",
    );

    writeFileSync(join(root, "prompts/planner.yaml"), PLANNER);
    const back = await events.bundle("planner");
    expect(back.changed).toEqual(["planner"]);
    const again = await getJson(`${url}/v1/prompts/planner`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(original);
  });

  it("a new file in a new folder appears", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const events = await openEvents(url);
    await events.waitFor("the first frame", () => true);
    writeFiles(root, {
      "prompts/team/support/welcome.yaml": "description: New.\ntemplate: Welcome aboard.\n",
    });
    const event = await events.bundle("team/support/welcome");
    expect(event.changed).toEqual(["team/support/welcome"]);
    const prompt = await getJson(`${url}/v1/prompts/team/support/welcome`);
    expect(prompt.status).toBe(200);
    expect(prompt.body).toMatchObject({
      name: "team/support/welcome",
      template: "Welcome aboard.",
    });
    const bundle = await getBundle(url);
    expect(Object.keys(bundle.body.prompts)).toEqual([...NAMES, "team/support/welcome"]);
  });

  it("a broken edit keeps the last good bundle, reports it, and recovers when fixed", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const good = await getBundle(url);
    const events = await openEvents(url);
    await events.waitFor("the first frame", () => true);

    // Line 4 opens a flow sequence that never closes: a YAML syntax error.
    writeFileSync(
      join(root, "prompts/greeting.yaml"),
      "description: Broken.\nvariables:\n  name: string\ntemplate: [unclosed\n",
    );
    const { event } = await events.waitFor("an invalid event", (e) => e.event === "invalid");
    const { errors } = event.data as { errors: Record<string, unknown>[] };
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) {
      expect(error).toMatchObject({
        file: "prompts/greeting.yaml",
        line: expect.any(Number),
        col: expect.any(Number),
        message: expect.any(String),
      });
    }
    const first = errors[0] as { line: number };

    const health = await getJson<{ last_error: string | null; hash: string }>(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body.last_error).toMatch(new RegExp(`^prompts/greeting\\.yaml:${first.line}\\b`));
    expect(health.body.hash).toBe(good.body.hash);
    const kept = await getBundle(url);
    expect(kept.headers.get("etag")).toBe(good.headers.get("etag"));
    expect(kept.body).toEqual(good.body);
    const listed = await getJson<{ prompts: { name: string }[] }>(`${url}/v1/prompts`);
    expect(listed.status).toBe(200);
    expect(listed.body.prompts.map((prompt) => prompt.name)).toEqual(NAMES);
    // Everything a client reads is the last good state, not just the bundle's bytes.
    expect(health.body).toMatchObject({ prompts: NAMES.length });
    const one = await getJson(`${url}/v1/prompts/greeting`);
    expect(one).toMatchObject({ status: 200, body: { template: "Hello {{name}}!\n" } });
    const render = await post(`${url}/v1/prompts/greeting/render`, { variables: { name: "Ada" } });
    expect(render).toMatchObject({ status: 200, body: { text: "Hello Ada!\n" } });
    // A client that connects now hears about the error too.
    const late = await openEvents(url);
    expect((await late.waitFor("the first frame", () => true)).event).toMatchObject({
      event: "bundle",
      data: { hash: good.body.hash },
    });
    expect((await late.waitFor("the invalid frame", () => true)).event.event).toBe("invalid");

    writeFileSync(join(root, "prompts/greeting.yaml"), greetingSaying("Fixed"));
    const fixed = await events.bundle("greeting");
    expect(fixed.hash).not.toBe(good.body.hash);
    const recovered = await getJson<{ last_error: string | null; hash: string }>(`${url}/healthz`);
    expect(recovered.body).toMatchObject({ ok: true, last_error: null, hash: fixed.hash });
    const after = await post(`${url}/v1/prompts/greeting/render`, { variables: { name: "Ada" } });
    expect(after.body).toMatchObject({ text: "Fixed Ada!\n" });
  });

  it("edits made while another file is broken are all served once it is fixed, as publish makes them", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const events = await openEvents(url);
    await events.waitFor("the first frame", () => true);

    writeFileSync(join(root, "prompts/greeting.yaml"), "template: [unclosed\n");
    await events.waitFor("an invalid event", (e) => e.event === "invalid");
    // While greeting is broken: a change, a new prompt and a removal, each reported invalid.
    writeFileSync(join(root, "prompts/planner.yaml"), PLANNER.replace("at most", "no more than"));
    await events.waitFor("another invalid event", (e) => e.event === "invalid");
    writeFileSync(join(root, "prompts/added.yaml"), greetingSaying("Added"));
    await events.waitFor("another invalid event", (e) => e.event === "invalid");
    rmSync(join(root, "prompts/answerer_prompt.yaml"));
    await events.waitFor("another invalid event", (e) => e.event === "invalid");

    writeFileSync(join(root, "prompts/greeting.yaml"), greetingSaying("Fixed"));
    const fixed = await events.bundle("greeting");
    const served = await getBundle(url);
    expect(served.body.hash).toBe(fixed.hash);
    const out = join(tempDir(), "prompts.json");
    expect((await cli(root, "publish", "--out", out)).code).toBe(0);
    const published = JSON.parse(readFileSync(out, "utf8")) as BundleJson;
    expect(served.body.prompts).toEqual(published.prompts);
    expect(served.body.hash).toBe(published.hash);
    expect(Object.keys(served.body.prompts)).toEqual([
      "added",
      "caller",
      "greeting",
      "planner",
      "shared/tool_rules",
    ]);
    const flat = await getJson<Record<string, unknown>>(`${url}/v1/prompts?format=flat`);
    expect(Object.keys(flat.body)).toEqual(Object.keys(served.body.prompts));
  });

  it("a broken edit reverted to the last good content clears last_error", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const good = await getBundle(url);
    const events = await openEvents(url);
    await events.waitFor("the first frame", () => true);
    writeFileSync(join(root, "prompts/greeting.yaml"), `${GREETING}templat: typo\n`);
    await events.waitFor("an invalid event", (e) => e.event === "invalid");
    expect((await getJson<{ last_error: string }>(`${url}/healthz`)).body.last_error).toMatch(
      /^prompts\/greeting\.yaml:6:/,
    );
    writeFileSync(join(root, "prompts/greeting.yaml"), GREETING);
    await waitUntil(
      "last_error to clear",
      async () => {
        const health = await getJson<{ last_error: string | null }>(`${url}/healthz`);
        return health.body.last_error === null;
      },
      3000,
    );
    expect((await getBundle(url)).body.hash).toBe(good.body.hash);
  });

  it("a second save of the same file right after the server reloaded the first is seen", async () => {
    // Format-on-save: the editor writes, the server reloads, a formatter writes again.
    const root = tempDir(PROMPTS);
    const { url } = await serve(root, { debounceMs: 5 });
    const events = await openEvents(url);
    await events.waitFor("the first frame", () => true);
    writeFileSync(join(root, "prompts/greeting.yaml"), greetingSaying("Draft"));
    await events.bundle("greeting");
    writeFileSync(join(root, "prompts/greeting.yaml"), greetingSaying("Final"));
    const { event } = await events.waitFor(
      "a bundle event for the second save",
      (e) => e.event === "bundle" && (e.data as BundleEventData).changed.includes("greeting"),
      3000,
    );
    const second = event.data as BundleEventData;
    const bundle = await getBundle(url);
    expect(bundle.body.hash).toBe(second.hash);
    expect(bundle.body.prompts.greeting?.template).toBe("Final {{name}}!\n");
  });

  it("a burst of 50 writes makes a few bundle events, and the final bundle has all 50 changes", async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 50; i++) {
      many[`prompts/many/p${String(i).padStart(2, "0")}.yaml`] = `template: version one of ${i}\n`;
    }
    const root = tempDir({ ...PROMPTS, ...many });
    const { url } = await serve(root);
    const events = await openEvents(url);
    await events.waitFor("the first frame", () => true);
    const names = Object.keys(many).map((path) => path.slice("prompts/".length, -".yaml".length));

    for (const [i, path] of Object.keys(many).entries()) {
      writeFileSync(join(root, path), `template: version two of ${i}\n`);
    }
    const covered = new Set<string>();
    const bundles: BundleEventData[] = [];
    while (!names.every((name) => covered.has(name))) {
      const { event } = await events.waitFor("bundle events covering all 50 prompts", (e) => {
        return e.event === "bundle";
      });
      const data = event.data as BundleEventData;
      bundles.push(data);
      for (const name of data.changed) covered.add(name);
    }
    expect(bundles.length).toBeLessThanOrEqual(5);

    const final = await waitUntil("the bundle to hold all 50 changes", async () => {
      const bundle = await getBundle(url);
      return names.every((name, i) => bundle.body.prompts[name]?.template === `version two of ${i}`)
        ? bundle
        : undefined;
    });
    expect(final.body.hash).toBe(bundles.at(-1)?.hash);
    expect(Object.keys(final.body.prompts)).toHaveLength(NAMES.length + 50);
    expect((await getJson(`${url}/healthz`)).body).toMatchObject({ last_error: null });
  });

  it("an edit of a partial changes its includer's version, and the event names both", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const before = await getBundle(url);
    const events = await openEvents(url);
    await events.waitFor("the first frame", () => true);

    writeFileSync(
      join(root, "prompts/shared/tool_rules.yaml"),
      TOOL_RULES.replace("one tool", "two tools"),
    );
    const event = await events.bundle("shared/tool_rules");
    expect(event.changed).toEqual(["caller", "shared/tool_rules"]);
    const after = await getBundle(url);
    expect(after.body.prompts.caller?.version).not.toBe(before.body.prompts.caller?.version);
    expect(after.body.prompts.greeting?.version).toBe(before.body.prompts.greeting?.version);
    const render = await post(`${url}/v1/prompts/caller/render`, {
      variables: { user_query: "Hi" },
    });
    expect(render.body).toMatchObject({
      version: after.body.prompts.caller?.version,
      text: "Rules: Call at most two tools per step.\nQ: Hi\n",
    });
  });

  it("a prompt that starts to include another is checked against it, and follows its edits", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const events = await openEvents(url);
    await events.waitFor("the first frame", () => true);

    // greeting was no partial: it declares `name`, which the caller now uses through it.
    writeFileSync(join(root, "prompts/caller.yaml"), CALLER.replace("Rules:", "{{> greeting}}"));
    expect((await events.bundle("caller")).changed).toEqual(["caller"]);
    const vars = { variables: { user_query: "Hi", name: "Ada" } };
    const rendered = async () =>
      ((await post(`${url}/v1/prompts/caller/render`, vars)).body as { text: string }).text;
    expect(await rendered()).toContain("Hello Ada!");

    writeFileSync(join(root, "prompts/greeting.yaml"), greetingSaying("Howdy"));
    expect((await events.bundle("greeting")).changed).toEqual(["caller", "greeting"]);
    expect(await rendered()).toContain("Howdy Ada!");
  });
});

describe("serving a git repository", () => {
  const V1 = {
    "prompts/greeting.yaml": GREETING,
    "prompts/planner.yaml": PLANNER,
    "prompts/answerer_prompt.yaml": ANSWERER,
    "prompts/shared/tool_rules.yaml": TOOL_RULES,
    "prompts/caller.yaml": CALLER,
    "prompts/retired.yaml": "description: Gone in v2.\ntemplate: Old.\n",
  };
  const V2 = {
    "prompts/greeting.yaml": greetingSaying("Hi"),
    "prompts/planner.yaml": PLANNER.replace("Plans searches.", "Plans web searches."),
    "prompts/shared/tool_rules.yaml": TOOL_RULES.replace("one tool", "two tools"),
    "prompts/retired.yaml": null,
    "prompts/fresh.yaml": "description: New in v2.\ntemplate: Fresh.\n",
    "prompts/teams/ops/runbook.yaml": "template: Check the runbook.\n",
  };

  async function published(repo: string, ref: string): Promise<BundleJson> {
    const out = join(tempDir(), `${ref}.json`);
    const result = await cli(repo, "publish", "--ref", ref, "--out", out);
    expect(result).toMatchObject({ code: 0 });
    return JSON.parse(readFileSync(out, "utf8")) as BundleJson;
  }

  it("follows a `git checkout` between two tags to exactly what `prompts publish --ref` makes", async () => {
    const repo = gitRepo([
      { files: V1, tags: ["v1"] },
      { files: V2, tags: ["v2"] },
    ]);
    const [v1, v2] = [await published(repo, "v1"), await published(repo, "v2")];
    expect(v1.hash).not.toBe(v2.hash);
    git(repo, "checkout", "-q", "v1");
    const { url } = await serve(repo);
    const start = await getBundle(url);
    expect(start.body.source).toEqual({ commit: null, ref: null, dirty: true });
    expect(start.body.prompts).toEqual(v1.prompts);
    expect(start.body.hash).toBe(v1.hash);
    const events = await openEvents(url);
    await events.waitFor("the first frame", () => true);

    git(repo, "checkout", "-q", "v2");
    const served = await waitUntil(
      "the served bundle to equal v2's",
      async () => {
        const bundle = await getBundle(url);
        return bundle.body.hash === v2.hash ? bundle : undefined;
      },
      8000,
    );
    expect(served.body.prompts).toEqual(v2.prompts);
    expect(Object.keys(served.body.prompts)).toContain("teams/ops/runbook");
    expect(Object.keys(served.body.prompts)).not.toContain("retired");
    expect(served.body.source).toEqual({ commit: null, ref: null, dirty: true });
    const health = await getJson(`${url}/healthz`);
    expect(health.body).toMatchObject({ hash: v2.hash, last_error: null });
    // The changes were announced, ending at the v2 hash.
    const changed = new Set<string>();
    let last: BundleEventData | undefined;
    while (last?.hash !== v2.hash) {
      const { event } = await events.waitFor("bundle events up to v2", (e) => e.event === "bundle");
      last = event.data as BundleEventData;
      for (const name of last.changed) changed.add(name);
    }
    expect([...changed].sort()).toEqual(
      expect.arrayContaining([
        "caller",
        "fresh",
        "greeting",
        "planner",
        "retired",
        "shared/tool_rules",
        "teams/ops/runbook",
      ]),
    );
    expect(changed.has("answerer_prompt")).toBe(false);
  });

  it("ref mode serves a label and follows its moves: a deploy, then a rollback", async () => {
    const repo = gitRepo([
      { files: V1, tags: ["v1"] },
      { files: V2, tags: ["v2"] },
    ]);
    expect(await cli(repo, "label", "production", "v1")).toMatchObject({ code: 0 });
    const v1Commit = git(repo, "rev-parse", "v1^{commit}").trim();
    const v2Commit = git(repo, "rev-parse", "v2^{commit}").trim();
    const { url } = await serve(repo, { ref: "production", refPollMs: 100 });
    const start = await getBundle(url);
    const v1 = await published(repo, "v1");
    expect(start.body.source).toEqual({ commit: v1Commit, ref: "production", dirty: false });
    expect(start.body.prompts).toEqual(v1.prompts);
    const events = await openEvents(url);
    await events.waitFor("the first frame", () => true);

    expect(await cli(repo, "label", "production", "v2")).toMatchObject({ code: 0 });
    const deploy = await events.bundle("greeting");
    const deployed = await getBundle(url);
    expect(deployed.body.hash).toBe(deploy.hash);
    expect(deployed.body.source).toEqual({ commit: v2Commit, ref: "production", dirty: false });
    expect(deployed.body.prompts.greeting?.template).toBe("Hi {{name}}!\n");
    expect(deployed.body.prompts).toEqual((await published(repo, "v2")).prompts);
    const render = await post(`${url}/v1/prompts/greeting/render`, { variables: { name: "Ada" } });
    expect(render.body).toMatchObject({ text: "Hi Ada!\n" });

    expect(await cli(repo, "label", "production", "v1")).toMatchObject({ code: 0 });
    const rollback = await events.bundle("greeting");
    expect(rollback.hash).toBe(v1.hash);
    const rolledBack = await getBundle(url);
    expect(rolledBack.body.prompts).toEqual(v1.prompts);
    expect(rolledBack.body.source.commit).toBe(v1Commit);
    expect((await getJson(`${url}/v1/prompts/fresh`)).status).toBe(404);
    expect((await getJson(`${url}/v1/prompts/retired`)).status).toBe(200);
  });
});
