/**
 * The variables of each prompt, by name. Empty here: `prompts typegen` writes a declaration
 * file that fills it in (module augmentation), and from then on `PromptClient.render` checks
 * prompt names and variables at compile time.
 *
 * @example
 * // prompts.d.ts, written by `prompts typegen`
 * declare module "gitprompts" {
 *   interface PromptRegistry {
 *     answerer_prompt: { infos: unknown[]; user_query: string };
 *   }
 * }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface PromptRegistry {}

/** A prompt name: any string until `prompts typegen` has filled the registry. */
export type PromptName = keyof PromptRegistry extends never
  ? string
  : Extract<keyof PromptRegistry, string>;

/** The variables a prompt takes: its registry entry, or any record without one. */
export type VariablesOf<N extends string> = N extends keyof PromptRegistry
  ? PromptRegistry[N]
  : Record<string, unknown>;
