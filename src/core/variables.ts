import { PromptsError } from "../errors.js";
import { isPlainObject } from "./json.js";
import type { PromptSpec, VariableSpec, VariableType } from "./types.js";

const TRUE_WORDS = new Set(["true", "yes", "1", "on"]);
const FALSE_WORDS = new Set(["false", "no", "0", "off"]);

/**
 * Turns a command-line value (`--var n=3`) into the type its variable declares: a number for
 * `number`, a boolean for `boolean`, parsed JSON for `array`/`object`. An undeclared variable's
 * value stays a string (rendering then reports it as unknown).
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
      const value = raw.trim() === "" ? Number.NaN : Number(raw);
      return Number.isFinite(value) ? value : fail("a number");
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
export function toTemplateData(value: unknown, depth = 0): { data: unknown } | { problem: string } {
  if (depth > 64) return { problem: "nesting deeper than 64 levels" };
  if (value === null || typeof value === "string" || typeof value === "boolean")
    return { data: value };
  if (typeof value === "number")
    return Number.isFinite(value) ? { data: value } : { problem: String(value) };
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const item of value) {
      const copy = toTemplateData(item, depth + 1);
      if ("problem" in copy) return copy;
      items.push(copy.data);
    }
    return { data: items };
  }
  const prototype: unknown = typeof value === "object" ? Object.getPrototypeOf(value) : undefined;
  if (prototype === Object.prototype || prototype === null) {
    const object = Object.create(null) as Record<string, unknown>;
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const copy = toTemplateData(item, depth + 1);
      if ("problem" in copy) return copy;
      object[key] = copy.data;
    }
    return { data: object };
  }
  return {
    problem:
      typeof value === "function"
        ? "a function"
        : `a ${Object.prototype.toString.call(value).slice(8, -1)}`,
  };
}
