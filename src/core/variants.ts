import { createHash } from "node:crypto";
import { DEFAULT_VARIANT } from "./names.js";
import type { PromptSpec, VariantSpec } from "./types.js";

/**
 * Where a unit (a user, a session) falls for a prompt: a number in [0, 100) from the SHA-256 of
 * the prompt's name and the unit. The same pair always falls in the same place (sticky), and
 * units spread evenly (uniform); different prompts place a unit independently.
 */
export function unitBucket(name: string, unit: string): number {
  const digest = createHash("sha256").update(name).update("\0").update(unit).digest();
  return (digest.readUInt32BE(0) / 2 ** 32) * 100;
}

/**
 * The variant a unit gets. Variants take consecutive slices of [0, 100) in the order the file
 * declares them, by weight; `default` gets the rest, at the top. So adding a variant at the end
 * moves only units from `default` into it, and changing one weight moves only the units at the
 * edge of that slice. Without a unit the choice is random.
 */
export function chooseVariant(
  name: string,
  variants: Readonly<Record<string, VariantSpec>>,
  unit?: string,
  random: () => number = Math.random,
): string {
  const bucket = unit === undefined ? random() * 100 : unitBucket(name, unit);
  let edge = 0;
  for (const [variant, spec] of Object.entries(variants)) {
    edge += spec.weight;
    if (bucket < edge) return variant;
  }
  return DEFAULT_VARIANT;
}

/** Each arm's weight in percent, `default` (what the others leave) first. */
export function variantWeights(prompt: Pick<PromptSpec, "variants">): Record<string, number> {
  const arms = Object.entries(prompt.variants);
  const taken = arms.reduce((sum, [, variant]) => sum + variant.weight, 0);
  const weights: Record<string, number> = { [DEFAULT_VARIANT]: Math.max(0, 100 - taken) };
  for (const [name, variant] of arms) weights[name] = variant.weight;
  return weights;
}
