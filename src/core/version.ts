import { canonicalJson, sha256Hex } from "./json.js";
import type { PromptSpec } from "./types.js";

/** How many hex digits of the SHA-256 make a version. */
export const VERSION_LENGTH = 12;

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
  const hashed: Record<string, unknown> = { prompt: spec };
  if (Object.keys(partials).length > 0) hashed.partials = partials;
  // Canonical JSON sorts keys, but the order of variants decides which units get which.
  const order = Object.keys(spec.variants);
  if (order.length > 1) hashed.variant_order = order;
  return sha256Hex(canonicalJson(hashed)).slice(0, VERSION_LENGTH);
}
