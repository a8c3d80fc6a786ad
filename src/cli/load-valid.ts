import { PromptsError } from "../errors.js";
import { type LoadResult, loadPrompts } from "../store/load.js";
import { type CommandContext, loadOptionsOf, rootOf } from "./io.js";
import { plural, reportIssues } from "./output.js";

/**
 * Loads every prompt (at `ref` when given) for a command that must not act on invalid ones:
 * errors go to stderr as file:line:col and the command stops with one line saying what it
 * refused to do (`publish`, `generate types`).
 */
export async function loadValidPrompts(
  context: CommandContext,
  ref: string | undefined,
  refusing: string,
): Promise<LoadResult> {
  const loadOptions = loadOptionsOf(context);
  const root = rootOf(context);
  const loaded = await loadPrompts({ ...loadOptions, root, ...(ref === undefined ? {} : { ref }) });
  const errors = loaded.issues.filter((issue) => issue.severity === "error");
  if (errors.length > 0) {
    await reportIssues(context, errors);
    const at = ref === undefined ? "" : ` at ${ref}`;
    throw new PromptsError(
      "E_INVALID_PROMPT",
      `refusing to ${refusing}: the prompts${at} have ${plural(errors.length, "error")}; nothing was written (run: prompts validate${ref === undefined ? "" : ` --ref ${ref}`})`,
    );
  }
  return loaded;
}
