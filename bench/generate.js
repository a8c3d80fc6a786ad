import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Writes a prompt tree of `count` typical prompts (a section, defaults, a variant) under
 * `root/prompts/`, spread over folders as a large organisation's would be.
 */
export function generatePromptTree(root, count) {
  rmSync(root, { recursive: true, force: true });
  for (let i = 0; i < count; i++) {
    const dir = join(root, "prompts", `team${i % 50}`, `area${i % 7}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, `prompt_${i}.yaml`),
      `# yaml-language-server: $schema=../../../schema/prompt.schema.json
description: Generated prompt number ${i}, answering questions about topic ${i % 97}.
model: { name: llama-3.3-70b, temperature: 0.${i % 10} }
variables:
  infos: { type: array, description: Retrieved facts }
  user_query: string
  tone: { type: string, required: false, default: neutral }
template: |
  You are assistant ${i}. Answer in a {{tone}} tone using only these facts.

  Information available:
  {{#infos}}
  - {{.}}
  {{/infos}}

  User's question:
  {{user_query}}
variants:
  concise:
    weight: 30
    template: |
      Answer in at most two sentences: {{user_query}}
      Facts: {{#infos}}{{.}}; {{/infos}}
`,
    );
  }
}
