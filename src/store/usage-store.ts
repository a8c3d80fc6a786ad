import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ISO_DATE_EXAMPLE, parseIsoDate } from "../core/iso-date.js";
import { isPlainObject } from "../core/json.js";
import { StatsAccumulator, type StatsOptions, type StatsReport } from "../core/stats.js";
import type { PromptEvent } from "../core/usage.js";
import { PromptsError } from "../errors.js";

/** Where usage events live under a repository root (see `prompts serve` and the client). */
export const USAGE_DIR = ".prompts/usage";

/** What reading the store met besides events. */
export interface UsageReadReport {
  files: number;
  events: number;
  /**
   * Lines that were not events: a torn last line (a crash mid-write), garbage, or JSON that is
   * not a valid event (a field missing or of the wrong type).
   */
  skipped: number;
  warnings: string[];
}

/**
 * Streams every event of the usage store, oldest file first (rotated `events-<time>.jsonl`
 * files by name, then the current `events.jsonl`), one line at a time: memory does not grow
 * with the size of the store. A line that is not an event — not JSON, or JSON without the
 * fields an event has — is skipped with a warning naming it, never an error; a torn last line,
 * which a crash mid-write leaves, is said so.
 */
export async function readUsageEvents(
  root: string,
  onEvent: (event: PromptEvent) => void,
): Promise<UsageReadReport> {
  const dir = join(root, USAGE_DIR);
  const report: UsageReadReport = { files: 0, events: 0, skipped: 0, warnings: [] };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return report;
  }
  const rotated = names.filter((name) => /^events-.+\.jsonl$/.test(name)).sort();
  const files = [...rotated, ...(names.includes("events.jsonl") ? ["events.jsonl"] : [])];
  for (const name of files) {
    report.files++;
    const lines = createInterface({
      input: createReadStream(join(dir, name)),
      crlfDelay: Infinity,
    });
    let lineNumber = 0;
    let pendingProblem: string | undefined;
    for await (const line of lines) {
      lineNumber++;
      if (pendingProblem !== undefined) {
        report.warnings.push(pendingProblem);
        pendingProblem = undefined;
      }
      if (line.trim() === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        report.skipped++;
        // Only known once the file ends whether this was its last line (a torn write).
        pendingProblem = `${USAGE_DIR}/${name}:${lineNumber}: not a JSON event; skipped`;
        continue;
      }
      if (!isPlainObject(value) || (value.type !== "usage" && value.type !== "outcome")) {
        report.skipped++;
        report.warnings.push(
          `${USAGE_DIR}/${name}:${lineNumber}: not a usage or outcome event; skipped`,
        );
        continue;
      }
      const problem = storedEventProblem(value);
      if (problem !== undefined) {
        report.skipped++;
        report.warnings.push(
          `${USAGE_DIR}/${name}:${lineNumber}: not a valid ${value.type} event (${problem}); skipped`,
        );
        continue;
      }
      // Events written before `variant` was always filled in belong to the default arm.
      value.variant ??= "default";
      report.events++;
      onEvent(value as unknown as PromptEvent);
    }
    if (pendingProblem !== undefined) {
      report.warnings.push(
        `${USAGE_DIR}/${name}:${lineNumber}: the last line is torn (a crash mid-write?); skipped`,
      );
    }
  }
  return report;
}

/**
 * What makes a stored usage or outcome line unusable (`version: required`), or undefined. Only
 * the fields a reader relies on are checked, and `ts` only for being a string: lines written
 * under older, looser rules stay readable.
 */
function storedEventProblem(event: Record<string, unknown>): string | undefined {
  const text = (field: string, required: boolean): string | undefined => {
    const value = event[field];
    if (value === undefined || value === null) return required ? `${field}: required` : undefined;
    return typeof value === "string" && value !== ""
      ? undefined
      : `${field}: must be a non-empty string, got ${shown(value)}`;
  };
  const common = text("id", true) ?? text("ts", true);
  if (common) return common;
  if (event.type === "usage") {
    return text("name", true) ?? text("version", true) ?? text("variant", false);
  }
  const outcome = text("usage_id", true);
  if (outcome) return outcome;
  for (const field of ["score", "latency_ms", "cost"]) {
    const value = event[field];
    if (value !== undefined && value !== null && typeof value !== "number") {
      return `${field}: must be a number, got ${shown(value)}`;
    }
  }
  const success = event.success;
  if (success !== undefined && success !== null && typeof success !== "boolean") {
    return `success: must be true or false, got ${shown(success)}`;
  }
  const tokens = event.tokens;
  if (tokens !== undefined && tokens !== null && !isPlainObject(tokens)) {
    return `tokens: must be an object, got ${shown(tokens)}`;
  }
  return undefined;
}

/** A value as JSON, cut short: a warning stays one readable line. */
function shown(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * The statistics of a repository's usage store, streamed file by file: what `prompts stats`
 * prints and `GET /v1/stats` serves. Lines the store could not read are counted in the
 * report's warnings.
 */
export async function usageStats(root: string, options: StatsOptions): Promise<StatsReport> {
  for (const field of ["since", "until"] as const) {
    const value = options[field];
    if (value !== undefined && parseIsoDate(value) === undefined) {
      throw new PromptsError(
        "E_USAGE",
        `--${field} takes a date in ISO 8601 (${ISO_DATE_EXAMPLE}), got "${value}"`,
      );
    }
  }
  const accumulator = new StatsAccumulator(options);
  const read = await readUsageEvents(root, (event) => accumulator.add(event));
  const report = accumulator.result();
  report.warnings.push(...read.warnings);
  return report;
}
