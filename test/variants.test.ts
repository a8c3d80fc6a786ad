import { describe, expect, it } from "vitest";
import type { VariantSpec } from "../src/core/types.js";
import { chooseVariant, unitBucket } from "../src/core/variants.js";

const arms = (weights: Record<string, number>): Record<string, VariantSpec> =>
  Object.fromEntries(Object.entries(weights).map(([name, weight]) => [name, { weight }]));

function shares(variants: Record<string, VariantSpec>, units: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < units; i++) {
    const variant = chooseVariant("answerer_prompt", variants, `user-${i}`);
    counts[variant] = (counts[variant] ?? 0) + 1;
  }
  return Object.fromEntries(
    Object.entries(counts).map(([name, count]) => [name, (count / units) * 100]),
  );
}

describe("variant assignment", () => {
  it("is sticky: a unit always gets the same variant", () => {
    const variants = arms({ concise: 30, friendly: 20 });
    for (let i = 0; i < 1_000; i++) {
      const first = chooseVariant("p", variants, `u${i}`);
      expect(chooseVariant("p", variants, `u${i}`)).toBe(first);
    }
  });

  it("spreads 100,000 units within 1 point of each weight", () => {
    const measured = shares(arms({ concise: 30, friendly: 20 }), 100_000);
    expect(Math.abs((measured.concise ?? 0) - 30)).toBeLessThan(1);
    expect(Math.abs((measured.friendly ?? 0) - 20)).toBeLessThan(1);
    expect(Math.abs((measured.default ?? 0) - 50)).toBeLessThan(1);
  });

  it("adding a variant moves only units of default into it", () => {
    const before = arms({ concise: 30 });
    const after = arms({ concise: 30, friendly: 20 });
    for (let i = 0; i < 20_000; i++) {
      const unit = `user-${i}`;
      const was = chooseVariant("p", before, unit);
      const now = chooseVariant("p", after, unit);
      if (was !== now) expect([was, now]).toEqual(["default", "friendly"]);
    }
  });

  it("places a unit independently for each prompt, in [0, 100)", () => {
    const buckets = Array.from({ length: 1_000 }, (_, i) => [
      unitBucket("a", `u${i}`),
      unitBucket("b", `u${i}`),
    ]);
    for (const [a, b] of buckets) {
      expect(a).toBeGreaterThanOrEqual(0);
      expect(a).toBeLessThan(100);
      expect(b).toBeGreaterThanOrEqual(0);
    }
    expect(
      buckets.filter(([a, b]) => Math.floor((a ?? 0) / 10) === Math.floor((b ?? 0) / 10)).length,
    ).toBeLessThan(150);
  });

  it("chooses at random without a unit", () => {
    const variants = arms({ concise: 50 });
    expect(chooseVariant("p", variants, undefined, () => 0.1)).toBe("concise");
    expect(chooseVariant("p", variants, undefined, () => 0.9)).toBe("default");
  });
});
