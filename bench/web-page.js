// The web page of `prompts serve` with 10,000 prompts, in Debian's Chromium: the Prompts page's
// first render and a search keystroke, measured in Chromium's own performance timeline (the
// script time it reports through the DevTools protocol), and the page's JavaScript, gzipped.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { generatePromptTree } from "./generate.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value) => `${value.toFixed(1)} ms`;

/** The sum of the page's script files, gzipped as a server or CDN would send them. */
function scriptBytesGzipped(root) {
  const assets = join(root, "dist", "web", "assets");
  return readdirSync(assets)
    .filter((file) => file.endsWith(".js"))
    .reduce(
      (sum, file) => sum + gzipSync(readFileSync(join(assets, file)), { level: 9 }).length,
      0,
    );
}

/** Chromium's count of seconds spent running script in the page so far. */
async function scriptSeconds(cdp) {
  const { metrics } = await cdp.send("Performance.getMetrics");
  return metrics.find((metric) => metric.name === "ScriptDuration")?.value ?? 0;
}

export async function webPageBench({ root, bin }) {
  console.log("web page (prompts serve, Chromium headless)");
  if (!existsSync(join(root, "dist", "web", "index.html"))) {
    console.log("  skipped: the page is not built (npm run build)");
    return;
  }
  console.log(
    `  JavaScript: ${(scriptBytesGzipped(root) / 1024).toFixed(1)} KB gzipped (goal: under 150 KB)`,
  );
  if (!existsSync(CHROMIUM)) {
    console.log(`  skipped the timings: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
    return;
  }
  const { chromium } = await import("playwright-core");
  const base = mkdtempSync(join(tmpdir(), "gitprompts-bench-web-"));
  const tree = join(base, "tree");
  generatePromptTree(tree, 10_000);
  const server = spawn(process.execPath, [bin, "serve", "--port", "0"], {
    cwd: tree,
    stdio: ["ignore", "pipe", "ignore"],
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = "";
      server.stdout.on("data", (chunk) => {
        out += chunk;
        const found = /at (http:\/\/\S+)/.exec(out)?.[1];
        if (found) resolve(found);
      });
      server.on("exit", (code) => reject(new Error(`serve exited with ${code}`)));
    });
    const firstRender = [];
    const firstScript = [];
    const keystrokeScript = [];
    const keystrokeWall = [];
    for (let round = 0; round < 5; round++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send("Performance.enable");
      await page.goto(`${url}/prompts`);
      await page.waitForSelector("table.prompts tbody tr");
      // From the navigation's start to the first rows on screen, by the page's own clock.
      firstRender.push(await page.evaluate("performance.now()"));
      firstScript.push((await scriptSeconds(cdp)) * 1000);

      // Each keystroke narrows 10,000 prompts; the count line says when the page has updated.
      const search = page.getByLabel("Search");
      await search.focus();
      for (const key of ["9", "7", "3"]) {
        const countBefore = await page.locator("p.count").innerText();
        const scriptBefore = await scriptSeconds(cdp);
        const started = performance.now();
        await page.keyboard.press(key);
        await page.waitForFunction(
          `document.querySelector("p.count")?.textContent !== ${JSON.stringify(countBefore)}`,
          undefined,
          { polling: "raf" },
        );
        keystrokeWall.push(performance.now() - started);
        keystrokeScript.push(((await scriptSeconds(cdp)) - scriptBefore) * 1000);
      }
      await context.close();
    }
    console.log(
      `  Prompts page, 10,000 prompts: first rows drawn ${ms(median(firstRender))} after navigation, ${ms(median(firstScript))} of script (median of 5 loads)`,
    );
    console.log(
      `  a search keystroke: ${ms(median(keystrokeScript))} of script (goal: under 50 ms), ${ms(median(keystrokeWall))} from key press to the updated count, as seen from the test (median of 15)`,
    );
  } finally {
    await browser.close();
    server.kill("SIGTERM");
    rmSync(base, { recursive: true, force: true });
  }
}
