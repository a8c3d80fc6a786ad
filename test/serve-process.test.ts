import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, cpSync, existsSync, readFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, PROJECT_ROOT, runBin, tempDir } from "./helpers.js";
import { GREETING } from "./sample-prompts.js";

/** A spawned `prompts serve` and what it has printed so far. */
interface ServeProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the URL from the `serving … at URL` line; rejects if the process exits first. */
  url: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});

/** A temp folder holding a copy of this repository's own prompt tree. */
function promptTree(): string {
  const dir = tempDir();
  cpSync(join(PROJECT_ROOT, "prompts"), join(dir, "prompts"), { recursive: true });
  return dir;
}

function startServe(
  cwd: string,
  args: string[] = [],
  env: Record<string, string | undefined> = {},
): ServeProcess {
  const childEnv: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", ...env };
  delete childEnv.PROMPTS_TOKEN;
  if (env.PROMPTS_TOKEN !== undefined) childEnv.PROMPTS_TOKEN = env.PROMPTS_TOKEN;
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", ...args], {
    cwd,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "serving … at" line within 10 s; stderr: ${stderr}`)),
      10_000,
    );
    child.stdout?.on("data", (chunk: string) => {
      stdout += chunk;
      const match = /^serving .* at (http:\/\/[^\s]+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.stderr?.on("data", (chunk: string) => (stderr += chunk));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code ?? signal}) before serving; stderr: ${stderr}`));
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, url, exited };
}

/** Polls `read()` until it matches `pattern`, failing after `timeoutMs`. */
async function waitForText(read: () => string, pattern: RegExp, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`no ${String(pattern)} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits for the process to exit, failing after `timeoutMs`. */
async function exitOf(serve: Pick<ServeProcess, "exited" | "stderr">, timeoutMs = 10_000) {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    serve.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`still running after ${timeoutMs} ms; stderr: ${serve.stderr()}`)),
        timeoutMs,
      );
    }),
  ]);
  clearTimeout(timer);
  return result;
}

describe("prompts serve (the built binary)", () => {
  it("SIGTERM while events are posted: every event of a 202 is in the log, no line is torn", async () => {
    const root = promptTree();
    const serve = startServe(root);
    const url = await serve.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const listed = (await (await fetch(`${url}/v1/prompts`)).json()) as {
      prompts: { name: string }[];
    };
    expect(listed.prompts.map((prompt) => prompt.name)).toEqual([
      "answerer_prompt",
      "caller",
      "planner",
      "shared/tool_rules",
    ]);

    const WORKERS = 30;
    const PER_WORKER = 10;
    const EVENTS = 20;
    const KILL_AFTER = 100;
    const acceptedIds: string[] = [];
    let accepted = 0;
    let notAccepted = 0;
    let terminated = false;
    const worker = async (w: number) => {
      for (let r = 0; r < PER_WORKER; r++) {
        const events = Array.from({ length: EVENTS }, (_, e) => ({
          type: "usage",
          id: `w${w}-r${r}-e${e}-${randomUUID()}`,
          name: "answerer_prompt",
          version: "0123456789ab",
          variant: e % 2 === 0 ? "default" : "concise",
          unit: `user-${w}`,
          input: { user_query: `question ${w}/${r}/${e}`, infos: ["a fact"] },
        }));
        try {
          const response = await fetch(`${url}/v1/usage`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(events),
          });
          const body = (await response.json()) as { accepted?: number };
          if (response.status !== 202) {
            notAccepted++;
            continue;
          }
          expect(body.accepted).toBe(EVENTS);
          acceptedIds.push(...events.map((event) => event.id));
          accepted++;
          if (accepted === KILL_AFTER && !terminated) {
            terminated = true;
            serve.child.kill("SIGTERM");
          }
        } catch {
          // Refused or reset once the server stopped accepting: allowed, as long as no 202 was given.
          notAccepted++;
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    expect(terminated).toBe(true);

    const exit = await exitOf(serve);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(serve.stderr()).toMatch(/SIGTERM/);
    expect(accepted).toBeGreaterThanOrEqual(KILL_AFTER);
    // SIGTERM came in the middle: some requests were still to come and got no 202.
    expect(notAccepted).toBeGreaterThan(0);
    expect(accepted + notAccepted).toBe(WORKERS * PER_WORKER);

    const text = readFileSync(join(root, ".prompts/usage/events.jsonl"), "utf8");
    expect(text.endsWith("\n")).toBe(true);
    const lines = text.slice(0, -1).split("\n");
    const ids = lines.map((line, index) => {
      let event: { id?: unknown; type?: unknown };
      try {
        event = JSON.parse(line) as { id?: unknown; type?: unknown };
      } catch {
        throw new Error(`line ${index + 1} of the usage log is not JSON: ${line.slice(0, 80)}`);
      }
      expect(event.type).toBe("usage");
      return event.id as string;
    });
    expect(new Set(ids).size).toBe(ids.length);
    const logged = new Set(ids);
    const lost = acceptedIds.filter((id) => !logged.has(id));
    expect(lost).toEqual([]);
  });

  it("SIGTERM during a request on a keep-alive connection: answers it, then exits promptly", async () => {
    const root = promptTree();
    const serve = startServe(root);
    const { hostname, port } = new URL(await serve.url);
    // One kept-alive socket, as an HTTP client library keeps between its calls.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const id = randomUUID();
      const body = JSON.stringify({ type: "usage", id, name: "planner", version: "0123456789ab" });
      let answered = 0;
      const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const request = httpRequest(
          {
            hostname,
            port,
            path: "/v1/usage",
            method: "POST",
            agent,
            headers: {
              "content-type": "application/json",
              "content-length": Buffer.byteLength(body),
              expect: "100-continue",
            },
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (text += chunk));
            res.on("end", () => {
              answered = Date.now();
              resolve({ status: res.statusCode ?? 0, text });
            });
          },
        );
        request.on("error", reject);
        // 100 Continue: the server has read the headers, so the request is in flight there.
        request.once("continue", () => {
          serve.child.kill("SIGTERM");
          void waitForText(serve.stderr, /SIGTERM/).then(() => request.end(body), reject);
        });
        request.flushHeaders();
      });
      const { status, text } = await response;
      expect(status).toBe(202);
      expect(JSON.parse(text)).toMatchObject({ accepted: 1 });
      const exit = await exitOf(serve);
      const stoppedAfter = Date.now() - answered;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(readFileSync(join(root, ".prompts/usage/events.jsonl"), "utf8")).toContain(id);
      // Drained: the request in flight was answered; an idle kept-alive socket must not hold the process.
      expect(stoppedAfter).toBeLessThan(1500);
    } finally {
      agent.destroy();
    }
  });

  it("says where the web page is, and that address opens it", async () => {
    const serve = startServe(promptTree());
    const url = await serve.url;
    await waitForText(serve.stdout, /^the web page: (\S+)$/m);
    expect(serve.stdout()).toContain(`the web page: ${url}/\n`);
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toContain('<div id="app">');
    serve.child.kill("SIGTERM");
    expect(await exitOf(serve)).toEqual({ code: 0, signal: null });
  });

  it("SIGTERM as soon as the URL is printed is a clean stop (exit 0), every time", async () => {
    // A supervisor takes the printed URL as "ready" and may stop the server at once.
    const root = promptTree();
    for (let attempt = 1; attempt <= 8; attempt++) {
      const serve = startServe(root);
      await serve.url;
      serve.child.kill("SIGTERM");
      const exit = await exitOf(serve);
      expect({ attempt, ...exit }).toEqual({ attempt, code: 0, signal: null });
      expect(serve.stderr()).toMatch(/stopped/);
    }
  });

  it("a large tree not in the parse cache yet is served as `prompts publish` reads it, and so again from the cache", async () => {
    // Enough files that the server parses them in a child process, which fills the cache.
    const files: Record<string, string> = {};
    for (let i = 0; i < 2_000; i++)
      files[`prompts/team${i % 20}/prompt_${i}.yaml`] = GREETING.replace("Hello", `Hello ${i},`);
    const root = tempDir(files);
    expect(runBin(root, ["--no-cache", "publish", "--out", "published.json"]).code).toBe(0);
    const published = JSON.parse(readFileSync(join(root, "published.json"), "utf8")) as {
      hash: string;
      prompts: Record<string, unknown>;
    };
    expect(Object.keys(published.prompts)).toHaveLength(2_000);
    for (const cache of ["cold", "warm"]) {
      const serve = startServe(root);
      const response = await fetch(`${await serve.url}/v1/bundle`);
      const served = (await response.json()) as typeof published;
      expect({ cache, hash: served.hash }).toEqual({ cache, hash: published.hash });
      expect(served.prompts).toEqual(published.prompts);
      serve.child.kill("SIGTERM");
      expect(await exitOf(serve)).toEqual({ code: 0, signal: null });
    }
  });

  it("--host 0.0.0.0 without a token warns on stderr; with a token it does not", async () => {
    const root = promptTree();
    const open = startServe(root, ["--host", "0.0.0.0"]);
    expect(await open.url).toMatch(/:\d+$/);
    expect(open.stderr()).toMatch(/warning: .*0\.0\.0\.0.* without a token/);
    // A request first, so the signal cannot arrive before the process has set up its handlers.
    const health = await fetch(`http://127.0.0.1:${new URL(await open.url).port}/healthz`);
    expect(health.status).toBe(200);
    await health.arrayBuffer();
    open.child.kill("SIGTERM");
    expect(await exitOf(open)).toEqual({ code: 0, signal: null });

    for (const [args, env] of [
      [["--host", "0.0.0.0", "--token", "s3cret"], {}],
      [["--host", "0.0.0.0"], { PROMPTS_TOKEN: "s3cret" }],
    ] as const) {
      const guarded = startServe(root, [...args], env);
      const url = await guarded.url;
      expect(guarded.stderr()).not.toMatch(/warning/);
      const port = new URL(url).port;
      const refused = await fetch(`http://127.0.0.1:${port}/v1/bundle`);
      expect(refused.status).toBe(401);
      await refused.arrayBuffer();
      const allowed = await fetch(`http://127.0.0.1:${port}/v1/bundle`, {
        headers: { authorization: "Bearer s3cret" },
      });
      expect(allowed.status).toBe(200);
      await allowed.arrayBuffer();
      guarded.child.kill("SIGTERM");
      expect(await exitOf(guarded)).toEqual({ code: 0, signal: null });
    }
  });

  it("a bad --port or --max-body exits 2 with one line on stderr", () => {
    const root = promptTree();
    for (const args of [
      ["--port", "abc"],
      ["--port", "70000"],
      ["--port", "-1"],
      ["--max-body", "lots"],
    ]) {
      const result = runBin(root, ["serve", ...args], { NO_COLOR: "1" });
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(new RegExp(args[0] as string));
      expect(result.stderr).not.toMatch(/ {4}at /);
    }
  });

  it("a port in use: one line naming the address and what to try, exit 1, promptly", async () => {
    const root = promptTree();
    const busy = createNetServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    try {
      const port = (busy.address() as { port: number }).port;
      const serve = startServe(root, ["--port", String(port)]);
      // It never serves: that is the point.
      serve.url.catch(() => undefined);
      const exit = await exitOf(serve, 10_000);
      expect(exit).toEqual({ code: 1, signal: null });
      expect(serve.stdout()).toBe("");
      expect(serve.stderr()).toBe(
        `✗ cannot listen on 127.0.0.1:${port}: address already in use (try --port 0)\n`,
      );
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it("an address that is not this machine's: one line, exit 1, promptly (nothing is sent anywhere)", async () => {
    // Binding fails locally (EADDRNOTAVAIL) before any packet could leave.
    const root = promptTree();
    const serve = startServe(root, ["--host", "10.255.255.1", "--token", "s3cret"]);
    serve.url.catch(() => undefined);
    const exit = await exitOf(serve, 10_000);
    expect(exit).toEqual({ code: 1, signal: null });
    expect(serve.stdout()).toBe("");
    expect(serve.stderr()).toBe(
      "✗ cannot listen on 10.255.255.1:0: address not available (10.255.255.1 is not an address of this machine; try --host 127.0.0.1)\n",
    );
  });

  /** The lowest port anyone may bind here; undefined when the system does not say. */
  const unprivilegedStart = (() => {
    const path = "/proc/sys/net/ipv4/ip_unprivileged_port_start";
    return existsSync(path) ? Number(readFileSync(path, "utf8")) : undefined;
  })();

  it.skipIf(unprivilegedStart === undefined || unprivilegedStart <= 80)(
    "a port it may not bind: one line saying so and what to try, exit 1",
    async () => {
      const root = promptTree();
      // Root may bind any port: the server runs as nobody, who may not bind port 80.
      chmodSync(root, 0o755);
      const asRoot = process.getuid?.() === 0;
      const child = spawn(process.execPath, [BIN, "serve", "--port", "80"], {
        cwd: root,
        env: { ...process.env, NO_COLOR: "1", HOME: root },
        stdio: ["ignore", "pipe", "pipe"],
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      });
      children.push(child);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
        (resolve) => child.once("exit", (code, signal) => resolve({ code, signal })),
      );
      const serve = { exited, stderr: () => stderr };
      expect(await exitOf(serve, 10_000)).toEqual({ code: 1, signal: null });
      expect(stdout).toBe("");
      expect(stderr).toBe(
        "✗ cannot listen on 127.0.0.1:80: permission denied (ports below 1024 need privileges; try a port above 1024)\n",
      );
    },
  );
});
