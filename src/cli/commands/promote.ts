import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promoteVariant } from "../../core/promote.js";
import type { Issue } from "../../core/types.js";
import { PromptsError } from "../../errors.js";
import { type LoadResult, loadPromptsByName } from "../../store/load.js";
import { type CommandContext, loadOptionsOf } from "../io.js";
import { reportIssues, writeJson } from "../output.js";
import { displayPath, writeFileAtomic } from "../write-file.js";

/** Options of `prompts promote`. */
export interface PromoteCliOptions {
  /** Print the rewritten file instead of writing it. */
  dryRun?: boolean;
}

/** What `prompts promote --json` prints. */
export interface PromoteReport {
  name: string;
  variant: string;
  /** The prompt's file, relative to the working directory when it is below it. */
  file: string;
  /** The prompt's version before. */
  from: string;
  /** Its version after; absent with `--dry-run`, which writes nothing. */
  to?: string;
}

/**
 * `prompts promote NAME VARIANT [--dry-run]`: rewrites the prompt's file so the variant is the
 * body and the experiment is over (no `variants`), keeping the rest of the file as written, so
 * the change is a small diff to review and commit.
 */
export async function promoteCommand(
  context: CommandContext,
  name: string,
  variant: string,
  options: PromoteCliOptions,
): Promise<number> {
  const loadOptions = loadOptionsOf(context);
  const before = await loadPromptsByName([name], loadOptions);
  const prompt = before.prompts.get(name);
  if (!prompt) {
    await reportIssues(context, errorsOf(before));
    throw new PromptsError(
      "E_INVALID_PROMPT",
      `prompt "${name}" is invalid; fix the errors above before promoting a variant (run: prompts validate)`,
    );
  }
  const path = join(before.root, prompt.file);
  const shown = displayPath(context.io.cwd, path);
  const original = await readFile(path, "utf8");
  const text = promoteVariant(original, variant, { name });
  const report: PromoteReport = { name, variant, file: shown, from: prompt.version };

  if (options.dryRun) {
    if (context.global.json) writeJson(context, { ...report, text });
    else context.io.stdout.write(text);
    return 0;
  }

  await writeFileAtomic(path, text, `the prompt file ${shown}`);
  const after = await loadPromptsByName([name], loadOptions).catch(() => undefined);
  const promoted = after?.prompts.get(name);
  if (!after || !promoted) {
    // promoteVariant checks its output, so this is a bug: leave the file as it was.
    await writeFileAtomic(path, original, `the prompt file ${shown}`);
    if (after) await reportIssues(context, errorsOf(after));
    throw new PromptsError(
      "E_INVALID_PROMPT",
      `promoting "${variant}" would make prompt "${name}" invalid; ${shown} is left as it was`,
    );
  }
  // A variable the new body no longer uses is worth a look before committing.
  await reportIssues(
    context,
    after.issues.filter((issue) => issue.file === prompt.file),
  );
  report.to = promoted.version;
  if (context.global.json) writeJson(context, report);
  else {
    context.io.stdout.write(
      `promoted ${variant} in ${shown}: version ${report.from} → ${report.to}; review and commit it (git diff ${shown})\n`,
    );
  }
  return 0;
}

function errorsOf(loaded: LoadResult): Issue[] {
  return loaded.issues.filter((issue) => issue.severity === "error");
}
