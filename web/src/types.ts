// The API's answers as the page reads them. Where the server has a type for an answer, it is
// imported from ../src, so that the page and the server cannot disagree on its shape.
import type { BundlePrompt } from "../../src/core/bundle.js";
import type { Issue, VariableSpec } from "../../src/core/types.js";
import type { LabelMove } from "../../src/git/labels.js";
import type { PromptSetDiff } from "../../src/core/diff.js";
import type { RenderResult } from "../../src/core/render.js";
import type { GroupStats, StatsReport } from "../../src/core/stats.js";

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

// ---- Environments, Playground, Experiments ----

export type { LabelMove, PromptSetDiff, StatsReport, GroupStats };

/** An item of `GET /v1/labels`: where the label points now, and its moves, newest first. */
export type LabelWithHistory = LabelMove & { history: LabelMove[] };

/** `GET /v1/labels`. */
export interface LabelList {
  labels: LabelWithHistory[];
}

/** A branch or tag of `GET /v1/refs`. */
// TODO(after h16-api merges): import type { NamedRef, RefListing } from "../../src/git/refs.js".
export interface NamedRef {
  name: string;
  commit: string;
  date: string;
  subject: string;
}

/** `GET /v1/refs`. */
export interface RefListing {
  head: { branch: string | null; commit: string | null };
  branches: NamedRef[];
  tags: NamedRef[];
  labels: { name: string; commit: string }[];
}

/** One UTC day of a group's usage, from `GET /v1/stats?series=day`. */
// TODO(after h16-api merges): import type { SeriesPoint } from "../../src/core/stats.js".
export interface SeriesPoint {
  date: string;
  usages: number;
  outcomes: number;
  successes: number;
  failures: number;
  score_mean: number | null;
}

/** A group of a stats report asked with `series=day`. */
export type GroupWithSeries = GroupStats & { series?: SeriesPoint[] };

/** `POST /v1/prompts/NAME/render` with `log: false`. */
export type RenderAnswer = RenderResult & { usage_id: string | null };
