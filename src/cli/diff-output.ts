import type { PromptDiff, PromptSetDiff } from "../core/diff.js";
import { STATUS_LETTER } from "../core/diff-status.js";
import { type Colors, formatTable, plural } from "./output.js";

/** What the output needs to know of each side compared. */
export interface DiffSideLabel {
  ref: string | null;
  /** `at v1`, `in the working tree`. */
  where: string;
}

// How `prompts diff` prints a comparison: the `--stat` lines, and what the whole difference
// (diff-full-output.ts) shares with them.

export function statusLetter(entry: PromptDiff, colors: Colors): string {
  const letter = STATUS_LETTER[entry.status];
  switch (entry.status) {
    case "added":
      return colors.green(letter);
    case "removed":
    case "invalid":
      return colors.red(letter);
    case "renamed":
      return colors.cyan(letter);
    case "changed":
      return colors.yellow(letter);
    case "formatting":
      return colors.dim(letter);
  }
}

export function displayName(entry: PromptDiff): string {
  return entry.status === "renamed" && entry.from && entry.to
    ? `${entry.from.name} → ${entry.to.name}`
    : entry.name;
}

export function versions(entry: PromptDiff): string {
  const before = entry.from?.version ?? "none";
  const after = entry.to?.version ?? "none";
  return before === after ? before : `${before} → ${after}`;
}

export function invalidLine(
  entry: PromptDiff,
  sides: { from: DiffSideLabel; to: DiffSideLabel },
): string {
  const where = entry.invalidAt === "from" ? sides.from.where : sides.to.where;
  return `invalid ${where} (see the errors above); not compared`;
}

export function summaryLine(
  result: PromptSetDiff,
  sides: { from: DiffSideLabel; to: DiffSideLabel },
): string {
  const { summary } = result;
  const parts = [
    summary.added > 0 ? `${summary.added} added` : "",
    summary.removed > 0 ? `${summary.removed} removed` : "",
    summary.renamed > 0 ? `${summary.renamed} renamed` : "",
    summary.changed > 0 ? `${summary.changed} changed` : "",
    summary.formatting > 0 ? `${summary.formatting} formatting only` : "",
    summary.invalid > 0 ? `${summary.invalid} invalid` : "",
    `${summary.unchanged} unchanged`,
  ].filter((part) => part !== "");
  const breaking =
    summary.breaking > 0 ? `; ${plural(summary.breaking, "prompt")} with breaking changes` : "";
  const what = result.different ? parts.join(", ") : `no prompt changes (${parts.join(", ")})`;
  const toName = sides.to.ref ?? "working tree";
  return `${sides.from.ref ?? "working tree"} → ${toName}: ${what}${breaking}`;
}

/** `--stat`: one line per prompt with its counts, then the summary. */
/** One line per prompt with counts, then the summary line (`--stat`). */
export function formatStat(
  result: PromptSetDiff,
  sides: { from: DiffSideLabel; to: DiffSideLabel },
  colors: Colors,
): string {
  // Name and versions line up; the rest follows, so that empty cells leave no gaps.
  const rows = result.prompts.map((entry) => {
    const head = `${statusLetter(entry, colors)} ${colors.bold(displayName(entry))}`;
    if (entry.status === "formatting") {
      return [head, colors.dim(versions(entry)), colors.dim("formatting only")];
    }
    if (entry.status === "invalid") return [head, invalidLine(entry, sides)];
    let added = 0;
    let removed = 0;
    for (const body of entry.bodies) {
      added += body.added;
      removed += body.removed;
    }
    const compared = entry.from !== null && entry.to !== null;
    const details = [
      compared && entry.from?.version !== entry.to?.version
        ? `${colors.green(`+${added}`)} ${colors.red(`-${removed}`)}`
        : "",
      entry.fields.length > 0 ? plural(entry.fields.length, "field") : "",
      entry.breaking.length > 0 ? colors.red("breaking") : "",
    ].filter((detail) => detail !== "");
    return [head, colors.dim(versions(entry)), details.join("  ")];
  });
  const table = rows.length > 0 ? `${prefixLines(formatTable(rows), " ")}\n` : "";
  return `${table}${summaryLine(result, sides)}\n`;
}

function prefixLines(text: string, prefix: string): string {
  return text
    .split("\n")
    .map((line) => prefix + line)
    .join("\n");
}
