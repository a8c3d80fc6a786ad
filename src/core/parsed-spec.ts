import type { Prompt, PromptSpec } from "./types.js";

const parsedSpecs = new WeakMap<Prompt, PromptSpec>();

/** Notes the parsed spec that `validatePrompts` made a prompt from. */
export function rememberParsedSpec(prompt: Prompt, spec: PromptSpec): void {
  parsedSpecs.set(prompt, spec);
}

/**
 * The parsed spec a prompt of `validatePrompts` was made from. Two loads that read the same file
 * content (the sides of a diff) share the spec object, so what is computed from a prompt and its
 * spec can be kept for the next load; nothing changes a spec once it is parsed.
 */
export function parsedSpecOf(prompt: Prompt): PromptSpec | undefined {
  return parsedSpecs.get(prompt);
}
