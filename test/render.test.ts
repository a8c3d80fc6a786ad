import Mustache from "mustache";
import { describe, expect, it } from "vitest";
import type { PromptLookup } from "../src/core/render.js";
import type { PromptsError } from "../src/errors.js";
import type { FileTree } from "./helpers.js";

// The global Mustache as the host application has it, taken before gitprompts is imported:
// gitprompts must never change it (its HTML escaping, its tags, its functions).
const pristine = {
  escape: Mustache.escape,
  render: Mustache.render,
  tags: [...Mustache.tags],
};
const { renderPrompt } = await import("../src/core/render.js");
const { loadPrompts } = await import("../src/store/load.js");
const { tempDir } = await import("./helpers.js");

const ACTIONS_SECRET = "${{ secrets.TOKEN }}";

const TREE: FileTree = {
  "prompts/greet.yaml": [
    "model: { name: base-model, temperature: 0.2, max_tokens: 100 }",
    "variables:",
    "  name: string",
    "  greeting: { type: string, default: Hello }",
    "  count: { type: number, required: false }",
    "  tags: { type: array, required: false }",
    'template: "{{greeting}}, {{name}}!{{#count}} x{{count}}{{/count}}{{#tags}} [{{.}}]{{/tags}}"',
    "variants:",
    "  short:",
    "    weight: 20",
    "    model: { temperature: 0.9 }",
    '    template: "Hi {{name}}"',
    "  plain:",
    "    weight: 10",
    '    template: "{{greeting}} {{name}}"',
    "",
  ].join("\n"),
  "prompts/form.yaml": [
    "variables:",
    "  alpha: string",
    "  beta: number",
    "  gamma: boolean",
    "  delta: { type: object, required: false }",
    "template: '{{alpha}} {{beta}} {{#gamma}}yes{{/gamma}} {{delta.key}}'",
    "",
  ].join("\n"),
  "prompts/support/chat.yaml": [
    "model: { name: chat-model }",
    "variables:",
    "  question: string",
    "  product: { type: string, default: Widget }",
    "messages:",
    "  - role: system",
    "    content: You support {{product}}.",
    "  - role: user",
    '    content: "{{question}}"',
    "variants:",
    "  formal:",
    "    weight: 50",
    "    messages:",
    "      - role: system",
    "        content: You formally support {{product}}.",
    "      - role: user",
    '        content: "Question: {{question}}"',
    "",
  ].join("\n"),
  "prompts/raw.yaml": [
    "raw: true",
    "template: |",
    "  steps:",
    `    - run: echo ${ACTIONS_SECRET} {{name}}`,
    "",
  ].join("\n"),
  "prompts/angle.yaml": [
    "delimiters: ['<%', '%>']",
    "variables:",
    "  name: string",
    "template: 'Hi <% name %>, keep {{ x }} and <div style={{ color: 1 }}>'",
    "",
  ].join("\n"),
  "prompts/catalog.yaml":
    "variables:\n  items: array\ntemplate: '{{#items}}{{name}}:{{constructor}}{{toString}};{{/items}}'\n",
  "prompts/parts/inner.yaml": "variables:\n  who: string\ntemplate: 'inner({{who}})'\n",
  "prompts/parts/middle.yaml": "template: 'middle[{{> parts/inner}}]'\n",
  "prompts/outer.yaml": "variables:\n  title: string\ntemplate: '{{title}}: {{> parts/middle}}'\n",
};

async function loadTree(files: FileTree = TREE): Promise<PromptLookup> {
  const result = await loadPrompts({ root: tempDir(files), cache: false });
  expect(result.issues).toEqual([]);
  return result.prompts;
}

function renderError(fn: () => unknown): PromptsError {
  try {
    fn();
  } catch (error) {
    return error as PromptsError;
  }
  throw new Error("expected the render to throw");
}

describe("renderPrompt", () => {
  it("renders a text prompt with the values given and the defaults of the others", async () => {
    const prompts = await loadTree();
    const result = renderPrompt(prompts, "greet", { name: "Ann" });
    expect(result).toEqual({
      name: "greet",
      version: prompts.get("greet")?.version,
      variant: "default",
      text: "Hello, Ann!",
      model: { name: "base-model", temperature: 0.2, max_tokens: 100 },
    });
    expect(result.messages).toBeUndefined();
  });

  it("uses a given value over the default, and renders numbers and lists", async () => {
    const prompts = await loadTree();
    const result = renderPrompt(prompts, "greet", {
      name: "Ann",
      greeting: "Howdy",
      count: 3,
      tags: ["a", "b"],
    });
    expect(result.text).toBe("Howdy, Ann! x3 [a] [b]");
  });

  it("renders a chat prompt message by message", async () => {
    const prompts = await loadTree();
    const result = renderPrompt(prompts, "support/chat", { question: "Where is my order?" });
    expect(result.text).toBeUndefined();
    expect(result.messages).toEqual([
      { role: "system", content: "You support Widget." },
      { role: "user", content: "Where is my order?" },
    ]);
    expect(result.model).toEqual({ name: "chat-model" });
  });

  it("gives ONE error that lists every missing required variable", async () => {
    const prompts = await loadTree();
    const error = renderError(() => renderPrompt(prompts, "form", {}));
    expect(error.code).toBe("E_INVALID_INPUT");
    expect(error.message).toContain("missing required variables");
    for (const name of ["alpha", "beta", "gamma"]) expect(error.message).toContain(name);
    // Not required: never reported as missing.
    expect(error.message).not.toContain("delta");
  });

  it("lists missing, unknown and mistyped variables together", async () => {
    const prompts = await loadTree();
    const error = renderError(() =>
      renderPrompt(prompts, "form", { alpha: 1, gamma: true, betta: 2 }),
    );
    expect(error.code).toBe("E_INVALID_INPUT");
    expect(error.details).toHaveLength(3);
    expect(error.message).toContain("missing required variable: beta");
    expect(error.message).toContain('unknown variable "betta" (did you mean "beta"?)');
    expect(error.message).toContain('variable "alpha" must be a string, got number');
  });

  it("refuses an unknown variable, suggesting the declared one (typo guard)", async () => {
    const prompts = await loadTree();
    const error = renderError(() => renderPrompt(prompts, "greet", { name: "Ann", greting: "Yo" }));
    expect(error.code).toBe("E_INVALID_INPUT");
    expect(error.message).toContain('unknown variable "greting" (did you mean "greeting"?)');
  });

  it.each([
    {
      value: { alpha: "a", beta: "3", gamma: true },
      fragment: 'variable "beta" must be a number, got string',
    },
    {
      value: { alpha: "a", beta: 3, gamma: "yes" },
      fragment: 'variable "gamma" must be a boolean, got string',
    },
    {
      value: { alpha: ["a"], beta: 3, gamma: true },
      fragment: 'variable "alpha" must be a string, got array',
    },
    {
      value: { alpha: "a", beta: 3, gamma: true, delta: [1] },
      fragment: 'variable "delta" must be an object, got array',
    },
  ])("names the variable and the expected type: $fragment", async ({ value, fragment }) => {
    const prompts = await loadTree();
    const error = renderError(() => renderPrompt(prompts, "form", value));
    expect(error.code).toBe("E_INVALID_INPUT");
    expect(error.message).toContain(fragment);
  });

  it.each([
    "{{user_query}}",
    "{{> parts/inner}}",
    "{{#tags}}x{{/tags}}",
    "{{{name}}}",
    "{{=<% %>=}} <% name %>",
  ])("inserts the value %s literally, never as template", async (value) => {
    const prompts = await loadTree();
    const result = renderPrompt(prompts, "greet", { name: value, tags: [value] });
    expect(result.text).toBe(`Hello, ${value}! [${value}]`);
  });

  it("writes an object as [object Object] and a list of objects joined, in every tag form, rather than crash", async () => {
    const prompts = await loadTree({
      "prompts/dump.yaml": [
        "variables:",
        "  settings: object",
        "  rows: array",
        'template: "{{settings}} {{{settings}}} {{&rows}} {{rows}}"',
        "",
      ].join("\n"),
    });
    const text = renderPrompt(prompts, "dump", { settings: { a: 1 }, rows: [{ b: 1 }, null, 2] });
    expect(text.text).toBe("[object Object] [object Object] [object Object],,2 [object Object],,2");
  });

  it("does not HTML-escape values", async () => {
    const prompts = await loadTree();
    const value = `<b>&"'/\`=</b>`;
    expect(renderPrompt(prompts, "greet", { name: value }).text).toBe(`Hello, ${value}!`);
  });

  it.each([
    { name: "a function as the value", values: { name: () => "lambda ran" } },
    { name: "a function inside a list", values: { name: "Ann", tags: [() => "lambda ran"] } },
  ])("refuses $name (a Mustache lambda)", async ({ values }) => {
    const prompts = await loadTree();
    const error = renderError(() => renderPrompt(prompts, "greet", values));
    expect(error.code).toBe("E_INVALID_INPUT");
    expect(error.message).toMatch(/function/);
    expect(error.message).not.toContain("lambda ran");
  });

  it("treats fields of list items as data: a name from Object.prototype is a missing field", async () => {
    const prompts = await loadTree();
    const result = renderPrompt(prompts, "catalog", { items: [{ name: "a" }, { name: "b" }] });
    expect(result.text).toBe("a:;b:;");
  });

  it("leaves the global Mustache as it was: escaping, tags and functions", async () => {
    const prompts = await loadTree();
    renderPrompt(prompts, "greet", { name: "<b>" });
    renderPrompt(prompts, "angle", { name: "<b>" });
    renderPrompt(prompts, "outer", { title: "<b>", who: "<i>" });
    expect(Mustache.escape).toBe(pristine.escape);
    expect(Mustache.render).toBe(pristine.render);
    expect(Mustache.tags).toEqual(pristine.tags);
    expect(Mustache.render("{{x}}", { x: "<b>" })).toBe("&lt;b&gt;");
  });

  it("resolves partials two levels deep, with the includer's values", async () => {
    const prompts = await loadTree();
    const result = renderPrompt(prompts, "outer", { title: "T", who: "W" });
    expect(result.text).toBe("T: middle[inner(W)]");
  });

  it("requires the variables of the partials it includes", async () => {
    const prompts = await loadTree();
    const error = renderError(() => renderPrompt(prompts, "outer", { title: "T" }));
    expect(error.code).toBe("E_INVALID_INPUT");
    expect(error.message).toContain("who");
  });

  it("renders a variant's body and merges its model over the prompt's", async () => {
    const prompts = await loadTree();
    const result = renderPrompt(prompts, "greet", { name: "Ann" }, { variant: "short" });
    expect(result.variant).toBe("short");
    expect(result.text).toBe("Hi Ann");
    expect(result.model).toEqual({ name: "base-model", temperature: 0.9, max_tokens: 100 });
    expect(result.version).toBe(prompts.get("greet")?.version);
  });

  it("renders a variant that keeps the prompt's model untouched", async () => {
    const prompts = await loadTree();
    const result = renderPrompt(prompts, "greet", { name: "Ann" }, { variant: "plain" });
    expect(result.text).toBe("Hello Ann");
    expect(result.model).toEqual({ name: "base-model", temperature: 0.2, max_tokens: 100 });
    expect(prompts.get("greet")?.model).toEqual({
      name: "base-model",
      temperature: 0.2,
      max_tokens: 100,
    });
  });

  it("renders a chat variant's messages", async () => {
    const prompts = await loadTree();
    const result = renderPrompt(
      prompts,
      "support/chat",
      { question: "Why?" },
      { variant: "formal" },
    );
    expect(result.messages).toEqual([
      { role: "system", content: "You formally support Widget." },
      { role: "user", content: "Question: Why?" },
    ]);
  });

  it('renders the prompt\'s own body for variant "default"', async () => {
    const prompts = await loadTree();
    const result = renderPrompt(prompts, "greet", { name: "Ann" }, { variant: "default" });
    expect(result.variant).toBe("default");
    expect(result.text).toBe("Hello, Ann!");
  });

  it("refuses an unknown variant, listing the variants", async () => {
    const prompts = await loadTree();
    const error = renderError(() =>
      renderPrompt(prompts, "greet", { name: "Ann" }, { variant: "shrt" }),
    );
    expect(error.code).toBe("E_INVALID_INPUT");
    expect(error.message).toContain('no variant "shrt" (did you mean "short"?)');
    expect(error.message).toContain("variants: default, short, plain");
  });

  it("refuses an unknown prompt name, suggesting the closest", async () => {
    const prompts = await loadTree();
    const error = renderError(() => renderPrompt(prompts, "support/chta", {}));
    expect(error.code).toBe("E_PROMPT_NOT_FOUND");
    expect(error.message).toContain(
      'prompt "support/chta" not found (did you mean "support/chat"?)',
    );
  });

  it("renders a raw prompt verbatim", async () => {
    const prompts = await loadTree();
    const result = renderPrompt(prompts, "raw", {});
    expect(result.text).toBe(`steps:\n  - run: echo ${ACTIONS_SECRET} {{name}}\n`);
  });

  it("renders custom delimiters and leaves {{ }} alone", async () => {
    const prompts = await loadTree();
    const result = renderPrompt(prompts, "angle", { name: "Bo" });
    expect(result.text).toBe("Hi Bo, keep {{ x }} and <div style={{ color: 1 }}>");
  });
});

describe("names that are object built-ins", () => {
  it("refuses a variant named like an Object.prototype member", async () => {
    const { loadPrompts } = await import("../src/store/load.js");
    const { renderPrompt } = await import("../src/core/render.js");
    const { tempDir } = await import("./helpers.js");
    const root = tempDir({ "prompts/p.yaml": "template: hi\n" });
    const { prompts } = await loadPrompts({ root, cache: false });
    for (const variant of ["toString", "hasOwnProperty", "constructor"]) {
      expect(() => renderPrompt(prompts, "p", {}, { variant })).toThrow(/has no variant/);
    }
  });

  it("refuses __proto__ as a variable or variant name", async () => {
    const { loadPrompts } = await import("../src/store/load.js");
    const { tempDir } = await import("./helpers.js");
    const root = tempDir({
      "prompts/p.yaml":
        "variables:\n  __proto__: string\ntemplate: x\nvariants:\n  __proto__: { weight: 10 }\n",
    });
    const { prompts, issues } = await loadPrompts({ root, cache: false });
    expect(prompts.has("p")).toBe(false);
    expect(issues.map((issue) => issue.code)).toEqual(["bad-variable-name", "bad-variant-name"]);
  });
});
