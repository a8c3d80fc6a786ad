import type { Prompt } from "../../core/types.js";
import { variantWeights } from "../../core/variants.js";
import { loadPrompts } from "../../store/load.js";
import { type CommandContext, loadOptionsOf } from "../io.js";
import { colorsFor, formatTable, reportIssues, writeJson } from "../output.js";

/** One prompt as `prompts list --json` prints it. */
export interface ListedPrompt {
  name: string;
  version: string;
  file: string;
  kind: "text" | "chat";
  description: string | null;
  variables: Prompt["variables"];
  /** Variant name → weight in percent, `default` included. */
  variants: Record<string, number>;
  partials: string[];
}

/** `prompts list`: every valid prompt; problems go to stderr and make the exit status 1. */
export async function listCommand(
  context: CommandContext,
  options: { ref?: string },
): Promise<number> {
  const loaded = await loadPrompts({
    ...loadOptionsOf(context),
    ...(options.ref === undefined ? {} : { ref: options.ref }),
  });
  const prompts = [...loaded.prompts.values()].map(describePrompt);
  const errors = loaded.issues.filter((issue) => issue.severity === "error");
  if (context.global.json) {
    writeJson(context, { prompts, issues: loaded.issues });
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

function describePrompt(prompt: Prompt): ListedPrompt {
  return {
    name: prompt.name,
    version: prompt.version,
    file: prompt.file,
    kind: prompt.messages ? "chat" : "text",
    description: prompt.description ?? null,
    variables: prompt.variables,
    variants: variantWeights(prompt),
    partials: prompt.partials,
  };
}
