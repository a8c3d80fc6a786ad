import { bundleToPrompts, createBundle, parseBundle } from "../src/core/bundle.js";
import { canonicalJson, sha256Hex } from "../src/core/json.js";
import { renderPrompt } from "../src/core/render.js";
import { chooseVariant } from "../src/core/variants.js";
import type { Prompt } from "../src/core/types.js";
import { PromptsError } from "../src/errors.js";
import { loadPrompts } from "../src/store/load.js";
import { tempDir, type FileTree } from "./helpers.js";

/**
 * The shared test vectors (DESIGN §8), made from the TypeScript implementation: every client
 * (the Python one in `python/`) runs them and must give the same answers. Files by path under
 * `conformance/`, each the JSON it holds.
 */
export type VectorFiles = Record<string, unknown>;

interface RenderCall {
  name: string;
  variables?: Record<string, unknown>;
  variant?: string;
  unit?: string;
  /** What the case checks, for whoever reads a failure. */
  about: string;
}

/** Prompts whose bodies exercise the Mustache that prompts meet. */
const MUSTACHE_PROMPTS: FileTree = {
  "prompts/lists.yaml": `variables:
  items: array
  title: { type: string, default: Items }
template: |
  {{title}}:
  {{#items}}
  - {{.}}
  {{/items}}
  {{^items}}
  (none)
  {{/items}}
  done
`,
  "prompts/records.yaml": `variables:
  people: array
  owner: string
template: "{{#people}}{{name}} ({{age}}) of {{owner}}{{#tags}} #{{.}}{{/tags}};{{/people}}"
`,
  "prompts/objects.yaml": `variables:
  user: object
  settings: { type: object, required: false }
template: |-
  {{user.name}} lives in {{user.address.city}}.
  {{#user}}Hello {{name}}!{{/user}}
  {{#settings}}settings given{{/settings}}{{^settings}}no settings{{/settings}}
  length {{user.tags.length}} first {{user.tags.0}}
`,
  "prompts/scalars.yaml": `variables:
  flag: boolean
  n: number
  x: { type: number, required: false }
  list: { type: array, required: false }
  obj: { type: object, required: false }
  nothing: { type: string, required: false }
template: "flag={{flag}} n={{n}} x={{x}} list={{list}} obj={{obj}} {{{obj}}} nothing=[{{nothing}}] {{#flag}}on{{/flag}}{{^flag}}off{{/flag}} {{#n}}n is set{{/n}}"
`,
  "prompts/literal.yaml": `variables:
  text: string
template: "as written: {{text}} | {{{text}}} | {{&text}}"
`,
  "prompts/standalone.yaml": `variables:
  show: boolean
  items: { type: array, required: false }
template: |
  begin
    {{! a comment on its own line }}
    {{#show}}
    shown
    {{/show}}
  {{#items}}
    * {{.}}
  {{/items}}
  end
`,
  "prompts/shared/rules.yaml": `variables:
  tool: { type: string, default: search }
template: |
  Rule one: use {{tool}}.
  Rule two: cite sources.
`,
  "prompts/with_partial.yaml": `variables:
  question: string
template: |
  Rules:
    {{> shared/rules}}
  Question: {{question}}
`,
  "prompts/delimiters.yaml": `delimiters: ["<%", "%>"]
variables:
  name: string
template: "Hi <% name %>, style={{ color: red }} and \${{ secrets.TOKEN }}<%#name%> (<%.%>)<%/name%>"
`,
  "prompts/switch.yaml": `variables:
  name: string
template: "{{name}} {{=<% %>=}}<% name %> {{name}}<%={{ }}=%> {{name}}"
`,
  "prompts/raw.yaml": `raw: true
template: "Verbatim {{name}} and {{#x}}kept{{/x}}"
`,
};

/** Prompts for the strict-variable rules, chat bodies and variants. */
const RULES_PROMPTS: FileTree = {
  "prompts/answerer.yaml": `description: Answers from facts.
model: { name: base-model, temperature: 0.2, max_tokens: 100 }
variables:
  infos: array
  user_query: string
  tone: { type: string, required: false, default: neutral }
  limit: { type: number, required: false }
template: |
  Answer in a {{tone}} tone{{#limit}} in at most {{limit}} words{{/limit}}:
  {{#infos}}
  - {{.}}
  {{/infos}}
  Q: {{user_query}}
variants:
  concise:
    weight: 30
    model: { temperature: 0.9 }
    template: "Briefly: {{user_query}}"
  chatty:
    weight: 20
    template: "Let us chat about {{user_query}}!"
`,
  "prompts/chat.yaml": `model: { name: chat-model }
variables:
  user_query: string
  history: { type: array, required: false }
messages:
  - role: system
    content: |
      You answer briefly.
      {{#history}}
      earlier: {{.}}
      {{/history}}
  - role: user
    content: "{{user_query}}"
variants:
  terse:
    weight: 50
    model: { max_tokens: 20 }
    messages:
      - role: system
        content: One line only.
      - role: user
        content: "{{user_query}}"
`,
  "prompts/typed.yaml": `variables:
  count: number
  enabled: boolean
  tags: array
  options: object
  label: string
template: "{{label}} {{count}} {{enabled}}"
`,
};

const MUSTACHE_CALLS: RenderCall[] = [
  { about: "a list of strings, {{.}}", name: "lists", variables: { items: ["a", "b", "c"] } },
  { about: "an empty list: the inverted section", name: "lists", variables: { items: [] } },
  {
    about: "a default overridden",
    name: "lists",
    variables: { items: ["x"], title: "Things" },
  },
  {
    about: "a list of objects, names found up the context, nested sections",
    name: "records",
    variables: {
      owner: "me",
      people: [
        { name: "Ann", age: 30, tags: ["x", "y"] },
        { name: "Bob", age: 41.5, owner: "you", tags: [] },
      ],
    },
  },
  {
    about: "dotted names, a section over an object, an empty object is truthy, length and index",
    name: "objects",
    variables: {
      user: { name: "Ann", address: { city: "Oslo" }, tags: ["p", "q"] },
      settings: {},
    },
  },
  {
    about: "an optional object left out",
    name: "objects",
    variables: { user: { name: "Bo", address: {}, tags: [] } },
  },
  {
    about: "values as JavaScript writes them: true, 2 for 2.0, 1e-7, lists joined, objects",
    name: "scalars",
    variables: {
      flag: true,
      n: 2.0,
      x: 1e-7,
      list: [1, "two", null, [3, 4], { b: 2 }],
      obj: { a: 1 },
    },
  },
  {
    about: "false, zero and a big number",
    name: "scalars",
    variables: { flag: false, n: 0, x: 1e21 },
  },
  {
    about: "no HTML escaping in any tag form; a value is never read as a template",
    name: "literal",
    variables: { text: `<b>"Tom" & 'Jerry'</b> {{secret}}` },
  },
  {
    about: "standalone tags and comments leave no blank lines",
    name: "standalone",
    variables: { show: true, items: ["one", "two"] },
  },
  { about: "a false section on its own lines", name: "standalone", variables: { show: false } },
  {
    about: "a partial indented where it stands, with the includer's variables and its own default",
    name: "with_partial",
    variables: { question: "Why?" },
  },
  {
    about: "a partial's variable given to the includer",
    name: "with_partial",
    variables: { question: "How?", tool: "docs" },
  },
  {
    about: "custom delimiters leave {{ }} alone",
    name: "delimiters",
    variables: { name: "Ann" },
  },
  { about: "delimiters changed inside a template", name: "switch", variables: { name: "Z" } },
  { about: "raw: verbatim", name: "raw" },
];

const RULES_CALLS: RenderCall[] = [
  {
    about: "the default variant, a default value, a section over a number",
    name: "answerer",
    variables: { infos: ["fact 1", "fact 2"], user_query: "What?", limit: 50 },
  },
  {
    about: "a variant's template and its model merged over the prompt's",
    name: "answerer",
    variables: { infos: [], user_query: "What?" },
    variant: "concise",
  },
  {
    about: "a chat variant's messages and model",
    name: "chat",
    variables: { user_query: "Hi" },
    variant: "terse",
  },
  {
    about: "the variant a unit gets",
    name: "answerer",
    variables: { infos: ["f"], user_query: "Q" },
    unit: "user-42",
  },
  {
    about: "a chat prompt",
    name: "chat",
    variables: { user_query: "Hello?", history: ["hi", "yo"] },
  },
  {
    about: "null counts as left out",
    name: "chat",
    variables: { user_query: "Hello?", history: null },
  },
  { about: "a missing variable", name: "answerer", variables: { infos: [] } },
  { about: "two missing variables", name: "answerer", variables: {} },
  {
    about: "an unknown variable, with a suggestion",
    name: "answerer",
    variables: { infos: [], user_query: "q", user_qeury: "typo" },
  },
  {
    about: "every wrong type at once",
    name: "typed",
    variables: { count: "3", enabled: 1, tags: { a: 1 }, options: [1], label: true },
  },
  {
    about: "missing, unknown and mistyped together",
    name: "typed",
    variables: { count: 1, enabled: true, tags: "x", colour: "red" },
  },
  { about: "an unknown prompt, with a suggestion", name: "answerr", variables: {} },
  {
    about: "an unknown variant",
    name: "answerer",
    variables: { infos: [], user_query: "q" },
    variant: "consise",
  },
];

async function bundleOf(files: FileTree): Promise<{ text: string; prompts: Map<string, Prompt> }> {
  const root = tempDir(files);
  const { prompts, issues } = await loadPrompts({ root, cache: false });
  const errors = issues.filter((issue) => issue.severity === "error");
  if (errors.length > 0) throw new Error(`vector prompts are invalid: ${JSON.stringify(errors)}`);
  const { text } = createBundle(prompts, { commit: null, ref: null, dirty: false });
  // Rendered from the bundle, as a client renders: variables in the bundle's order.
  return { text, prompts: bundleToPrompts(parseBundle(text)) };
}

function renderCase(prompts: Map<string, Prompt>, call: RenderCall): unknown {
  const { about, ...rest } = call;
  try {
    const prompt = prompts.get(call.name);
    const variant =
      call.variant ??
      (call.unit !== undefined && prompt
        ? chooseVariant(call.name, prompt.variants, call.unit)
        : undefined);
    const result = renderPrompt(prompts, call.name, call.variables ?? {}, { variant });
    return { about, ...rest, expect: result };
  } catch (error) {
    if (!(error instanceof PromptsError)) throw error;
    return { about, ...rest, expect: { error: error.code, message: error.message } };
  }
}

async function renderVectors(files: FileTree, calls: RenderCall[]): Promise<unknown> {
  const { text, prompts } = await bundleOf(files);
  return {
    bundle: JSON.parse(text) as unknown,
    cases: calls.map((call) => renderCase(prompts, call)),
  };
}

/** Units spread over a three-arm test, a two-arm one and prompts without variants. */
function variantVectors(): unknown {
  const tests: { name: string; weights: Record<string, number> }[] = [
    { name: "onboarding", weights: { warm: 35, brief: 35 } },
    { name: "answerer_prompt", weights: { concise: 30 } },
    { name: "agents/caller", weights: { a: 10, b: 0, c: 12.5 } },
    { name: "plain", weights: {} },
  ];
  const cases: unknown[] = [];
  for (const { name, weights } of tests) {
    const variants = Object.fromEntries(
      Object.entries(weights).map(([arm, weight]) => [arm, { weight }]),
    );
    for (let i = 0; i < 40; i++) {
      const unit = i % 10 === 9 ? `ünït-${i}-✓` : `user-${i}`;
      cases.push({ name, weights, unit, variant: chooseVariant(name, variants, unit) });
    }
  }
  return { cases };
}

/** Bundles a client must refuse, each with why and what `parseBundle` says. */
async function invalidBundleVectors(): Promise<VectorFiles> {
  const { text } = await bundleOf(RULES_PROMPTS);
  const good = JSON.parse(text) as Record<string, unknown> & {
    prompts: Record<string, Record<string, unknown>>;
  };
  const withPrompts = (change: (prompts: typeof good.prompts) => void): string => {
    const copy = structuredClone(good);
    change(copy.prompts);
    // Hashed again, so that the check that fails is the one the case is about.
    const prompts = canonicalJson(copy.prompts);
    copy.hash = sha256Hex(prompts);
    return JSON.stringify(copy);
  };
  const cases: Record<string, { reason: string; text: string }> = {
    "half-written": {
      reason: "cut off mid-write",
      text: text.slice(0, Math.floor(text.length / 2)),
    },
    "hash-mismatch": {
      reason: "a prompt edited after publishing",
      text: text.replace("Briefly:", "Shortly:"),
    },
    "not-an-object": { reason: "JSON, but a list", text: "[]" },
    "other-format": {
      reason: "a newer format",
      text: JSON.stringify({ ...good, format: "gitprompts-bundle/2" }),
    },
    "no-format": { reason: "not a bundle at all", text: JSON.stringify({ prompts: {} }) },
    "bad-hash": {
      reason: "a hash that is no SHA-256",
      text: JSON.stringify({ ...good, hash: "abc" }),
    },
    "bad-source": {
      reason: "source without dirty",
      text: JSON.stringify({ ...good, source: { commit: null, ref: null } }),
    },
    "missing-partial": {
      reason: "a partial not in the bundle",
      text: withPrompts((prompts) => {
        (prompts.chat as Record<string, unknown>).partials = ["shared/gone"];
      }),
    },
    "template-and-messages": {
      reason: "a prompt with both bodies",
      text: withPrompts((prompts) => {
        (prompts.chat as Record<string, unknown>).template = "x";
      }),
    },
    "bad-variable": {
      reason: "a variable of an unknown type",
      text: withPrompts((prompts) => {
        (prompts.typed as { variables: Record<string, unknown> }).variables.count = {
          type: "integer",
          required: true,
        };
      }),
    },
    "bad-variant": {
      reason: "a variant without a weight, and one named default",
      text: withPrompts((prompts) => {
        const variants = (prompts.answerer as { variants: Record<string, Record<string, unknown>> })
          .variants;
        delete (variants.concise as Record<string, unknown>).weight;
        variants.default = { weight: 1, template: "x" };
      }),
    },
  };
  const files: VectorFiles = {};
  for (const [slug, { reason, text: bundleText }] of Object.entries(cases)) {
    let message: string | undefined;
    try {
      parseBundle(bundleText);
    } catch (error) {
      if (!(error instanceof PromptsError)) throw error;
      message = error.message;
    }
    if (message === undefined) throw new Error(`invalid bundle "${slug}" was accepted`);
    files[`bundles-invalid/${slug}.json`] = {
      reason,
      error: "E_INVALID_INPUT",
      message,
      text: bundleText,
    };
  }
  return files;
}

/** Every vector file, by path under `conformance/`. */
export async function buildVectors(): Promise<VectorFiles> {
  return {
    "render/mustache.json": await renderVectors(MUSTACHE_PROMPTS, MUSTACHE_CALLS),
    "render/rules.json": await renderVectors(RULES_PROMPTS, RULES_CALLS),
    "variants.json": variantVectors(),
    ...(await invalidBundleVectors()),
  };
}

/** A vector file's text: JSON with two-space indents and a final newline. */
export function vectorText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
