// The Environments page in real Chromium: each label where it points, since when and by whom,
// its moves, and what moving it to another ref would change, with the command to do it.
import { describe, expect, it } from "vitest";
import { cli } from "../helpers.js";
import { browserSession, HAS_CHROMIUM, PAGE_BUILT, screenshot } from "./harness.js";
import { sampleRepo } from "./sample-repo.js";

const session = browserSession();
/** Waits for what the page shows: Chromium shares the machine with the other tests. */

describe.skipIf(!HAS_CHROMIUM || !PAGE_BUILT)("the Environments page", { timeout: 60_000 }, () => {
  it("shows each label's position and moves, and what moving production to main would break", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root);
    await page.goto("/environments");
    const production = page.getByRole("article", { name: "production" });
    await expect.poll(() => production.count()).toBe(1);
    expect(await production.locator(".label-now").innerText()).toMatch(
      /^at v2 \([0-9a-f]{7}\) since \d{4}-\d{2}-\d{2} \d{2}:\d{2} by .+/,
    );
    // Its two moves, newest first: to v2 (current), then to v1.
    const moves = production.locator("table.moves tbody tr");
    expect(await moves.count()).toBe(2);
    expect(await moves.nth(0).innerText()).toMatch(/\bv2\s*current\b/);
    expect(await moves.nth(1).innerText()).toMatch(/\bv1\b/);
    const staging = page.getByRole("article", { name: "staging" });
    expect(await staging.locator(".label-now").innerText()).toMatch(/^at main \(/);

    // What moving production to main would change: planner's new required variable.
    await page.getByLabel("Label", { exact: true }).selectOption("production");
    await page.getByLabel("Move to").fill("main");
    await page.getByLabel("Move to").press("Enter");
    await expect.poll(() => page.url()).toMatch(/\/environments\?label=production&to=main$/);
    const summary = page.locator(".change-summary");
    await expect.poll(() => summary.innerText()).toContain("1 changed");
    const planner = summary.locator("tbody tr", { hasText: "planner" });
    expect(await planner.innerText()).toMatch(/breaking: .*conversation/);
    // The same versions as `prompts diff production main --json`.
    const diff = JSON.parse((await cli(root, "--json", "diff", "production", "main")).stdout) as {
      prompts: { name: string; from: { version: string }; to: { version: string } }[];
    };
    const expected = diff.prompts.find((prompt) => prompt.name === "planner");
    expect(await planner.innerText()).toContain(
      `${expected?.from.version} → ${expected?.to.version}`,
    );
    expect(await page.getByRole("link", { name: "the full diff" }).getAttribute("href")).toBe(
      "/diff?from=production&to=main",
    );
    // Read-only: the command is shown, never run.
    expect(await page.locator(".command pre").innerText()).toBe("prompts label production main");
    const labels = JSON.parse((await cli(root, "--json", "label")).stdout) as unknown;
    expect(JSON.stringify(labels)).toContain('"ref":"v2"');
    await screenshot(page, "environments");

    // The choice is in the URL: a pasted link opens the same view.
    await page.goto("/environments?label=staging&to=v1");
    await expect
      .poll(() => page.locator(".command pre").innerText())
      .toBe("prompts label staging v1");
    await expect.poll(() => page.locator(".change-summary").count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it("names an unknown ref in one line", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root);
    await page.goto("/environments?label=production&to=no-such-ref");
    await expect
      .poll(() => page.getByRole("alert").innerText())
      .toMatch(/no ref "no-such-ref".*404/);
    expect(problems.filter((problem) => !/status of 404/.test(problem))).toEqual([]);
  });

  it("fits a 375 px wide screen, as does the Playground", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root, { width: 375, height: 740 });
    await page.goto("/environments?label=production&to=main");
    await expect.poll(() => page.locator(".change-summary").count()).toBe(1);
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(375);
    await page.goto("/playground/planner");
    await page.getByLabel(/^user_query/).fill("a question");
    await page.getByLabel(/^conversation/).fill("user: hi");
    await expect.poll(() => page.locator(".messages li").count()).toBe(2);
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(375);
    // A 400 while the required fields were still empty is the page naming them.
    expect(problems.filter((problem) => !/status of 400/.test(problem))).toEqual([]);
  });
});
