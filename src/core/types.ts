/** A value that survives a JSON round trip. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** The types a prompt variable can declare. */
export type VariableType = "string" | "number" | "boolean" | "array" | "object";
export const VARIABLE_TYPES: readonly VariableType[] = [
  "string",
  "number",
  "boolean",
  "array",
  "object",
];

/** One declared variable, normalised (the `user_query: string` shorthand expanded). */
export interface VariableSpec {
  type: VariableType;
  /** False when the variable may be left out; a variable with a `default` is never missing. */
  required: boolean;
  default?: JsonValue;
  description?: string;
}

/** The roles a chat message can have. */
export type Role = "system" | "user" | "assistant";
export const ROLES: readonly Role[] = ["system", "user", "assistant"];

/** One message of a chat prompt; `content` is a template. */
export interface Message {
  role: Role;
  content: string;
}

/** An A/B arm of a prompt: it may override the body and the model. */
export interface VariantSpec {
  /** Percent of units that get this variant; the `default` arm gets what the others leave. */
  weight: number;
  description?: string;
  template?: string;
  messages?: Message[];
  /** Shallow-merged over the prompt's `model`. */
  model?: JsonObject;
}

/** The content of one prompt file, normalised: what its version is computed from. */
export interface PromptSpec {
  description?: string;
  model?: JsonObject;
  variables: Record<string, VariableSpec>;
  template?: string;
  messages?: Message[];
  variants: Record<string, VariantSpec>;
  /** The body is verbatim text: no Mustache at all. */
  raw?: boolean;
  /** Custom Mustache tags, e.g. `["<%", "%>"]`, for bodies full of literal `{{`. */
  delimiters?: [string, string];
  metadata?: JsonObject;
}

/** A loaded, valid prompt. */
export interface Prompt extends PromptSpec {
  /** Path under the prompt directory without extension, `/`-separated. */
  name: string;
  /** Path of its file relative to the repository root, `/`-separated. */
  file: string;
  /** First 12 hex digits of the SHA-256 of its canonical content and of the partials it includes. */
  version: string;
  /** Names of the prompts it includes, directly or through other partials, sorted. */
  partials: string[];
}

/** What identifies a prompt and its content, without the content: enough to see what changed. */
export type PromptHeader = Pick<Prompt, "name" | "version" | "file" | "partials">;

/** How serious a validation finding is: errors make a prompt unusable, warnings do not. */
export type Severity = "error" | "warning";

/** One finding of validation, placed in its file. Lines and columns are 1-based. */
export interface Issue {
  file: string;
  line: number;
  col: number;
  /** The field at fault, dotted (`variables.user_query.type`), or "" for the whole file. */
  path: string;
  message: string;
  severity: Severity;
  /** Stable identifier of the rule, e.g. `unknown-key`, `undeclared-variable`. */
  code: string;
}

/** An issue before it is placed in a file: what the per-file parser produces. */
export type FileIssue = Omit<Issue, "file">;
