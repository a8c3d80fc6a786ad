import { sha256Hex } from "./json.js";
import type { Message, Prompt, Role, VariantSpec } from "./types.js";

/**
 * A prompt in two parts, as a tree record keeps it beside the whole prompt: its body texts, and
 * a hash of everything else. Most edits change a body and nothing else; between two prompts of
 * the same shape, no field and no declaration changed, so a diff compares their bodies alone —
 * without reading the whole prompts.
 */

/** One body of a prompt: its template or a message's content, its own or a variant's. */
export interface BodyText {
  /** `template`, `messages[0]`, `variants.concise.template`: as a body diff names it. */
  path: string;
  /** A message's role. */
  role?: Role;
  text: string;
}

/** `parent.key`, or `parent["key"]` for a key that is no plain name. */
export function childPath(parent: string, key: string): string {
  const part = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : JSON.stringify(key);
  if (parent === "") return part;
  return part.startsWith('"') ? `${parent}[${part}]` : `${parent}.${part}`;
}

/**
 * Every body of a prompt, in the order a body diff lists them: its template or messages, then
 * each variant's (in the prompt's order of variants), template before messages.
 */
export function promptBodies(prompt: Prompt): BodyText[] {
  const bodies: BodyText[] = [];
  const add = (prefix: string, template?: string, messages?: readonly Message[]) => {
    if (template !== undefined) bodies.push({ path: `${prefix}template`, text: template });
    messages?.forEach((message, i) =>
      bodies.push({ path: `${prefix}messages[${i}]`, role: message.role, text: message.content }),
    );
  };
  add("", prompt.template, prompt.messages);
  for (const [name, variant] of Object.entries(prompt.variants)) {
    add(`${childPath("variants", name)}.`, variant.template, variant.messages);
  }
  return bodies;
}

/**
 * A hash of everything a prompt holds but its name, file, version, partials and the text of its
 * bodies (which bodies it has, and each message's role, are kept). Two prompts of the same shape
 * have the same fields, variables and variants. Keys are hashed in the order the prompt has
 * them, not sorted: keys reordered in the file give another shape, which only costs that prompt
 * the full comparison, and hashing ten thousand prompts for a record takes a third less time.
 *
 * What is hashed is the JSON of the prompt without those, its bodies made empty strings, and
 * `template`, `messages` and `variants` moved last. It is written out member by member: making
 * that object and then its JSON took twice as long.
 */
export function promptShape(prompt: Prompt): string {
  let json = "";
  for (const key in prompt) {
    if (key === "template" || key === "messages" || key === "variants" || HEADER.has(key)) continue;
    json = addMember(json, key, prompt[key as keyof Prompt]);
  }
  if (prompt.template !== undefined) json = addJsonMember(json, "template", '""');
  if (prompt.messages !== undefined)
    json = addJsonMember(json, "messages", blankMessages(prompt.messages));
  let variants = "";
  for (const [name, variant] of Object.entries(prompt.variants)) {
    let members = "";
    for (const key in variant) {
      const value = variant[key as keyof VariantSpec];
      if (key === "template" && value !== undefined) members = addJsonMember(members, key, '""');
      else if (key === "messages" && value !== undefined)
        members = addJsonMember(members, key, blankMessages(value as Message[]));
      else members = addMember(members, key, value);
    }
    variants = addJsonMember(variants, name, `{${members}}`);
  }
  json = addJsonMember(json, "variants", `{${variants}}`);
  return sha256Hex(`{${json}}`).slice(0, SHAPE_LENGTH);
}

/** What a prompt has beside its spec: no part of its shape. */
const HEADER = new Set(["name", "file", "version", "partials"]);

/** `members` with `"key":value` after them, as JSON.stringify writes it (nothing if undefined). */
function addMember(members: string, key: string, value: unknown): string {
  return value === undefined ? members : addJsonMember(members, key, JSON.stringify(value));
}

function addJsonMember(members: string, key: string, json: string): string {
  return `${members}${members === "" ? "" : ","}${JSON.stringify(key)}:${json}`;
}

function blankMessages(messages: readonly Message[]): string {
  return JSON.stringify(messages.map((message) => ({ ...message, content: "" })));
}

/** The length of a shape: 64 bits, more than a version's 48 (a collision would hide a change). */
export const SHAPE_LENGTH = 16;
