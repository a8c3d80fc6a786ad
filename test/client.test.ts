import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type Bundle,
  type PromptClientEvents,
  type PromptClientOptions,
  type PromptEvent,
  PromptClient,
  PromptsError,
} from "../src/index.js";
import { createServer, type PromptServer } from "../src/server/app.js";
import { cli, tempDir, waitUntil, writeFiles } from "./helpers.js";
import { ANSWERER, GREETING, PLANNER } from "./sample-prompts.js";

/** An A/B/C test whose arms are declared out of alphabetical order, as files often have them. */
const ONBOARDING = `description: Welcomes a new user.
variables:
  name: string
template: Welcome, {{name}}.
variants:
  warm:
    weight: 35
    template: So glad you are here, {{name}}!
  brief:
    weight: 35
    template: Hi {{name}}.
`;

const PROMPTS = {
  "prompts/greeting.yaml": GREETING,
  "prompts/answerer_prompt.yaml": ANSWERER,
  "prompts/planner.yaml": PLANNER,
  "prompts/onboarding.yaml": ONBOARDING,
};

/** A greeting whose template says `word` instead of "Hello". */
const greetingSaying = (word: string) => GREETING.replace("Hello", word);

const USAGE_LOG = join(".prompts", "usage", "events.jsonl");

const clients: PromptClient[] = [];
const servers: PromptServer[] = [];
/** Plain HTTP servers of the tests. */
const others: Server[] = [];
// Registered after helpers' own afterEach, so it runs first: everything closes before dirs go.
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(others.splice(0).map(closeHttp));
});

function closeHttp(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Listens on 127.0.0.1 (on `port`, or a free one) and returns the port. */
async function listen(server: Server, port = 0): Promise<number> {
  others.push(server);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** A client closed after the test, with every event it emits recorded. */
function makeClient(options: PromptClientOptions) {
  const client = new PromptClient(options);
  clients.push(client);
  const updates: PromptClientEvents["update"][] = [];
  const errors: Error[] = [];
  client.on("update", (update) => updates.push(update));
  client.on("error", (error) => errors.push(error));
  return { client, updates, errors };
}

/** `prompts serve` on `root`, on a free port unless one is given. */
async function serve(root: string, port = 0): Promise<PromptServer> {
  const server = await createServer({ root, port, log: () => {} });
  servers.push(server);
  return server;
}

async function stopServer(server: PromptServer): Promise<void> {
  servers.splice(servers.indexOf(server), 1);
  await server.close();
}

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Writes the bundle of `root` with `prompts publish --out` and returns its path. */
async function publish(root: string, out = join(root, "dist", "prompts.json")): Promise<string> {
  const result = await cli(root, "publish", "--out", out);
  expect(result.code, result.stderr).toBe(0);
  return out;
}

function readBundle(path: string): Bundle {
  return JSON.parse(readFileSync(path, "utf8")) as Bundle;
}

/** A plain static host for one bundle file, as nginx or a CDN would serve it. */
interface BundleHost {
  url: string;
  /** Every GET of the bundle. */
  requests: number;
  /** Requests that carried If-None-Match. */
  conditional: number;
  /** Requests answered 304. */
  notModified: number;
  /** When set, served instead of the file (a broken upload). */
  override: string | undefined;
  /** When set, every request gets this status and no bundle. */
  status: number | undefined;
}

async function hostBundle(file: string): Promise<BundleHost> {
  const server = createHttpServer((request, response) => {
    host.requests++;
    if (host.status !== undefined) {
      response.writeHead(host.status, { "content-type": "text/plain" }).end("unavailable");
      return;
    }
    const body = host.override ?? readFileSync(file, "utf8");
    const etag = `"${createHash("sha256").update(body).digest("hex").slice(0, 32)}"`;
    const ifNoneMatch = request.headers["if-none-match"];
    if (ifNoneMatch !== undefined) host.conditional++;
    if (ifNoneMatch === etag) {
      host.notModified++;
      response.writeHead(304, { etag }).end();
      return;
    }
    response.writeHead(200, { "content-type": "application/json", etag }).end(body);
  });
  const host: BundleHost = {
    url: "",
    requests: 0,
    conditional: 0,
    notModified: 0,
    override: undefined,
    status: undefined,
  };
  host.url = `http://127.0.0.1:${await listen(server)}/releases/prompts.json`;
  return host;
}

/** The next `event` of `client` (that `filter` accepts), or a rejection after `timeoutMs`. */
function nextEvent<K extends keyof PromptClientEvents>(
  client: PromptClient,
  event: K,
  timeoutMs = 5000,
  filter: (value: PromptClientEvents[K]) => boolean = () => true,
): Promise<PromptClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const listener = (value: PromptClientEvents[K]) => {
      if (!filter(value)) return;
      clearTimeout(timer);
      client.off(event, listener);
      resolve(value);
    };
    const timer = setTimeout(() => {
      client.off(event, listener);
      reject(new Error(`no "${event}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on(event, listener);
  });
}

function jsonLines(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** What the CLI prints with `--json`, parsed. */
async function cliRender(root: string, name: string, args: string[]): Promise<unknown> {
  const result = await cli(root, "render", name, ...args, "--json");
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

/** Renders the CLI and the client must agree on: text and chat prompts, defaults, arrays, variants. */
const RENDER_CASES: {
  name: string;
  variables: Record<string, unknown>;
  variant?: string;
  args: string[];
}[] = [
  { name: "greeting", variables: { name: "Ada" }, args: ["--var", "name=Ada"] },
  {
    name: "planner",
    variables: { user_query: "What is RAG?" },
    args: ["--var", "user_query=What is RAG?"],
  },
  {
    name: "planner",
    variables: { user_query: "Hi", max_queries: 5 },
    args: ["--var", "user_query=Hi", "--var", "max_queries=5"],
  },
  {
    // Without a unit the arm is random (DESIGN §5); the CLI renders `default` unless told.
    name: "answerer_prompt",
    variables: { infos: ["the sky is blue", "water is wet"], user_query: "Why?" },
    variant: "default",
    args: ["--var", 'infos=["the sky is blue","water is wet"]', "--var", "user_query=Why?"],
  },
  {
    name: "answerer_prompt",
    variables: { infos: [], user_query: "Why?" },
    variant: "concise",
    args: ["--var", "infos=[]", "--var", "user_query=Why?", "--variant", "concise"],
  },
  {
    name: "onboarding",
    variables: { name: "Ada" },
    variant: "brief",
    args: ["--var", "name=Ada", "--variant", "brief"],
  },
];

type SourceKind = "serve" | "static bundle URL" | "local bundle file";

/** A client on `root`'s prompts through the given kind of source. */
async function sourceFor(kind: SourceKind, root: string): Promise<string> {
  if (kind === "serve") return (await serve(root)).url;
  const file = await publish(root);
  if (kind === "local bundle file") return file;
  return (await hostBundle(file)).url;
}

describe("PromptClient: rendering from each kind of source", () => {
  it.each<SourceKind>(["serve", "static bundle URL", "local bundle file"])(
    "%s: get and render are synchronous and give exactly what the CLI renders",
    async (kind) => {
      const root = tempDir(PROMPTS);
      const { client } = makeClient({ source: await sourceFor(kind, root), usage: false });
      await client.ready();
      expect(client.names().sort()).toEqual([
        "answerer_prompt",
        "greeting",
        "onboarding",
        "planner",
      ]);

      for (const { name, variables, variant, args } of RENDER_CASES) {
        const rendered = client.render(name, variables, variant === undefined ? {} : { variant });
        expect(rendered).not.toBeInstanceOf(Promise);
        // usageId is the client's own addition (empty here: usage is off); the rest is the CLI's.
        const { usageId, ...result } = rendered;
        expect(typeof usageId).toBe("string");
        expect(result, `${name} ${args.join(" ")}`).toEqual(await cliRender(root, name, args));
      }

      // get: the prompt as the bundle carries it.
      const bundle = readBundle(await publish(root, join(tempDir(), "check.json")));
      expect(client.hash).toBe(bundle.hash);
      for (const name of ["greeting", "planner", "onboarding"]) {
        const prompt = client.get(name);
        expect(prompt).not.toBeInstanceOf(Promise);
        const bundled = bundle.prompts[name];
        expect(prompt).toMatchObject({
          name,
          version: bundled?.version,
          variables: bundled?.variables,
          model: bundled?.model,
          variants: bundled?.variants,
        });
        expect(prompt.template).toEqual(bundled?.template);
        expect(prompt.messages).toEqual(bundled?.messages);
      }
    },
  );

  it("fails as the CLI does: missing variables, an unknown prompt, an unknown variant", async () => {
    const root = tempDir(PROMPTS);
    const { client } = makeClient({ source: await sourceFor("serve", root), usage: false });
    await client.ready();

    const thrown = (call: () => unknown): PromptsError => {
      try {
        call();
      } catch (error) {
        expect(error).toBeInstanceOf(PromptsError);
        return error as PromptsError;
      }
      throw new Error("expected a PromptsError, nothing was thrown");
    };

    const missing = thrown(() => client.render("answerer_prompt", {}));
    expect(missing.code).toBe("E_INVALID_INPUT");
    const cliMissing = await cli(root, "render", "answerer_prompt");
    expect(cliMissing.code).toBe(1);
    expect(`✗ ${missing.message}\n`).toBe(cliMissing.stderr);
    expect(missing.message).toContain("missing required variables: infos, user_query");

    const typo = thrown(() => client.render("greeting", { name: "Ada", nme: "Bob" }));
    expect(typo.code).toBe("E_INVALID_INPUT");
    const cliTypo = await cli(root, "render", "greeting", "--var", "name=Ada", "--var", "nme=Bob");
    expect(`✗ ${typo.message}\n`).toBe(cliTypo.stderr);

    const unknown = thrown(() => client.render("greetin", { name: "Ada" }));
    expect(unknown.code).toBe("E_PROMPT_NOT_FOUND");
    expect(unknown.message).toContain('prompt "greetin" not found');
    expect(unknown.message).toContain('(did you mean "greeting"?)');
    const cliUnknown = await cli(root, "render", "greetin", "--var", "name=Ada");
    expect(cliUnknown.code).toBe(1);
    expect(cliUnknown.stderr).toContain('(did you mean "greeting"?)');
    expect(thrown(() => client.get("greetin")).code).toBe("E_PROMPT_NOT_FOUND");

    const variant = thrown(() =>
      client.render("answerer_prompt", { infos: [], user_query: "Why?" }, { variant: "consise" }),
    );
    expect(variant.code).toBe("E_INVALID_INPUT");
    const cliVariant = await cli(
      root,
      "render",
      "answerer_prompt",
      "--var",
      "infos=[]",
      "--var",
      "user_query=Why?",
      "--variant",
      "consise",
    );
    expect(`✗ ${variant.message}\n`).toBe(cliVariant.stderr);
  });

  it("render and get before ready() throw an error that says to await ready()", async () => {
    const root = tempDir(PROMPTS);
    const { client } = makeClient({ source: await publish(root), usage: false });
    for (const call of [
      () => client.render("greeting", { name: "Ada" }),
      () => client.get("greeting"),
    ]) {
      expect(call).toThrow(PromptsError);
      expect(call).toThrow(/not loaded yet.*await client\.ready\(\)/);
    }
    await client.ready();
    expect(client.render("greeting", { name: "Ada" }).text).toBe("Hello Ada!\n");
  });
});

describe("PromptClient: refresh and watch", () => {
  it("a static bundle URL is polled every refreshMs with If-None-Match: 304 while unchanged, a swap when republished", async () => {
    const root = tempDir(PROMPTS);
    const file = await publish(root);
    const host = await hostBundle(file);
    const { client, updates, errors } = makeClient({
      source: host.url,
      refreshMs: 50,
      usage: false,
    });
    await client.ready();
    expect(host.requests).toBe(1);

    await waitUntil("four background refreshes", () => host.requests >= 5, 3000);
    // Every request after the first asked If-None-Match and cost a 304.
    expect(host.conditional).toBe(host.requests - 1);
    expect(host.notModified).toBe(host.requests - 1);
    expect(updates).toEqual([]);
    expect(errors).toEqual([]);

    writeFiles(root, { "prompts/greeting.yaml": greetingSaying("Howdy") });
    // Listening first: a poll every 50 ms may see the new bundle before publish returns.
    const updated = nextEvent(client, "update", 3000);
    await publish(root);
    expect(await updated).toEqual({ hash: readBundle(file).hash, changed: ["greeting"] });
    expect(client.render("greeting", { name: "Ada" }).text).toBe("Howdy Ada!\n");

    // And the new bundle is unchanged from then on: 304s again, with the new ETag.
    const before = host.notModified;
    await waitUntil("304s for the new bundle", () => host.notModified >= before + 2, 3000);
    expect(updates).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it("refresh() from prompts serve: false while unchanged (a 304), true with the changed names after an edit", async () => {
    const root = tempDir(PROMPTS);
    const server = await serve(root);
    const { client, updates, errors } = makeClient({
      source: server.url,
      refreshMs: 0,
      usage: false,
    });
    await client.ready();
    expect(client.hash).toBe(server.snapshot.hash);

    await expect(client.refresh()).resolves.toBe(false);
    expect(updates).toEqual([]);

    const first = server.snapshot.hash;
    writeFiles(root, { "prompts/greeting.yaml": greetingSaying("Howdy") });
    await waitUntil("the server's reload", () => server.snapshot.hash !== first);
    await expect(client.refresh()).resolves.toBe(true);
    expect(updates).toEqual([{ hash: server.snapshot.hash, changed: ["greeting"] }]);
    expect(client.hash).toBe(server.snapshot.hash);
    expect(client.render("greeting", { name: "Ada" }).text).toBe("Howdy Ada!\n");

    const second = server.snapshot.hash;
    writeFiles(root, {
      "prompts/planner.yaml": PLANNER.replace("at most", "no more than"),
      "prompts/onboarding.yaml": ONBOARDING.replace("Welcome,", "Welcome aboard,"),
    });
    await waitUntil(
      "the server's reload of both",
      async () =>
        server.snapshot.hash !== second &&
        (await fetch(`${server.url}/v1/prompts/planner`).then((r) => r.text())).includes(
          "no more than",
        ) &&
        (await fetch(`${server.url}/v1/prompts/onboarding`).then((r) => r.text())).includes(
          "aboard",
        ),
    );
    await expect(client.refresh()).resolves.toBe(true);
    expect(updates[1]).toEqual({ hash: server.snapshot.hash, changed: ["onboarding", "planner"] });
    expect(client.render("onboarding", { name: "Ada" }, { variant: "default" }).text).toBe(
      "Welcome aboard, Ada.",
    );
    expect(errors).toEqual([]);
  });

  it("watch on prompts serve: an edit is live in under a second, and the watch reconnects after a restart on the same port", async () => {
    const root = tempDir(PROMPTS);
    const first = await serve(root);
    const { client, errors } = makeClient({
      source: first.url,
      watch: true,
      refreshMs: 0,
      usage: false,
    });
    await client.ready();

    let started = performance.now();
    writeFiles(root, { "prompts/greeting.yaml": greetingSaying("Howdy") });
    let update = await nextEvent(client, "update", 5000);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(1000);
    expect(update).toEqual({ hash: first.snapshot.hash, changed: ["greeting"] });
    expect(client.render("greeting", { name: "Ada" }).text).toBe("Howdy Ada!\n");

    const port = Number(new URL(first.url).port);
    await stopServer(first);
    const second = await serve(root, port);
    expect(second.url).toBe(first.url);

    started = performance.now();
    writeFiles(root, { "prompts/greeting.yaml": greetingSaying("Hiya") });
    update = await nextEvent(client, "update", 5000);
    expect(update).toEqual({ hash: second.snapshot.hash, changed: ["greeting"] });
    expect(client.render("greeting", { name: "Ada" }).text).toBe("Hiya Ada!\n");
    // Only losing the stream may be an error; prompts never were.
    for (const error of errors) expect(error.message).toMatch(/event stream/);
  });

  it("watch on a local bundle file: a republish (atomic rename) is an update", async () => {
    const root = tempDir(PROMPTS);
    const file = await publish(root);
    const { client, errors } = makeClient({
      source: file,
      watch: true,
      refreshMs: 0,
      usage: false,
    });
    await client.ready();

    writeFiles(root, { "prompts/greeting.yaml": greetingSaying("Howdy") });
    const started = performance.now();
    const updated = nextEvent(client, "update", 3000);
    await publish(root);
    const update = await updated;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(update).toEqual({ hash: readBundle(file).hash, changed: ["greeting"] });
    expect(client.render("greeting", { name: "Ada" }).text).toBe("Howdy Ada!\n");
    expect(errors).toEqual([]);
  });
});

describe("PromptClient: failures keep the last good prompts", () => {
  it("a broken bundle on the static host (half-written, hash mismatch, not a bundle, a 503) is refused with an error event", async () => {
    const root = tempDir(PROMPTS);
    const file = await publish(root);
    const host = await hostBundle(file);
    const { client, updates, errors } = makeClient({
      source: host.url,
      refreshMs: 0,
      usage: false,
    });
    await client.ready();
    const good = client.hash;

    const text = readFileSync(file, "utf8");
    const tampered = readBundle(file);
    (tampered.prompts.greeting as { template: string }).template = "Hacked {{name}}!\n";
    const broken: [string, string | undefined, number | undefined, RegExp][] = [
      ["half-written", text.slice(0, Math.floor(text.length / 2)), undefined, /not valid JSON/],
      ["hash mismatch", JSON.stringify(tampered), undefined, /hash mismatch/],
      ["not a bundle", JSON.stringify({ greeting: "Hello" }), undefined, /not a gitprompts bundle/],
      ["server error", undefined, 503, /answered 503/],
    ];
    for (const [what, override, status, reason] of broken) {
      host.override = override;
      host.status = status;
      const errorEvent = nextEvent(client, "error", 3000);
      await expect(client.refresh(), what).resolves.toBe(false);
      const error = await errorEvent;
      expect(error, what).toBeInstanceOf(PromptsError);
      expect(error.message, what).toMatch(reason);
      expect(error.message, what).toContain(host.url);
      expect(client.hash, what).toBe(good);
      expect(client.render("greeting", { name: "Ada" }).text, what).toBe("Hello Ada!\n");
    }
    expect(updates).toEqual([]);
    expect(errors).toHaveLength(broken.length);

    host.override = undefined;
    host.status = undefined;
    writeFiles(root, { "prompts/greeting.yaml": greetingSaying("Howdy") });
    await publish(root);
    await expect(client.refresh()).resolves.toBe(true);
    expect(client.render("greeting", { name: "Ada" }).text).toBe("Howdy Ada!\n");
  });

  it("an unreachable server: refreshes fail with error events naming it, renders go on, and it is picked up when back", async () => {
    const root = tempDir(PROMPTS);
    const server = await serve(root);
    const { client, errors } = makeClient({ source: server.url, refreshMs: 50, usage: false });
    await client.ready();
    const port = Number(new URL(server.url).port);
    await stopServer(server);

    await expect(client.refresh()).resolves.toBe(false);
    await waitUntil("errors from background refreshes", () => errors.length >= 3, 3000);
    for (const error of errors) {
      expect(error).toBeInstanceOf(PromptsError);
      expect(error.message).toContain(`cannot refresh prompts from ${server.url}`);
    }
    expect(client.render("greeting", { name: "Ada" }).text).toBe("Hello Ada!\n");

    writeFiles(root, { "prompts/greeting.yaml": greetingSaying("Howdy") });
    const back = await serve(root, port);
    const update = await nextEvent(client, "update", 3000);
    expect(update).toEqual({ hash: back.snapshot.hash, changed: ["greeting"] });
    expect(client.render("greeting", { name: "Ada" }).text).toBe("Howdy Ada!\n");
  });
});

describe("PromptClient: start-up", () => {
  it("server down at start: serves the fallback file, says so, and goes live on refresh() once the server is up", async () => {
    const root = tempDir(PROMPTS);
    const fallback = await publish(root, join(tempDir(), "fallback.json"));
    writeFiles(root, { "prompts/greeting.yaml": greetingSaying("Howdy") });
    const port = await freePort();
    const source = `http://127.0.0.1:${port}`;
    const { client, updates, errors } = makeClient({
      source,
      fallback,
      refreshMs: 0,
      usage: false,
    });

    await client.ready();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(PromptsError);
    expect(errors[0]?.message).toContain(source);
    expect(errors[0]?.message).toMatch(/fallback/);
    expect(client.hash).toBe(readBundle(fallback).hash);
    expect(client.render("greeting", { name: "Ada" }).text).toBe("Hello Ada!\n");

    const server = await serve(root, port);
    await expect(client.refresh()).resolves.toBe(true);
    expect(updates).toEqual([{ hash: server.snapshot.hash, changed: ["greeting"] }]);
    expect(client.render("greeting", { name: "Ada" }).text).toBe("Howdy Ada!\n");
  });

  it("server down at start: serves a fallback bundle object, and the background refresh goes live once the server is up", async () => {
    const root = tempDir(PROMPTS);
    const fallback = readBundle(await publish(root, join(tempDir(), "fallback.json")));
    writeFiles(root, { "prompts/greeting.yaml": greetingSaying("Howdy") });
    const port = await freePort();
    const { client, errors } = makeClient({
      source: `http://127.0.0.1:${port}`,
      fallback,
      refreshMs: 50,
      usage: false,
    });
    await client.ready();
    expect(errors[0]?.message).toMatch(/fallback/);
    expect(client.render("greeting", { name: "Ada" }).text).toBe("Hello Ada!\n");

    const server = await serve(root, port);
    const update = await nextEvent(client, "update", 3000);
    expect(update).toEqual({ hash: server.snapshot.hash, changed: ["greeting"] });
    expect(client.render("greeting", { name: "Ada" }).text).toBe("Howdy Ada!\n");
  });

  it("ready() rejects with a clear error naming the source when there is nothing at all to serve", async () => {
    const port = await freePort();
    const source = `http://127.0.0.1:${port}`;
    const dir = tempDir({ "corrupt.json": '{"format":"gitprompts-bundle/1","hash":' });
    const cases: [string, PromptClientOptions, RegExp[]][] = [
      ["server down, no fallback", { source }, [/no fallback/]],
      [
        "missing local bundle, no fallback",
        { source: join(dir, "nowhere.json") },
        [/no fallback/, /nowhere\.json/],
      ],
      [
        "server down, fallback file missing",
        { source, fallback: join(dir, "missing.json") },
        [/fallback failed/, /missing\.json/],
      ],
      [
        "server down, fallback half-written",
        { source, fallback: join(dir, "corrupt.json") },
        [/fallback failed/, /invalid bundle/, /corrupt\.json/],
      ],
    ];
    for (const [what, options, reasons] of cases) {
      const { client, errors } = makeClient({ ...options, usage: false, refreshMs: 0 });
      const failure = await client.ready().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect.soft(failure, what).toBeInstanceOf(PromptsError);
      const message = (failure as PromptsError).message;
      expect.soft(message, what).toMatch(/^no prompts to serve/);
      // The application's log must say which source could not be read.
      expect.soft(message, what).toContain(options.source);
      for (const reason of reasons) expect.soft(message, what).toMatch(reason);
      expect.soft(() => client.render("greeting", { name: "Ada" }), what).toThrow(/not loaded yet/);
      expect.soft(errors, what).toEqual([]);
    }
  });

  it.each([
    ["undefined", undefined],
    ["an empty string", ""],
  ])(
    "a source that is %s (an unset environment variable): ready() rejects clearly, or serves the fallback",
    async (_what, source) => {
      const failure = await (async () => {
        const { client } = makeClient({ source: source as unknown as string, usage: false });
        await client.ready();
      })().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect.soft(failure).toBeInstanceOf(PromptsError);
      expect.soft((failure as Error).message).toMatch(/source/);

      // With a fallback there is something to serve.
      const fallback = await publish(tempDir(PROMPTS));
      const served = await (async () => {
        const { client, errors } = makeClient({
          source: source as unknown as string,
          fallback,
          usage: false,
        });
        await client.ready();
        expect(errors).toHaveLength(1);
        return client.render("greeting", { name: "Ada" }).text;
      })().catch((error: unknown) => error);
      expect.soft(served).toBe("Hello Ada!\n");
    },
  );
});

describe("PromptClient: variants", () => {
  it("picks the same variant as the server for the same prompt and unit, for 200 units", async () => {
    const root = tempDir(PROMPTS);
    const server = await serve(root);
    const { client } = makeClient({ source: server.url, usage: false });
    await client.ready();

    const mismatches: string[] = [];
    const seen = new Map<string, Set<string>>();
    for (const name of ["onboarding", "answerer_prompt"]) {
      const variables =
        name === "onboarding" ? { name: "Ada" } : { infos: ["x"], user_query: "Why?" };
      for (let i = 0; i < 200; i++) {
        const unit = `user-${i}`;
        const local = client.render(name, variables, { unit });
        const response = await fetch(`${server.url}/v1/prompts/${name}/render`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ variables, unit }),
        });
        expect(response.status).toBe(200);
        const remote = (await response.json()) as { variant: string; text: string };
        if (local.variant !== remote.variant || local.text !== remote.text) {
          mismatches.push(`${name}/${unit}: client ${local.variant}, server ${remote.variant}`);
        }
        // Sticky: the same unit gets the same arm every time.
        expect(client.render(name, variables, { unit }).variant).toBe(local.variant);
        const arms = seen.get(name) ?? new Set();
        arms.add(remote.variant);
        seen.set(name, arms);
      }
    }
    // Every arm was exercised, so agreement means something.
    expect([...(seen.get("onboarding") ?? [])].sort()).toEqual(["brief", "default", "warm"]);
    expect([...(seen.get("answerer_prompt") ?? [])].sort()).toEqual(["concise", "default"]);
    expect(mismatches.slice(0, 5), `${mismatches.length} of 400 units disagree`).toEqual([]);
  });
});

describe("PromptClient: usage events", () => {
  it("to prompts serve: each render a usage event, outcome() an outcome, sent in the background into the server's log", async () => {
    const root = tempDir(PROMPTS);
    const server = await serve(root);
    const { client, errors } = makeClient({ source: server.url, flushMs: 20 });
    await client.ready();
    const version = (name: string) => server.snapshot.prompts.get(name)?.version;

    const greeting = client.render(
      "greeting",
      { name: "Ada" },
      { unit: "user-1", metadata: { request: 7 } },
    );
    const answer = client.render(
      "answerer_prompt",
      { infos: ["x"], user_query: "Why?" },
      { variant: "concise" },
    );
    client.outcome(greeting.usageId, {
      score: 0.8,
      success: true,
      latencyMs: 812,
      tokens: { input: 300, output: 120 },
      cost: 0.0012,
      metadata: { model: "model-one" },
    });

    const rendered = Date.now();
    const log = join(root, USAGE_LOG);
    const events = await waitUntil("three events in the server's log", () => {
      const lines = jsonLines(log);
      return lines.length >= 3 && lines;
    });
    expect(events).toHaveLength(3);
    const byId = new Map(events.map((event) => [event.id, event]));
    expect(byId.get(greeting.usageId)).toEqual({
      type: "usage",
      id: greeting.usageId,
      ts: expect.any(String),
      name: "greeting",
      version: version("greeting"),
      variant: "default",
      unit: "user-1",
      input: { name: "Ada" },
      metadata: { request: 7 },
    });
    expect(byId.get(answer.usageId)).toMatchObject({
      type: "usage",
      name: "answerer_prompt",
      version: version("answerer_prompt"),
      variant: "concise",
      input: { infos: ["x"], user_query: "Why?" },
    });
    const outcome = events.find((event) => event.type === "outcome");
    expect(outcome).toEqual({
      type: "outcome",
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      ts: expect.any(String),
      usage_id: greeting.usageId,
      score: 0.8,
      success: true,
      latency_ms: 812,
      tokens: { input: 300, output: 120 },
      cost: 0.0012,
      metadata: { model: "model-one" },
    });
    // ts: when the render happened, as ISO 8601.
    for (const event of events) {
      expect(event.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Math.abs(Date.parse(event.ts as string) - rendered)).toBeLessThan(1000);
    }
    // The events are on disk before the server answers: the 202 may still be on its way.
    await waitUntil("the client to hear the 202", () => client.pendingEvents === 0);
    expect(errors).toEqual([]);
  });

  it("an event records the variables of its own render, even when the caller reuses the object", async () => {
    const root = tempDir(PROMPTS);
    const log = join(tempDir(), "usage.jsonl");
    const { client } = makeClient({ source: await publish(root), usage: log, flushMs: 60_000 });
    await client.ready();
    const variables: { name: string } = { name: "" };
    const metadata: { request: number } = { request: 0 };
    for (let i = 0; i < 3; i++) {
      variables.name = `user-${i}`;
      metadata.request = i;
      expect(client.render("greeting", variables, { metadata }).text).toBe(`Hello user-${i}!\n`);
    }
    await client.close();
    const events = jsonLines(log);
    expect(events.map((event) => event.input)).toEqual([
      { name: "user-0" },
      { name: "user-1" },
      { name: "user-2" },
    ]);
    expect(events.map((event) => event.metadata)).toEqual([
      { request: 0 },
      { request: 1 },
      { request: 2 },
    ]);
  });

  it("logInput: false keeps the variables out of usage events, a list of names keeps only those", async () => {
    const root = tempDir(PROMPTS);
    const bundle = await publish(root);
    const inputs: unknown[] = [];
    for (const logInput of [false, ["user_query"], true] as const) {
      const log = join(tempDir(), "usage.jsonl");
      const { client } = makeClient({ source: bundle, usage: log, logInput });
      await client.ready();
      client.render("answerer_prompt", { infos: ["private fact"], user_query: "q" });
      await client.close();
      inputs.push(...jsonLines(log).map((event) => event.input));
    }
    expect(inputs).toEqual([
      undefined,
      { user_query: "q" },
      { infos: ["private fact"], user_query: "q" },
    ]);
  });

  it("to a JSON-lines file, and close() flushes what is still queued", async () => {
    const root = tempDir(PROMPTS);
    const log = join(tempDir(), "logs", "usage.jsonl");
    const { client, errors } = makeClient({
      source: await publish(root),
      usage: log,
      flushMs: 60_000,
    });
    await client.ready();
    const first = client.render("greeting", { name: "Ada" }, { unit: "u-1" });
    const second = client.render("planner", { user_query: "Hi" }, { metadata: { step: 2 } });
    client.outcome(second.usageId, { latencyMs: 95, success: false });
    expect(client.pendingEvents).toBe(3);
    expect(existsSync(log)).toBe(false);

    await client.close();
    expect(client.pendingEvents).toBe(0);
    const events = jsonLines(log);
    expect(events.map((event) => event.id).slice(0, 2)).toEqual([first.usageId, second.usageId]);
    expect(events[0]).toMatchObject({ type: "usage", name: "greeting", unit: "u-1" });
    expect(events[1]).toMatchObject({
      type: "usage",
      name: "planner",
      variant: "default",
      input: { user_query: "Hi" },
      metadata: { step: 2 },
    });
    expect(events[2]).toMatchObject({
      type: "outcome",
      usage_id: second.usageId,
      latency_ms: 95,
      success: false,
    });
    expect(events).toHaveLength(3);
    expect(errors).toEqual([]);
  });

  it("a function sink gets batches, not single events", async () => {
    const root = tempDir(PROMPTS);
    const batches: PromptEvent[][] = [];
    const { client } = makeClient({
      source: await publish(root),
      usage: (events) => {
        batches.push([...events]);
        return Promise.resolve();
      },
      batchSize: 10,
      flushMs: 20,
    });
    await client.ready();
    const ids = Array.from(
      { length: 25 },
      (_, i) => client.render("greeting", { name: `user-${i}` }).usageId,
    );
    await waitUntil("25 events at the sink", () => batches.flat().length >= 25, 3000);
    expect(batches.flat().map((event) => event.id)).toEqual(ids);
    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 5]);
    for (const event of batches.flat()) expect(Date.parse(event.ts)).not.toBeNaN();
  });

  it.each(["a function that rejects", "a prompts serve URL with nothing listening"])(
    "10,000 events while the sink is %s (maxQueue 5000): each is delivered once or counted as dropped",
    async (kind) => {
      const root = tempDir(PROMPTS);
      const source = await publish(root);
      const port = await freePort();
      let up = false;
      const received: PromptEvent[] = [];
      const usage =
        kind === "a function that rejects"
          ? (events: readonly PromptEvent[]) => {
              if (!up) return Promise.reject(new Error("sink down"));
              received.push(...events);
              return Promise.resolve();
            }
          : `http://127.0.0.1:${port}`;
      const { client, errors } = makeClient({ source, usage, maxQueue: 5000, flushMs: 20 });
      await client.ready();

      const ids: string[] = [];
      for (let i = 0; i < 10_000; i++) {
        ids.push(client.render("greeting", { name: `user-${i}` }, { unit: `u-${i}` }).usageId);
      }
      expect(client.droppedEvents).toBe(5000);
      expect(client.pendingEvents).toBe(5000);
      await waitUntil("an error from the sink", () => errors.length > 0, 3000);
      expect(errors[0]?.message).toMatch(/usage events could not be sent/);

      let server: PromptServer | undefined;
      if (kind === "a function that rejects") up = true;
      else server = await serve(root, port);
      await client.close();

      const delivered = server ? jsonLines(join(root, USAGE_LOG)) : received;
      const deliveredIds = delivered.map((event) => event.id);
      expect(new Set(deliveredIds).size).toBe(deliveredIds.length);
      expect(deliveredIds.length + client.droppedEvents).toBe(10_000);
      // A full queue keeps what it holds and drops the newest.
      expect(deliveredIds).toEqual(ids.slice(0, 5000));
      expect(client.pendingEvents).toBe(0);
    },
  );

  it("one event prompts serve refuses (an empty unit) does not hold back the events after it", async () => {
    const root = tempDir(PROMPTS);
    const server = await serve(root);
    const port = Number(new URL(server.url).port);
    const { client, errors } = makeClient({ source: server.url, flushMs: 20, batchSize: 2 });
    await client.ready();
    try {
      const anonymous = client.render("greeting", { name: "guest" }, { unit: "" });
      const ids = [1, 2, 3].map(
        (i) => client.render("greeting", { name: `n${i}` }, { unit: `u-${i}` }).usageId,
      );
      const log = join(root, USAGE_LOG);
      const logged = await waitUntil(
        "the valid events in the server's log",
        () => {
          const found = jsonLines(log).map((event) => event.id);
          return ids.every((id) => found.includes(id)) && found;
        },
        3000,
      ).catch((error: unknown) => error);
      expect(logged).toBeInstanceOf(Array);
      // The refused one is logged after all, or dropped and counted, and said so.
      const kept = (logged as string[]).includes(anonymous.usageId);
      expect(kept || client.droppedEvents === 1).toBe(true);
      if (!kept) expect(errors.length).toBeGreaterThan(0);
    } finally {
      // Stand in a sink that takes anything, so that close() is not held up by this test.
      await stopServer(server);
      const stand = createHttpServer((request, response) => {
        request.resume();
        request.on("end", () => response.writeHead(202).end("{}"));
      });
      await listen(stand, port);
    }
  });

  it("a batch the sink refused is retried by itself once the sink is back: no new renders, no close()", async () => {
    const root = tempDir(PROMPTS);
    let calls = 0;
    const received: PromptEvent[] = [];
    const { client, errors } = makeClient({
      source: await publish(root),
      usage: (events) => {
        calls++;
        if (calls === 1) return Promise.reject(new Error("sink down"));
        received.push(...events);
        return Promise.resolve();
      },
      flushMs: 20,
    });
    await client.ready();
    const ids = [1, 2, 3].map((i) => client.render("greeting", { name: `n${i}` }).usageId);
    await waitUntil("the first, failed send", () => calls >= 1, 3000);
    await waitUntil("the retry", () => received.length >= 3, 3000);
    expect(received.map((event) => event.id)).toEqual(ids);
    expect(errors).toHaveLength(1);
  });

  it.each(["throws synchronously", "rejects"])(
    "logging never throws into the caller when the sink %s",
    async (how) => {
      const root = tempDir(PROMPTS);
      let calls = 0;
      const received: PromptEvent[] = [];
      const { client, errors } = makeClient({
        source: await publish(root),
        usage: (events) => {
          calls++;
          if (calls <= 2) {
            if (how === "rejects") return Promise.reject(new Error("sink down"));
            throw new Error("sink down");
          }
          received.push(...events);
          return Promise.resolve();
        },
        flushMs: 5,
      });
      // An error listener that throws is its own problem, not the caller's.
      client.on("error", () => {
        throw new Error("listener bug");
      });
      await client.ready();
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const result = client.render("greeting", { name: `n${i}` });
        expect(result.text).toBe(`Hello n${i}!\n`);
        client.outcome(result.usageId, { score: 1 });
        ids.push(result.usageId);
      }
      await waitUntil("a failed send", () => calls >= 1, 3000);
      expect(errors.length).toBeGreaterThanOrEqual(1);
      expect(errors[0]).toBeInstanceOf(PromptsError);
      expect(errors[0]?.message).toMatch(/usage events could not be sent.*sink down/);
      await client.close();
      const usages = received.filter((event) => event.type === "usage");
      expect(usages.map((event) => event.id)).toEqual(ids);
      expect(received).toHaveLength(40);
    },
  );

  it("an event it cannot send is dropped when queued, counted and said why; the others go and close() does not wait on it", async () => {
    const root = tempDir(PROMPTS);
    const server = await serve(root);
    const { client, errors } = makeClient({ source: server.url, flushMs: 20, refreshMs: 0 });
    await client.ready();
    const circular: Record<string, unknown> = { step: 1 };
    circular.self = circular;

    const first = client.render("greeting", { name: "Ada" });
    client.outcome("", { score: 1 });
    client.outcome(first.usageId, { score: Number.NaN });
    client.outcome(first.usageId, { latencyMs: Number.POSITIVE_INFINITY });
    const loop = client.render("greeting", { name: "Bo" }, { metadata: { circular } });
    const big = client.render("greeting", { name: "Cy" }, { metadata: { n: 10n } });
    client.outcome(first.usageId, { score: 0.5, metadata: { nested: { id: 2n } } });
    const second = client.render("greeting", { name: "Di" });
    client.outcome(second.usageId, { score: 1 });

    // The renders themselves are not touched by what their events carry.
    expect([loop.text, big.text]).toEqual(["Hello Bo!\n", "Hello Cy!\n"]);
    expect(client.droppedEvents).toBe(6);
    expect(client.pendingEvents).toBe(3);
    expect(errors.map((error) => error.message)).toEqual([
      '1 usage event dropped: the outcome event cannot be sent: usage_id: must be the usageId of a render, got ""',
      "1 usage event dropped: the outcome event cannot be sent: score: must be a finite number, got NaN",
      "1 usage event dropped: the outcome event cannot be sent: latency_ms: must be a finite number, got Infinity",
      "1 usage event dropped: the usage event cannot be sent: metadata.circular.self: a circular reference",
      "1 usage event dropped: the usage event cannot be sent: metadata.n: a BigInt, which JSON cannot carry",
      "1 usage event dropped: the outcome event cannot be sent: metadata.nested.id: a BigInt, which JSON cannot carry",
    ]);
    for (const error of errors) expect(error).toBeInstanceOf(PromptsError);

    const started = Date.now();
    await client.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(client.pendingEvents).toBe(0);
    expect(jsonLines(join(root, USAGE_LOG)).map((event) => event.id ?? event.usage_id)).toEqual([
      first.usageId,
      second.usageId,
      expect.any(String),
    ]);
    expect(errors).toHaveLength(6);
  });

  it("events the server refuses one by one are counted as dropped, never as kept and retried", async () => {
    const root = tempDir(PROMPTS);
    const answers: { status: number; body: unknown }[] = [];
    const bodies: unknown[][] = [];
    const stand = createHttpServer((request, response) => {
      let text = "";
      request.on("data", (chunk: Buffer) => (text += chunk.toString()));
      request.on("end", () => {
        bodies.push(JSON.parse(text) as unknown[]);
        const answer = answers.shift() ?? { status: 202, body: {} };
        response.writeHead(answer.status, { "content-type": "application/json" });
        response.end(JSON.stringify(answer.body));
      });
    });
    const port = await listen(stand);
    const { client, errors } = makeClient({
      source: await publish(root),
      usage: `http://127.0.0.1:${port}`,
      flushMs: 20,
    });
    await client.ready();
    answers.push(
      {
        status: 202,
        body: {
          accepted: 2,
          ids: [],
          rejected: [
            { index: 1, code: "invalid_event", message: "[1].ts: must be an ISO 8601 date" },
          ],
        },
      },
      { status: 413, body: { error: { code: "body_too_large", message: "too big" } } },
    );
    for (const name of ["a", "b", "c"]) client.render("greeting", { name });
    await waitUntil("the first batch answered", () => client.pendingEvents === 0, 3000);
    expect(bodies[0]).toHaveLength(3);
    expect(client.droppedEvents).toBe(1);
    expect(errors.map((error) => error.message)).toEqual([
      "1 usage event dropped: refused: [1].ts: must be an ISO 8601 date",
    ]);

    for (const name of ["d", "e"]) client.render("greeting", { name });
    await waitUntil("the second batch answered", () => client.droppedEvents === 3, 3000);
    expect(client.droppedEvents).toBe(3);
    expect(client.pendingEvents).toBe(0);
    expect(errors[1]?.message).toMatch(
      /^2 usage events dropped: POST .* refused 2 event\(s\): 413/,
    );

    // An event JSON cannot write (its toJSON throws) is refused alone; the server's indexes
    // count only the events it was sent.
    answers.push({
      status: 202,
      body: {
        accepted: 1,
        ids: [],
        rejected: [{ index: 1, code: "invalid_event", message: "[1].name: too long" }],
      },
    });
    const throwing = {
      toJSON: () => {
        throw new Error("not today");
      },
    };
    client.render("greeting", { name: "f" }, { metadata: { throwing } });
    client.render("greeting", { name: "g" });
    client.render("greeting", { name: "h" });
    await waitUntil("the third batch answered", () => client.droppedEvents === 5, 3000);
    expect(bodies[2]).toHaveLength(2);
    expect(errors[2]?.message).toBe(
      "2 usage events dropped: refused: [0]: cannot be written as JSON: not today; [1].name: too long",
    );
    for (const error of errors) expect(error.message).not.toMatch(/kept and retried/);
  });

  it("a static bundle URL without a usage sink says once that usage is not logged", async () => {
    const root = tempDir(PROMPTS);
    const host = await hostBundle(await publish(root));
    const { client, errors } = makeClient({ source: host.url, refreshMs: 0 });
    await client.ready();
    for (let i = 0; i < 20; i++) client.render("greeting", { name: `n${i}` });
    await client.refresh();
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(PromptsError);
    expect((errors[0] as PromptsError).code).toBe("E_USAGE");
    expect(errors[0]?.message).toMatch(/usage is not logged/);
    expect(errors[0]?.message).toContain(host.url);
    expect(client.pendingEvents).toBe(0);

    // With a sink named, nothing to say.
    const named = makeClient({ source: host.url, refreshMs: 0, usage: () => Promise.resolve() });
    await named.client.ready();
    named.client.render("greeting", { name: "Ada" });
    await new Promise((resolve) => setImmediate(resolve));
    expect(named.errors).toEqual([]);
  });
});
