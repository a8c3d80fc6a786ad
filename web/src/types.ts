// The API's answers as the page reads them. Where the server has a type for an answer, it is
// imported from ../src, so that the page and the server cannot disagree on its shape.
import type { BundlePrompt } from "../../src/core/bundle.js";
import type { Issue, VariableSpec } from "../../src/core/types.js";
import type { DiffReport } from "../../src/cli/commands/diff.js";
import type { BodyDiff, DiffHunk, FieldChange, PromptDiff } from "../../src/core/diff.js";
import type { RefListing } from "../../src/git/refs.js";
import type { PromptHistoryEntry } from "../../src/store/prompt-history.js";

export type { Issue, VariableSpec };

/** An item of `GET /v1/prompts`. */
export interface PromptSummary {
  name: string;
  version: string;
  description: string | null;
  variables: Record<string, VariableSpec>;
  /** Variant → weight in percent; `{default: 100}` for a prompt without variants. */
  variants: Record<string, number>;
  kind: "text" | "chat";
  /** The prompt's file, relative to the repository root. */
  file: string;
}

/** `GET /v1/prompts`. */
export interface PromptList {
  prompts: PromptSummary[];
  /** What validation finds in the tree on disk now (errors and warnings). */
  issues: Issue[];
}

/** `GET /v1/prompts/NAME`. */
export type PromptDetail = BundlePrompt & { name: string; file: string; kind: "text" | "chat" };

export type { PromptHistoryEntry };

/** `GET /v1/history/NAME`: what `prompts log NAME --json` prints. */
export interface PromptHistory {
  name: string;
  /** Newest first. */
  versions: PromptHistoryEntry[];
}

export type { BodyDiff, DiffReport, PromptDiff, DiffHunk, FieldChange };

/** `GET /v1/refs`. */
export type { RefListing };
