// The page's frame and its Prompts page, in real Chromium: the list, search and filters, live
// updates from the event stream, the invalid banner, the token form, a phone-sized screen.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { browserSession, HAS_CHROMIUM, PAGE_BUILT, screenshot } from "./harness.js";
import { sampleRepo } from "./sample-repo.js";

const session = browserSession();

describe.skipIf(!HAS_CHROMIUM || !PAGE_BUILT)("the Prompts page", () => {
  it("lists every prompt with its kind, version, variables and variants, and search narrows it", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root);
    await page.goto("/");
    const rows = page.locator("table.prompts tbody tr");
    await expect.poll(() => rows.count()).toBe(4);
    const answerer = rows.filter({ hasText: "answerer_prompt" });
    await expect.poll(() => answerer.innerText()).toContain("default 70%, concise 30%");
    expect(await answerer.innerText()).toContain("infos, user_query");
    expect(await rows.filter({ hasText: "planner" }).innerText()).toMatch(/\bchat\b/);
    await screenshot(page, "prompts");

    await page.getByLabel("Search").fill("conversation");
    await expect.poll(() => rows.allInnerTexts()).toEqual([expect.stringContaining("planner")]);
    expect(page.url()).toMatch(/\?q=conversation$/);
    await page.getByLabel("Search").fill("");
    await page.getByLabel("Folder").selectOption("shared");
    await expect
      .poll(() => rows.allInnerTexts())
      .toEqual([expect.stringContaining("shared/tool_rules")]);
    await page.getByLabel("Folder").selectOption("");
    await page.getByLabel("has variants").check();
    await expect
      .poll(() => rows.allInnerTexts())
      .toEqual([expect.stringContaining("answerer_prompt")]);
    await page.getByLabel("has variants").uncheck();
    await page.getByLabel("Kind").selectOption("chat");
    await expect.poll(() => rows.allInnerTexts()).toEqual([expect.stringContaining("planner")]);

    // The filters are in the URL: the same view opens from a pasted link.
    await page.goto("/prompts?kind=chat");
    await expect.poll(() => rows.allInnerTexts()).toEqual([expect.stringContaining("planner")]);
    expect(problems).toEqual([]);
  });

  it("follows edits on disk without a reload, and says when the tree is invalid", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root);
    await page.goto("/prompts");
    const caller = page.locator("table.prompts tbody tr", { hasText: "caller" });
    await expect.poll(() => caller.count()).toBe(1);
    const file = join(root, "prompts", "caller.yaml");
    const original = readFileSync(file, "utf8");
    // A marker on the window survives only if the page is not reloaded.
    await page.evaluate("window.marker = 1");

    writeFileSync(
      file,
      original.replace(/^description: .*$/m, "description: Picks the next tool, live."),
    );
    await expect.poll(() => caller.innerText()).toContain("Picks the next tool, live.");

    writeFileSync(file, `${original}\nvariables: [unclosed\n`);
    const banner = page.getByRole("alert").filter({ hasText: "invalid" });
    await expect.poll(() => banner.innerText()).toMatch(/prompts\/caller\.yaml:\d+:\d+/);
    expect(await banner.innerText()).toContain("Serving the last good bundle");
    await page.getByLabel("invalid").check();
    await expect
      .poll(() => page.locator("table.prompts tbody tr").allInnerTexts())
      .toEqual([expect.stringContaining("caller")]);
    await screenshot(page, "prompts-invalid");

    writeFileSync(file, original);
    await expect.poll(() => banner.count()).toBe(0);
    expect(await page.evaluate("window.marker")).toBe(1);
    expect(problems).toEqual([]);
  });

  it("asks for the token of a protected server once, and refuses a wrong one", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root, { token: "s3cret-token" });
    await page.goto("/prompts");
    const token = page.getByLabel("Token");
    await token.fill("wrong");
    await page.getByRole("button", { name: "Open" }).click();
    await expect
      .poll(() => page.getByRole("alert").innerText())
      .toContain("That token was refused");
    await token.fill("s3cret-token");
    await page.getByRole("button", { name: "Open" }).click();
    await expect.poll(() => page.locator("table.prompts tbody tr").count()).toBe(4);
    // Kept for the tab: another page of the same tab does not ask again.
    await page.goto("/prompts?kind=chat");
    await expect.poll(() => page.locator("table.prompts tbody tr").count()).toBe(1);
    expect(await page.getByLabel("Token").count()).toBe(0);
    expect(problems.filter((problem) => !/401/.test(problem))).toEqual([]);
  });

  it("fits a 375 px wide screen", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root, { width: 375, height: 740 });
    await page.goto("/prompts");
    await expect.poll(() => page.locator("table.prompts tbody tr").count()).toBe(4);
    // The page itself does not scroll sideways; only the table's own box may.
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(375);
    await expect.poll(() => page.getByRole("link", { name: "Experiments" }).isVisible()).toBe(true);
    await screenshot(page, "prompts-375px");
    expect(problems).toEqual([]);
  });
});
