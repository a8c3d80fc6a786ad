import type { PromptEvent } from "../core/usage.js";

/** Longest string a server takes in an event's own fields (`checkEvent`'s limit). */
const MAX_STRING = 1024;
/**
 * Deepest nesting sent in `input` or `metadata`. Deeper is refused here, alone, rather than
 * have a server refuse the whole batch it came in (or JSON.stringify run out of stack).
 */
const MAX_DEPTH = 64;

/**
 * Why an event the application made can never be sent — JSON cannot carry it, or a server
 * would refuse it — or undefined when it can. Checked when the event is queued, so that it is
 * dropped there and never holds back the events queued after it.
 */
export function unsendable(event: PromptEvent): string | undefined {
  if (event.type === "outcome") {
    const id = event.usage_id as unknown;
    if (typeof id !== "string" || id === "" || id.length > MAX_STRING) {
      return `usage_id: must be the usageId of a render, got ${shown(id)}`;
    }
    for (const field of ["score", "latency_ms", "cost"] as const) {
      const problem = numberProblem(event[field], field);
      if (problem) return problem;
    }
    const success = event.success as unknown;
    if (success !== undefined && typeof success !== "boolean") {
      return `success: must be true or false, got ${shown(success)}`;
    }
    const tokens = event.tokens as unknown;
    if (tokens !== undefined) {
      if (typeof tokens !== "object" || tokens === null || Array.isArray(tokens)) {
        return `tokens: must be { input?: number, output?: number }, got ${shown(tokens)}`;
      }
      for (const [key, count] of Object.entries(tokens)) {
        const problem = numberProblem(count, `tokens.${key}`);
        if (problem) return problem;
      }
    }
  } else {
    const input = jsonProblem(event.input, "input", []);
    if (input) return input;
  }
  return jsonProblem(event.metadata, "metadata", []);
}

function numberProblem(value: unknown, field: string): string | undefined {
  if (value === undefined || (typeof value === "number" && Number.isFinite(value)))
    return undefined;
  return `${field}: must be a finite number, got ${shown(value)}`;
}

/** What JSON.stringify would throw on (or silently lose the shape of) in `value`. */
function jsonProblem(value: unknown, path: string, parents: object[]): string | undefined {
  if (typeof value === "bigint") return `${path}: a BigInt, which JSON cannot carry`;
  if (typeof value !== "object" || value === null) return undefined;
  if (parents.includes(value)) return `${path}: a circular reference`;
  if (parents.length >= MAX_DEPTH) return `${path}: nested deeper than ${MAX_DEPTH} levels`;
  // A Date, or anything else that says how it is written, is taken at its word.
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return undefined;
  parents.push(value);
  try {
    // Paths are made only for the values looked into: most are strings and numbers.
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) {
        const item: unknown = value[index];
        if (typeof item !== "object" && typeof item !== "bigint") continue;
        const problem = jsonProblem(item, `${path}[${index}]`, parents);
        if (problem) return problem;
      }
    } else {
      for (const key of Object.keys(value)) {
        const item = (value as Record<string, unknown>)[key];
        if (typeof item !== "object" && typeof item !== "bigint") continue;
        const problem = jsonProblem(item, `${path}.${key}`, parents);
        if (problem) return problem;
      }
    }
    return undefined;
  } finally {
    parents.pop();
  }
}

function shown(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number" || typeof value === "boolean" || value == null)
    return String(value);
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}
