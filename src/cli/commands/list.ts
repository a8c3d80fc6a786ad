import { loadPromptCatalog } from "../../store/load.js";
import { type CommandContext, loadOptionsOf } from "../io.js";
import { colorsFor, formatTable, reportIssues, writeJson } from "../output.js";

/** `prompts list`: every valid prompt; problems go to stderr and make the exit status 1. */
export async function listCommand(
  context: CommandContext,
  options: { ref?: string },
): Promise<number> {
  const loaded = await loadPromptCatalog({
    ...loadOptionsOf(context),
    ...(options.ref === undefined ? {} : { ref: options.ref }),
  });
  const { summaries: prompts, issues } = loaded;
  const errors = issues.filter((issue) => issue.severity === "error");
  if (context.global.json) {
    writeJson(context, { prompts, issues });
  } else {
    const colors = await colorsFor(context, context.io.stdout);
    const rows = prompts.map((prompt) => [
      colors.bold(prompt.name),
      colors.dim(prompt.version),
      Object.keys(prompt.variables).join(", ") || "-",
      Object.keys(prompt.variants).length > 1
        ? Object.entries(prompt.variants)
            .map(([name, weight]) => `${name} ${weight}%`)
            .join(", ")
        : "-",
      prompt.description ?? "",
    ]);
    if (rows.length > 0) {
      context.io.stdout.write(
        `${formatTable([["NAME", "VERSION", "VARIABLES", "VARIANTS", "DESCRIPTION"].map((title) => colors.dim(title)), ...rows])}\n`,
      );
    } else {
      context.io.stdout.write(`no prompts in ${loaded.dir}/\n`);
    }
    await reportIssues(context, errors);
  }
  return errors.length > 0 ? 1 : 0;
}
