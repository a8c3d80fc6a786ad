// How `prompts diff` prints the whole difference: a module apart from the `--stat` lines, so that
// those load nothing of the hunks' colouring (word diffs).
// Deep imports: the package index loads all nineteen of its modules.
import { diffWordsWithSpace } from "diff/lib/diff/word.js";
import { type DiffHunk, formatFieldChange, type PromptSetDiff } from "../core/diff.js";
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
 * Unified diff lines, coloured; a run of removed lines followed by as many added ones is
 * highlighted word by word, so the edit inside a long line stands out.
 */
function formatHunks(hunks: readonly DiffHunk[], colors: Colors): string[] {
  const out: string[] = [];
  const words = colors.level > 0;
  for (const hunk of hunks) {
    out.push(
      colors.cyan(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`),
    );
    const lines = hunk.lines;
    for (let i = 0; i < lines.length;) {
      const line = lines[i] as string;
      if (!line.startsWith("-")) {
        out.push(plainLine(line, colors));
        i++;
        continue;
      }
      let removedEnd = i;
      while (lines[removedEnd]?.startsWith("-")) removedEnd++;
      let addedEnd = removedEnd;
      while (lines[addedEnd]?.startsWith("+")) addedEnd++;
      const removed = lines.slice(i, removedEnd);
      const added = lines.slice(removedEnd, addedEnd);
      if (words && removed.length === added.length) {
        const pairs = removed.map((old, k) =>
          wordDiff(old.slice(1), (added[k] as string).slice(1), colors),
        );
        out.push(...pairs.map((pair) => pair[0]), ...pairs.map((pair) => pair[1]));
      } else {
        out.push(...removed.map((old) => plainLine(old, colors)));
        out.push(...added.map((line) => plainLine(line, colors)));
      }
      i = addedEnd;
    }
  }
  return out;
}

function plainLine(line: string, colors: Colors): string {
  if (line.startsWith("-")) return colors.red(line);
  if (line.startsWith("+")) return colors.green(line);
  if (line.startsWith("\\")) return colors.dim(line);
  return line;
}

/** A removed and an added line with the words that differ shown in reverse video. */
function wordDiff(before: string, after: string, colors: Colors): [string, string] {
  let old = colors.red("-");
  let current = colors.green("+");
  for (const part of diffWordsWithSpace(before, after)) {
    if (part.removed) old += colors.red.inverse(part.value);
    else if (part.added) current += colors.green.inverse(part.value);
    else {
      old += colors.red(part.value);
      current += colors.green(part.value);
    }
  }
  return [old, current];
}
