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

/**
 * A prompt as a row of `prompts list`'s table: name, version, variable names, variant weights,
 * description. Kept with a tree's summaries, the table of a large tree needs no summary parsed.
 */
export type ListRow = [
  name: string,
  version: string,
  variables: string,
  variants: string,
  description: string,
];

export function listRowOf(summary: PromptSummary): ListRow {
  const variants = Object.entries(summary.variants);
  return [
    summary.name,
    summary.version,
    Object.keys(summary.variables).join(", ") || "-",
    variants.length > 1 ? variants.map(([name, weight]) => `${name} ${weight}%`).join(", ") : "-",
    summary.description ?? "",
  ];
}
