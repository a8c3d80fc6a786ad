// The Playground in real Chromium: typed inputs, the same text as `prompts render`, no usage
// logged, a missing variable named, and a "Copy as curl" that gives the same text when run.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chooseVariant } from "../../src/core/variants.js";
import { cli } from "../helpers.js";
import { ANSWERER_CONCISE_WEIGHT } from "./sample-repo.js";
import { browserSession, HAS_CHROMIUM, PAGE_BUILT, screenshot } from "./harness.js";
import { sampleRepo } from "./sample-repo.js";

const session = browserSession();
/** Waits for what the page shows: Chromium shares the machine with the other tests. */
// A 400 while required fields are still empty is the page working (it names them), which
// Chromium logs as a failed load: the tests let those through and no other problem.

function usageLog(root: string): string {
  const file = join(root, ".prompts", "usage", "events.jsonl");
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

const INFOS = ["Paris is the capital of France.", "It's on the Seine."];

describe.skipIf(!HAS_CHROMIUM || !PAGE_BUILT)("the Playground page", { timeout: 60_000 }, () => {
  it("renders as prompts render does, logs no usage, and its curl gives the same text", async () => {
    const root = await sampleRepo();
    const before = usageLog(root);
    const { page, problems, url } = await session.open(root);
    await page.goto("/playground/answerer_prompt?variant=concise");
    const infos = page.getByLabel(/^infos/);
    await expect.poll(() => infos.count()).toBe(1);
    await infos.fill(JSON.stringify(INFOS));
    await page.getByLabel(/^user_query/).fill("What's the capital of France?");
    const text = page.locator(".rendered-text");
    await expect.poll(() => text.count()).toBe(1);

    const cliRender = await cli(
      root,
      "render",
      "answerer_prompt",
      "--variant",
      "concise",
      "--var",
      `infos=${JSON.stringify(INFOS)}`,
      "--var",
      "user_query=What's the capital of France?",
    );
    expect(cliRender.code).toBe(0);
    await expect.poll(() => text.textContent()).toBe(cliRender.stdout);
    expect(await page.locator(".render-facts").innerText()).toMatch(/Variant\s+concise/);
    await screenshot(page, "playground");

    // The values typed stay out of the URL; the variant is in it.
    expect(page.url()).toBe(`${url}/playground/answerer_prompt?variant=concise`);
    // The page's renders log nothing.
    expect(usageLog(root)).toBe(before);

    // "Copy as" curl: run as shown, it gives the same text.
    await page.getByRole("button", { name: "curl", exact: true }).click();
    const curl = await page.locator(".copy-as pre").innerText();
    expect(curl).toContain(`${url}/v1/prompts/answerer_prompt/render`);
    const answer = JSON.parse(
      // Async: the server answering it runs in this process.
      (await promisify(execFile)("bash", ["-c", curl], { encoding: "utf8", timeout: 15_000 }))
        .stdout,
    ) as {
      text: string;
      variant: string;
    };
    expect(answer.variant).toBe("concise");
    expect(answer.text).toBe(cliRender.stdout);
    await page.getByRole("button", { name: "Python", exact: true }).click();
    expect(await page.locator(".copy-as pre").innerText()).toContain(
      'r = prompts.render("answerer_prompt", {',
    );
    await page.getByRole("button", { name: "TypeScript", exact: true }).click();
    expect(await page.locator(".copy-as pre").innerText()).toContain(
      'import { PromptClient } from "gitprompts";',
    );
    expect(problems.filter((problem) => !/status of 400/.test(problem))).toEqual([]);
  });

  it("names a missing variable, checks JSON inputs, and shows a chat prompt's messages", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root);
    await page.goto("/playground/answerer_prompt");
    await expect.poll(() => page.getByLabel(/^infos/).count()).toBe(1);
    await page.getByLabel(/^infos/).fill('["only one fact"]');
    await expect
      .poll(() => page.locator(".render-error").innerText())
      .toMatch(/^[^\n]*missing required variable: user_query$/);
    await page.getByLabel(/^infos/).fill('{"not": "an array"}');
    await expect
      .poll(() => page.locator(".variable-field .error").innerText())
      .toContain("infos: must be a JSON array");

    await page.goto("/playground/planner");
    // Defaults are filled in: max_queries is 3.
    await expect.poll(() => page.getByLabel(/^max_queries/).inputValue()).toBe("3");
    await page.getByLabel(/^user_query/).fill("best pizza in Naples");
    // On main the planner needs the conversation too: named until it is given.
    await expect
      .poll(() => page.locator(".render-error").innerText())
      .toMatch(/missing required variable: conversation$/);
    await page.getByLabel(/^conversation/).fill("user: hi");
    const messages = page.locator(".messages li");
    await expect.poll(() => messages.count()).toBe(2);
    expect(await messages.nth(0).innerText()).toMatch(/^system\s/i);
    expect(await messages.nth(0).innerText()).toContain("Write at most 3 queries");
    expect(await messages.nth(1).innerText()).toMatch(
      /^user\s+Conversation so far:\s+user: hi\s+Question: best pizza in Naples/i,
    );
    expect(problems.filter((problem) => !/status of 400/.test(problem))).toEqual([]);
  });

  it("chooses the variant by a unit as the server does, and keeps the choice in the URL", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root);
    await page.goto("/playground/answerer_prompt");
    await expect.poll(() => page.getByLabel(/^infos/).count()).toBe(1);
    await page.getByLabel(/^infos/).fill('["a fact"]');
    await page.getByLabel(/^user_query/).fill("why?");
    await page.getByLabel("Variant").selectOption({ label: "chosen by unit…" });
    const variants = { concise: { weight: ANSWERER_CONCISE_WEIGHT } };
    // A unit of each arm: the page shows the arm the server's function picks for it.
    for (const wanted of ["default", "concise"]) {
      let unit = 0;
      while (chooseVariant("answerer_prompt", variants, `user-${unit}`) !== wanted) unit++;
      await page.getByLabel(/^Unit/).fill(`user-${unit}`);
      await expect.poll(() => page.url()).toMatch(new RegExp(`\\?unit=user-${unit}$`));
      await expect
        .poll(() => page.locator(".render-facts").innerText())
        .toMatch(new RegExp(`Variant\\s+${wanted}\\b`));
      expect(await page.locator(".copy-as pre").innerText()).toContain(`"unit":"user-${unit}"`);
    }
    expect(problems.filter((problem) => !/status of 400/.test(problem))).toEqual([]);
  });
});
