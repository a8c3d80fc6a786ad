import { canonicalJson, sha256Hex } from "./json.js";
import type { PromptSpec } from "./types.js";

/** How many hex digits of the SHA-256 make a version. */
const VERSION_LENGTH = 12;

/**
 * A prompt's version: the SHA-256 of its canonical content together with the content of every
 * partial it includes, so that editing a partial changes the version of each includer.
 * Formatting, comments and key order do not count; the same content gives the same version
 * on every machine.
 */
export function promptVersion(
  spec: PromptSpec,
  partials: Readonly<Record<string, PromptSpec>> = {},
): string {
  // The JSON of `{ partials?, prompt, variant_order? }` with sorted keys, written out member by
  // member from each spec's canonical JSON.
  const names = Object.keys(partials).sort();
  let hashed = "{";
  if (names.length > 0) {
    const members = names.map(
      (name) => `${JSON.stringify(name)}:${canonicalJson(partials[name] as PromptSpec)}`,
    );
    hashed += `"partials":{${members.join(",")}},`;
  }
  hashed += `"prompt":${canonicalJson(spec)}`;
  // Canonical JSON sorts keys, but the order of variants decides which units get which.
  const order = Object.keys(spec.variants);
  if (order.length > 1) hashed += `,"variant_order":${canonicalJson(order)}`;
  return sha256Hex(`${hashed}}`).slice(0, VERSION_LENGTH);
}
