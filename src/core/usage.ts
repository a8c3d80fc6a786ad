import { randomUUID } from "node:crypto";
import { ISO_DATE_EXAMPLE, parseIsoDate } from "./iso-date.js";
import { isPlainObject } from "./json.js";

/** A usage event: one rendering of one prompt version (README: `prompts serve`, usage events). */
export interface UsageEvent {
  type: "usage";
  id: string;
  ts: string;
  name: string;
  version: string;
  variant: string;
  unit?: string;
  call_site?: string;
  input?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

/** An outcome event: how a usage went, reported by the application. */
export interface OutcomeEvent {
  type: "outcome";
  id: string;
  ts: string;
  usage_id: string;
  score?: number;
  success?: boolean;
  latency_ms?: number;
  tokens?: { input?: number; output?: number };
  cost?: number;
  metadata?: Record<string, unknown>;
}

/** What the usage log holds. */
export type PromptEvent = UsageEvent | OutcomeEvent;

/** Longest string field accepted, to keep one bad client from filling the log. */
const MAX_STRING = 1024;

/**
 * Checks one event as posted to `/v1/usage` and fills `id` and `ts` when left out. Returns the
 * event, or the first problem, naming the field (`events[3].usage_id: required`).
 */
export function checkEvent(
  value: unknown,
  at: string,
): { event: PromptEvent } | { problem: string } {
  // Over 80 lines on purpose: each field of an event checked in turn, a flat list.
  if (!isPlainObject(value)) return { problem: `${at}: must be an object` };
  const fail = (field: string, why: string) => ({ problem: `${at}.${field}: ${why}` });
  const string = (field: string, required: boolean): string | undefined | { problem: string } => {
    const item = value[field];
    if (item === undefined || item === null) return required ? fail(field, "required") : undefined;
    if (typeof item !== "string" || item === "") return fail(field, "must be a non-empty string");
    if (item.length > MAX_STRING) return fail(field, `longer than ${MAX_STRING} characters`);
    return item;
  };
  const number = (field: string): number | undefined | { problem: string } => {
    const item = value[field];
    if (item === undefined || item === null) return undefined;
    return typeof item === "number" && Number.isFinite(item)
      ? item
      : fail(field, "must be a number");
  };
  const object = (field: string): Record<string, unknown> | undefined | { problem: string } => {
    const item = value[field];
    if (item === undefined || item === null) return undefined;
    return isPlainObject(item) ? item : fail(field, "must be an object");
  };
  const fields: Record<string, unknown> = {};
  const take = (field: string, result: unknown): { problem: string } | undefined => {
    if (typeof result === "object" && result !== null && "problem" in result)
      return result as { problem: string };
    if (result !== undefined) fields[field] = result;
    return undefined;
  };
  const ts = value.ts;
  if (ts !== undefined && (typeof ts !== "string" || parseIsoDate(ts) === undefined)) {
    return fail("ts", `must be an ISO 8601 date (${ISO_DATE_EXAMPLE})`);
  }
  const common = take("id", string("id", false)) ?? take("metadata", object("metadata"));
  if (common) return common;
  const base = {
    id: (fields.id as string | undefined) ?? randomUUID(),
    ts: ts ?? new Date().toISOString(),
  };

  if (value.type === "usage") {
    const problem =
      take("name", string("name", true)) ??
      take("version", string("version", true)) ??
      take("variant", string("variant", false)) ??
      take("unit", string("unit", false)) ??
      take("call_site", string("call_site", false)) ??
      take("input", object("input"));
    if (problem) return problem;
    return {
      event: {
        ...fields,
        type: "usage",
        ...base,
        variant: (fields.variant as string | undefined) ?? "default",
      } as UsageEvent,
    };
  }
  if (value.type === "outcome") {
    const problem =
      take("usage_id", string("usage_id", true)) ??
      take("score", number("score")) ??
      take("latency_ms", number("latency_ms")) ??
      take("cost", number("cost"));
    if (problem) return problem;
    if (value.success !== undefined && value.success !== null) {
      if (typeof value.success !== "boolean") return fail("success", "must be true or false");
      fields.success = value.success;
    }
    if (value.tokens !== undefined && value.tokens !== null) {
      const tokens = value.tokens;
      if (
        !isPlainObject(tokens) ||
        Object.values(tokens).some((count) => typeof count !== "number" || !Number.isFinite(count))
      ) {
        return fail("tokens", "must be { input?: number, output?: number }");
      }
      fields.tokens = tokens;
    }
    return { event: { ...fields, type: "outcome", ...base } as OutcomeEvent };
  }
  return fail("type", 'must be "usage" or "outcome"');
}

/** An event of a batch that `/v1/usage` refused: its index in the batch and why. */
export interface RejectedEvent {
  index: number;
  code: "invalid_event";
  /** Names the field: `[3].usage_id: required`. */
  message: string;
}

/**
 * What `/v1/usage` makes of a body: one event, or an array whose events are checked each on
 * its own, so that one bad event never costs the good ones. Returns the events to write (in
 * order) with those refused, or — when there is nothing to write — the problem to answer 400
 * with (and, for an array, every refused event).
 */
export function checkUsageBody(
  body: unknown,
):
  | { events: PromptEvent[]; rejected: RejectedEvent[] }
  | { problem: string; rejected?: RejectedEvent[] } {
  if (!Array.isArray(body)) {
    const checked = checkEvent(body, "event");
    return "problem" in checked ? checked : { events: [checked.event], rejected: [] };
  }
  if (body.length === 0) return { problem: "no events: send one event or a non-empty array" };
  const events: PromptEvent[] = [];
  const rejected: RejectedEvent[] = [];
  for (const [index, item] of body.entries()) {
    const checked = checkEvent(item, `[${index}]`);
    if ("problem" in checked)
      rejected.push({ index, code: "invalid_event", message: checked.problem });
    else events.push(checked.event);
  }
  if (events.length > 0) return { events, rejected };
  const more = rejected.length > 1 ? ` (and ${rejected.length - 1} more, see rejected)` : "";
  return { problem: `${rejected[0]?.message}${more}`, rejected };
}
