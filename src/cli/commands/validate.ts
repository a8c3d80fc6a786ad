import type { Issue } from "../../core/types.js";
import { loadPrompts } from "../../store/load.js";
import { type CommandContext, loadOptionsOf } from "../io.js";
import { colorsFor, plural, reportIssues, writeJson } from "../output.js";
import type { ValidateCliOptions } from "../program.js";

/** What `prompts validate --format json` prints. */
export interface ValidateReport {
  ok: boolean;
  /** Prompt files read. */
  files: number;
  /** Valid prompts. */
  prompts: number;
  errors: number;
  warnings: number;
  issues: Issue[];
}

/** `prompts validate`: every problem of every prompt at once; exit 1 when there is an error. */
export async function validateCommand(
  context: CommandContext,
  options: ValidateCliOptions,
): Promise<number> {
  const loaded = await loadPrompts({
    ...loadOptionsOf(context),
    ...(options.ref === undefined ? {} : { ref: options.ref }),
    ...(options.staged ? { staged: true } : {}),
  });
  const errors = loaded.issues.filter((issue) => issue.severity === "error").length;
  const warnings = loaded.issues.length - errors;
  const ok = errors === 0 && (!options.strict || warnings === 0);
  const report: ValidateReport = {
    ok,
    files: loaded.fileCount,
    prompts: loaded.prompts.size,
    errors,
    warnings,
    issues: loaded.issues,
  };

  if (options.format === "json" || context.global.json) {
    writeJson(context, report);
  } else if (options.format === "github") {
    for (const issue of loaded.issues) context.io.stdout.write(`${githubAnnotation(issue)}\n`);
    context.io.stdout.write(`${summary(report)}\n`);
  } else {
    await reportIssues(context, loaded.issues);
    const colors = await colorsFor(context, ok ? context.io.stdout : context.io.stderr);
    const line = `${ok ? colors.green("✓") : colors.red("✗")} ${summary(report)}\n`;
    (ok ? context.io.stdout : context.io.stderr).write(line);
  }
  return ok ? 0 : 1;
}

function summary(report: ValidateReport): string {
  const where = `${plural(report.files, "prompt file")}`;
  if (report.errors === 0 && report.warnings === 0) return `${where}, all valid`;
  return `${where}: ${plural(report.errors, "error")}, ${plural(report.warnings, "warning")}`;
}

/** A GitHub Actions workflow command, so the problem shows on the pull request's diff. */
function githubAnnotation(issue: Issue): string {
  const property = (value: string) => escapeData(value).replace(/:/g, "%3A").replace(/,/g, "%2C");
  const level = issue.severity === "error" ? "error" : "warning";
  return `::${level} file=${property(issue.file)},line=${issue.line},col=${issue.col},title=${property(`prompts: ${issue.code}`)}::${escapeData(issue.message)}`;
}

function escapeData(value: string): string {
  return value.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}
