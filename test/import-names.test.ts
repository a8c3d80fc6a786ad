import { describe, expect, it } from "vitest";
import { sanitizeName } from "../src/core/import/convert.js";
import { planImport } from "../src/core/import/plan.js";

describe("import names", () => {
  it.each([
    ["Support Bot", "Support-Bot"],
    ["agents/Planner v2", "agents/Planner-v2"],
    ["../../etc/passwd", "etc/passwd"],
    ["/leading//slashes/", "leading/slashes"],
    [".hidden", "hidden"],
    ["Résumé 🚀 prompt", "Resume-prompt"],
    ["__proto__", "unnamed"],
    ["", "unnamed"],
  ])("%j → %j", (source, name) => {
    expect(sanitizeName(source)).toBe(name);
  });

  it("tells apart names that collide, also by case, and says so", () => {
    const plan = planImport(
      ["a b", "a-b", "A-B"].map((name) => ({
        source: `in#${name}`,
        name,
        syntax: "fstring" as const,
        template: "x",
      })),
      { existing: new Map(), force: false },
    );
    expect(plan.rows.map((row) => row.name)).toEqual(["a-b", "a-b-2", "A-B-3"]);
    expect(plan.rows[1]?.changes).toContain('"a-b" is taken by another prompt of this import');
    expect([...plan.files.keys()]).toEqual(["a-b", "a-b-2", "A-B-3"]);
  });
});
