import { listRowOf, summarizePrompt } from "../../core/summary.js";
import type { Issue } from "../../core/types.js";
import { loadPrompts } from "../../store/load.js";
import { type CommandContext, loadOptionsOf } from "../io.js";
import { colorsFor, formatTable, reportIssues, writeJson } from "../output.js";

/** `prompts list`: every valid prompt; problems go to stderr and make the exit status 1. */
export async function listCommand(
  context: CommandContext,
  options: { ref?: string },
): Promise<number> {
  const load = {
    ...loadOptionsOf(context),
    ...(options.ref === undefined ? {} : { ref: options.ref }),
  };
  const { prompts, issues, dir } = await loadPrompts(load);
  const summaries = [...prompts.values()].map(summarizePrompt);
  if (context.global.json) {
    writeJson(context, { prompts: summaries, issues });
    return errorsIn(issues).length > 0 ? 1 : 0;
  }
  const entries = summaries.map(listRowOf);
  const colors = await colorsFor(context, context.io.stdout);
  if (entries.length > 0) {
    const titles = ["NAME", "VERSION", "VARIABLES", "VARIANTS", "DESCRIPTION"];
    const rows = entries.map(([name, version, ...rest]) => [
      colors.bold(name),
      colors.dim(version),
      ...rest,
    ]);
    context.io.stdout.write(
      `${formatTable([titles.map((title) => colors.dim(title)), ...rows])}\n`,
    );
  } else {
    context.io.stdout.write(`no prompts in ${dir}/\n`);
  }
  const errors = errorsIn(issues);
  await reportIssues(context, errors);
  return errors.length > 0 ? 1 : 0;
}

function errorsIn(issues: readonly Issue[]): Issue[] {
  return issues.filter((issue) => issue.severity === "error");
}
