import { cpSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Issue } from "../src/core/types.js";
import { loadPrompts } from "../src/store/load.js";
import { tempDir } from "./helpers.js";

/**
 * Golden validation cases, one folder each under `test/fixtures/validate/`: a `prompts/` tree
 * and an `expected.json` of the form
 * `{ "issues": [{ file, line, col, code, severity, message_includes }], "valid": [names] }`
 * (`valid` optional). The issues must match exactly: same count, same place, code and
 * severity, and each message must contain its fragment.
 */
interface ExpectedIssue {
  file: string;
  line: number;
  col: number;
  code: string;
  severity: Issue["severity"];
  message_includes: string;
}

interface ExpectedCase {
  description?: string;
  issues: ExpectedIssue[];
  valid?: string[];
}

const casesDir = fileURLToPath(new URL("./fixtures/validate", import.meta.url));
const cases = readdirSync(casesDir)
  .filter((name) => statSync(join(casesDir, name)).isDirectory())
  .sort();

function readExpected(caseName: string): ExpectedCase {
  const value: unknown = JSON.parse(
    readFileSync(join(casesDir, caseName, "expected.json"), "utf8"),
  );
  return Array.isArray(value) ? { issues: value as ExpectedIssue[] } : (value as ExpectedCase);
}

const byPlace = <T extends { file: string; line: number; col: number; code: string }>(
  a: T,
  b: T,
): number =>
  a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.code.localeCompare(b.code);

describe("golden validation cases (test/fixtures/validate)", () => {
  it("has cases, each with a prompts/ tree and an expected.json", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    for (const name of cases) {
      expect(existsSync(join(casesDir, name, "prompts")), `${name}/prompts`).toBe(true);
      expect(existsSync(join(casesDir, name, "expected.json")), `${name}/expected.json`).toBe(true);
    }
  });

  it.each(cases)("%s", async (caseName) => {
    const expected = readExpected(caseName);
    // A copy, so that nothing the loader does can write inside the repository.
    const root = tempDir();
    cpSync(join(casesDir, caseName), root, {
      recursive: true,
      filter: (source) => !source.endsWith("expected.json"),
    });

    const result = await loadPrompts({ root, cache: false });

    const actual = result.issues
      .map(({ file, line, col, code, severity, message }) => ({
        file,
        line,
        col,
        code,
        severity,
        message,
      }))
      .sort(byPlace);
    const wanted = [...expected.issues].sort(byPlace).map((issue) => ({
      file: issue.file,
      line: issue.line,
      col: issue.col,
      code: issue.code,
      severity: issue.severity,
      message: expect.stringContaining(issue.message_includes),
    }));
    expect(actual).toEqual(wanted);
    if (expected.valid)
      expect([...result.prompts.keys()].sort()).toEqual([...expected.valid].sort());
    // Errors and only errors make a prompt invalid: a file with an error never loads.
    for (const issue of result.issues.filter((item) => item.severity === "error")) {
      const loaded = [...result.prompts.values()].some((prompt) => prompt.file === issue.file);
      expect(loaded, `${issue.file} has an error but was loaded`).toBe(false);
    }
  });
});
