import { execFileSync } from "node:child_process";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type PromptServer, type ServeOptions } from "../src/server/app.js";
import {
  cli,
  expectOneLineError,
  git,
  gitRepo,
  STACK_LINE,
  tempDir,
  waitUntil,
  writeFiles,
} from "./helpers.js";
import { GREETING, PLANNER } from "./sample-prompts.js";

const PROMPTS = {
  "prompts/greeting.yaml": GREETING,
  "prompts/planner.yaml": PLANNER,
  "prompts/team/notes.yaml": "template: Take notes.\n",
};
const greetingSaying = (word: string) => GREETING.replace("Hello", word);

interface Health {
  ok: boolean;
  hash: string;
  prompts: number;
  last_error: string | null;
}
interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

const servers: PromptServer[] = [];
const streams: AbortController[] = [];
const mounts: string[] = [];
afterEach(async () => {
  for (const controller of streams.splice(0)) controller.abort();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  for (const dir of mounts.splice(0)) execFileSync("umount", [dir]);
});

/** A server on a free port whose log lines are kept in `logs`. */
async function serve(root: string, options: ServeOptions = {}) {
  const logs: string[] = [];
  const server = await createServer({ root, port: 0, log: (line) => logs.push(line), ...options });
  servers.push(server);
  return { server, url: server.url, logs };
}

async function getJson<T = unknown>(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as T };
}

const health = async (url: string) => (await getJson<Health>(`${url}/healthz`)).body;
const bundleHash = async (url: string) =>
  (await getJson<{ hash: string }>(`${url}/v1/bundle`)).body.hash;
const greetingTemplate = async (url: string) =>
  (await getJson<{ template?: string }>(`${url}/v1/prompts/greeting`)).body.template;

/** Reads `GET /v1/events`; `next(what, match)` waits for a frame that matches. */
async function openEvents(url: string) {
  const controller = new AbortController();
  streams.push(controller);
  const response = await fetch(`${url}/v1/events`, { signal: controller.signal });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const frames: SseEvent[] = [];
  let reading: Promise<void> | undefined;
  const pump = () =>
    (reading ??= reader.read().then(({ value, done }) => {
      reading = undefined;
      if (done) throw new Error("the event stream ended");
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event && data) frames.push({ event, data: JSON.parse(data) as SseEvent["data"] });
      }
    }));
  return {
    async next(what: string, match: (event: SseEvent) => boolean, timeoutMs = 8000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = frames.findIndex(match);
        if (index >= 0) return frames.splice(0, index + 1)[index] as SseEvent;
        const remaining = deadline - Date.now();
        if (remaining <= 0)
          throw new Error(`timed out waiting for ${what}: ${JSON.stringify(frames)}`);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          pump(),
          new Promise((resolve) => (timer = setTimeout(resolve, remaining))),
        ]);
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Checks the whole cycle of a prompt folder that goes and comes back: while gone, the last good
 * prompts are served and `/healthz` and the event stream say so; once back, it is served again,
 * and an edit after that is seen too.
 */
async function expectGoneThenBack(
  root: string,
  makeGone: () => void,
  makeBack: () => void,
  backGreeting: string,
) {
  const { url, logs } = await serve(root);
  const good = await bundleHash(url);
  const events = await openEvents(url);
  await events.next("the first frame", (e) => e.event === "bundle");

  makeGone();
  const invalid = await events.next("an invalid event", (e) => e.event === "invalid");
  expect(invalid.data.message).toMatch(/prompt folder prompts\/ is gone/);
  expect(await health(url)).toEqual({
    ok: false,
    hash: good,
    prompts: 3,
    last_error: expect.stringMatching(/prompts\/ is gone/) as string,
    usage: { ok: true, error: null, since: null },
  });
  expect(await bundleHash(url)).toBe(good);
  expect(await greetingTemplate(url)).toBe("Hello {{name}}!\n");
  expect(logs.join("\n")).toMatch(
    /✗ kept the last good bundle: the prompt folder prompts\/ is gone/,
  );

  makeBack();
  await events.next("a bundle event once it is back", (e) => e.event === "bundle");
  const back = await waitUntil("the folder's prompts to be served", async () => {
    const now = await health(url);
    return now.ok && (await greetingTemplate(url)) === backGreeting ? now : undefined;
  });
  expect(back.last_error).toBeNull();

  // Watched again: a later edit is served.
  writeFileSync(join(root, "prompts/greeting.yaml"), greetingSaying("Later"));
  await events.next("a bundle event for the later edit", (e) => {
    const changed = e.data.changed as string[] | undefined;
    return e.event === "bundle" && changed?.includes("greeting") === true;
  });
  expect(await greetingTemplate(url)).toBe("Later {{name}}!\n");
  expect(logs.join("\n")).not.toMatch(STACK_LINE);
}

describe("the prompt folder goes away and comes back", () => {
  it("rm -rf, then recreated with other content: kept, reported, then served and watched", async () => {
    const root = tempDir(PROMPTS);
    await expectGoneThenBack(
      root,
      () => rmSync(join(root, "prompts"), { recursive: true }),
      () => writeFiles(root, { ...PROMPTS, "prompts/greeting.yaml": greetingSaying("Again") }),
      "Again {{name}}!\n",
    );
  });

  it("mv prompts away and back (the same folder): kept, reported, then served and watched", async () => {
    const root = tempDir(PROMPTS);
    await expectGoneThenBack(
      root,
      () => renameSync(join(root, "prompts"), join(root, "away")),
      () => renameSync(join(root, "away"), join(root, "prompts")),
      "Hello {{name}}!\n",
    );
  });

  it("git checkout of a branch without the folder, and back: kept, reported, then served and watched", async () => {
    const repo = gitRepo([{ files: { ...PROMPTS, "README.md": "# repo\n" } }]);
    git(repo, "checkout", "-q", "-b", "bare");
    git(repo, "rm", "-q", "-r", "prompts");
    git(repo, "commit", "-q", "-m", "no prompts here");
    git(repo, "checkout", "-q", "main");
    await expectGoneThenBack(
      repo,
      () => git(repo, "checkout", "-q", "bare"),
      () => git(repo, "checkout", "-q", "main"),
      "Hello {{name}}!\n",
    );
  });

  it("a folder emptied of prompts is not served as good: kept, reported, served again once a prompt is back", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const good = await bundleHash(url);
    const events = await openEvents(url);
    await events.next("the first frame", (e) => e.event === "bundle");
    for (const file of Object.keys(PROMPTS)) rmSync(join(root, file));
    const invalid = await events.next("an invalid event", (e) => e.event === "invalid");
    expect(invalid.data.message).toMatch(/no prompts in prompts\//);
    await waitUntil("healthz to report it", async () => (await health(url)).ok === false);
    expect(await health(url)).toMatchObject({ hash: good, prompts: 3 });
    expect(await bundleHash(url)).toBe(good);

    writeFiles(root, { "prompts/greeting.yaml": greetingSaying("Alone") });
    await events.next("a bundle event", (e) => e.event === "bundle");
    expect(await health(url)).toMatchObject({ ok: true, prompts: 1, last_error: null });
    expect(await greetingTemplate(url)).toBe("Alone {{name}}!\n");
  });

  it("a server is not started on a folder without prompts", async () => {
    const root = tempDir({ "prompts/README.md": "no prompts yet\n" });
    await expect(serve(root)).rejects.toThrow(/cannot serve: no prompts in prompts\//);
    const result = await cli(root, "serve", "--port", "0");
    expectOneLineError(result, 1, "no prompts in prompts/");
  });
});

describe("--ref: a ref that cannot be read shows in /healthz", () => {
  it("a deleted label: last_error and ok: false; put back, it is ok again", async () => {
    const repo = gitRepo([{ files: PROMPTS, tags: ["v1"] }]);
    expect((await cli(repo, "label", "production", "v1")).code).toBe(0);
    const { url, logs } = await serve(repo, { ref: "production", refPollMs: 50 });
    const good = await bundleHash(url);
    expect(await health(url)).toMatchObject({ ok: true, last_error: null });

    expect((await cli(repo, "label", "production", "--delete")).code).toBe(0);
    const failing = await waitUntil("healthz to report the label", async () => {
      const now = await health(url);
      return now.last_error === null ? undefined : now;
    });
    expect(failing).toMatchObject({ ok: false, hash: good, prompts: 3 });
    expect(failing.last_error).toMatch(/^cannot follow production: .*production/);
    expect(await bundleHash(url)).toBe(good);
    // Said once in the log, not at every poll.
    await waitUntil("a few more polls", async () => {
      const before = logs.length;
      await new Promise((resolve) => setTimeout(resolve, 200));
      return logs.length === before;
    });
    expect(logs.filter((line) => line.includes("cannot follow production"))).toHaveLength(1);

    expect((await cli(repo, "label", "production", "v1")).code).toBe(0);
    await waitUntil("healthz to be ok again", async () => (await health(url)).ok);
    expect(await health(url)).toMatchObject({ hash: good, last_error: null });
  });

  it("a branch moved to a commit without the prompt folder: last_error; moved back, ok", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    git(repo, "branch", "release");
    const { url } = await serve(repo, { ref: "release", refPollMs: 50 });
    const good = await bundleHash(url);
    git(repo, "checkout", "-q", "release");
    git(repo, "rm", "-q", "-r", "prompts");
    git(repo, "commit", "-q", "--allow-empty", "-m", "prompts moved out");
    const failing = await waitUntil("healthz to report it", async () => {
      const now = await health(url);
      return now.last_error === null ? undefined : now;
    });
    expect(failing).toMatchObject({ ok: false, hash: good });
    expect(failing.last_error).toMatch(/^cannot follow release: no prompt files under prompts\//);
    git(repo, "reset", "-q", "--hard", "main");
    await waitUntil("healthz to be ok again", async () => (await health(url)).ok);
    expect(await health(url)).toMatchObject({ hash: good, last_error: null });
  });
});

/** Sends the headers and half the body of a request, then drops the connection. */
async function abortMidBody(url: string, path: string): Promise<void> {
  const { hostname, port } = new URL(url);
  const body = JSON.stringify({ variables: { name: "x".repeat(2000) } });
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 1000)}`,
  );
  // The server has read the headers and is waiting for the rest once it answers nothing yet:
  // give it the first half, then go.
  await new Promise((resolve) => setImmediate(resolve));
  const closed = new Promise((resolve) => socket.once("close", resolve));
  socket.destroy();
  await closed;
}

describe("requests that go wrong", () => {
  it("a client that aborts its request mid-body is not logged as an error; the server goes on", async () => {
    const root = tempDir(PROMPTS);
    const { url, logs } = await serve(root);
    for (const path of ["/v1/prompts/greeting/render", "/v1/usage"]) {
      await abortMidBody(url, path);
      // Each answered request on a new connection comes after the aborted one was handled.
      for (let i = 0; i < 3; i++) expect((await fetch(`${url}/healthz`)).status).toBe(200);
    }
    const render = await fetch(`${url}/v1/prompts/greeting/render`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ variables: { name: "Ada" } }),
    });
    expect(render.status).toBe(200);
    await render.arrayBuffer();
    expect(logs.filter((line) => line.startsWith("✗"))).toEqual([]);
    expect(logs.join("\n")).not.toMatch(STACK_LINE);
  });

  it("JSON nested deeper than 64 is 400, never a stack overflow; 64 deep is fine", async () => {
    const root = tempDir(PROMPTS);
    const { url, logs } = await serve(root);
    const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const event = (metadataDepth: number) =>
      `{"type":"usage","name":"greeting","version":"0123456789ab","metadata":{"deep":${nested(metadataDepth)}}}`;
    for (const depth of [65, 10_000, 200_000]) {
      const response = await getJson<{ error: { code: string; message: string } }>(
        `${url}/v1/usage`,
        { method: "POST", headers: { "content-type": "application/json" }, body: event(depth) },
      );
      expect({ depth, status: response.status, code: response.body.error.code }).toEqual({
        depth,
        status: 400,
        code: "invalid_json",
      });
      expect(response.body.error.message).toMatch(/more than 64 deep/);
      const render = await getJson<{ error: { code: string } }>(
        `${url}/v1/prompts/greeting/render`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: `{"variables":{"name":"Ada","x":${nested(depth)}}}`,
        },
      );
      expect({ depth, status: render.status }).toEqual({ depth, status: 400 });
    }
    // Brackets inside strings are text, not nesting.
    const inString = await fetch(`${url}/v1/usage`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        type: "usage",
        name: "greeting",
        version: "0123456789ab",
        metadata: { text: "[{".repeat(1000), quote: '"]\\' },
      }),
    });
    expect(inString.status).toBe(202);
    await inString.arrayBuffer();
    // The event object, metadata and 62 arrays: 64 levels in all.
    const atLimit = await fetch(`${url}/v1/usage`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: event(62),
    });
    expect(atLimit.status).toBe(202);
    await atLimit.arrayBuffer();
    expect(logs.filter((line) => line.startsWith("✗"))).toEqual([]);
  });

  it("HEAD on every GET route answers with GET's status and headers, and no body", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const raw = (method: string, path: string) =>
      new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
        (resolve, reject) => {
          const { hostname, port } = new URL(url);
          const request = httpRequest({ hostname, port, path, method }, (response) => {
            const chunks: Buffer[] = [];
            // The event stream stays open after GET's headers: only they are compared.
            if (path === "/v1/events" && method === "GET") {
              response.destroy();
              resolve({
                status: response.statusCode ?? 0,
                headers: response.headers,
                body: Buffer.alloc(0),
              });
              return;
            }
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () =>
              resolve({
                status: response.statusCode ?? 0,
                headers: response.headers,
                body: Buffer.concat(chunks),
              }),
            );
          });
          request.on("error", reject);
          request.end();
        },
      );
    // The date may tick between the two; a body HEAD does not send needs no chunked framing.
    const comparable = (headers: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(headers).filter(([name]) => name !== "date" && name !== "transfer-encoding"),
      );
    for (const path of [
      "/healthz",
      "/v1/bundle",
      "/v1/prompts",
      "/v1/prompts?format=flat",
      "/v1/prompts/greeting",
      "/v1/prompts/team/notes",
      "/v1/prompts/nosuch",
      "/v1/stats",
      "/v1/events",
    ]) {
      const get = await raw("GET", path);
      const head = await raw("HEAD", path);
      expect({ path, status: head.status }).toEqual({ path, status: get.status });
      expect({ path, status: head.status }).not.toMatchObject({ status: 405 });
      expect({ path, headers: comparable(head.headers) }).toEqual({
        path,
        headers: comparable(get.headers),
      });
      expect({ path, body: head.body.length }).toEqual({ path, body: 0 });
    }
    // HEAD is no way around a route's method: the render route still wants POST.
    expect((await raw("HEAD", "/v1/prompts/greeting/render")).status).toBe(405);
  });
});

/** Mounts a small tmpfs on `dir` (as root); false when this machine does not let us. */
function mountTmpfs(dir: string, options: { sizeKiB: number; readOnly?: boolean }): boolean {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${options.sizeKiB}k`, "tmpfs", dir], {
      stdio: "ignore",
    });
  } catch {
    return false;
  }
  mounts.unshift(dir);
  return true;
}

/** Fills a mounted tmpfs to the last byte. */
function fill(dir: string): void {
  try {
    writeFileSync(join(dir, "filler"), Buffer.alloc(64 * 1024 * 1024));
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
  }
}

const remountReadOnly = (dir: string) =>
  execFileSync("mount", ["-o", "remount,ro", dir], { stdio: "ignore" });

const canMount = (() => {
  try {
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
})();

describe.skipIf(!canMount)(
  "a full or read-only disk is named as such, never an internal error",
  () => {
    it("publish --out onto a full disk: one line naming the file and ENOSPC, exit 1", async () => {
      const root = tempDir(PROMPTS);
      const disk = join(root, "full");
      expect(mountTmpfs(disk, { sizeKiB: 64 })).toBe(true);
      fill(disk);
      const result = await cli(root, "publish", "--out", "full/prompts.json");
      expectOneLineError(
        result,
        1,
        "cannot write the bundle full/prompts.json: no space left on device (ENOSPC)",
      );
    });

    it("publish --out onto a read-only disk: one line naming the file and EROFS, exit 1", async () => {
      const root = tempDir(PROMPTS);
      const disk = join(root, "ro");
      expect(mountTmpfs(disk, { sizeKiB: 64 })).toBe(true);
      remountReadOnly(disk);
      const result = await cli(root, "publish", "--out", "ro/prompts.json");
      expectOneLineError(
        result,
        1,
        "cannot write the bundle ro/prompts.json: read-only file system (EROFS)",
      );
    });

    it("init in a repository on a read-only disk: one line naming the file and EROFS, exit 1", async () => {
      const disk = join(tempDir(), "repo");
      expect(mountTmpfs(disk, { sizeKiB: 1024 })).toBe(true);
      git(disk, "init", "-q");
      mkdirSync(join(disk, "prompts"));
      remountReadOnly(disk);
      const result = await cli(disk, "init");
      expectOneLineError(
        result,
        1,
        "cannot write prompts/hello.yaml: read-only file system (EROFS)",
      );
    });

    it("the server: usage onto a full disk is a 503 naming ENOSPC, logged in one line", async () => {
      const root = tempDir(PROMPTS);
      const disk = join(root, ".prompts/usage");
      expect(mountTmpfs(disk, { sizeKiB: 64 })).toBe(true);
      fill(disk);
      const { url, logs } = await serve(root);
      const response = await getJson<{ error: { code: string; message: string } }>(
        `${url}/v1/usage`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ type: "usage", name: "greeting", version: "0123456789ab" }),
        },
      );
      expect(response.status).toBe(503);
      expect(response.body.error.message).toMatch(/no space left on device \(ENOSPC\)/);
      expect(response.body.error.message).not.toMatch(/internal/);
      expect(logs.join("\n")).toMatch(/ENOSPC/);
      expect(logs.join("\n")).not.toMatch(STACK_LINE);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    });
  },
);

describe("system errors in the server's other routes", () => {
  it("/v1/stats over a usage log that is a folder: 500 naming it, one log line, no stack", async () => {
    const root = tempDir(PROMPTS);
    mkdirSync(join(root, ".prompts/usage/events.jsonl"), { recursive: true });
    const { url, logs } = await serve(root);
    const response = await getJson<{ error: { code: string; message: string } }>(`${url}/v1/stats`);
    expect(response.status).toBe(500);
    expect(response.body.error).toEqual({
      code: "system_error",
      message: expect.stringMatching(/it is a folder \(EISDIR\)/) as string,
    });
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^✗ GET \/v1\/stats: .*\(EISDIR\)$/);
  });
});
