// The Prompt, History and Diff pages in real Chromium over the sample repository: what a user
// sees of a prompt (highlighted tags, partial links, invalid files), its versions, and the
// difference between two refs as `prompts diff` shows it.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { git, gitRepo } from "../helpers.js";
import { browserSession, HAS_CHROMIUM, PAGE_BUILT, screenshot } from "./harness.js";
import { sampleRepo } from "./sample-repo.js";

const session = browserSession();

describe.skipIf(!HAS_CHROMIUM || !PAGE_BUILT)("the Prompt page", () => {
  it("shows the body with variables, sections and partials highlighted; a partial links to its prompt", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root);
    await page.goto("/prompts/caller");
    await expect.poll(() => page.getByRole("heading", { level: 1 }).innerText()).toBe("caller");
    const body = page.locator("pre.body").first();
    expect(await body.locator(".tpl.variable").allInnerTexts()).toEqual([
      "{{name}}",
      "{{description}}",
      "{{user_query}}",
    ]);
    expect(await body.locator(".tpl.section").allInnerTexts()).toEqual(["{{#tools}}"]);
    expect(await body.locator(".tpl.close").allInnerTexts()).toEqual(["{{/tools}}"]);
    // The text around the tags is kept as written.
    expect(await body.innerText()).toContain("Available tools:\n{{#tools}}- {{name}}:");
    const variables = page.locator("table.variables tbody tr");
    expect(await variables.allInnerTexts()).toEqual([
      expect.stringMatching(/^tools\tarray\tyes\t\tThe tools the agent can call/),
      expect.stringMatching(/^user_query\tstring\tyes/),
    ]);
    expect(await page.locator("table.model").innerText()).toContain("llama-3.3-70b");
    for (const [link, href] of [
      ["History", "/history/caller"],
      ["Playground", "/playground/caller"],
      ["Experiments", "/experiments/caller"],
      ["Diff", "/diff?name=caller"],
    ]) {
      expect(
        await page.getByRole("link", { name: link, exact: true }).last().getAttribute("href"),
      ).toBe(href);
    }
    await screenshot(page, "prompt");

    await body.getByRole("link", { name: "{{> shared/tool_rules}}" }).click();
    await expect
      .poll(() => page.getByRole("heading", { level: 1 }).innerText())
      .toBe("shared/tool_rules");
    expect(new URL(page.url()).pathname).toBe("/prompts/shared/tool_rules");
    expect(problems).toEqual([]);
  });

  it("shows each variant with its weight and its own body, and chat messages with their roles", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root);
    await page.goto("/prompts/answerer_prompt");
    const variants = page.locator("ul.variants > li");
    await expect.poll(() => variants.count()).toBe(2);
    expect(await variants.nth(0).locator("h3").innerText()).toBe("default 70%");
    expect(await variants.nth(1).locator("h3").innerText()).toBe("concise 30%");
    expect(await variants.nth(1).innerText()).toContain("Shorter answers");
    expect(await variants.nth(1).locator(".tpl.variable").allInnerTexts()).toEqual([
      "{{.}}",
      "{{user_query}}",
    ]);

    await page.goto("/prompts/planner");
    const messages = page.locator("ol.messages > li");
    await expect.poll(() => messages.count()).toBe(2);
    expect(await messages.locator(".role").allTextContents()).toEqual(["system", "user"]);
    expect(await messages.nth(0).locator(".tpl.variable").allInnerTexts()).toEqual([
      "{{max_queries}}",
    ]);
    expect(problems).toEqual([]);
  });

  it("respects a prompt's own delimiters, and shows a raw prompt as plain text", async () => {
    const root = await sampleRepo();
    writeFileSync(
      join(root, "prompts", "jsx_helper.yaml"),
      [
        'delimiters: ["<%", "%>"]',
        "variables: { component: string, props: array }",
        "template: |",
        '  Write <% component %> with style={{ color: "red" }}.',
        "  <%! a comment %><%#props%>- <%name%><%/props%>",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(root, "prompts", "verbatim.yaml"),
      "raw: true\ntemplate: |\n  Keep {{this}} as it is.\n",
    );
    const { page, problems } = await session.open(root);
    await page.goto("/prompts/jsx_helper");
    const body = page.locator("pre.body");
    await expect.poll(() => body.count()).toBe(1);
    expect(await body.locator(".tpl.variable").allInnerTexts()).toEqual([
      "<% component %>",
      "<%name%>",
    ]);
    expect(await body.locator(".tpl.comment").allInnerTexts()).toEqual(["<%! a comment %>"]);
    expect(await body.locator(".tpl.section").allInnerTexts()).toEqual(["<%#props%>"]);
    expect(await body.locator(".tpl.close").allInnerTexts()).toEqual(["<%/props%>"]);
    expect(await body.innerText()).toContain('style={{ color: "red" }}');

    await page.goto("/prompts/verbatim");
    await expect.poll(() => page.locator("pre.body").innerText()).toBe("Keep {{this}} as it is.\n");
    expect(await page.locator("pre.body .tpl").count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it("follows edits; shows an invalid file's errors above the version served and in a diff; 404 for an unknown name", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root);
    await page.goto("/prompts/caller");
    await expect.poll(() => page.locator("pre.body").count()).toBe(1);
    const file = join(root, "prompts", "caller.yaml");
    const original = readFileSync(file, "utf8");
    // An edit on disk shows without a reload.
    writeFileSync(file, original.replace("Rules:", "Rules to follow:"));
    await expect.poll(() => page.locator("pre.body").innerText()).toContain("Rules to follow:");
    writeFileSync(file, `${original}\nvariables: [unclosed\n`);
    const errors = page.locator(".file-errors");
    await expect.poll(() => errors.innerText()).toMatch(/prompts\/caller\.yaml:\d+:\d+: /);
    expect(await errors.innerText()).toContain("last good version");
    // The served version stays below.
    expect(await page.locator("pre.body").innerText()).toContain("{{> shared/tool_rules}}");

    // The diff against the working tree lists that side's file errors and says why caller is
    // not compared.
    await page.goto("/diff");
    const toIssues = page.locator(".file-errors", { hasText: "TO (working tree)" });
    await expect.poll(() => toIssues.innerText()).toMatch(/prompts\/caller\.yaml:\d+:\d+: /);
    expect(await page.locator("section.prompt-diff", { hasText: "caller" }).innerText()).toContain(
      "Invalid at TO",
    );

    await page.goto("/prompts/no/such/prompt");
    await expect
      .poll(() => page.getByRole("heading", { level: 1 }).innerText())
      .toBe("No prompt named no/such/prompt");
    expect(await page.getByRole("link", { name: "See every prompt" }).getAttribute("href")).toBe(
      "/prompts",
    );
    expect(problems.filter((problem) => !/status of 404/.test(problem))).toEqual([]);
  });
});

describe.skipIf(!HAS_CHROMIUM || !PAGE_BUILT)("the History page", () => {
  it("lists the versions as prompts log does, and a row's link opens its diff", async () => {
    const root = await sampleRepo();
    const file = join(root, "prompts", "answerer_prompt.yaml");
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace(
        "Answers the user's question",
        "Answers the user's question briefly",
      ),
    );
    git(root, "commit", "-qam", "answerer: say it is brief");
    const newest = git(root, "rev-parse", "HEAD").trim();
    const v2 = git(root, "rev-parse", "v2^{commit}").trim();
    const { page, problems } = await session.open(root);
    await page.goto("/history/answerer_prompt");
    const rows = page.locator("table.history tbody tr");
    await expect.poll(() => rows.count()).toBe(3);
    const cells = (await rows.allInnerTexts()).map((row) => row.split("\t"));
    expect(cells.map((row) => row[5])).toEqual(["", "v2", "v1"]);
    expect(cells.map((row) => row[4])).toEqual([
      "answerer: say it is brief",
      "answerer: A/B test a concise variant",
      "Add the agent's prompts",
    ]);
    expect(cells[0]?.[1]).toBe(newest.slice(0, 7));
    expect(await rows.nth(0).locator("code[title]").getAttribute("title")).toBe(newest);
    await screenshot(page, "history");

    await rows.nth(0).getByRole("link", { name: "vs previous" }).click();
    await expect.poll(() => page.locator(".diff-summary").count()).toBe(1);
    const url = new URL(page.url());
    expect(url.pathname).toBe("/diff");
    expect(url.searchParams.get("from")).toBe(v2);
    expect(url.searchParams.get("to")).toBe(newest);
    expect(url.searchParams.get("name")).toBe("answerer_prompt");
    expect(await page.locator("table.fields").innerText()).toContain("description");
    expect(problems).toEqual([]);
  });

  it("marks a version where the prompt was deleted", async () => {
    const root = await sampleRepo();
    git(root, "rm", "-q", "prompts/caller.yaml");
    git(root, "commit", "-qm", "caller: retired");
    const { page, problems } = await session.open(root);
    await page.goto("/history/caller");
    const rows = page.locator("table.history tbody tr");
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(0).getAttribute("class")).toBe("deleted");
    expect(await rows.nth(0).locator("th").innerText()).toMatch(/deleted/);
    expect(await rows.nth(0).innerText()).toContain("caller: retired");
    expect(problems).toEqual([]);
  });
});

describe.skipIf(!HAS_CHROMIUM || !PAGE_BUILT)("the Diff page", () => {
  it("shows v2..main: the planner's breaking change first, its fields and the changed words", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root);
    await page.goto("/diff");
    await page.getByLabel("From").fill("v2");
    await page.getByLabel("To").fill("main");
    await page.getByRole("button", { name: "Compare" }).click();
    const summary = page.locator(".diff-summary");
    await expect.poll(() => summary.innerText()).toContain("1 changed");
    expect(await summary.innerText()).toMatch(/1\s+breaking/);
    expect(new URL(page.url()).search).toBe("?from=v2&to=main");

    const planner = page.locator("section.prompt-diff", { hasText: "planner" });
    expect(await planner.locator("ul.breaking").innerText()).toBe(
      'breaking: new required variable "conversation"',
    );
    expect(await planner.locator("table.fields").innerText()).toContain("variables.conversation");
    expect(await planner.locator("del.word").allInnerTexts()).toEqual([]);
    expect(await planner.locator("ins.word").allInnerTexts()).toEqual([" and the conversation"]);
    expect(await planner.locator("tr.add").allInnerTexts()).toEqual(
      expect.arrayContaining([expect.stringContaining("Conversation so far:")]),
    );
    await screenshot(page, "diff");

    // The same comparison opens from its pasted link, with the form filled in.
    await page.goto("/diff?from=v2&to=main&name=planner");
    await expect.poll(() => page.locator("section.prompt-diff").count()).toBe(1);
    expect(await page.getByLabel("From").inputValue()).toBe("v2");
    expect(await page.getByLabel("Prompt").inputValue()).toBe("planner");
    // The other way round: the variable goes, which breaks callers that pass it.
    await page.getByRole("button", { name: "Swap sides" }).click();
    await page.getByRole("button", { name: "Compare" }).click();
    await expect.poll(() => new URL(page.url()).search).toBe("?from=main&to=v2&name=planner");
    await expect
      .poll(() => page.locator("ul.breaking").innerText())
      .toBe('breaking: variable "conversation" removed');
    expect(problems).toEqual([]);
  });

  it("renders both sides with the variables given and shows the rendered difference", async () => {
    const root = await sampleRepo();
    // The working tree rewords a line of the planner: main and it take the same variables.
    const file = join(root, "prompts", "planner.yaml");
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace("Conversation so far:", "The conversation until now:"),
    );
    const { page, problems } = await session.open(root);
    await page.goto("/diff?from=main&name=planner");
    // The declared variables, with their defaults, to start from.
    await page.getByRole("button", { name: "Fill in its variables" }).click();
    expect(JSON.parse(await page.getByLabel(/Variables for planner/).inputValue())).toEqual({
      user_query: "",
      conversation: "",
      max_queries: 3,
    });
    await page
      .getByLabel(/Variables for planner/)
      .fill('{"user_query": "Which Node versions are supported?", "conversation": "(none yet)"}');
    await page.getByRole("button", { name: "Compare" }).click();
    const rendered = page.locator(".rendered");
    await expect.poll(() => rendered.locator("tr.add").count()).toBeGreaterThan(0);
    expect(JSON.parse(new URL(page.url()).searchParams.get("vars") ?? "")).toEqual({
      planner: { user_query: "Which Node versions are supported?", conversation: "(none yet)" },
    });
    expect(await rendered.locator("tr.del").allInnerTexts()).toEqual([
      expect.stringContaining("Conversation so far:"),
    ]);
    expect(await rendered.locator("tr.add").allInnerTexts()).toEqual([
      expect.stringContaining("The conversation until now:"),
    ]);
    expect(await rendered.innerText()).toContain("Which Node versions are supported?");

    // Where a side cannot take the variables, that side's error is shown instead.
    await page.goto(
      `/diff?from=v2&to=main&name=planner&vars=${encodeURIComponent('{"planner":{"user_query":"q","conversation":"c"}}')}`,
    );
    await expect
      .poll(() => page.locator(".rendered .error").innerText())
      .toMatch(/^cannot render at v2 \([0-9a-f]{7}\): unknown variable "conversation"/);
    expect(problems).toEqual([]);
  });

  it("collapses the prompts past the first 20, each drawn when opened, and fits 375 px", async () => {
    const files: Record<string, string> = {};
    for (let index = 0; index < 25; index++) {
      const name = `bulk/p${String(index).padStart(2, "0")}`;
      files[`prompts/${name}.yaml`] =
        `template: "Say {{word}} once."\nvariables: { word: string }\n`;
    }
    const root = gitRepo([{ message: "Bulk prompts", files }]);
    for (const file of Object.keys(files))
      writeFileSync(
        join(root, file),
        readFileSync(join(root, file), "utf8").replace("once", "twice"),
      );
    const { page, problems } = await session.open(root, { width: 375, height: 740 });
    await page.goto("/diff");
    await expect.poll(() => page.locator(".diff-summary").innerText()).toContain("25");
    expect(await page.locator("section.prompt-diff").count()).toBe(20);
    const collapsed = page.locator("details.prompt-diff");
    expect(await collapsed.count()).toBe(5);
    expect(await collapsed.locator("table.udiff").count()).toBe(0);
    await collapsed.first().locator("summary").click();
    await expect
      .poll(() => collapsed.first().locator("ins.word").allInnerTexts())
      .toEqual(["twice"]);
    // The overview, as --stat, leads to a collapsed prompt and opens it.
    await page.locator(".diff-overview summary").click();
    await page.locator(".diff-overview").getByRole("link", { name: "bulk/p24" }).click();
    const last = page.locator("details.prompt-diff").last();
    await expect.poll(() => last.locator("ins.word").allInnerTexts()).toEqual(["twice"]);
    expect(await last.getAttribute("open")).toBe("");
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(375);
    await screenshot(page, "diff-375px");
    expect(problems).toEqual([]);
  });

  it("shows the API's one-line 400 for a ref that looks like an option, and keeps the form", async () => {
    const root = await sampleRepo();
    const { page, problems } = await session.open(root);
    await page.goto("/diff?from=--output=x");
    const error = page.getByRole("alert");
    await expect.poll(() => error.innerText()).toMatch(/^from: .*\(400 invalid_request\)$/);
    expect(await page.getByLabel("From").inputValue()).toBe("--output=x");
    expect(problems.filter((problem) => !/status of 400/.test(problem))).toEqual([]);
  });
});
