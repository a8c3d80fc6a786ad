import { describe, expect, it } from "vitest";
import { canonicalJson, sha256Hex } from "../src/core/json.js";
import { closestMatch, didYouMean } from "../src/core/suggest.js";
import type { Prompt, PromptSpec, VariableSpec } from "../src/core/types.js";
import { coerceVariable } from "../src/core/variables.js";
import { promptVersion } from "../src/core/version.js";
import type { PromptsError } from "../src/errors.js";
import { loadPrompts } from "../src/store/load.js";
import { type FileTree, tempDir } from "./helpers.js";

async function loadValid(files: FileTree): Promise<Map<string, Prompt>> {
  const result = await loadPrompts({ root: tempDir(files), cache: false });
  expect(result.issues).toEqual([]);
  return result.prompts;
}

async function versionOf(text: string): Promise<string> {
  const prompts = await loadValid({ "prompts/p.yaml": text });
  const version = prompts.get("p")?.version;
  if (version === undefined) throw new Error("prompt p did not load");
  return version;
}

const BASE = [
  "description: Answers questions",
  "model:",
  "  name: small",
  "  temperature: 0.2",
  "variables:",
  "  question: string",
  "  facts:",
  "    type: array",
  "    required: false",
  "template: |",
  "  Facts: {{#facts}}{{.}}; {{/facts}}",
  "  Question: {{question}}",
  "",
].join("\n");

describe("prompt version", () => {
  it("is 12 lowercase hex digits", async () => {
    expect(await versionOf(BASE)).toMatch(/^[0-9a-f]{12}$/);
  });

  it.each([
    {
      how: "keys in another order",
      text: [
        "template: |",
        "  Facts: {{#facts}}{{.}}; {{/facts}}",
        "  Question: {{question}}",
        "variables:",
        "  facts:",
        "    required: false",
        "    type: array",
        "  question: string",
        "model:",
        "  temperature: 0.2",
        "  name: small",
        "description: Answers questions",
        "",
      ].join("\n"),
    },
    {
      how: "comments and blank lines",
      text: `# a prompt\n\n${BASE.replace("model:", "model:   # the model\n").replace("variables:", "\nvariables: # inputs")}# end\n`,
    },
    {
      how: "flow style",
      text: [
        "description: Answers questions",
        "model: { name: small, temperature: 0.2 }",
        "variables: { question: { type: string }, facts: { type: array, required: false } }",
        'template: "Facts: {{#facts}}{{.}}; {{/facts}}\\nQuestion: {{question}}\\n"',
        "",
      ].join("\n"),
    },
    {
      how: "other quoting",
      text: BASE.replace("description: Answers questions", "description: 'Answers questions'")
        .replace("name: small", 'name: "small"')
        .replace("question: string", "question: 'string'")
        .replace("temperature: 0.2", "temperature: 0.20"),
    },
    {
      how: "the long form of a variable with its defaults spelt out",
      text: BASE.replace("question: string", "question: { type: string, required: true }"),
    },
    { how: "CRLF line ends", text: BASE.replaceAll("\n", "\r\n") },
    { how: "old Mac CR line ends", text: BASE.replaceAll("\n", "\r") },
    { how: "a byte-order mark", text: `\ufeff${BASE}` },
    { how: "a BOM and CRLF together", text: `\ufeff${BASE.replaceAll("\n", "\r\n")}` },
  ])("does not change with $how", async ({ text }) => {
    expect(await versionOf(text)).toBe(await versionOf(BASE));
  });

  it("does not depend on the file's name or extension", async () => {
    const prompts = await loadValid({ "prompts/a.yaml": BASE, "prompts/deep/b.yml": BASE });
    expect(prompts.get("a")?.version).toBe(prompts.get("deep/b")?.version);
  });

  it.each([
    { how: "one character of the template", from: "Question:", to: "Question;" },
    { how: "trailing whitespace in the template", from: "{{question}}\n", to: "{{question}} \n" },
    { how: "the model's temperature", from: "temperature: 0.2", to: "temperature: 0.3" },
    { how: "the model's name", from: "name: small", to: "name: large" },
    { how: "a variable's type", from: "type: array", to: "type: object" },
    { how: "a variable becoming required", from: "required: false", to: "required: true" },
    { how: "the description", from: "Answers questions", to: "Answers questions." },
    { how: "a temperature as a string", from: "temperature: 0.2", to: 'temperature: "0.2"' },
  ])("changes with $how", async ({ from, to }) => {
    const changed = BASE.replace(from, to);
    expect(changed).not.toBe(BASE);
    expect(await versionOf(changed)).not.toBe(await versionOf(BASE));
  });

  it("changes when a variant or metadata is added", async () => {
    const base = await versionOf(BASE);
    const variant = `${BASE}variants:\n  b:\n    weight: 10\n    template: "{{question}}"\n`;
    expect(await versionOf(variant)).not.toBe(base);
    expect(await versionOf(`${BASE}metadata: { owner: team-a }\n`)).not.toBe(base);
  });

  describe("with partials", () => {
    const tree = (inner: string, middle = "template: 'middle[{{> inner}}]'\n"): FileTree => ({
      "prompts/inner.yaml": inner,
      "prompts/middle.yaml": middle,
      "prompts/outer.yaml": "template: 'outer({{> middle}})'\n",
      "prompts/unrelated.yaml": "template: 'unrelated'\n",
    });

    it("changes the includers' versions, directly and transitively, when a partial changes", async () => {
      const before = await loadValid(tree("template: 'inner'\n"));
      const after = await loadValid(tree("template: 'inner, edited'\n"));
      for (const name of ["inner", "middle", "outer"]) {
        expect(after.get(name)?.version, name).not.toBe(before.get(name)?.version);
      }
      expect(after.get("unrelated")?.version).toBe(before.get("unrelated")?.version);
    });

    it("changes the includers of the middle partial only, when it changes", async () => {
      const before = await loadValid(tree("template: 'inner'\n"));
      const after = await loadValid(
        tree("template: 'inner'\n", "template: 'MIDDLE[{{> inner}}]'\n"),
      );
      expect(after.get("inner")?.version).toBe(before.get("inner")?.version);
      expect(after.get("middle")?.version).not.toBe(before.get("middle")?.version);
      expect(after.get("outer")?.version).not.toBe(before.get("outer")?.version);
      expect(after.get("unrelated")?.version).toBe(before.get("unrelated")?.version);
    });

    it("does not change when a partial is only reformatted", async () => {
      const before = await loadValid(tree("template: 'inner'\n"));
      const after = await loadValid(tree('# comment\ntemplate: "inner"\n'));
      for (const name of ["inner", "middle", "outer"]) {
        expect(after.get(name)?.version, name).toBe(before.get(name)?.version);
      }
    });

    it("records the transitive partials of each prompt, sorted", async () => {
      const prompts = await loadValid(tree("template: 'inner'\n"));
      expect(prompts.get("outer")?.partials).toEqual(["inner", "middle"]);
      expect(prompts.get("middle")?.partials).toEqual(["inner"]);
      expect(prompts.get("unrelated")?.partials).toEqual([]);
    });
  });
});

describe("the version's definition", () => {
  const spec = (template: string, variants: string[] = []): PromptSpec => ({
    template,
    variables: { é: { type: "string", required: true } },
    variants: Object.fromEntries(variants.map((name) => [name, { weight: 10, template: name }])),
    model: { z: 1, a: [true, null, { y: "x" }] },
  });
  /** DESIGN §1: the SHA-256 of the canonical JSON of the prompt with its partials. */
  const defined = (prompt: PromptSpec, partials: Record<string, PromptSpec> = {}) => {
    const hashed: Record<string, unknown> = { prompt };
    if (Object.keys(partials).length > 0) hashed.partials = partials;
    if (Object.keys(prompt.variants).length > 1)
      hashed.variant_order = Object.keys(prompt.variants);
    return sha256Hex(canonicalJson(hashed)).slice(0, 12);
  };

  it.each<{ how: string; prompt: PromptSpec; partials: Record<string, PromptSpec> }>([
    { how: "alone", prompt: spec("a"), partials: {} },
    { how: "with one variant", prompt: spec("a", ["b"]), partials: {} },
    { how: "with variants in order", prompt: spec("a", ["zeta", "alpha"]), partials: {} },
    {
      how: "with partials",
      prompt: spec("{{> z}}{{> b/a}}", ["x", "y"]),
      partials: { z: spec("z"), "b/a": spec("ba", ["q"]) },
    },
  ])("is what it was defined to be: $how", ({ prompt, partials }) => {
    expect(promptVersion(prompt, partials)).toBe(defined(prompt, partials));
  });

  it("is what loading gives, parsed afresh or read from the parse cache", async () => {
    const root = tempDir({
      "prompts/alone.yaml": "variables:\n  q: string\ntemplate: 'Q: {{q}}'\n",
      "prompts/arms.yaml":
        "template: a\nvariants:\n  zeta: { weight: 10, template: z }\n  alpha: { weight: 20, template: y }\n",
      "prompts/outer.yaml": "template: 'x {{> inner}}'\n",
      "prompts/inner.yaml": "template: inner\n",
    });
    const fresh = (await loadPrompts({ root })).prompts;
    const cached = (await loadPrompts({ root })).prompts;
    const specOf = (name: string): PromptSpec => {
      const prompt: Partial<Prompt> = { ...fresh.get(name) };
      for (const key of ["name", "file", "version", "partials"] as const) delete prompt[key];
      return prompt as PromptSpec;
    };
    expect([...fresh.keys()]).toEqual(["alone", "arms", "inner", "outer"]);
    for (const [name, prompt] of fresh) {
      const partials = Object.fromEntries(
        prompt.partials.map((partial) => [partial, specOf(partial)]),
      );
      expect(prompt.version, name).toBe(defined(specOf(name), partials));
      expect(cached.get(name)?.version, name).toBe(prompt.version);
    }
  });
});

describe("canonicalJson", () => {
  it.each([
    { value: null, json: "null" },
    { value: 'a"b', json: '"a\\"b"' },
    { value: 1.5, json: "1.5" },
    { value: true, json: "true" },
    { value: [], json: "[]" },
    { value: {}, json: "{}" },
    { value: { b: 1, a: 2 }, json: '{"a":2,"b":1}' },
    {
      value: { b: { d: 1, c: 2 }, a: [{ z: 1, y: 2 }] },
      json: '{"a":[{"y":2,"z":1}],"b":{"c":2,"d":1}}',
    },
    { value: { a: { b: { c: { e: 1, d: 2 } } } }, json: '{"a":{"b":{"c":{"d":2,"e":1}}}}' },
    { value: [3, 1, 2], json: "[3,1,2]" },
    { value: { a: undefined, b: 1 }, json: '{"b":1}' },
    { value: [undefined, 1], json: "[null,1]" },
    { value: { B: 1, a: 2, _: 3, "1": 4 }, json: '{"1":4,"B":1,"_":3,"a":2}' },
    { value: { é: 1, e: 2 }, json: '{"e":2,"é":1}' },
  ])("canonicalJson($value) is $json", ({ value, json }) => {
    expect(canonicalJson(value)).toBe(json);
  });

  it("gives the same text for the same value built in any key order", () => {
    const one = { model: { temperature: 0.2, name: "x" }, variables: { b: 1, a: 2 } };
    const two = { variables: { a: 2, b: 1 }, model: { name: "x", temperature: 0.2 } };
    expect(canonicalJson(one)).toBe(canonicalJson(two));
    expect(JSON.parse(canonicalJson(one))).toEqual(one);
  });
});

describe("closestMatch and didYouMean", () => {
  const TOP_KEYS = ["description", "model", "variables", "template", "messages", "variants"];
  const VARIABLE_KEYS = ["type", "required", "default", "description"];

  it.each([
    { word: "templte", candidates: TOP_KEYS, match: "template" },
    { word: "tempalte", candidates: TOP_KEYS, match: "template" },
    { word: "variabels", candidates: TOP_KEYS, match: "variables" },
    { word: "Template", candidates: TOP_KEYS, match: "template" },
    { word: "sytem", candidates: ["system", "user", "assistant"], match: "system" },
    {
      word: "strng",
      candidates: ["string", "number", "boolean", "array", "object"],
      match: "string",
    },
    { word: "user_qeury", candidates: ["user_query", "infos"], match: "user_query" },
    // A swap of two neighbouring letters is the commonest typo, even in a short word.
    { word: "tpye", candidates: VARIABLE_KEYS, match: "type" },
    { word: "nmae", candidates: ["name", "topic"], match: "name" },
    { word: "xyz", candidates: TOP_KEYS, match: undefined },
    { word: "completely_different", candidates: TOP_KEYS, match: undefined },
    { word: "template", candidates: [], match: undefined },
  ])("closestMatch($word) is $match", ({ word, candidates, match }) => {
    expect(closestMatch(word, candidates)).toBe(match);
  });

  it("phrases a suggestion, or says nothing", () => {
    expect(didYouMean("templte", TOP_KEYS)).toBe(' (did you mean "template"?)');
    expect(didYouMean("xyz", TOP_KEYS)).toBe("");
  });

  it("accepts any iterable of candidates", () => {
    expect(closestMatch("mdel", new Set(TOP_KEYS))).toBe("model");
    expect(closestMatch("mdel", new Map(TOP_KEYS.map((key) => [key, 1])).keys())).toBe("model");
  });
});

describe("coerceVariable", () => {
  const spec = (type: VariableSpec["type"]): VariableSpec => ({ type, required: true });

  it.each([
    { type: "string", raw: "3", value: "3" },
    { type: "string", raw: "", value: "" },
    { type: "number", raw: "3", value: 3 },
    { type: "number", raw: "-2.5", value: -2.5 },
    { type: "number", raw: "1e3", value: 1000 },
    { type: "boolean", raw: "true", value: true },
    { type: "boolean", raw: "yes", value: true },
    { type: "boolean", raw: "TRUE", value: true },
    { type: "boolean", raw: "false", value: false },
    { type: "boolean", raw: "no", value: false },
    { type: "array", raw: '["a", 1]', value: ["a", 1] },
    { type: "array", raw: "[]", value: [] },
    { type: "object", raw: '{"a": {"b": [1]}}', value: { a: { b: [1] } } },
  ] as const)("turns $raw into $value for a $type", ({ type, raw, value }) => {
    expect(coerceVariable("v", spec(type), raw)).toEqual(value);
  });

  it("keeps the text of an undeclared variable", () => {
    expect(coerceVariable("v", undefined, "42")).toBe("42");
  });

  it.each([
    { type: "number", raw: "abc", expected: "a number" },
    { type: "number", raw: "", expected: "a number" },
    { type: "number", raw: "3 apples", expected: "a number" },
    { type: "number", raw: "Infinity", expected: "a number" },
    { type: "boolean", raw: "maybe", expected: "true or false" },
    { type: "array", raw: "[1, 2", expected: "a JSON array" },
    { type: "array", raw: '{"a": 1}', expected: "a JSON array" },
    { type: "object", raw: "{a: 1}", expected: "a JSON object" },
    { type: "object", raw: "[1]", expected: "a JSON object" },
    { type: "object", raw: "null", expected: "a JSON object" },
  ] as const)("refuses $raw for a $type, naming the variable", ({ type, raw, expected }) => {
    let error: PromptsError | undefined;
    try {
      coerceVariable("count", spec(type), raw);
    } catch (caught) {
      error = caught as PromptsError;
    }
    expect(error?.code).toBe("E_INVALID_INPUT");
    expect(error?.message).toContain("count");
    expect(error?.message).toContain(expected);
    expect(error?.message).toContain(JSON.stringify(raw));
  });
});
