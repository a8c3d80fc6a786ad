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
  return versionWith(canonicalJson, spec, partials);
}

/**
 * {@link promptVersion} of specs that nothing changes once they are parsed (those
 * `validatePrompts` reads), remembering what it computed per spec object: the two sides of a
 * diff, and a server's successive builds, share most of their specs.
 */
export function parsedPromptVersion(
  spec: PromptSpec,
  partials: Readonly<Record<string, PromptSpec>>,
): string {
  const alone = Object.keys(partials).length === 0;
  if (alone) {
    const known = versionsAlone.get(spec);
    if (known !== undefined) return known;
  }
  const version = versionWith(rememberedCanonicalJson, spec, partials);
  if (alone) versionsAlone.set(spec, version);
  return version;
}

const canonicalSpecs = new WeakMap<PromptSpec, string>();
const versionsAlone = new WeakMap<PromptSpec, string>();

function rememberedCanonicalJson(spec: PromptSpec): string {
  let json = canonicalSpecs.get(spec);
  if (json === undefined) {
    json = canonicalJson(spec);
    // Built by appending, the JSON is a tree of about a hundred string pieces; converting it to
    // a number makes V8 copy it into one flat string in place, so the pieces are not kept (a
    // million objects for a tree of ten thousand prompts, each copied by every young GC).
    Number(json);
    canonicalSpecs.set(spec, json);
  }
  return json;
}

/**
 * The hash of `canonicalJson({ partials?, prompt, variant_order? })`, written out from each
 * spec's canonical JSON.
 */
function versionWith(
  canonical: (spec: PromptSpec) => string,
  spec: PromptSpec,
  partials: Readonly<Record<string, PromptSpec>>,
): string {
  const names = Object.keys(partials).sort();
  let hashed = "{";
  if (names.length > 0) {
    const members = names.map(
      (name) => `${JSON.stringify(name)}:${canonical(partials[name] as PromptSpec)}`,
    );
    hashed += `"partials":{${members.join(",")}},`;
  }
  hashed += `"prompt":${canonical(spec)}`;
  // Canonical JSON sorts keys, but the order of variants decides which units get which.
  const order = Object.keys(spec.variants);
  if (order.length > 1) hashed += `,"variant_order":${canonicalJson(order)}`;
  return sha256Hex(`${hashed}}`).slice(0, VERSION_LENGTH);
}
