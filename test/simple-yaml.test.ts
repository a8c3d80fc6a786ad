import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROMPT_KEYS, parsePromptSource } from "../src/core/parse.js";
import { composeSimpleYaml } from "../src/core/simple-yaml.js";
import { mulberry32 } from "../src/core/stats.js";

/** The fast composer must change nothing: same values, same issues at the same places. */
function expectSameAsLibrary(text: string): void {
  const fast = parsePromptSource(text);
  const library = parsePromptSource(text, { simpleYaml: false });
  try {
    expect(fast).toEqual(library);
  } catch (error) {
    throw new Error(`differs from the yaml library on:\n${text}\n${String(error)}`);
  }
}

const accepts = (text: string) => composeSimpleYaml(text, []) !== undefined;

const ROOT = join(import.meta.dirname, "..");

describe("the simple YAML composer", () => {
  it("reads the shipped example prompts and the benchmark's prompts itself", () => {
    const files = ["answerer_prompt.yaml", "caller.yaml", "planner.yaml"].map((name) =>
      readFileSync(join(ROOT, "prompts", name), "utf8"),
    );
    files.push(
      readFileSync(
        join(ROOT, "test/fixtures/schema-valid/chat-with-variants.yaml"),
        "utf8",
      ).replace('"0":', "zero:"),
    );
    for (const text of files) {
      expect(accepts(text)).toBe(true);
      expectSameAsLibrary(text);
    }
  });

  it.each([
    ["a tab", "template: |\n\tx\n"],
    ["an anchor", "model: &m { a: 1 }\ntemplate: x\n"],
    ["a tag", "template: !!str 12\n"],
    ["a multi-line plain scalar", "template: one\n  two\n"],
    ["a multi-line quoted scalar", 'template: "one\n  two"\n'],
    ["a duplicate key", "template: a\ntemplate: b\n"],
    ["an explicit indentation", "template: |2\n   x\n"],
    ["a second document", "template: a\n---\ntemplate: b\n"],
    ["a quoted key", '"template": a\n'],
    ["a block scalar without a final line break", "template: |\n  x"],
    ["a more-indented folded line", "template: >\n  a\n    b\n  c\n"],
    ["a flow collection over lines", "model: { a: 1,\n  b: 2 }\ntemplate: x\n"],
    ["a syntax error", "template: [a\n"],
    ["a key without a value on a comment line", "description:  # none\ntemplate: x\n"],
  ])("leaves %s to the library", (_, text) => {
    expect(accepts(text)).toBe(false);
    expectSameAsLibrary(text);
  });

  it.each([
    ["literal, clip", "template: |\n  a\n\n  b\n\n\nend: 1\n"],
    ["literal, strip", "template: |-\n  a\n  b\n\n"],
    ["literal, keep", "template: |+\n  a\n\n\nend: 1\n"],
    [
      "literal with a comment and more-indented lines",
      "template: | # why\n  a\n    b\n  # not a comment\n",
    ],
    ["folded", "template: >\n  a\n  b\n\n  c\n\n\n  d\n"],
    ["folded, strip and keep", "description: >-\n  a\n  b\ntemplate: >+\n  c\n\n"],
    ["leading empty lines", "template: |\n\n  a\n"],
    [
      "plain scalars of every type",
      "metadata:\n  a: 12\n  b: -1.5e3\n  c: 0x1F\n  d: 0o17\n  e: .inf\n  f: .NaN\n  g: ~\n  h: Null\n  i: TRUE\n  j: yes\n  k: 1_000\n  l: 012\n  m: C# and {{x}}\n  n: http://x.y/z?a=b#c\n  o: a # comment\n  p: -x\n  q: :x\ntemplate: x\n",
    ],
    [
      "quoted scalars",
      "metadata:\n  a: 'it''s'\n  b: \"tab\\there \\\"q\\\" \\\\ \\/\"\n  c: ''\n  d: \"\"\n  e: '# not a comment'\ntemplate: x\n",
    ],
    [
      "flow collections",
      "model: { name: m, temperature: 0.2, stop: [a, 'b', \"c\", 1, {x: y}], nested: {a: {b: []}} , e: {} }\ntemplate: x\n",
    ],
    ["a trailing comma in flow", "model: { a: [1, 2,], b: 3, }\ntemplate: x\n"],
    [
      "sequences beside and under their key",
      'messages:\n- role: system\n  content: a\n-   role: user\n    content: |\n      b {{q}}\nvariants:\n  v:\n    weight: 5\n    messages:\n      - role: user\n        content: "c {{q}}"\n',
    ],
    [
      "nested sequences",
      "metadata:\n  list:\n    -\n      - a\n      - b\n    - - c\n    - d\ntemplate: x\n",
    ],
    ["empty values", "description:\nvariables:\ntemplate: x\nvariants:\n"],
    [
      "a document start and comments",
      "# head\n---   # start\n\n# about\ntemplate: x # end\n  # indented comment\n",
    ],
    ["numeric and boolean keys", "1: a\ntrue: b\ntemplate: x\n"],
    [
      "unknown keys and wrong types",
      "tempalte: x\nvariables: [a]\nvariants:\n  v: 3\n  w:\n    weight: 200\n    template: y\nraw: maybe\n",
    ],
    ["a template error", "template: |\n  Hi {{#a}} there\n"],
    [
      "partials and sections",
      "variables:\n  user: { type: object }\ntemplate: |\n  {{> shared/tone}}\n  {{#user}}{{name}}{{/user}} {{user.name}} {{{raw}}} {{&amp}}\n",
    ],
    ["delimiters", "delimiters: ['<%', '%>']\ntemplate: <% x %> {{y}}\n"],
    ["a root that is not a mapping", "- a\n- b\n"],
    ["an empty file", "# nothing\n"],
  ])("matches the library on %s", (_, text) => {
    expectSameAsLibrary(text);
  });

  it("matches the library on thousands of generated and damaged prompt files", () => {
    // SIMPLE_YAML_RUNS and SIMPLE_YAML_SEED search further by hand.
    const random = mulberry32(Number(process.env.SIMPLE_YAML_SEED ?? 20261124));
    let accepted = 0;
    const runs = Number(process.env.SIMPLE_YAML_RUNS ?? 3_000);
    for (let run = 0; run < runs; run++) {
      const text = generatePromptFile(random);
      if (accepts(text)) accepted++;
      expectSameAsLibrary(text);
      expectSameAsLibrary(damage(text, random));
    }
    // Generated files are mostly in the subset: the fast path is really taken.
    expect(accepted).toBeGreaterThan(runs / 4);
  });
});

const pick = <T>(random: () => number, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;

const PLAIN = [
  "x",
  "12",
  "-3.5",
  "true",
  "null",
  "~",
  "yes",
  "0x1F",
  "a b",
  "C#",
  "a: b",
  "a #c",
  "{{user_query}}",
  "http://a.b",
  "-a",
  ":b",
  "@x",
  "%y",
  "'q'",
  '"q\\n"',
  "'it''s'",
  "[a, b]",
  "{ a: 1 }",
  "{a: [1, {b: c}]}",
  "[]",
  "{}",
  "&a x",
  "*a",
  "!!str 1",
  "a'b",
  "x  y",
  "é ü 中",
  "1e3",
  "+12",
  ".5",
  "- x",
  "? x",
  "key:value",
  "a,b",
  "[a, b]x",
  "{a: b}}",
  '"a" b',
  "'a' # c",
  "|x",
  "> x",
];
const KEYS = [...PROMPT_KEYS, "tempalte", "extra"];
const TEMPLATE_LINES = [
  "Hello {{name}}",
  "",
  "  indented {{#items}}- {{.}}{{/items}}",
  "{{> shared/tone}}",
  "# heading",
  "a: b",
  "trailing  ",
  "{{#s}}",
  "{{/s}}",
  "{{{raw}}}",
  "x {{bad",
];

function generateBlock(random: () => number, indent: string): string {
  const header = pick(random, ["|", "|-", "|+", ">", ">-", ">+", "| # c"]);
  const extra = pick(random, ["  ", "  ", "   ", "    "]);
  const lines = Array.from({ length: 1 + Math.floor(random() * 5) }, () => {
    const line = pick(random, TEMPLATE_LINES);
    return line === "" ? (random() < 0.2 ? indent + extra : "") : indent + extra + line;
  });
  return `${header}\n${lines.join("\n")}\n${random() < 0.3 ? "\n" : ""}`;
}

function generateValue(random: () => number, indent: string, depth: number): string {
  const kind = random();
  if (kind < 0.35 || depth > 2)
    return ` ${pick(random, PLAIN)}${random() < 0.2 ? " # note" : ""}\n`;
  if (kind < 0.6) return ` ${generateBlock(random, indent)}`;
  if (kind < 0.85) {
    const child = `${indent}  `;
    const count = 1 + Math.floor(random() * 3);
    let out = random() < 0.2 ? "   # about\n" : "\n";
    for (let i = 0; i < count; i++) {
      out += `${child}${pick(random, KEYS)}:${generateValue(random, child, depth + 1)}`;
    }
    return out;
  }
  const dashIndent = random() < 0.5 ? indent : `${indent}  `;
  let out = "\n";
  for (let i = 0; i < 1 + Math.floor(random() * 3); i++) {
    const itemIndent = `${dashIndent}  `;
    out +=
      random() < 0.6
        ? `${dashIndent}- role: ${pick(random, ["system", "user", "bot"])}\n${itemIndent}content:${generateValue(random, itemIndent, depth + 1)}`
        : `${dashIndent}-${generateValue(random, itemIndent, depth + 1)}`;
  }
  return out;
}

function generatePromptFile(random: () => number): string {
  let out = random() < 0.2 ? "# header\n" : "";
  if (random() < 0.1) out += "---\n";
  const count = 1 + Math.floor(random() * 5);
  const used = new Set<string>();
  for (let i = 0; i < count; i++) {
    let key = pick(random, KEYS);
    if (used.has(key) && random() < 0.9) key = `${key}_${i}`;
    used.add(key);
    out += `${key}:${generateValue(random, "", 0)}`;
    if (random() < 0.15) out += pick(random, ["\n", "# between\n", "  # indented\n"]);
  }
  return out;
}

/** One small edit of the kind a hand makes: a character in, a character out, a line moved. */
function damage(text: string, random: () => number): string {
  const at = Math.floor(random() * (text.length + 1));
  const edit = random();
  if (edit < 0.4)
    return (
      text.slice(0, at) +
      pick(random, [" ", ":", "-", "#", "'", '"', "|", ">", "\n", "{", "]", ",", "\t", "  "]) +
      text.slice(at)
    );
  if (edit < 0.8) return text.slice(0, at) + text.slice(at + 1);
  const lines = text.split("\n");
  const line = Math.floor(random() * lines.length);
  lines[line] = random() < 0.5 ? ` ${lines[line] ?? ""}` : (lines[line] ?? "").replace(/^ /, "");
  return lines.join("\n");
}
