import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { isPlainObject } from "../core/json.js";
import type { PromptEvent } from "../core/usage.js";

/** Where usage events live under a repository root (see `prompts serve` and the client). */
export const USAGE_DIR = ".prompts/usage";

/** What reading the store met besides events. */
export interface UsageReadReport {
  files: number;
  events: number;
  /** Lines that were not events: a torn last line (a crash mid-write) or garbage. */
  skipped: number;
  warnings: string[];
}

/**
 * Streams every event of the usage store, oldest file first (rotated `events-<time>.jsonl`
 * files by name, then the current `events.jsonl`), one line at a time: memory does not grow
 * with the size of the store. A line that is not an event is skipped with a warning, never an
 * error; a torn last line, which a crash mid-write leaves, is said so.
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
