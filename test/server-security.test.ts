import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type PromptServer, type ServeOptions } from "../src/server/app.js";
import {
  BIN,
  cli,
  expectOneLineError,
  type RawAnswer,
  rawRequest,
  runBin,
  tempDir,
} from "./helpers.js";
import { GREETING } from "./sample-prompts.js";

const PROMPTS = { "prompts/greeting.yaml": GREETING };
const USAGE_LOG = join(".prompts", "usage", "events.jsonl");
const APP = "https://app.example";

interface ErrorJson {
  error: { code: string; message: string };
}

const servers: PromptServer[] = [];
const sockets: Socket[] = [];
const children: ChildProcess[] = [];
// Registered after helpers' own afterEach, so it runs first: servers close before their dirs go.
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const child of children.splice(0)) child.kill("SIGKILL");
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(root: string, options: ServeOptions = {}) {
  const logs: string[] = [];
  const server = await createServer({ root, port: 0, log: (line) => logs.push(line), ...options });
  servers.push(server);
  return { url: server.url, port: Number(new URL(server.url).port), logs };
}

type Answer = RawAnswer;

/** One request on its own connection, with the headers exactly as given (Host included). */
const exchange = rawRequest;

const errorOf = (answer: Answer) => (JSON.parse(answer.text) as ErrorJson).error;

/** A raw TCP client: what it received, and a promise of all of it once the server closes. */
function openSocket(url: string, options: { read?: boolean } = {}) {
  const { hostname: host, port } = new URL(url);
  const socket = connect(Number(port), host);
  sockets.push(socket);
  const state = { received: "" };
  const read = () => socket.on("data", (chunk: Buffer) => (state.received += chunk.toString()));
  if (options.read !== false) read();
  socket.on("error", () => {});
  const connected = new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  const closed = new Promise<string>((resolve) =>
    socket.once("close", () => resolve(state.received)),
  );
  return { socket, state, connected, closed, read };
}

/** `promise`, or a failure naming what did not happen within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` until it holds, failing after `ms`. */
async function waitFor(what: string, condition: () => boolean | Promise<boolean>, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("Host header (DNS rebinding)", () => {
  it("a loopback server answers only Host names of this machine's loopback, on every route", async () => {
    const root = tempDir(PROMPTS);
    const { url, port } = await serve(root);
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      `[::1]:${port}`,
      "localhost",
      "127.0.0.1",
    ]) {
      const answer = await exchange(url, "/v1/bundle", { headers: { host } });
      expect({ host, status: answer.status }).toEqual({ host, status: 200 });
    }
    const routes: { method: string; path: string; body?: unknown }[] = [
      { method: "GET", path: "/healthz" },
      { method: "GET", path: "/v1/bundle" },
      { method: "GET", path: "/v1/prompts" },
      { method: "GET", path: "/v1/prompts/greeting" },
      { method: "GET", path: "/v1/events" },
      { method: "GET", path: "/v1/stats" },
      { method: "POST", path: "/v1/prompts/greeting/render", body: { variables: { name: "A" } } },
      {
        method: "POST",
        path: "/v1/usage",
        body: { type: "usage", name: "greeting", version: "v" },
      },
    ];
    for (const host of [`evil.example:${port}`, "evil.example", `127.0.0.1.evil.example:${port}`]) {
      for (const route of routes) {
        const answer = await exchange(url, route.path, {
          method: route.method,
          headers: { host, "content-type": "application/json" },
          ...(route.body === undefined ? {} : { body: JSON.stringify(route.body) }),
        });
        const what = `${route.method} ${route.path} Host: ${host}`;
        expect({ what, status: answer.status }).toEqual({ what, status: 421 });
        expect(errorOf(answer).code).toBe("host_not_allowed");
        expect(errorOf(answer).message).toContain(`--allowed-host ${host.replace(/:\d+$/, "")}`);
      }
    }
    // Nothing a refused request asked for was logged.
    expect(() => readFileSync(join(root, USAGE_LOG), "utf8")).toThrow();
  });

  it("--allowed-host adds names; a server on all interfaces also answers its addresses and the machine's name", async () => {
    const root = tempDir(PROMPTS);
    const named = await serve(root, { allowedHosts: ["prompts.internal", "Other.Example."] });
    for (const host of ["prompts.internal:80", "other.example", `localhost:${named.port}`]) {
      const answer = await exchange(named.url, "/healthz", { headers: { host } });
      expect({ host, status: answer.status }).toEqual({ host, status: 200 });
    }
    const refused = await exchange(named.url, "/healthz", { headers: { host: "evil.example" } });
    expect(refused.status).toBe(421);

    const everywhere = await serve(root, { host: "0.0.0.0" });
    const local = `http://127.0.0.1:${everywhere.port}`;
    for (const host of ["10.1.2.3:7411", "[fe80::1]", hostname(), "127.0.0.1"]) {
      const answer = await exchange(local, "/healthz", { headers: { host } });
      expect({ host, status: answer.status }).toEqual({ host, status: 200 });
    }
    const rebound = await exchange(local, "/healthz", { headers: { host: "evil.example" } });
    expect(rebound.status).toBe(421);
  });

  it("a malformed --allowed-host or --cors is refused at start with one line", async () => {
    const root = tempDir(PROMPTS);
    expectOneLineError(
      await cli(root, "serve", "--port", "0", "--allowed-host", "evil example"),
      2,
      '--allowed-host takes a host name such as prompts.internal, got "evil example"',
    );
    for (const origin of ["https://app.example/", "app.example", "*", "ftp://app.example"]) {
      expectOneLineError(
        await cli(root, "serve", "--port", "0", "--cors", origin),
        2,
        `--cors takes an origin such as https://app.example`,
        `got "${origin}"`,
      );
    }
  });
});

describe("content-type of POST bodies", () => {
  it("a body that is not declared JSON is 415 and logs nothing; application/json with charset utf-8 is taken", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const render = JSON.stringify({ variables: { name: "Ada" } });
    const event = JSON.stringify({ type: "usage", name: "greeting", version: "v" });
    for (const type of [
      "text/plain",
      "text/plain;charset=UTF-8",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/json; charset=latin1",
      "application/jsonx",
      undefined,
    ]) {
      for (const [path, body] of [
        ["/v1/prompts/greeting/render", render],
        ["/v1/usage", event],
      ] as const) {
        const answer = await exchange(url, path, {
          method: "POST",
          headers: type === undefined ? {} : { "content-type": type },
          body,
        });
        const what = `${path} ${String(type)}`;
        expect({ what, status: answer.status }).toEqual({ what, status: 415 });
        expect(errorOf(answer)).toEqual({
          code: "unsupported_media_type",
          message: expect.stringContaining("content-type: application/json") as string,
        });
      }
    }
    expect(() => readFileSync(join(root, USAGE_LOG), "utf8")).toThrow();

    for (const type of [
      "application/json",
      "application/json; charset=utf-8",
      'Application/JSON;charset="UTF-8"',
    ]) {
      const answer = await exchange(url, "/v1/prompts/greeting/render", {
        method: "POST",
        headers: { "content-type": type },
        body: render,
      });
      expect({ type, status: answer.status }).toEqual({ type, status: 200 });
    }
  });
});

describe("requests a browser makes for another site's page", () => {
  const fromSite = (site: string, mode: string, origin?: string) => ({
    "sec-fetch-site": site,
    "sec-fetch-mode": mode,
    ...(origin === undefined ? {} : { origin }),
  });

  it("are 403 unless they are the user's own GET navigation or come from a --cors origin", async () => {
    const { url } = await serve(tempDir(PROMPTS), { corsOrigins: [APP] });
    for (const [site, mode, origin, path, status] of [
      ["cross-site", "no-cors", undefined, "/v1/bundle", 403],
      ["same-site", "cors", "http://localhost:3000", "/v1/prompts", 403],
      ["cross-site", "cors", "https://evil.example", "/v1/prompts", 403],
      ["cross-site", "navigate", undefined, "/v1/bundle", 200],
      ["cross-site", "cors", APP, "/v1/prompts", 200],
      ["same-origin", "cors", undefined, "/v1/prompts", 200],
      ["none", "navigate", undefined, "/v1/bundle", 200],
    ] as const) {
      const answer = await exchange(url, path, { headers: fromSite(site, mode, origin) });
      expect({ site, mode, origin, status: answer.status }).toEqual({ site, mode, origin, status });
      if (status === 403) {
        expect(JSON.parse(answer.text)).toEqual({
          error: { code: "cross_site_refused", message: expect.stringContaining("--cors ORIGIN") },
        });
      }
    }
    // A form another site posts is a navigation too, but not a GET.
    const posted = await exchange(url, "/v1/usage", {
      method: "POST",
      headers: { ...fromSite("cross-site", "navigate"), "content-type": "application/json" },
      body: "[]",
    });
    expect(posted.status).toBe(403);
  });
});

describe("CORS", () => {
  const preflight = (url: string, origin: string, path = "/v1/usage") =>
    exchange(url, path, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
  const corsHeaders = (answer: Answer) =>
    Object.keys(answer.headers).filter((name) => name.startsWith("access-control-"));

  it("without --cors no response carries a CORS header and a preflight is 405", async () => {
    const { url } = await serve(tempDir(PROMPTS));
    const bundle = await exchange(url, "/v1/bundle", { headers: { origin: APP } });
    expect(bundle.status).toBe(200);
    expect(corsHeaders(bundle)).toEqual([]);
    const asked = await preflight(url, APP);
    expect(asked.status).toBe(405);
    expect(corsHeaders(asked)).toEqual([]);
  });

  it("with --cors the origin's preflights are answered and its responses allowed; other origins get nothing", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root, { corsOrigins: [APP], token: "s3cret" });
    // A preflight carries no Authorization: it is answered before the token is asked for.
    const asked = await preflight(url, APP);
    expect(asked.status).toBe(204);
    expect(asked.headers).toMatchObject({
      "access-control-allow-origin": APP,
      "access-control-allow-methods": "GET, HEAD, POST",
      "access-control-allow-headers": "authorization, content-type",
      "access-control-max-age": "600",
    });
    const bundle = await exchange(url, "/v1/bundle", {
      headers: { origin: APP, authorization: "Bearer s3cret", "accept-encoding": "gzip" },
    });
    expect(bundle.status).toBe(200);
    expect(bundle.headers["access-control-allow-origin"]).toBe(APP);
    expect(String(bundle.headers.vary)).toMatch(/origin/);
    expect(String(bundle.headers.vary)).toMatch(/accept-encoding/);
    const rendered = await exchange(url, "/v1/prompts/greeting/render", {
      method: "POST",
      headers: {
        origin: APP,
        authorization: "Bearer s3cret",
        "content-type": "application/json",
      },
      body: JSON.stringify({ variables: { name: "Ada" } }),
    });
    expect(rendered.status).toBe(200);
    expect(rendered.headers["access-control-allow-origin"]).toBe(APP);

    for (const origin of ["https://evil.example", "http://app.example", `${APP}:444`]) {
      const other = await preflight(url, origin);
      expect({ origin, status: other.status }).toEqual({ origin, status: 401 });
      expect(other.headers["access-control-allow-origin"]).toBeUndefined();
      const read = await exchange(url, "/v1/bundle", {
        headers: { origin, authorization: "Bearer s3cret" },
      });
      expect(read.status).toBe(200);
      expect(read.headers["access-control-allow-origin"]).toBeUndefined();
      expect(read.headers.vary).toContain("origin");
    }
  });
});

describe("the token", () => {
  it("an empty token is refused at start, not taken as no auth: --token '', PROMPTS_TOKEN=, createServer", async () => {
    const root = tempDir(PROMPTS);
    await expect(createServer({ root, port: 0, token: "" })).rejects.toThrow(/the token is empty/);
    // The built binary, so that a server that did start would show as a timeout, not a hang.
    const flag = runBin(root, ["serve", "--port", "0", "--token", ""]);
    expectOneLineError(flag, 2, "--token is empty");
    const env = runBin(root, ["serve", "--port", "0"], { PROMPTS_TOKEN: "" });
    expectOneLineError(env, 2, "PROMPTS_TOKEN is set but empty");
  });
});

describe("slow and numerous connections", () => {
  it("a client dribbling its headers a line at a time, or sending nothing, is cut when the headers timeout passes", async () => {
    const { url } = await serve(tempDir(PROMPTS), { headersTimeoutMs: 1000 });
    const started = Date.now();
    const dribbler = openSocket(url);
    const silent = openSocket(url);
    await Promise.all([dribbler.connected, silent.connected]);
    dribbler.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    const timer = setInterval(() => dribbler.socket.write(`x-dribble: ${Date.now()}\r\n`), 200);
    try {
      const [dribbled, said] = await within(
        Promise.all([dribbler.closed, silent.closed]),
        8000,
        "the server to cut both connections",
      );
      const elapsed = Date.now() - started;
      expect(dribbled).toMatch(/^HTTP\/1\.1 408 /);
      expect(said).toMatch(/^HTTP\/1\.1 408 /);
      // The timeout, plus at most a quarter of it for the periodic check, plus slack for a
      // busy machine: far from the 30 s of Node's default check.
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(4000);
    } finally {
      clearInterval(timer);
    }
    expect((await exchange(url, "/healthz")).status).toBe(200);
  });

  it("past --max-connections a connection gets a 503 and is closed; idle ones time out and the server serves again", async () => {
    const { url } = await serve(tempDir(PROMPTS), { maxConnections: 5, headersTimeoutMs: 1500 });
    const idle = Array.from({ length: 5 }, () => openSocket(url));
    await Promise.all(idle.map((client) => client.connected));
    const flood = Array.from({ length: 50 }, () => openSocket(url));
    await Promise.all(flood.map((client) => client.connected));
    for (const client of flood)
      client.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    const answers = await within(
      Promise.all(flood.map((client) => client.closed)),
      5000,
      "the refused connections to close",
    );
    for (const answer of answers) {
      expect(answer).toMatch(/^HTTP\/1\.1 503 /);
      expect(answer).toMatch(/connection: close/i);
      expect(answer).toContain('"code":"too_many_connections"');
    }
    // The five idle connections hold the server until their headers time out, no longer.
    const cut = await within(
      Promise.all(idle.map((client) => client.closed)),
      5000,
      "the idle connections to time out",
    );
    for (const answer of cut) expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    await waitFor("the server to answer again", async () => {
      const answer = await exchange(url, "/healthz").catch(() => undefined);
      return answer?.status === 200;
    });
  });

  it("--max-connections must be a positive number", async () => {
    const root = tempDir(PROMPTS);
    for (const value of ["0", "-1", "many", "1.5"]) {
      expectOneLineError(
        await cli(root, "serve", "--port", "0", "--max-connections", value),
        2,
        `--max-connections must be a number of connections (1 or more), got "${value}"`,
      );
    }
  });
});

describe("event streams", () => {
  const BROKEN_FILES = 8;
  /** A prompt using 3,000 undeclared long variables: about 1.2 MB of errors in an `invalid` frame. */
  const broken = (edit: number) =>
    `description: Broken on purpose.\ntemplate: |\n  ${Array.from(
      { length: 3000 },
      (_, index) => `{{v${"x".repeat(200)}_${index}_${edit}}}`,
    ).join(" ")}\n`;

  /** Counts the whole `invalid` frames in a byte stream (each ends with its last error). */
  const frameCounter = () => {
    const marker = Buffer.from('"severity":"error"}]}\n\n');
    let tail = Buffer.alloc(0);
    const counter = {
      frames: 0,
      add(chunk: Uint8Array) {
        const bytes = Buffer.concat([tail, chunk]);
        for (let at = bytes.indexOf(marker); at !== -1; at = bytes.indexOf(marker, at + 1))
          counter.frames++;
        tail = bytes.subarray(Math.max(0, bytes.length - marker.length + 1));
      },
    };
    return counter;
  };

  it("a client that never reads is cut once its unsent frames pass a bound; the server's memory stays put and a reading client gets every event", async () => {
    const files: Record<string, string> = { ...PROMPTS };
    for (let file = 0; file < BROKEN_FILES; file++) files[`prompts/big${file}.yaml`] = GREETING;
    const root = tempDir(files);
    // A process of its own, so that its memory is the server's alone.
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
    delete env.PROMPTS_TOKEN;
    // A heap too small for the frames a non-reading client would be owed (over 100 MB): a
    // server that held them would die of it, whatever the machine's load does to the timing
    // of garbage collection, which RSS alone depends on.
    const child = spawn(
      process.execPath,
      ["--max-old-space-size=96", BIN, "serve", "--port", "0"],
      {
        cwd: root,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    children.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    await waitFor("the server to start", () => /at http:/.test(stdout), 10_000);
    const url = /at (http:\S+)/.exec(stdout)?.[1] ?? "";
    const rss = () => {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) * 1024;
    };
    const reloads = () => stderr.split("kept the last good bundle").length - 1;

    const slow = openSocket(url, { read: false });
    await slow.connected;
    slow.socket.write("GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    const reader = (await fetch(`${url}/v1/events`)).body?.getReader();
    if (!reader) throw new Error("no event stream");
    const fast = frameCounter();
    const pump = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        fast.add(value);
      }
    })().catch(() => {});

    // One file at a time, the reading client keeping up: from the last one on, every `invalid`
    // frame lists the errors of all of them, about 10 MB.
    const edit = async (file: number, version: number) => {
      const seen = reloads();
      writeFileSync(join(root, "prompts", `big${file}.yaml`), broken(version));
      await waitFor(`the server to hear of big${file}.yaml`, () => reloads() > seen, 10_000);
      await waitFor("the reading client to get the frame", () => fast.frames === reloads(), 10_000);
    };
    for (let file = 0; file < BROKEN_FILES; file++) await edit(file, 0);
    // Past a few frames the server's own garbage has reached its level; from there on, memory
    // would grow only with what it holds for the client that does not read.
    for (let version = 1; version <= 4; version++) await edit(0, version);
    const before = rss();
    for (let version = 5; version <= 16; version++) await edit(0, version);
    // Over 100 MB of frames went out; the one client that did not read them is not holding them.
    expect(rss() - before).toBeLessThan(96 * 1024 * 1024);
    expect(stderr).toMatch(/cut an event stream whose client left \d+ bytes unread/);
    const slowFrames = frameCounter();
    slow.socket.on("data", (chunk: Buffer) => slowFrames.add(chunk));
    await within(slow.closed, 10_000, "the slow stream to end");
    expect(slowFrames.frames).toBeLessThan(fast.frames);
    await reader.cancel();
    await pump;
  }, 90_000);
});

describe("stats dates and event times are strict ISO 8601", () => {
  it("/v1/stats names the query parameter of a date that is not one, and reads the zone of one that is", async () => {
    const { url } = await serve(tempDir(PROMPTS));
    for (const [query, field] of [
      ["since=2024-02-30", "since"],
      ["since=1", "since"],
      ["since=yesterday", "since"],
      ["until=2024-13-01", "until"],
      ["until=2024-05-01T12:00:00", "until"],
      ["since=2023-02-29", "since"],
    ] as const) {
      const answer = await exchange(url, `/v1/stats?${query}`);
      expect({ query, status: answer.status }).toEqual({ query, status: 400 });
      const error = errorOf(answer);
      expect(error.code).toBe("invalid_request");
      expect(error.message).toMatch(new RegExp(`^${field}: must be an ISO 8601 date`));
      expect(error.message).not.toContain("--");
    }
    const logged = await exchange(url, "/v1/usage", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        type: "usage",
        name: "greeting",
        version: "v1",
        ts: "2024-05-01T12:00:00Z",
      }),
    });
    expect(logged.status).toBe(202);
    // The usage at 12:00 UTC, against ranges given as days and as times in other zones.
    for (const [query, usages] of [
      ["since=2024-02-29", 1],
      ["since=2024-05-01", 1],
      ["since=2024-05-02", 0],
      ["since=2024-05-01T13:30%2B02:00", 1],
      ["since=2024-05-01T12:00:00.001Z", 0],
      ["until=2024-05-01T13:30:00.123%2B02:00", 0],
      ["until=2024-05-01T08:00-04:00", 1],
    ] as const) {
      const answer = await exchange(url, `/v1/stats?${query}`);
      expect({ query, status: answer.status }).toEqual({ query, status: 200 });
      const report = JSON.parse(answer.text) as { prompts: { groups: { usages: number }[] }[] };
      const counted = report.prompts[0]?.groups[0]?.usages ?? 0;
      expect({ query, usages: counted }).toEqual({ query, usages });
    }
  });

  it("`prompts stats --since` keeps naming --since", async () => {
    const root = tempDir(PROMPTS);
    expectOneLineError(
      await cli(root, "stats", "--since", "2024-02-30"),
      2,
      "--since takes a date in ISO 8601",
      'got "2024-02-30"',
    );
    expectOneLineError(
      await cli(root, "stats", "--until", "1"),
      2,
      "--until takes a date in ISO 8601",
    );
  });

  it("an event's ts that is not a calendar ISO 8601 date is 400 naming event.ts", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const post = (ts: string) =>
      exchange(url, "/v1/usage", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          type: "usage",
          id: randomUUID(),
          name: "greeting",
          version: "v",
          ts,
        }),
      });
    for (const ts of ["2024-02-30T00:00:00Z", "1", "2024-05-01T12:00:00", "May 1, 2024"]) {
      const answer = await post(ts);
      expect({ ts, status: answer.status }).toEqual({ ts, status: 400 });
      expect(errorOf(answer).message).toMatch(/^event\.ts: must be an ISO 8601 date/);
    }
    const good = await post("2024-05-01T12:00:00.5+02:00");
    expect(good.status).toBe(202);
    expect(readFileSync(join(root, USAGE_LOG), "utf8")).toContain(
      '"ts":"2024-05-01T12:00:00.5+02:00"',
    );
  });
});
