import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { promoteVariant } from "../src/core/promote.js";
import { PromptsError } from "../src/errors.js";
import { cli, tempDir } from "./helpers.js";
import { ANSWERER, GREETING } from "./sample-prompts.js";

/** The example of DESIGN §1, with comments everywhere, a model to merge and a key after `variants`. */
const ANSWERER_COMMENTED = `# yaml-language-server: $schema=../node_modules/gitprompts/schema/prompt.schema.json
description: Answers the user's question from retrieved information.
model: { name: llama-3.3-70b, temperature: 0.2 }   # free-form, passed through untouched
variables:
  infos: { type: array, description: Retrieved facts }
  user_query: string                                # shorthand for { type: string }
template: |
  You are an intelligent assistant. Use the following information to answer.

  Information available:
  {{#infos}}
  - {{.}}
  {{/infos}}

  User's question:
  {{user_query}}

# The experiment of March.
variants:                                            # optional A/B arms
  concise:
    weight: 30                                       # percent; "default" gets the rest
    model: { temperature: 0.7 }
    template: |
      Answer in at most two sentences: {{user_query}}
      Facts: {{#infos}}{{.}}; {{/infos}}
  formal:
    weight: 20
    template: "Answer formally: {{user_query}} {{#infos}}{{.}}{{/infos}}"
metadata:
  owner: 'search-team'   # who to ask
`;

const CHAT = `description: Plans searches.
model:
  name: model-two   # the default model
variables:
  user_query: string
messages:
  - role: system
    content: Write queries.
  - role: user
    content: "{{user_query}}"
variants:
  stepwise:
    weight: 50
    model:
      name: model-three
      temperature: 0
    messages:
      - role: system
        content: |
          Think step by step.
          Then write queries.
      - role: user
        content: "{{user_query}}"
`;

function thrown(run: () => unknown): PromptsError {
  try {
    run();
  } catch (error) {
    if (error instanceof PromptsError) return error;
    throw error;
  }
  throw new Error("expected a PromptsError");
}

describe("promoteVariant", () => {
  it("makes a text variant the body, merges its model and removes the variants", () => {
    expect(promoteVariant(ANSWERER_COMMENTED, "concise")).toBe(
      `# yaml-language-server: $schema=../node_modules/gitprompts/schema/prompt.schema.json
description: Answers the user's question from retrieved information.
model: { name: llama-3.3-70b, temperature: 0.7 } # free-form, passed through untouched
variables:
  infos: { type: array, description: Retrieved facts }
  user_query: string                                # shorthand for { type: string }
template: |
  Answer in at most two sentences: {{user_query}}
  Facts: {{#infos}}{{.}}; {{/infos}}

metadata:
  owner: 'search-team'   # who to ask
`,
    );
  });

  it("keeps every line outside the changed keys byte for byte", () => {
    const out = promoteVariant(ANSWERER_COMMENTED, "formal");
    const kept = ANSWERER_COMMENTED.split("\n").filter(
      (line) =>
        !/^(model|template|variants|# The experiment)|^ {2}(?!infos|user_query|owner)/.test(line),
    );
    for (const line of kept) expect(out.split("\n")).toContain(line);
    expect(out.startsWith(ANSWERER_COMMENTED.slice(0, ANSWERER_COMMENTED.indexOf("model:")))).toBe(
      true,
    );
    // No model in the variant: the model line is untouched too.
    expect(out).toContain(
      "model: { name: llama-3.3-70b, temperature: 0.2 }   # free-form, passed through untouched\n",
    );
    expect(out).toContain(
      'template: "Answer formally: {{user_query}} {{#infos}}{{.}}{{/infos}}"\n',
    );
    expect(out).not.toContain("variants");
    expect(out).not.toContain("experiment");
  });

  it("promotes the sample answerer's variant as a `|` block", () => {
    expect(promoteVariant(ANSWERER, "concise"))
      .toBe(`description: Answers from the facts it is given.
model: { name: model-one, temperature: 0.2 }
variables:
  infos: { type: array, description: Facts }
  user_query: string
template: |
  Briefly: {{user_query}}
`);
  });

  it("makes a chat variant's messages the body and merges a block model", () => {
    expect(promoteVariant(CHAT, "stepwise")).toBe(`description: Plans searches.
model:
  name: model-three # the default model
  temperature: 0
variables:
  user_query: string
messages:
  - role: system
    content: |
      Think step by step.
      Then write queries.
  - role: user
    content: "{{user_query}}"
`);
  });

  it("adds the variant's model where the format puts it when the prompt has none", () => {
    const text = `description: d
template: "one\\ntwo"
variants:
  a: { weight: 10, model: { name: m }, template: "three\\nfour\\n" }
`;
    expect(promoteVariant(text, "a")).toBe(`description: d
model:
  name: m
template: |
  three
  four
`);
  });

  it("keeps CRLF line ends", () => {
    const text = "template: hi\r\nvariants:\r\n  a:\r\n    weight: 10\r\n    template: ho\r\n";
    expect(promoteVariant(text, "a")).toBe("template: ho\r\n");
  });

  it.each([
    [
      "default",
      /"default" is already the body of prompt "answerer": nothing to promote; name a variant \(variants: concise, formal\)/,
    ],
    [
      "consice",
      /prompt "answerer" has no variant "consice" \(did you mean "concise"\?\); variants: concise, formal/,
    ],
  ])("refuses %s", (variant, message) => {
    const error = thrown(() => promoteVariant(ANSWERER_COMMENTED, variant, { name: "answerer" }));
    expect(error.code).toBe("E_INVALID_INPUT");
    expect(error.message).toMatch(message);
  });

  it("refuses a prompt without variants", () => {
    const error = thrown(() => promoteVariant(GREETING, "concise"));
    expect(error.code).toBe("E_INVALID_INPUT");
    expect(error.message).toMatch(/has no variant "concise"; it has no variants/);
  });
});

describe("prompts promote", () => {
  it("rewrites the file; render then prints the former variant and validate passes", async () => {
    const dir = tempDir({ "prompts/answerer.yaml": ANSWERER_COMMENTED });
    const before = await cli(
      dir,
      "render",
      "answerer",
      "--variant",
      "concise",
      "--var",
      "user_query=Why?",
      "--var",
      'infos=["a","b"]',
    );
    expect(before.code).toBe(0);

    const result = await cli(dir, "promote", "answerer", "concise");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^promoted concise in prompts\/answerer\.yaml: version [0-9a-f]{12} → [0-9a-f]{12}; review and commit it \(git diff prompts\/answerer\.yaml\)\n$/,
    );
    const file = join(dir, "prompts/answerer.yaml");
    expect(readFileSync(file, "utf8")).toBe(promoteVariant(ANSWERER_COMMENTED, "concise"));

    const after = await cli(
      dir,
      "render",
      "answerer",
      "--var",
      "user_query=Why?",
      "--var",
      'infos=["a","b"]',
    );
    expect(after).toMatchObject({ code: 0, stdout: before.stdout });
    expect(await cli(dir, "validate")).toMatchObject({ code: 0 });
    const list = await cli(dir, "list", "--json");
    const data = JSON.parse(list.stdout) as { prompts: { variants: unknown }[] };
    expect(data.prompts[0]?.variants).toEqual({ default: 100 });
  });

  it("--json prints {name, variant, file, from, to}", async () => {
    const dir = tempDir({ "prompts/agents/planner.yaml": CHAT });
    const old = JSON.parse((await cli(dir, "list", "--json")).stdout) as {
      prompts: { version: string }[];
    };
    const result = await cli(dir, "--json", "promote", "agents/planner", "stepwise");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const report = JSON.parse(result.stdout) as Record<string, string>;
    expect(report).toEqual({
      name: "agents/planner",
      variant: "stepwise",
      file: "prompts/agents/planner.yaml",
      from: old.prompts[0]?.version,
      to: expect.stringMatching(/^[0-9a-f]{12}$/),
    });
    expect(report.to).not.toBe(report.from);
  });

  it("reports a variable the new body no longer uses as a warning", async () => {
    const dir = tempDir({ "prompts/answerer.yaml": ANSWERER });
    const result = await cli(dir, "promote", "answerer", "concise");
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/prompts\/answerer\.yaml:\d+:\d+: warning: .*infos/);
    expect(result.stdout).toMatch(/^promoted concise in prompts\/answerer\.yaml/);
  });

  it("--dry-run prints the new text and leaves the file untouched", async () => {
    const dir = tempDir({ "prompts/answerer.yaml": ANSWERER_COMMENTED });
    const result = await cli(dir, "promote", "answerer", "formal", "--dry-run");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toBe(promoteVariant(ANSWERER_COMMENTED, "formal"));
    expect(readFileSync(join(dir, "prompts/answerer.yaml"), "utf8")).toBe(ANSWERER_COMMENTED);
  });

  it("fails with exit 1 for an unknown prompt, an unknown variant and an invalid prompt", async () => {
    const dir = tempDir({
      "prompts/answerer.yaml": ANSWERER_COMMENTED,
      "prompts/broken.yaml":
        "template: Hi\ntemplat: x\nvariants:\n  a: { weight: 10, template: Ho }\n",
    });
    const missing = await cli(dir, "promote", "answerr", "concise");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/prompt "answerr" not found .*did you mean "answerer"/);

    const unknown = await cli(dir, "promote", "answerer", "consise");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no variant "consise" \(did you mean "concise"\?\)/);

    const invalid = await cli(dir, "promote", "broken", "a");
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/unknown key "templat"/);
    expect(invalid.stderr).toMatch(/prompt "broken" is invalid/);
    expect(readFileSync(join(dir, "prompts/answerer.yaml"), "utf8")).toBe(ANSWERER_COMMENTED);
  });
});
