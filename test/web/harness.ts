// End-to-end tests of the web page: a real `prompts serve` on port 0 over a real repository,
// driven by Debian's Chromium through playwright-core. Each page's screenshot is written to
// test-artifacts/web/ (git-ignored) for a human to look at.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll } from "vitest";
import { createServer, type PromptServer, type ServeOptions } from "../../src/server/app.js";
import { PROJECT_ROOT } from "../helpers.js";

/** Debian's Chromium (`apt-get install chromium`); `.ci/run` installs it. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** False where Chromium is missing: the page's tests are skipped there, and CI has it. */
export const HAS_CHROMIUM = existsSync(CHROMIUM);
/** False before `npm run build` made the page. */
export const PAGE_BUILT = existsSync(join(PROJECT_ROOT, "dist", "web", "index.html"));
const ARTIFACTS = join(PROJECT_ROOT, "test-artifacts", "web");

/** Flags for a headless Chromium on a machine with no network, no GPU and maybe no sandbox. */
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-default-apps",
  "--disable-sync",
  "--disable-extensions",
  "--metrics-recording-only",
  "--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication",
];

/**
 * One browser for a test file, and a server and a page per test: `session.open(root)` starts a
 * server on `root` and a page on it; both are closed after each test.
 */
export function browserSession(): {
  open(root: string, options?: OpenOptions): Promise<Opened>;
} {
  let browser: Browser | undefined;
  const opened: Opened[] = [];
  beforeAll(async () => {
    if (!HAS_CHROMIUM) return;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  });
  afterEach(async () => {
    for (const session of opened.splice(0)) {
      await session.page.context().close();
      await session.server.close();
    }
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    async open(root, options = {}) {
      if (!browser) throw new Error("Chromium is not running (is /usr/bin/chromium installed?)");
      const { width = 1280, height = 900, colorScheme = "light", ...serveOptions } = options;
      const server = await createServer({
        root,
        port: 0,
        debounceMs: 25,
        log: () => {},
        ...serveOptions,
      });
      const context = await browser.newContext({
        viewport: { width, height },
        baseURL: server.url,
        colorScheme,
      });
      const page = await context.newPage();
      const problems: string[] = [];
      // A script error or a CSP refusal is a bug of the page, whatever the test looks at.
      page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error" && !/status of 401/.test(message.text()))
          problems.push(`console: ${message.text()}`);
      });
      const session: Opened = { server, page, url: server.url, problems };
      opened.push(session);
      return session;
    },
  };
}

/** The server's options, and the tab's size and colour scheme (light by default). */
export type OpenOptions = ServeOptions & {
  width?: number;
  height?: number;
  colorScheme?: "light" | "dark";
};

/** A running server and a browser tab on it. */
export interface Opened {
  server: PromptServer;
  page: Page;
  url: string;
  /** Script errors and console errors the page raised so far: a test expects none. */
  problems: string[];
}

/** Writes the page's screenshot to test-artifacts/web/NAME.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The shipped example prompts, as a starting point for repositories the page is tested on. */
export function shippedPrompt(name: string): string {
  return readFileSync(join(PROJECT_ROOT, "prompts", `${name}.yaml`), "utf8");
}
