import { readdir, readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { HttpError } from "./http.js";

/**
 * Where `npm run build` puts the page (Vite's `outDir`): the package's dist/web, two levels up
 * from this module whether it runs built (dist/server/) or from source in the tests (src/server/).
 */
const DEFAULT_WEB_DIR = fileURLToPath(new URL("../../dist/web/", import.meta.url));

/** Headers of every answer of the page or its assets: it runs only its own code. */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  woff2: "font/woff2",
  ico: "image/x-icon",
  json: "application/json; charset=utf-8",
  map: "application/json; charset=utf-8",
};

/** Types worth gzipping: the others (png, woff2) are compressed already. */
const COMPRESSIBLE = new Set(["html", "js", "css", "svg", "json", "map", "ico"]);

/** The paths of the page itself (its client-side routes): each answers index.html. */
const PAGE_PATH =
  /^\/(?:|prompts(?:\/.*)?|history\/.*|diff|environments|playground\/.*|experiments(?:\/.*)?)$/;

interface PageFile {
  body: Buffer;
  gzipped: Buffer | undefined;
  type: string;
}

/** The built web page, held in memory: no request path ever reaches the file system. */
export class WebPage {
  private constructor(private readonly files: ReadonlyMap<string, PageFile> | undefined) {}

  /**
   * Reads every file under `dir` (default: the package's `dist/web`), gzipping what gains from
   * it. A missing folder is a build without the page: the page's paths then answer 404.
   */
  static async load(dir: string = DEFAULT_WEB_DIR): Promise<WebPage> {
    let names: string[];
    try {
      names = await readdir(dir, { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return new WebPage(undefined);
      throw error;
    }
    const files = new Map<string, PageFile>();
    for (const name of names) {
      const full = join(dir, name);
      let body: Buffer;
      try {
        body = await readFile(full);
      } catch (error) {
        // A folder is listed too: only files are served.
        if ((error as NodeJS.ErrnoException).code === "EISDIR") continue;
        throw error;
      }
      const key = relative(dir, full).split(sep).join("/");
      const extension = /\.([a-z0-9]+)$/i.exec(key)?.[1]?.toLowerCase() ?? "";
      files.set(key, {
        body,
        gzipped: COMPRESSIBLE.has(extension) ? gzipSync(body) : undefined,
        type: CONTENT_TYPES[extension] ?? "application/octet-stream",
      });
    }
    return new WebPage(files.has("index.html") ? files : undefined);
  }

  /**
   * Answers `path` when it is the page's (`/`, `/prompts/…`) or an asset's (`/ui/…`); returns
   * false for any other path. Needs no token: the page holds no data, and must load to ask for
   * the token.
   */
  answer(request: IncomingMessage, response: ServerResponse, path: string): boolean {
    const isAsset = path.startsWith("/ui/");
    if (!isAsset && !PAGE_PATH.test(path)) return false;
    for (const [name, value] of Object.entries(PAGE_HEADERS)) response.setHeader(name, value);
    const method = request.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      response.setHeader("allow", "GET, HEAD");
      throw new HttpError(
        405,
        "method_not_allowed",
        `${method} is not allowed on ${path}; use GET`,
      );
    }
    if (this.files === undefined)
      throw new HttpError(404, "page_not_built", "the web page is not built (run: npm run build)");
    // An exact key of the map, never decoded nor joined to a folder: `..` finds nothing.
    const key = isAsset ? path.slice("/ui/".length) : "index.html";
    const file = this.files.get(key);
    if (file === undefined) throw new HttpError(404, "not_found", `no file ${path}`);
    // Asset names are hashed: a new build has new names. The page itself is asked again each time.
    response.setHeader(
      "cache-control",
      key === "index.html" ? "no-cache" : "public, max-age=31536000, immutable",
    );
    const gzip =
      file.gzipped !== undefined &&
      /\bgzip\b/.test(String(request.headers["accept-encoding"] ?? ""));
    if (file.gzipped !== undefined) response.appendHeader("vary", "accept-encoding");
    const body = gzip ? (file.gzipped as Buffer) : file.body;
    response.writeHead(200, {
      "content-type": file.type,
      "content-length": body.length,
      ...(gzip ? { "content-encoding": "gzip" } : {}),
    });
    response.end(method === "HEAD" ? undefined : body);
    return true;
  }
}
