import { resolve } from "node:path";
import { promptVariables, renderedText, renderPrompt } from "../../core/render.js";
import { coerceVariable } from "../../core/variables.js";
import { PromptsError, usageError } from "../../errors.js";
import { loadPromptsByName } from "../../store/load.js";
import { readMappingFile } from "../data-file.js";
import { type CommandContext, loadOptionsOf } from "../io.js";
import { reportIssues, writeJson } from "../output.js";
import type { RenderCliOptions } from "../program.js";

/** `prompts render NAME`: prints the rendered prompt, or `{name, version, variant, text|messages, model}`. */
export async function renderCommand(
  context: CommandContext,
  name: string,
  options: RenderCliOptions,
): Promise<number> {
  const assignments = (options.var ?? []).map(parseAssignment);
  const fromFile =
    options.vars === undefined
      ? {}
      : await readMappingFile(
          resolve(context.io.cwd, context.global.C ?? ".", options.vars),
          "a mapping of variable name → value",
        );
  const loaded = await loadPromptsByName([name], {
    ...loadOptionsOf(context),
    ...(options.ref === undefined ? {} : { ref: options.ref }),
  });
  const prompt = loaded.prompts.get(name);
  if (!prompt) {
    await reportIssues(
      context,
      loaded.issues.filter((issue) => issue.severity === "error"),
    );
    throw new PromptsError(
      "E_INVALID_PROMPT",
      `prompt "${name}" is invalid; fix the errors above (run: prompts validate)`,
    );
  }
  const declared = promptVariables(prompt, loaded.prompts);
  // No prototype: `--var __proto__=x` must be an unknown variable, not a prototype change.
  const variables: Record<string, unknown> = Object.assign(
    Object.create(null) as Record<string, unknown>,
    fromFile,
  );
  for (const [key, raw] of assignments) variables[key] = coerceVariable(key, declared[key], raw);
  const result = renderPrompt(
    loaded.prompts,
    name,
    variables,
    options.variant === undefined ? {} : { variant: options.variant },
  );
  if (context.global.json) writeJson(context, result);
  else context.io.stdout.write(renderedText(result));
  return 0;
}

function parseAssignment(text: string): [string, string] {
  const equals = text.indexOf("=");
  if (equals <= 0) throw usageError(`--var takes key=value, got "${text}"`);
  return [text.slice(0, equals), text.slice(equals + 1)];
}
