import type { Issue } from "../core/types.js";
import type { CommandContext, OutputStream } from "./io.js";

/** A style: the text, coloured or not. */
export type Paint = (text: string) => string;

/** The styles the CLI's output uses: chalk's, or plain ones when colour is off. */
export interface Colors {
  /** 0 when colour is off. */
  level: number;
  bold: Paint;
  cyan: Paint;
  dim: Paint;
  green: Paint & { inverse: Paint };
  red: Paint & { bold: Paint; inverse: Paint };
  yellow: Paint;
}

const same: Paint = (text) => text;

/** Styles that leave text as it is: output to a pipe or a file does not load chalk at all. */
const PLAIN: Colors = {
  level: 0,
  bold: same,
  cyan: same,
  dim: same,
  green: Object.assign((text: string) => text, { inverse: same }),
  red: Object.assign((text: string) => text, { bold: same, inverse: same }),
  yellow: same,
};

/** The styles for one stream: no colour with NO_COLOR, --no-color, or when it is not a terminal. */
export async function colorsFor(context: CommandContext, stream: OutputStream): Promise<Colors> {
  const env = context.io.env;
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0";
  const off =
    !context.global.color ||
    (env.NO_COLOR !== undefined && env.NO_COLOR !== "") ||
    (!stream.isTTY && !forced);
  if (off) return PLAIN;
  const { Chalk, supportsColor } = await import("chalk");
  const level = supportsColor ? supportsColor.level : forced ? 1 : 0;
  return level === 0 ? PLAIN : new Chalk({ level });
}

/** `file:line:col: error: message [code]`, the way compilers print, so editors can jump to it. */
function formatIssue(issue: Issue, colors: Colors): string {
  const where = colors.bold(`${issue.file}:${issue.line}:${issue.col}`);
  const severity = issue.severity === "error" ? colors.red("error") : colors.yellow("warning");
  return `${where}: ${severity}: ${issue.message} ${colors.dim(`[${issue.code}]`)}`;
}

/** Writes each issue on its own line to stderr. */
export async function reportIssues(
  context: CommandContext,
  issues: readonly Issue[],
): Promise<void> {
  if (issues.length === 0) return;
  const colors = await colorsFor(context, context.io.stderr);
  for (const issue of issues) context.io.stderr.write(`${formatIssue(issue, colors)}\n`);
}

/** "1 error", "2 warnings". */
export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** Lays rows out in columns; the last column is not padded. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const lengths = rows.map((row) => row.map(visibleLength));
  const widths: number[] = [];
  for (const row of lengths) {
    row.forEach((length, index) => {
      widths[index] = Math.max(widths[index] ?? 0, length);
    });
  }
  let out = "";
  rows.forEach((row, rowIndex) => {
    let line = "";
    row.forEach((cell, index) => {
      if (index > 0) line += "  ";
      line += cell;
      if (index < row.length - 1) {
        line += " ".repeat((widths[index] ?? 0) - (lengths[rowIndex]?.[index] ?? 0));
      }
    });
    out += rowIndex > 0 ? `\n${line.trimEnd()}` : line.trimEnd();
  });
  return out;
}

// eslint-disable-next-line no-control-regex -- matching ANSI colour codes is the point
const ANSI = /\u001b\[[0-9;]*m/g;

function visibleLength(text: string): number {
  // Without colour (a pipe, a file) there is nothing to strip: the common case of a long table.
  return text.includes("\u001b") ? text.replace(ANSI, "").length : text.length;
}

/** Writes a value as pretty JSON with a final newline. */
export function writeJson(context: CommandContext, value: unknown): void {
  context.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
