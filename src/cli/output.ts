import type { ChalkInstance } from "chalk";
import type { Issue } from "../core/types.js";
import type { CommandContext, OutputStream } from "./io.js";

/** A chalk for one stream: no colour with NO_COLOR, --no-color, or when it is not a terminal. */
export async function colorsFor(
  context: CommandContext,
  stream: OutputStream,
): Promise<ChalkInstance> {
  const { Chalk, supportsColor } = await import("chalk");
  const env = context.io.env;
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0";
  const off =
    !context.global.color ||
    (env.NO_COLOR !== undefined && env.NO_COLOR !== "") ||
    (!stream.isTTY && !forced);
  const level = off ? 0 : supportsColor ? supportsColor.level : forced ? 1 : 0;
  return new Chalk({ level });
}

/** `file:line:col: error: message [code]`, the way compilers print, so editors can jump to it. */
export function formatIssue(issue: Issue, colors: ChalkInstance): string {
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
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, visibleLength(cell));
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, index) =>
          index === row.length - 1
            ? cell
            : cell + " ".repeat((widths[index] ?? 0) - visibleLength(cell)),
        )
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

// eslint-disable-next-line no-control-regex -- matching ANSI colour codes is the point
const ANSI = /\u001b\[[0-9;]*m/g;

function visibleLength(text: string): number {
  return text.replace(ANSI, "").length;
}

/** Writes a value as pretty JSON with a final newline. */
export function writeJson(context: CommandContext, value: unknown): void {
  context.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
