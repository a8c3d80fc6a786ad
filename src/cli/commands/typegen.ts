import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { generateTypes } from "../../core/typegen.js";
import { PromptsError } from "../../errors.js";
import type { CommandContext } from "../io.js";
import { loadValidPrompts } from "../load-valid.js";
import { plural, writeJson } from "../output.js";
import { displayPath, writeFileAtomic } from "../write-file.js";

/** Where `prompts typegen` writes, relative to the repository root, unless `--out` says. */
const DEFAULT_TYPES_FILE = "prompts.d.ts";

/** Options of `prompts typegen`. */
export interface TypegenCliOptions {
  /** Where to write, relative to the working directory (or `-C`). Default: `prompts.d.ts` at the root. */
  out?: string;
  /** Generate from the prompts of this git ref instead of the working tree. */
  ref?: string;
  /** Write nothing; exit 1 when the file differs from what would be generated (for CI). */
  check?: boolean;
}

/** What `prompts typegen --json` prints. */
export interface TypegenReport {
  /** The declaration file, relative to the working directory when it is below it. */
  out: string;
  /** How many prompts it declares. */
  prompts: number;
  /** With `--check`: whether the file on disk is what would be generated. */
  upToDate?: boolean;
}

/**
 * `prompts typegen [--out F] [--ref R] [--check]`: writes a declaration file that types every
 * prompt's name and variables for the client (README: The client library), atomically, and only when every prompt
 * is valid.
 */
export async function typegenCommand(
  context: CommandContext,
  options: TypegenCliOptions,
): Promise<number> {
  const loaded = await loadValidPrompts(context, options.ref, "generate types");
  const { root } = loaded;

  const target =
    options.out === undefined
      ? resolve(root, DEFAULT_TYPES_FILE)
      : resolve(context.io.cwd, context.global.C ?? ".", options.out);
  const shown = displayPath(context.io.cwd, target);
  const text = generateTypes(loaded.prompts, { dir: loaded.dir });
  const report: TypegenReport = { out: shown, prompts: loaded.prompts.size };

  if (options.check) {
    const current = await readFile(target, "utf8").catch(() => undefined);
    // A checkout with core.autocrlf turns the file's LF into CRLF; that is no change of types.
    report.upToDate = current?.replace(/\r\n/g, "\n") === text;
    if (context.global.json) writeJson(context, report);
    if (!report.upToDate) {
      const problem = current === undefined ? "does not exist" : "is out of date";
      throw new PromptsError(
        "E_INVALID_INPUT",
        `${shown} ${problem}: it does not match the prompts in ${loaded.dir}/ (run: ${rerun(options)})`,
      );
    }
    if (!context.global.json) {
      context.io.stdout.write(`${shown} is up to date: ${plural(loaded.prompts.size, "prompt")}\n`);
    }
    return 0;
  }

  await writeFileAtomic(target, text, `the types file ${shown}`);
  if (context.global.json) writeJson(context, report);
  else context.io.stdout.write(`wrote ${shown}: ${plural(loaded.prompts.size, "prompt")}\n`);
  return 0;
}

/** The command that brings the file up to date: this one, without `--check`. */
function rerun(options: TypegenCliOptions): string {
  const parts = ["prompts typegen"];
  if (options.out !== undefined) parts.push(`--out ${options.out}`);
  if (options.ref !== undefined) parts.push(`--ref ${options.ref}`);
  return parts.join(" ");
}
