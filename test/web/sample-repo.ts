// The repository the page's end-to-end tests look at: the shipped example prompts through three
// commits (tags v1 and v2, a breaking change on main), a partial, an A/B variant, two labels
// (production moved twice) and two weeks of usage with outcomes for both arms.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chooseVariant } from "../../src/core/variants.js";
import { cli, gitRepo } from "../helpers.js";
import { shippedPrompt } from "./harness.js";

const ANSWERER = shippedPrompt("answerer_prompt");
/** The answerer before its A/B test: the shipped prompt without its variants. */
const ANSWERER_V1 = ANSWERER.slice(0, ANSWERER.indexOf("variants:"));
const PLANNER = shippedPrompt("planner");
/**
 * The planner on main: a new required variable, a breaking change for its callers; the user
 * message given the conversation, and a line of the system message reworded (a changed line, so
 * the diff has words to mark).
 */
const PLANNER_MAIN = PLANNER.replace(
  "variables:\n",
  "variables:\n  conversation:\n    type: string\n    description: The conversation so far, oldest turn first.\n",
)
  .replace("Given a user's question, write", "Given a user's question and the conversation, write")
  .replace(
    '    content: "{{user_query}}"',
    "    content: |\n      Conversation so far:\n      {{conversation}}\n\n      Question: {{user_query}}",
  );

export const ANSWERER_CONCISE_WEIGHT = 30;

/** Makes the repository; returns its root. */
export async function sampleRepo(): Promise<string> {
  const root = gitRepo([
    {
      message: "Add the agent's prompts",
      tags: ["v1"],
      files: {
        ".gitignore": ".prompts/\n",
        "prompts/answerer_prompt.yaml": ANSWERER_V1,
        "prompts/caller.yaml": shippedPrompt("caller"),
        "prompts/planner.yaml": PLANNER,
        "prompts/shared/tool_rules.yaml": shippedPrompt("shared/tool_rules"),
      },
    },
    {
      message: "answerer: A/B test a concise variant",
      tags: ["v2"],
      files: { "prompts/answerer_prompt.yaml": ANSWERER },
    },
    {
      message: "planner: plan from the whole conversation",
      files: { "prompts/planner.yaml": PLANNER_MAIN },
    },
  ]);
  for (const [label, ref] of [
    ["production", "v1"],
    ["production", "v2"],
    ["staging", "main"],
  ] as const) {
    const moved = await cli(root, "label", label, ref);
    if (moved.code !== 0) throw new Error(`prompts label ${label} ${ref}: ${moved.stderr}`);
  }
  await writeUsage(root);
  return root;
}

/** Two weeks of usage of the answerer, both arms, with outcomes: concise does better. */
async function writeUsage(root: string): Promise<void> {
  const listed = await cli(root, "--json", "list");
  const prompts = (JSON.parse(listed.stdout) as { prompts: { name: string; version: string }[] })
    .prompts;
  const version = prompts.find((prompt) => prompt.name === "answerer_prompt")?.version as string;
  const variants = { concise: { weight: ANSWERER_CONCISE_WEIGHT } };
  let seed = 42;
  // A fixed linear congruential sequence: the same events every run.
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const lines: string[] = [];
  for (let index = 0; index < 900; index++) {
    const unit = `user-${index}`;
    const variant = chooseVariant("answerer_prompt", variants, unit);
    const day = 16 + (index % 14);
    const ts = `2026-11-${String(day).padStart(2, "0")}T${String(8 + (index % 10)).padStart(2, "0")}:00:00.000Z`;
    const usageId = `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`;
    lines.push(
      JSON.stringify({
        type: "usage",
        id: usageId,
        ts,
        name: "answerer_prompt",
        version,
        variant,
        unit,
        input: {},
      }),
    );
    if (index % 5 === 4) continue; // Not every usage reports back.
    const success = random() < (variant === "concise" ? 0.78 : 0.6);
    lines.push(
      JSON.stringify({
        type: "outcome",
        id: `10000000-0000-4000-8000-${String(index).padStart(12, "0")}`,
        ts,
        usage_id: usageId,
        success,
        score: Math.round((success ? 0.7 + random() * 0.3 : random() * 0.5) * 100) / 100,
        latency_ms: 400 + Math.round(random() * 900),
      }),
    );
  }
  mkdirSync(join(root, ".prompts", "usage"), { recursive: true });
  writeFileSync(join(root, ".prompts", "usage", "events.jsonl"), `${lines.join("\n")}\n`);
}
