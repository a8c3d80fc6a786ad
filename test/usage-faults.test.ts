// The usage store when the disk misbehaves under a running server: a deleted folder, a full
// disk, a read-only or unopenable folder. Real servers on port 0, real tmpfs mounts (as root).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PromptClient, type PromptClientEvents } from "../src/client/client.js";
import { createServer, type PromptServer } from "../src/server/app.js";
import { BIN, tempDir, waitUntil } from "./helpers.js";
import { GREETING } from "./sample-prompts.js";

const USAGE_DIR = join(".prompts", "usage");
const USAGE_LOG = join(USAGE_DIR, "events.jsonl");

const servers: PromptServer[] = [];
const clients: PromptClient[] = [];
const mounts: string[] = [];
const children: ChildProcess[] = [];
// Registered after helpers' own afterEach, so it runs first: servers close and mounts go
// before the temp dirs are removed.
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(
    children.splice(0).map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        }),
    ),
  );
  for (const dir of mounts.splice(0).reverse()) {
    try {
      execFileSync("umount", [dir], { stdio: "ignore" });
    } catch {
      execFileSync("umount", ["-l", dir], { stdio: "ignore" });
    }
  }
});

/** Why tmpfs cannot be mounted here (not root, no mount), or undefined when it can. */
const cannotMount = (() => {
  const probe = tempDir();
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { stdio: "pipe" });
    execFileSync("umount", [probe], { stdio: "pipe" });
    return undefined;
  } catch (error) {
    const reason = `cannot mount tmpfs (${(error as Error).message.split("\n")[0]}); skipping the disk-full and read-only tests`;
    console.warn(reason);
    return reason;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

/** The uid and gid of `nobody`, to meet EACCES as root cannot; or why not. */
const nobody = (() => {
  if (process.getuid?.() !== 0) return "not root: cannot run the server as another user";
  try {
    const [uid, gid] = ["-u", "-g"].map((flag) =>
      Number(execFileSync("id", [flag, "nobody"], { encoding: "utf8" }).trim()),
    );
    return { uid: uid ?? NaN, gid: gid ?? NaN };
  } catch {
    return "no user named nobody";
  }
})();

/** `prompts serve --port 0` in `root`, run as `user`; resolves with its URL. */
function serveAs(root: string, user: { uid: number; gid: number }): Promise<string> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0"], {
    cwd: root,
    uid: user.uid,
    gid: user.gid,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let said = "";
    const read = (chunk: Buffer) => {
      said += chunk.toString();
      const url = /http:\/\/[\d.]+:\d+/.exec(said)?.[0];
      if (url) resolve(url);
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${said}`)));
  });
}

/** Mounts a fresh tmpfs of `size` at `dir` (created), unmounted after the test. */
function mountTmpfs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  mounts.push(dir);
}

/** Fills the file system of `dir` to the last byte; returns the filler file. */
function fill(dir: string): string {
  const filler = join(dir, "filler");
  const fd = openSync(filler, "w");
  const chunk = Buffer.alloc(4096, 0x78);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  } finally {
    closeSync(fd);
  }
  return filler;
}

async function serve(root: string) {
  const logs: string[] = [];
  const server = await createServer({ root, port: 0, log: (line) => logs.push(line) });
  servers.push(server);
  return { url: server.url, logs };
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

async function post(url: string, body: unknown): Promise<Answer> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Answer["body"],
  };
}

async function health(url: string) {
  const response = await fetch(`${url}/healthz`);
  return {
    status: response.status,
    body: (await response.json()) as {
      ok: boolean;
      last_error: string | null;
      usage: { ok: boolean; error: string | null; since: string | null };
    },
  };
}

const usage = (extra: Record<string, unknown> = {}) => ({
  type: "usage",
  id: randomUUID(),
  ts: "2026-01-01T00:00:00.000Z",
  name: "greeting",
  version: "0123456789ab",
  ...extra,
});

/** Every line of the log parsed; fails on a line that is not JSON. */
function logged(root: string): Record<string, unknown>[] {
  const path = join(root, USAGE_LOG);
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  expect(text === "" || text.endsWith("\n")).toBe(true);
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A 503 from broken storage: Retry-After, a stable code, and the errno and file named. */
function expectStorageUnavailable(answer: Answer, errno: string): void {
  expect(answer.status).toBe(503);
  expect(answer.headers.get("retry-after")).toBe("5");
  expect(answer.body.error?.code).toBe("storage_unavailable");
  expect(answer.body.error?.message).toMatch(
    new RegExp(`^cannot write \\.prompts/usage/events\\.jsonl: .+ \\(${errno}\\); `),
  );
}

describe("usage storage faults under a running server", () => {
  it("the usage folder deleted while serving is recreated: every acknowledged event is in the file at its path", async () => {
    const root = tempDir({ "prompts/greeting.yaml": GREETING });
    const { url } = await serve(root);
    const acknowledged: string[] = [];
    const first = usage();
    expect((await post(`${url}/v1/usage`, first)).status).toBe(202);
    acknowledged.push(first.id);

    for (let round = 0; round < 3; round++) {
      rmSync(join(root, ".prompts"), { recursive: true, force: true });
      const batch = [usage(), usage()];
      expect((await post(`${url}/v1/usage`, batch)).status).toBe(202);
      acknowledged.push(...batch.map((event) => event.id));
      const rendered = await post(`${url}/v1/prompts/greeting/render`, {
        variables: { name: "Ada" },
      });
      expect(rendered.status).toBe(200);
      acknowledged.push(rendered.body.usage_id as string);
    }
    // What survived each deletion is the events acknowledged after it.
    expect(logged(root).map((event) => event.id)).toEqual(acknowledged.slice(-3));
    expect((await health(url)).body.ok).toBe(true);
  });

  it.skipIf(cannotMount !== undefined)(
    "disk full: 503 with Retry-After, the file exactly as before, renders unlogged but served, then whole lines again",
    async () => {
      const root = tempDir({ "prompts/greeting.yaml": GREETING });
      const dir = join(root, USAGE_DIR);
      mountTmpfs(dir, "1m");
      const { url, logs } = await serve(root);
      const early = usage();
      expect((await post(`${url}/v1/usage`, early)).status).toBe(202);
      const filler = fill(dir);
      const before = readFileSync(join(root, USAGE_LOG));

      // Bigger than what is left of the file's last page: part of it would fit, then ENOSPC.
      const big = Array.from({ length: 20 }, () => usage({ metadata: { pad: "y".repeat(1000) } }));
      const refused = await post(`${url}/v1/usage`, big);
      expectStorageUnavailable(refused, "ENOSPC");
      expect(readFileSync(join(root, USAGE_LOG))).toEqual(before);

      const rendered = await post(`${url}/v1/prompts/greeting/render`, {
        variables: { name: "z".repeat(8000) },
      });
      expect(rendered.status).toBe(200);
      expect(rendered.body.text).toBe(`Hello ${"z".repeat(8000)}!\n`);
      expect(rendered.body.usage_id).toBeNull();
      expect(rendered.body.warning).toMatch(
        /^usage not logged: cannot write .prompts\/usage\/events.jsonl: no space left on device \(ENOSPC\); /,
      );
      expect(readFileSync(join(root, USAGE_LOG))).toEqual(before);

      const sick = await health(url);
      expect(sick.status).toBe(200);
      expect(sick.body).toMatchObject({
        ok: false,
        last_error: expect.stringMatching(/^usage log: cannot write .*\(ENOSPC\)/),
        usage: { ok: false, error: expect.stringMatching(/\(ENOSPC\)/), since: expect.any(String) },
      });
      expect(logs.filter((line) => line.includes("ENOSPC"))).toHaveLength(1);

      rmSync(filler);
      const again = await post(`${url}/v1/usage`, big);
      expect(again.status).toBe(202);
      const rerendered = await post(`${url}/v1/prompts/greeting/render`, {
        variables: { name: "Ada" },
      });
      expect(rerendered.body.usage_id).toEqual(expect.any(String));
      expect(rerendered.body).not.toHaveProperty("warning");
      expect(logged(root).map((event) => event.id)).toEqual([
        early.id,
        ...big.map((event) => event.id),
        rerendered.body.usage_id,
      ]);
      expect((await health(url)).body).toMatchObject({ ok: true, last_error: null });
      expect(logs.at(-1)).toMatch(/usage log: writing again/);
    },
  );

  it.skipIf(cannotMount !== undefined)(
    "a read-only usage folder: 503 and unlogged renders, and it recovers by itself once writable",
    async () => {
      const root = tempDir({ "prompts/greeting.yaml": GREETING });
      const dir = join(root, USAGE_DIR);
      mountTmpfs(dir, "1m");
      execFileSync("mount", ["-o", "remount,ro", dir]);
      const { url } = await serve(root);

      for (let i = 0; i < 2; i++) {
        expectStorageUnavailable(await post(`${url}/v1/usage`, usage()), "EROFS");
        const rendered = await post(`${url}/v1/prompts/greeting/render`, {
          variables: { name: "Ada" },
        });
        expect(rendered).toMatchObject({
          status: 200,
          body: { text: "Hello Ada!\n", usage_id: null, warning: expect.stringMatching(/EROFS/) },
        });
      }
      expect((await health(url)).body).toMatchObject({
        ok: false,
        usage: {
          error: expect.stringMatching(
            /^cannot write .prompts\/usage\/events.jsonl: read-only file system \(EROFS\)/,
          ),
        },
      });

      execFileSync("mount", ["-o", "remount,rw", dir]);
      const event = usage();
      expect((await post(`${url}/v1/usage`, event)).status).toBe(202);
      const rendered = await post(`${url}/v1/prompts/greeting/render`, {
        variables: { name: "Ada" },
      });
      expect(rendered.body.usage_id).toEqual(expect.any(String));
      expect(logged(root).map((line) => line.id)).toEqual([event.id, rendered.body.usage_id]);
      expect((await health(url)).body.ok).toBe(true);
    },
  );

  it.skipIf(typeof nobody === "string")(
    "a usage folder the server may not write to (EACCES): 503 and unlogged renders, then it recovers by itself",
    async () => {
      const user = nobody as { uid: number; gid: number };
      const root = tempDir({ "prompts/greeting.yaml": GREETING });
      execFileSync("chmod", ["-R", "a+rX", root]);
      const dir = join(root, USAGE_DIR);
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      const url = await serveAs(root, user);

      expectStorageUnavailable(await post(`${url}/v1/usage`, usage()), "EACCES");
      const rendered = await post(`${url}/v1/prompts/greeting/render`, {
        variables: { name: "Ada" },
      });
      expect(rendered).toMatchObject({
        status: 200,
        body: { text: "Hello Ada!\n", usage_id: null, warning: expect.stringMatching(/EACCES/) },
      });

      chownSync(dir, user.uid, user.gid);
      const event = usage();
      expect((await post(`${url}/v1/usage`, event)).status).toBe(202);
      expect(logged(root).map((line) => line.id)).toEqual([event.id]);
      expect((await health(url)).body.ok).toBe(true);
    },
  );

  it("a usage folder that cannot be made (a file in its place) is retried on every request and recovers", async () => {
    const root = tempDir({ "prompts/greeting.yaml": GREETING, ".prompts/usage": "not a folder" });
    const { url } = await serve(root);
    const refused = await post(`${url}/v1/usage`, usage());
    expect(refused.status).toBe(503);
    expect(refused.body.error?.code).toBe("storage_unavailable");
    expect(refused.body.error?.message).toMatch(
      /^cannot write \.prompts\/usage\/events\.jsonl: .+ \(E[A-Z]+\); /,
    );

    rmSync(join(root, USAGE_DIR));
    const event = usage();
    expect((await post(`${url}/v1/usage`, event)).status).toBe(202);
    expect(logged(root).map((line) => line.id)).toEqual([event.id]);
  });

  it("a torn last line left by a crash does not swallow the next event", async () => {
    const root = tempDir({
      "prompts/greeting.yaml": GREETING,
      [USAGE_LOG]: `${JSON.stringify(usage({ id: "before" }))}\n{"type":"usage","id":"torn","na`,
    });
    const { url } = await serve(root);
    const event = usage();
    expect((await post(`${url}/v1/usage`, event)).status).toBe(202);
    const lines = readFileSync(join(root, USAGE_LOG), "utf8").split("\n");
    expect(lines).toEqual([
      expect.stringContaining('"before"'),
      '{"type":"usage","id":"torn","na',
      JSON.stringify(JSON.parse(lines[2] ?? "null")),
      "",
    ]);
    expect(JSON.parse(lines[2] ?? "null")).toMatchObject({ id: event.id });
  });
});

describe("the client library against broken usage storage", () => {
  it.skipIf(cannotMount !== undefined)(
    "a 503 keeps the events and retries them until the disk has room again",
    async () => {
      const root = tempDir({ "prompts/greeting.yaml": GREETING });
      const dir = join(root, USAGE_DIR);
      mountTmpfs(dir, "1m");
      const { url } = await serve(root);
      const filler = fill(dir);
      // Even the file's first page cannot be had: every write fails.
      expect(existsSync(join(root, USAGE_LOG))).toBe(false);

      const client = new PromptClient({ source: url, flushMs: 10, refreshMs: 0 });
      clients.push(client);
      const errors: PromptClientEvents["error"][] = [];
      client.on("error", (error) => errors.push(error));
      await client.ready();
      const ids = [1, 2, 3].map((i) => client.render("greeting", { name: `n${i}` }).usageId);
      await waitUntil("the client to hear of the failure", () => errors.length > 0);
      expect(errors[0]?.message).toMatch(/kept and retried.*503.*storage_unavailable/);
      expect(client.droppedEvents).toBe(0);
      expect(client.pendingEvents).toBe(3);

      rmSync(filler);
      await waitUntil("the events in the server's log", () => logged(root).length === 3, 10_000);
      expect(logged(root).map((event) => event.id)).toEqual(ids);
      // On disk before the server answers: the 202 may still be on its way to the client.
      await waitUntil("the client to hear the 202", () => client.pendingEvents === 0);
      expect(client.droppedEvents).toBe(0);
    },
  );
});
