import { StatsAccumulator, type StatsOptions, type StatsReport } from "../core/stats.js";
import { ISO_DATE_EXAMPLE, parseIsoDate } from "../core/iso-date.js";
import { PromptsError } from "../errors.js";
import { readUsageEvents } from "./usage-store.js";

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
