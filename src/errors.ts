/** Exit status of the `prompts` command: 1 for bad prompts or inputs, 2 for bad usage. */
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;
/** Exit status of an unexpected failure: a bug in gitprompts (sysexits' EX_SOFTWARE). */
export const EXIT_BUG = 70;

/** Stable machine-readable codes of the errors gitprompts throws. */
export type PromptsErrorCode =
  "E_PROMPT_NOT_FOUND" | "E_INVALID_PROMPT" | "E_INVALID_INPUT" | "E_GIT" | "E_IO" | "E_USAGE";

/**
 * An error the user can act on. The message is one line that names the thing at fault and,
 * where there is one, the next step; `details` are further lines (one per problem).
 */
export class PromptsError extends Error {
  override readonly name = "PromptsError";
  readonly code: PromptsErrorCode;
  readonly exitCode: number;
  readonly details: readonly string[];

  constructor(
    code: PromptsErrorCode,
    message: string,
    options: { details?: readonly string[]; exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = options.exitCode ?? (code === "E_USAGE" ? EXIT_USAGE : EXIT_INVALID);
    this.details = options.details ?? [];
  }
}

/** Wrong use of the command line (exit 2). */
export function usageError(message: string): PromptsError {
  return new PromptsError("E_USAGE", message);
}
