// The Experiments page in real Chromium: the prompts with usage, and a prompt's A/B result by
// variant with its intervals, worded and marked exactly as `prompts stats --by variant`.
import { describe, expect, it } from "vitest";
import { cli } from "../helpers.js";
import { browserSession, HAS_CHROMIUM, PAGE_BUILT, screenshot } from "./harness.js";
import { sampleRepo } from "./sample-repo.js";

const session = browserSession();
/** Waits for what the page shows: Chromium shares the machine with the other tests. */

describe.skipIf(!HAS_CHROMIUM || !PAGE_BUILT)("the Experiments page", { timeout: 60_000 }, () => {
  it("shows both arms with intervals and the same p-value and mark as prompts stats", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root);
    await page.goto("/experiments");
    const link = page.getByRole("link", { name: "answerer_prompt" });
    await expect
      .poll(() => link.getAttribute("href"))
      .toBe("/experiments/answerer_prompt?by=variant");
    await link.click();

    const rows = page.locator("table.groups tbody tr");
    await expect.poll(() => rows.count()).toBe(2);
    const printed = await cli(root, "stats", "answerer_prompt", "--by", "variant");
    expect(printed.code).toBe(0);
    // The method line and the concise arm's comparison, word for word.
    const method = printed.stdout.split("\n")[0] as string;
    expect(await page.locator(".method").innerText()).toBe(method);
    const conciseLine = printed.stdout.split("\n").find((line) => /^concise\s/.test(line)) ?? "";
    const versus = /(score [+-][\d.]+ \[.*)$/.exec(conciseLine)?.[1]?.trim() as string;
    expect(versus).toMatch(/p=/);
    const concise = rows.filter({ hasText: "concise" });
    expect(await concise.locator("td").last().innerText()).toBe(versus);
    expect(await rows.filter({ hasText: "default" }).locator("td").last().innerText()).toBe(
      "control",
    );
    // Each arm's success rate with its interval, drawn and written.
    const successPlot = page.locator("figure.interval-plot", { hasText: "Success rate, 95%" });
    expect(await successPlot.locator(".interval-row:not(.interval-axis)").count()).toBe(2);
    expect(await successPlot.locator(".interval-bar").count()).toBe(2);
    const successCell = /\d+\.\d% \[\d+\.\d, \d+\.\d\]/;
    expect(await successPlot.innerText()).toMatch(successCell);
    for (const arm of ["default", "concise"]) {
      const line = printed.stdout.split("\n").find((one) => one.startsWith(arm)) ?? "";
      const fromCli = successCell.exec(line)?.[0];
      expect(await rows.filter({ hasText: arm }).innerText()).toContain(fromCli);
    }
    // The stderr warnings of the CLI, the same words.
    for (const warning of printed.stderr.split("\n").filter(Boolean))
      expect(await page.locator(".warnings").innerText()).toContain(
        warning.replace(/^warning: /, ""),
      );

    // The charts are drawn: canvases with pixels that are not all blank.
    const canvases = page.locator(".series-chart canvas");
    await expect.poll(() => canvases.count()).toBe(2);
    // Counted in the page (the test's own types know no canvas): pixels not left transparent.
    const inked = await page.evaluate(`(() => {
      const canvas = document.querySelector(".series-chart canvas");
      const context = canvas && canvas.getContext("2d");
      if (!context || canvas.width === 0) return 0;
      const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
      let count = 0;
      for (let index = 3; index < data.length; index += 4) if (data[index] > 0) count++;
      return count;
    })()`);
    expect(inked).toBeGreaterThan(100);
    expect(await page.locator(".u-legend").first().innerText()).toContain("concise");
    await page.getByText("The numbers per day (table)").click();
    expect(await page.locator("table.daily-table tbody tr").count()).toBe(14);
    await screenshot(page, "experiments");

    // By version, over a range: in the URL, and a pasted link opens it.
    await page.getByLabel("Compare by").selectOption("version");
    await expect.poll(() => page.url()).toMatch(/\?by=version$/);
    await expect.poll(() => rows.count()).toBe(1);
    await page.goto("/experiments/answerer_prompt?by=variant&since=2026-11-20&until=2026-11-21");
    await expect.poll(() => page.locator("table.daily-table tbody tr").count()).toBe(2);
    expect(problems).toEqual([]);
  });

  it("fits a 375 px wide screen", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root, { width: 375, height: 740 });
    await page.goto("/experiments/answerer_prompt?by=variant");
    await expect.poll(() => page.locator(".series-chart canvas").count()).toBe(2);
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(375);
    await screenshot(page, "experiments-375px");
    expect(problems).toEqual([]);
  });
});
