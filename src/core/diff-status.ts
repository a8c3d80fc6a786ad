// Kept apart from diff.ts so that the web page can show the letters without loading the diff
// machinery and what it imports.
import type { PromptChangeStatus } from "./diff.js";

/** The one letter `prompts diff` and the web page show for each status, as `git diff --name-status` does. */
export const STATUS_LETTER: Readonly<Record<PromptChangeStatus, string>> = {
  added: "A",
  removed: "D",
  renamed: "R",
  changed: "M",
  formatting: "=",
  invalid: "!",
};
