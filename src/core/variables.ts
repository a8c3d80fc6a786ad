import { PromptsError } from "../errors.js";
import { isPlainObject } from "./json.js";
import type { PromptSpec, VariableSpec, VariableType } from "./types.js";

const TRUE_WORDS = new Set(["true", "yes", "1", "on"]);
const FALSE_WORDS = new Set(["false", "no", "0", "off"]);
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * Turns a command-line value (`--var n=3`) into the type its variable declares: a number for
 * `number` (written as in JSON: no hex, `Infinity` or `NaN`), a boolean for `boolean`, parsed JSON
 * for `array`/`object`. An undeclared variable's value stays a string (rendering then reports
 * it as unknown).
 */
export function coerceVariable(name: string, spec: VariableSpec | undefined, raw: string): unknown {
  const fail = (expected: string): never => {
    throw new PromptsError(
      "E_INVALID_INPUT",
      `--var ${name}: expected ${expected}, got ${JSON.stringify(raw)}`,
    );
  };
  switch (spec?.type) {
    case undefined:
    case "string":
      return raw;
    case "number": {
      // Number() would also take "0x10", "0b1", "Infinity" and "": only what JSON calls a number.
      const text = raw.trim();
      const value = JSON_NUMBER.test(text) ? Number(text) : Number.NaN;
      return Number.isFinite(value) ? value : fail("a number written as in JSON (3, -0.5, 1e3)");
    }
    case "boolean": {
      const word = raw.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return fail("true or false");
    }
    case "array":
    case "object": {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        return fail(`a JSON ${spec.type}`);
      }
      const ok = spec.type === "array" ? Array.isArray(value) : isPlainObject(value);
      return ok ? value : fail(`a JSON ${spec.type}`);
    }
  }
}

/** The declared type a JSON value has. */
export function valueType(value: unknown): VariableType | "null" | "other" {
  if (value === null) return "null";
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "boolean";
  if (Array.isArray(value)) return "array";
  if (isPlainObject(value)) return "object";
  return "other";
}

/** "a string", "an array", … */
export function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/**
 * The variables a prompt accepts: its own, plus those of the partials it includes (which are
 * rendered with the same values); its own declaration wins.
 */
export function mergeVariables(
  own: Record<string, VariableSpec>,
  partials: readonly PromptSpec[],
): Record<string, VariableSpec> {
  const merged: Record<string, VariableSpec> = {};
  for (const partial of partials) Object.assign(merged, partial.variables);
  return Object.assign(merged, own);
}

/**
 * A copy of a JSON value to render with, whose objects have no prototype: Mustache looks names
 * up with `in`, and `{{constructor}}` inside a section must find nothing rather than run
 * Object.prototype's function as a lambda. Describes the first value JSON cannot hold instead.
 */
export function toTemplateData(value: unknown): { data: unknown } | { problem: string } {
  try {
    return { data: copyForTemplate(value, 0) };
  } catch (error) {
    if (error instanceof NotJson) return { problem: error.what };
    throw error;
  }
}

class NotJson extends Error {
  constructor(readonly what: string) {
    super(what);
  }
}

// Rendering is a hot path: lists of plain values are checked in place and returned as they
// are; only objects are copied.
function copyForTemplate(value: unknown, depth: number): unknown {
  if (typeof value === "string" || typeof value === "boolean" || value === null) return value;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return value;
    throw new NotJson(String(value));
  }
  if (depth > 64) throw new NotJson("nesting deeper than 64 levels");
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      const next = copyForTemplate(item, depth + 1);
      if (next !== item && copy === undefined) copy = value.slice(0, index);
      copy?.push(next);
    }
    return copy ?? value;
  }
  const prototype: unknown = typeof value === "object" ? Object.getPrototypeOf(value) : undefined;
  if (prototype === Object.prototype || prototype === null) {
    const object = Object.create(null) as Record<string, unknown>;
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      object[key] = copyForTemplate(item, depth + 1);
    }
    return object;
  }
  throw new NotJson(
    typeof value === "function"
      ? "a function"
      : `a ${Object.prototype.toString.call(value).slice(8, -1)}`,
  );
}
