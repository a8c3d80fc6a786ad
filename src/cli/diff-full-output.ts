// How `prompts diff` prints the whole difference: a module apart from the `--stat` lines, so that
// those load nothing of the hunks' colouring (word diffs).
import { type DiffHunk, formatFieldChange, type PromptSetDiff } from "../core/diff.js";
import { hunkRows, type HunkRow } from "../core/hunk-rows.js";
import {
  type DiffSideLabel,
  displayName,
  invalidLine,
  statusLetter,
  summaryLine,
  versions,
} from "./diff-output.js";
import type { Colors } from "./output.js";

/** The whole difference: per prompt its fields, breaking changes, includers and line diffs. */
export function formatFull(
  result: PromptSetDiff,
  sides: { from: DiffSideLabel; to: DiffSideLabel },
  colors: Colors,
  rendering: boolean,
): string {
  const blocks: string[] = [];
  for (const entry of result.prompts) {
    const lines: string[] = [];
    const letter = statusLetter(entry, colors);
    const name = colors.bold(displayName(entry));
    if (entry.status === "formatting") {
      blocks.push(
        `${letter} ${name}: ${colors.dim(`formatting only, same version ${versions(entry)}`)}`,
      );
      continue;
    }
    if (entry.status === "invalid") {
      blocks.push(`${letter} ${name}: ${invalidLine(entry, sides)}`);
      continue;
    }
    lines.push(`${letter} ${name}  ${colors.dim(versions(entry))}`);
    if (entry.viaPartials.length > 0) {
      const label = entry.viaPartials.length === 1 ? "partial changed" : "partials changed";
      lines.push(`  ${colors.dim(`${label}: ${entry.viaPartials.join(", ")}`)}`);
    }
    for (const field of entry.fields) lines.push(`  ${formatFieldChange(field)}`);
    for (const breaking of entry.breaking) {
      lines.push(`  ${colors.red.bold("breaking:")} ${colors.red(breaking.message)}`);
    }
    if (entry.includedBy.length > 0) {
      lines.push(`  included by: ${entry.includedBy.join(", ")}`);
    }
    for (const body of entry.bodies) {
      const label = body.role ? `${body.path} (${body.role})` : body.path;
      lines.push(`  ${colors.cyan(`${label}:`)}`);
      for (const line of formatHunks(body.hunks, colors)) lines.push(`  ${line}`);
    }
    const rendered = entry.rendered;
    if (rendered) {
      const errors = [
        rendered.fromError === undefined
          ? ""
          : `cannot render ${sides.from.where}: ${renderProblem(rendered.fromError)}`,
        rendered.toError === undefined
          ? ""
          : `cannot render ${sides.to.where}: ${renderProblem(rendered.toError)}`,
      ].filter((error) => error !== "");
      if (errors.length > 0) {
        for (const error of errors)
          lines.push(`  ${colors.cyan("rendered:")} ${colors.red(error)}`);
      } else if (rendered.hunks.length === 0) {
        lines.push(`  ${colors.cyan("rendered:")} same text`);
      } else {
        lines.push(`  ${colors.cyan("rendered:")}`);
        for (const line of formatHunks(rendered.hunks, colors)) lines.push(`  ${line}`);
      }
    } else if (rendering && (entry.status === "changed" || entry.status === "renamed")) {
      if (entry.from?.version !== entry.to?.version) {
        lines.push(`  ${colors.dim("rendered: no variables for it in --vars")}`);
      }
    }
    blocks.push(lines.join("\n"));
  }
  const body = blocks.length > 0 ? `${blocks.join("\n\n")}\n\n` : "";
  return `${body}${summaryLine(result, sides)}\n`;
}

/** A render error without its `cannot render "name": ` lead, which the line already says. */
function renderProblem(message: string): string {
  return message.replace(/^cannot render "[^"]*": /, "");
}

/**
 * Unified diff lines, coloured; a removed line paired with an added one (see {@link hunkRows})
 * has the words that differ in reverse video, so the edit inside a long line stands out.
 */
function formatHunks(hunks: readonly DiffHunk[], colors: Colors): string[] {
  const out: string[] = [];
  for (const hunk of hunks) {
    out.push(
      colors.cyan(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`),
    );
    for (const row of hunkRows(hunk)) out.push(formatRow(row, colors));
  }
  return out;
}

function formatRow(row: HunkRow, colors: Colors): string {
  if (row.kind === "note") return colors.dim(row.text);
  if (row.kind === "context") return ` ${row.text}`;
  const color = row.kind === "del" ? colors.red : colors.green;
  const sign = row.kind === "del" ? "-" : "+";
  if (row.words === undefined || colors.level === 0) return color(`${sign}${row.text}`);
  return (
    color(sign) +
    row.words.map((part) => (part.changed ? color.inverse(part.value) : color(part.value))).join("")
  );
}
