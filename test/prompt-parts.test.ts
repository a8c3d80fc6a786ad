import { describe, expect, it } from "vitest";
import { promptShape } from "../src/core/prompt-parts.js";
import type { Prompt, VariantSpec } from "../src/core/types.js";

const SHORT: VariantSpec = {
  weight: 30,
  template: "Briefly: {{question}}",
  model: { temperature: 0 },
};
const BASE: Prompt = {
  name: "support/answer",
  file: "prompts/support/answer.yaml",
  version: "0123456789ab",
  partials: [],
  description: "Answers a support question.",
  model: { name: "gpt-4o", temperature: 0.2 },
  variables: { question: { type: "string", required: true } },
  messages: [
    { role: "system", content: "You help." },
    { role: "user", content: "{{question}}" },
  ],
  variants: { short: SHORT },
};

describe("promptShape", () => {
  it("is the same for prompts that differ only in the text of their bodies or in their header", () => {
    const edited: Prompt = {
      ...BASE,
      name: "other",
      file: "prompts/other.yaml",
      version: "ba9876543210",
      partials: ["shared/sig"],
      messages: [
        { role: "system", content: "You help, politely." },
        { role: "user", content: "Q: {{question}}" },
      ],
      variants: {
        short: { ...SHORT, weight: 30, template: "In a line: {{question}}" },
      },
    };
    expect(promptShape(edited)).toBe(promptShape(BASE));
  });

  it.each<[string, Partial<Prompt>]>([
    ["a model setting", { model: { name: "gpt-4o", temperature: 0.7 } }],
    ["the description", { description: "Answers." }],
    ["a variable", { variables: { question: { type: "string", required: false } } }],
    [
      "a message's role",
      {
        messages: [
          { role: "assistant", content: "You help." },
          { role: "user", content: "{{question}}" },
        ],
      },
    ],
    ["a message more", { messages: [...(BASE.messages ?? []), { role: "user", content: "" }] }],
    ["a template instead of messages", { messages: undefined, template: "You help." }],
    ["a variant's weight", { variants: { short: { ...SHORT, weight: 50 } } }],
    ["a variant's name", { variants: { brief: { ...SHORT } } }],
    ["a variant's body kind", { variants: { short: { weight: 30, messages: [] } } }],
    ["metadata", { metadata: { owner: "support" } }],
    ["raw", { raw: true }],
  ])("changes with %s", (_, change) => {
    expect(promptShape({ ...BASE, ...change })).not.toBe(promptShape(BASE));
  });
});
