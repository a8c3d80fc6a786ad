// Every page, in light and in dark, checked by axe-core (the accessibility engine browsers'
// own audits use) against WCAG 2 A and AA: labelled inputs, readable contrast, names for
// links and buttons, a sound structure. And the keyboard: a page can be used without a mouse.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { browserSession, HAS_CHROMIUM, PAGE_BUILT } from "./harness.js";
import { sampleRepo } from "./sample-repo.js";

const session = browserSession();
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Each page, and what shows that it has finished loading. */
const PAGES: [path: string, ready: string][] = [
  ["/prompts", "table.prompts tbody tr"],
  ["/prompts/caller", "a.tpl.partial"],
  ["/history/answerer_prompt", "main table tbody tr"],
  ["/diff?from=v2&to=main", "main table tbody tr"],
  ["/environments?label=production&to=main", "main table tbody tr"],
  ["/playground/answerer_prompt?variant=concise", "main textarea"],
  ["/experiments/answerer_prompt?by=variant", "main canvas"],
];

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core's WCAG 2 A/AA violations on the page as it is now, one line each. */
async function violations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(AXE);
  const found: AxeViolation[] = await page.evaluate(
    `axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }).then((r) => r.violations)`,
  );
  return found.flatMap((violation) =>
    violation.nodes.map(
      (node) =>
        `${violation.id} (${violation.impact}): ${node.target.join(" ")}: ${violation.help}`,
    ),
  );
}

describe.skipIf(!HAS_CHROMIUM || !PAGE_BUILT)("accessibility", () => {
  for (const colorScheme of ["light", "dark"] as const) {
    it(`every page passes axe-core's WCAG 2 AA checks in ${colorScheme}`, async () => {
      const root = await sampleRepo();
      const { page, problems } = await session.open(root, { colorScheme });
      const found: string[] = [];
      for (const [path, ready] of PAGES) {
        await page.goto(path);
        await page.waitForSelector(ready);
        found.push(...(await violations(page)).map((line) => `${path}: ${line}`));
      }
      expect(found).toEqual([]);
      expect(problems).toEqual([]);
    }, 60_000);
  }

  it("works from the keyboard: skip link, navigation, search, and a prompt opened with Enter", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root);
    await page.goto("/prompts");
    await page.waitForSelector("table.prompts tbody tr");
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement.textContent")).toBe("Skip to content");
    await page.keyboard.press("Enter");
    expect(await page.evaluate("document.activeElement.id")).toBe("main");
    // From the content, the search box is the first stop; typing filters, Tab reaches the rows.
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement.type")).toBe("search");
    await page.keyboard.type("caller");
    await expect.poll(() => page.locator("table.prompts tbody tr").count()).toBe(1);
    let focused = "";
    for (let step = 0; step < 10 && focused !== "caller"; step++) {
      await page.keyboard.press("Tab");
      focused = String(await page.evaluate("document.activeElement.textContent"));
    }
    expect(focused).toBe("caller");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.url()).toMatch(/\/prompts\/caller$/);
    // Focus shows where it is: the focused element draws an outline.
    await page.keyboard.press("Tab");
    expect(await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")).not.toBe(
      "none",
    );
    expect(problems).toEqual([]);
  });
});
