import { gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type PromptServer } from "../src/server/app.js";
import { type RawAnswer, rawRequest, tempDir } from "./helpers.js";
import { GREETING } from "./sample-prompts.js";

const servers: PromptServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const TOKEN = "page-token";
const INDEX = `<!doctype html><html><head><script type="module" src="/ui/assets/app-1a2b3c.js"></script></head><body><div id="app"></div></body></html>`;
const SCRIPT = `console.log(${JSON.stringify("x".repeat(2000))});\n`;
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** A built page: index.html and one hashed asset, in a folder of its own. */
function builtPage(): string {
  return tempDir({
    "web/index.html": INDEX,
    "web/assets/app-1a2b3c.js": SCRIPT,
    "web/assets/logo-9f8e.png": new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
    "package.json": `{"name":"secret"}`,
  });
}

async function serve(webDir: string): Promise<string> {
  const root = tempDir({ "prompts/greeting.yaml": GREETING });
  const server = await createServer({ root, port: 0, token: TOKEN, webDir, log: () => {} });
  servers.push(server);
  return server.url;
}

/** A request sent as written: fetch would normalise `..` and the Host header away. */
function raw(url: string, path: string, headers: Record<string, string> = {}, method = "GET") {
  return rawRequest(url, path, { method, headers });
}

function expectPageHeaders(answer: RawAnswer): void {
  expect(answer.headers).toMatchObject({
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
  });
}

describe("the web page", () => {
  it("answers index.html at / and every page path, without a token, not cached", async () => {
    const url = await serve(`${builtPage()}/web`);
    for (const path of [
      "/",
      "/?token=x",
      "/prompts",
      "/prompts/shared/tool_rules",
      "/history/greeting",
      "/diff",
      "/environments",
      "/playground/greeting",
      "/experiments",
      "/experiments/greeting",
    ]) {
      const answer = await raw(url, path);
      expect({ path, status: answer.status }).toEqual({ path, status: 200 });
      expect(answer.body.toString()).toBe(INDEX);
      expect(answer.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(answer.headers["cache-control"]).toBe("no-cache");
      expectPageHeaders(answer);
    }
    expect((await raw(url, "/elsewhere")).status).toBe(404);
    // The API still needs the token; its answers are nosniff too.
    const api = await raw(url, "/v1/prompts");
    expect(api.status).toBe(401);
    expect(api.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("answers assets under /ui/ by exact name, immutable, gzipped when asked, HEAD too", async () => {
    const url = await serve(`${builtPage()}/web`);
    const script = await raw(url, "/ui/assets/app-1a2b3c.js");
    expect(script.status).toBe(200);
    expect(script.body.toString()).toBe(SCRIPT);
    expect(script.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(script.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expectPageHeaders(script);
    const gzipped = await raw(url, "/ui/assets/app-1a2b3c.js", { "accept-encoding": "gzip" });
    expect(gzipped.headers["content-encoding"]).toBe("gzip");
    expect(gzipped.body.length).toBeLessThan(SCRIPT.length);
    expect(gunzipSync(gzipped.body).toString()).toBe(SCRIPT);
    const png = await raw(url, "/ui/assets/logo-9f8e.png", { "accept-encoding": "gzip" });
    expect(png.headers["content-type"]).toBe("image/png");
    expect(png.headers["content-encoding"]).toBeUndefined();
    const head = await raw(url, "/ui/assets/app-1a2b3c.js", {}, "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe(String(Buffer.byteLength(SCRIPT)));
    expect(head.body.length).toBe(0);
    expect((await raw(url, "/", {}, "POST")).status).toBe(405);
  });

  it("404 for anything not in the build: .., encoded .., unknown assets", async () => {
    const url = await serve(`${builtPage()}/web`);
    for (const path of [
      "/ui/../package.json",
      "/ui/%2e%2e/package.json",
      "/ui/assets/../../package.json",
      "/ui/assets/%2e%2e%2f%2e%2e%2fpackage.json",
      "/ui/assets/nope.js",
      "/ui/assets",
      "/ui/",
      "/ui//assets/app-1a2b3c.js",
    ]) {
      const answer = await raw(url, path);
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
      expect(answer.body.toString()).not.toContain("secret");
    }
  });

  it("the Host rule applies to the page as to the API (421)", async () => {
    const url = await serve(`${builtPage()}/web`);
    for (const path of ["/", "/ui/assets/app-1a2b3c.js", "/v1/prompts"]) {
      const answer = await raw(url, path, { host: "evil.example" });
      expect({ path, status: answer.status }).toEqual({ path, status: 421 });
    }
  });

  it("without a build, the page is 404 page_not_built and the API unaffected", async () => {
    const url = await serve(`${tempDir()}/web`);
    const page = await raw(url, "/");
    expect(page.status).toBe(404);
    expect(JSON.parse(page.body.toString())).toEqual({
      error: { code: "page_not_built", message: "the web page is not built (run: npm run build)" },
    });
    const api = await fetch(`${url}/v1/prompts`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(api.status).toBe(200);
  });
});
