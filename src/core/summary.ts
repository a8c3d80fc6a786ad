import type { Prompt } from "./types.js";
import { variantWeights } from "./variants.js";

/**
 * What a catalogue of prompts shows of each (`prompts list --json` prints these): everything
 * but the bodies, so a large tree's catalogue stays small enough to keep and read whole.
 */
export interface PromptSummary {
  name: string;
  version: string;
  file: string;
  kind: "text" | "chat";
  description: string | null;
  variables: Prompt["variables"];
  /** Variant name → weight in percent, `default` included. */
  variants: Record<string, number>;
  partials: string[];
}

export function summarizePrompt(prompt: Prompt): PromptSummary {
  return {
    name: prompt.name,
    version: prompt.version,
    file: prompt.file,
    kind: prompt.messages ? "chat" : "text",
    description: prompt.description ?? null,
    variables: prompt.variables,
    variants: variantWeights(prompt),
    partials: prompt.partials,
  };
}
