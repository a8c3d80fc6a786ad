import { parse as parseYaml } from "yaml";
import { PromptsError } from "../../errors.js";
import { isPlainObject } from "../json.js";
import type { JsonObject, JsonValue } from "../types.js";

/** A file to import from: its path as the user named it, and its text. */
export interface SourceFile {
  path: string;
  text: string;
}

/** A located problem with the input: exits 1 with one line naming the file and the field. */
export function badInput(file: string, field: string, message: string): PromptsError {
  const where = field === "" ? file : `${file}: ${field}`;
  return new PromptsError("E_INVALID_INPUT", `${where}: ${message}`);
}

/** Reads a JSON file, or YAML when the file is not named `.json`. */
export function readData(file: SourceFile): unknown {
  if (/\.json$/i.test(file.path) || /^\s*[[{]/.test(file.text)) {
    try {
      return JSON.parse(file.text) as unknown;
    } catch (error) {
      if (/\.json$/i.test(file.path)) {
        throw badInput(file.path, "", `not JSON (${(error as Error).message})`);
      }
    }
  }
  try {
    return parseYaml(file.text, { maxAliasCount: 100 }) as unknown;
  } catch (error) {
    const message = (error as Error).message.split("\n")[0] ?? "";
    throw badInput(file.path, "", `neither JSON nor YAML (${message})`);
  }
}

/** Splits `---\nYAML\n---\nbody`; a file without front matter is all body. */
export function splitFrontMatter(file: SourceFile): {
  meta: JsonObject;
  body: string;
  bodyLine: number;
} {
  const text = file.text.replace(/\r\n?/g, "\n").replace(/^\uFEFF/, "");
  const match = /^---[ \t]*\n([\s\S]*?)\n?---[ \t]*(?:\n|$)/.exec(text);
  if (!match) return { meta: {}, body: text, bodyLine: 1 };
  let meta: unknown;
  try {
    meta = parseYaml(match[1] ?? "", { maxAliasCount: 100 });
  } catch (error) {
    const message = (error as Error).message.split("\n")[0] ?? "";
    throw badInput(file.path, "front matter", `not YAML (${message})`);
  }
  if (meta !== null && meta !== undefined && !isPlainObject(meta)) {
    throw badInput(file.path, "front matter", "must be a mapping");
  }
  const head = match[0];
  return {
    meta: (meta ?? {}) as JsonObject,
    body: text.slice(head.length),
    bodyLine: head.split("\n").length - (head.endsWith("\n") ? 0 : 1),
  };
}

/** The name a file gives its prompt: its base name without extension. */
export function baseName(path: string): string {
  const file = path.split(/[\\/]/).pop() ?? path;
  return file.replace(/\.[^.]+$/, "");
}

/** A string field, or undefined; anything else is a located error. */
export function optionalString(file: string, field: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw badInput(file, field, "must be a string");
  return value;
}

/** An object field, or undefined; anything else is a located error. */
export function optionalObject(
  file: string,
  field: string,
  value: unknown,
): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw badInput(file, field, "must be a mapping");
  return value as JsonObject;
}

/** The value as JSON data (YAML dates and such become strings). */
export function asJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}
