// The API's answers as the page reads them. Where the server has a type for an answer, it is
// imported from ../src, so that the page and the server cannot disagree on its shape.
import type { BundlePrompt } from "../../src/core/bundle.js";
import type { Issue, VariableSpec } from "../../src/core/types.js";
import type { BodyDiff, DiffHunk, FieldChange, PromptDiff } from "../../src/core/diff.js";
import type { RenderResult } from "../../src/core/render.js";
import type { GroupStats, SeriesPoint, StatsReport } from "../../src/core/stats.js";
import type { LabelMove } from "../../src/git/labels.js";
import type { NamedRef, RefListing } from "../../src/git/refs.js";
import type { DiffReport } from "../../src/store/prompt-diff.js";
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

/** `GET /v1/diff` is a `DiffReport`; `GET /v1/refs` a `RefListing`. */
export type { BodyDiff, DiffReport, PromptDiff, DiffHunk, FieldChange };
export type { GroupStats, LabelMove, NamedRef, RefListing, SeriesPoint, StatsReport };

/** An item of `GET /v1/labels`: where the label points now, and its moves, newest first. */
export type LabelWithHistory = LabelMove & { history: LabelMove[] };

/** `GET /v1/labels`. */
export interface LabelList {
  labels: LabelWithHistory[];
}

/** `POST /v1/prompts/NAME/render` with `log: false`. */
export type RenderAnswer = RenderResult & { usage_id: string | null };
