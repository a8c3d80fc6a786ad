import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  BUNDLE_FORMAT,
  type BundleSource,
  bundleToPrompts,
  createBundle,
  parseBundle,
  toBundlePrompt,
} from "../src/core/bundle.js";
import { canonicalJson } from "../src/core/json.js";
import { type PromptLookup, promptVariables, renderPrompt } from "../src/core/render.js";
import type { Prompt } from "../src/core/types.js";
import { PromptsError } from "../src/errors.js";
import { loadPrompts } from "../src/store/load.js";
import { bundleTextOf, PROJECT_ROOT, tempDir } from "./helpers.js";

const SOURCE: BundleSource = { commit: "a".repeat(40), ref: "v1", dirty: false };

/** Every field a prompt can have: a partial, a chat prompt with a variant, raw and delimiters. */
const TREE = {
  "prompts/shared/rules.yaml":
    "description: Rules.\nvariables: { name: string }\ntemplate: Be brief, {{name}}.\n",
  "prompts/greet.yaml": [
    "description: Greets.",
    "model: { name: m1, temperature: 0.2 }",
    "metadata: { owner: team-a, tags: [x, y] }",
    "variables:",
    "  name: string",
    "  count: { type: number, required: false, default: 2, description: How many }",
    "template: |",
    "  Hello {{name}} x{{count}}",
    "  {{> shared/rules}}",
    "variants:",
    "  short:",
    "    weight: 25",
    "    description: Shorter.",
    "    model: { temperature: 0.9 }",
    "    template: Hi {{name}}",
    "",
  ].join("\n"),
  "prompts/chat.yaml": [
    "variables:",
    "  question: string",
    "messages:",
    "  - role: system",
    "    content: You answer.",
    "  - role: user",
    '    content: "{{question}}"',
    "variants:",
    "  formal:",
    "    weight: 50",
    "    messages:",
    "      - role: user",
    '        content: "Kindly: {{question}}"',
    "",
  ].join("\n"),
  "prompts/raw.yaml": "raw: true\ntemplate: 'style={{ color: \"red\" }}'\n",
  "prompts/angle.yaml": [
    'delimiters: ["<%", "%>"]',
    "variables:",
    "  who: string",
    "template: '<% who %> keeps ${{ secrets.TOKEN }}'",
    "",
  ].join("\n"),
};

async function loadTree(files: Record<string, string> = TREE): Promise<Map<string, Prompt>> {
  const loaded = await loadPrompts({ root: tempDir(files), cache: false });
  expect(loaded.issues.filter((issue) => issue.severity === "error")).toEqual([]);
  return loaded.prompts;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The error `run` throws, checked to be a PromptsError. */
function errorOf(run: () => unknown): PromptsError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PromptsError);
    return error as PromptsError;
  }
  throw new Error("expected an error");
}

describe("toBundlePrompt", () => {
  it("keeps what a client needs to render, and nothing of the file", async () => {
    const prompts = await loadTree();
    const greet = toBundlePrompt(prompts.get("greet") as Prompt);
    expect(Object.keys(greet).sort()).toEqual([
      "description",
      "metadata",
      "model",
      "partials",
      "template",
      "variables",
      "variants",
      "version",
    ]);
    expect(greet).toMatchObject({
      version: prompts.get("greet")?.version,
      model: { name: "m1", temperature: 0.2 },
      partials: ["shared/rules"],
      variables: {
        name: { type: "string", required: true },
        count: { type: "number", required: false, default: 2, description: "How many" },
      },
      variants: { short: { weight: 25, template: "Hi {{name}}", model: { temperature: 0.9 } } },
      metadata: { owner: "team-a", tags: ["x", "y"] },
    });
    // Without model or variants they are still objects; optional fields appear only when set.
    const chat = toBundlePrompt(prompts.get("chat") as Prompt);
    expect(chat.model).toEqual({});
    expect(chat).not.toHaveProperty("template");
    expect(chat).not.toHaveProperty("description");
    expect(chat.messages).toHaveLength(2);
    expect(toBundlePrompt(prompts.get("raw") as Prompt)).toMatchObject({
      raw: true,
      variants: {},
      partials: [],
    });
    expect(toBundlePrompt(prompts.get("angle") as Prompt).delimiters).toEqual(["<%", "%>"]);
  });
});

describe("createBundle", () => {
  it("gives the same bytes whatever the insertion order of the map", async () => {
    const prompts = await loadTree();
    const reversed = new Map([...prompts].reverse());
    const shuffled = new Map(
      [...prompts].sort(([a], [b]) => (a.length - b.length) * 7 + a.localeCompare(b)),
    );
    const { text, hash } = createBundle(prompts, SOURCE);
    expect(createBundle(reversed, SOURCE)).toEqual({ text, hash });
    expect(createBundle(shuffled, SOURCE)).toEqual({ text, hash });
  });

  it("is the canonical JSON of {format, hash, prompts, source} and one newline", async () => {
    const prompts = await loadTree();
    const { text, hash } = createBundle(prompts, SOURCE);
    expect(text.endsWith("}\n")).toBe(true);
    expect(text.indexOf("\n")).toBe(text.length - 1);
    const value = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(["format", "hash", "prompts", "source"]);
    expect(`${canonicalJson(value)}\n`).toBe(text);
    expect(value).toMatchObject({ format: BUNDLE_FORMAT, hash, source: SOURCE });
    expect(Object.keys(value.prompts as object).sort()).toEqual([...prompts.keys()].sort());
  });

  it("hashes the canonical JSON of the prompts object with SHA-256", async () => {
    const prompts = await loadTree();
    const { text, hash } = createBundle(prompts, SOURCE);
    const value = JSON.parse(text) as { prompts: unknown };
    expect(hash).toBe(sha256(canonicalJson(value.prompts)));
    // The source is not part of the hash: the same prompts have the same ETag from any commit.
    expect(createBundle(prompts, { commit: null, ref: null, dirty: true }).hash).toBe(hash);
  });

  it("holds no file paths", async () => {
    const root = tempDir(TREE);
    const { prompts } = await loadPrompts({ root, cache: false });
    const { text } = createBundle(prompts, SOURCE);
    expect(text).not.toContain(root);
    expect(text).not.toContain('"file"');
    expect(text).not.toContain(".yaml");
  });
});

describe("createBundle of no prompts", () => {
  it("is a bundle with an empty prompts object", () => {
    const { text, hash } = createBundle(new Map(), SOURCE);
    expect(hash).toBe(sha256("{}"));
    expect(parseBundle(text).prompts).toEqual({});
  });
});

describe("parseBundle", () => {
  async function validText(): Promise<string> {
    return createBundle(await loadTree(), SOURCE).text;
  }

  /** A bundle whose hash is right but whose prompt `x` is `prompt`. */
  function bundleWith(prompt: Record<string, unknown>): string {
    return bundleTextOf([`"x":${canonicalJson(prompt)}`], SOURCE);
  }

  const BASE = { version: "0123456789ab", variables: {}, model: {}, variants: {}, partials: [] };

  it("reads back what createBundle wrote", async () => {
    const text = await validText();
    const bundle = parseBundle(text);
    expect(bundle.format).toBe(BUNDLE_FORMAT);
    expect(bundle.source).toEqual(SOURCE);
    expect(bundle.hash).toBe((JSON.parse(text) as { hash: string }).hash);
    expect(Object.keys(bundle.prompts).sort()).toEqual([
      "angle",
      "chat",
      "greet",
      "raw",
      "shared/rules",
    ]);
  });

  it.each([
    ["an empty file", () => "", /not valid JSON.*truncated or half-written/],
    ["a truncated file", (text: string) => text.slice(0, text.length / 2), /not valid JSON/],
    ["not an object", () => "[1, 2]", /not a JSON object/],
    [
      "a later format",
      (text: string) => text.replace(BUNDLE_FORMAT, "gitprompts-bundle/2"),
      /format "gitprompts-bundle\/2" is not supported; this gitprompts reads "gitprompts-bundle\/1"/,
    ],
    [
      "another file",
      () => '{"name": "my-app", "version": "1.0.0"}',
      /format is missing, expected "gitprompts-bundle\/1"; not a gitprompts bundle/,
    ],
    [
      "a hash mismatch",
      (text: string) => text.replace("Be brief", "Be long"),
      /hash mismatch: the bundle says [0-9a-f]{12}…, its prompts hash to [0-9a-f]{12}…/,
    ],
    ["a bad hash", (text: string) => text.replace(/"hash":"[0-9a-f]+"/, '"hash":"x"'), /`hash`/],
    [
      "a bad source",
      (text: string) => text.replace('"dirty":false', '"dirty":"no"'),
      /`source` must be/,
    ],
  ])("refuses %s", async (_what, corrupt, message) => {
    const text = await validText();
    const error = errorOf(() => parseBundle(corrupt(text)));
    expect(error.code).toBe("E_INVALID_INPUT");
    expect(error.message).toMatch(/^invalid bundle: /);
    expect(error.message).toMatch(message);
  });

  it.each([
    [{ ...BASE }, 'prompt "x" has neither template nor messages'],
    [
      { ...BASE, template: "a", messages: [{ role: "user", content: "b" }] },
      'prompt "x" has both template and messages',
    ],
    [{ ...BASE, template: "a", version: undefined }, 'prompt "x" has no version'],
    [{ ...BASE, template: 3 }, 'prompt "x": `template` must be a string'],
    [
      { ...BASE, messages: [{ role: "robot", content: "a" }] },
      'prompt "x": `messages` must be a non-empty list of {role, content}',
    ],
    [{ ...BASE, template: "a", model: undefined }, 'prompt "x": `model` must be an object'],
    [
      { ...BASE, template: "a", variables: { n: { type: "int", required: true } } },
      'prompt "x": variable "n" must be {type, required, …}',
    ],
    [
      { ...BASE, template: "a", variants: { b: { template: "b" } } },
      'prompt "x": variant "b" has no weight',
    ],
    [
      { ...BASE, template: "{{> y}}", partials: ["y"] },
      'prompt "x" includes "y", which is not in the bundle',
    ],
    [
      { ...BASE, template: "a", delimiters: ["<%"] },
      'prompt "x": `delimiters` must be two non-empty strings',
    ],
  ])("refuses a prompt %j: %s", (prompt, message) => {
    const error = errorOf(() => parseBundle(bundleWith(prompt)));
    expect(error.code).toBe("E_INVALID_INPUT");
    expect(error.message).toBe(`invalid bundle: ${message}`);
  });

  it("reports every broken prompt at once, and names where the bundle came from", () => {
    const text = bundleTextOf(
      [`"a":${canonicalJson(BASE)}`, `"b":${canonicalJson({ ...BASE, version: "" })}`],
      SOURCE,
    );
    const error = errorOf(() => parseBundle(text, "https://cdn.example/prompts.json"));
    expect(error.message).toBe(
      'invalid bundle https://cdn.example/prompts.json: prompt "a" has neither template nor messages (and 2 more)',
    );
    expect(error.details).toEqual([
      'prompt "a" has neither template nor messages',
      'prompt "b" has no version',
      'prompt "b" has neither template nor messages',
    ]);
  });

  it("refuses a name that is not a prompt name", () => {
    const text = bundleTextOf([`"../x":${canonicalJson({ ...BASE, template: "a" })}`], SOURCE);
    expect(errorOf(() => parseBundle(text)).message).toMatch(/prompt name "\.\.\/x" has/);
  });
});

describe("bundleToPrompts", () => {
  it("gives prompts named by their key, with file bundle:<name>, sorted", async () => {
    const prompts = bundleToPrompts(parseBundle(await createBundleText()));
    expect([...prompts.keys()]).toEqual(["angle", "chat", "greet", "raw", "shared/rules"]);
    expect(prompts.get("shared/rules")).toMatchObject({
      name: "shared/rules",
      file: "bundle:shared/rules",
      template: "Be brief, {{name}}.",
    });
  });

  async function createBundleText(): Promise<string> {
    return createBundle(await loadTree(), SOURCE).text;
  }

  /** Renders every prompt and variant of `files` with the variables it accepts out of `pool`. */
  function renderAll(
    prompts: PromptLookup,
    pool: Record<string, unknown>,
  ): Record<string, unknown> {
    const rendered: Record<string, unknown> = {};
    for (const [name, prompt] of prompts) {
      const accepted = promptVariables(prompt, prompts);
      const variables = Object.fromEntries(
        Object.entries(pool).filter(([key]) => Object.hasOwn(accepted, key)),
      );
      for (const variant of ["default", ...Object.keys(prompt.variants)]) {
        rendered[`${name} ${variant}`] = renderPrompt(prompts, name, variables, { variant });
      }
    }
    return rendered;
  }

  it("renders the shipped prompts and every variant exactly as from their files", async () => {
    const loaded = await loadPrompts({ root: PROJECT_ROOT, cache: false });
    expect(loaded.issues.filter((issue) => issue.severity === "error")).toEqual([]);
    const examples = ["infos.json", "caller.json"].map(
      (file) =>
        JSON.parse(readFileSync(join(PROJECT_ROOT, "examples", file), "utf8")) as Record<
          string,
          unknown
        >,
    );
    const pool = Object.assign({}, ...examples, { max_queries: 2 }) as Record<string, unknown>;
    const fromBundle = bundleToPrompts(parseBundle(createBundle(loaded.prompts, SOURCE).text));
    const expected = renderAll(loaded.prompts, pool);
    expect(Object.keys(expected)).toEqual(
      expect.arrayContaining([
        "answerer_prompt default",
        "answerer_prompt concise",
        "caller default",
        "planner default",
        "shared/tool_rules default",
      ]),
    );
    expect(renderAll(fromBundle, pool)).toEqual(expected);
    // Without the optional ones too: defaults travel in the bundle.
    const required = { ...pool };
    delete required.max_queries;
    expect(renderAll(fromBundle, required)).toEqual(renderAll(loaded.prompts, required));
  });

  it("renders partials, chat variants, raw bodies and custom delimiters as from files", async () => {
    const fromFiles = await loadTree();
    const fromBundle = bundleToPrompts(parseBundle(createBundle(fromFiles, SOURCE).text));
    const pool = { name: "Ada", question: "Why?", who: "Lin" };
    const expected = renderAll(fromFiles, pool);
    expect(expected).toMatchObject({
      "greet default": { text: "Hello Ada x2\nBe brief, Ada.", model: { name: "m1" } },
      "greet short": { text: "Hi Ada", model: { name: "m1", temperature: 0.9 } },
      "chat formal": { messages: [{ role: "user", content: "Kindly: Why?" }] },
      "raw default": { text: 'style={{ color: "red" }}' },
      "angle default": { text: "Lin keeps ${{ secrets.TOKEN }}" },
    });
    expect(renderAll(fromBundle, pool)).toEqual(expected);
  });
});
