/** What a prompt name must look like (README: The prompt format). */
export const PROMPT_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$/;
/**
 * What a variable name must look like: usable as a Mustache name and a TypeScript key.
 * (`__proto__` matches but is refused where names are read: it is no key of a plain object.)
 */
export const VARIABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** What a variant name must look like. */
export const VARIANT_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** The arm every prompt has: its own body. */
export const DEFAULT_VARIANT = "default";

const PROMPT_EXTENSION = /\.ya?ml$/;

/** True when a file name is a prompt file by its extension. */
export function isPromptFileName(fileName: string): boolean {
  return PROMPT_EXTENSION.test(fileName);
}

/** The prompt name of a path relative to the prompt directory (`agents/a.yaml` → `agents/a`). */
export function promptNameOf(relativePath: string): string {
  return relativePath.replace(PROMPT_EXTENSION, "");
}

/** Why a prompt name is not acceptable, or undefined when it is. */
export function checkPromptName(name: string): string | undefined {
  if (!PROMPT_NAME_PATTERN.test(name)) {
    return `prompt name "${name}" has characters outside A-Z a-z 0-9 _ . - /`;
  }
  if (name.split("/").some((segment) => segment === "" || segment === "." || segment === "..")) {
    return `prompt name "${name}" has an empty, "." or ".." path segment`;
  }
  // Prompts are keyed by name in JSON objects (bundles, versions, the server's answers), where
  // this one key would set the object's prototype instead, and the prompt would vanish.
  if (name === "__proto__") return 'prompt name "__proto__" is reserved in JavaScript objects';
  return undefined;
}
