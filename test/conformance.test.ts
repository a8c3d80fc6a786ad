import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildVectors, vectorText } from "./conformance-vectors.js";

const ROOT = fileURLToPath(new URL("../conformance", import.meta.url));

function checkedIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? checkedIn(join(dir, entry.name))
      : entry.name.endsWith(".json")
        ? [relative(ROOT, join(dir, entry.name)).split("\\").join("/")]
        : [],
  );
}

describe("conformance vectors (conformance/)", () => {
  it("the checked-in files are what the TypeScript implementation produces now (npm run conformance rewrites them)", async () => {
    const vectors = await buildVectors();
    if (process.env.UPDATE_CONFORMANCE === "1") {
      for (const path of checkedIn(ROOT)) rmSync(join(ROOT, path));
      for (const [path, value] of Object.entries(vectors)) {
        mkdirSync(dirname(join(ROOT, path)), { recursive: true });
        writeFileSync(join(ROOT, path), vectorText(value));
      }
    }
    expect(checkedIn(ROOT).sort()).toEqual(Object.keys(vectors).sort());
    for (const [path, value] of Object.entries(vectors)) {
      expect(readFileSync(join(ROOT, path), "utf8"), path).toBe(vectorText(value));
    }
  });
});
