import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { ErrorObject } from "ajv";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = fileURLToPath(new URL("..", import.meta.url));
const schemaPath = fileURLToPath(new URL("../schema/prompt.schema.json", import.meta.url));
const promptsDir = fileURLToPath(new URL("../prompts", import.meta.url));
const invalidDir = fileURLToPath(new URL("./fixtures/schema-invalid", import.meta.url));
const validDir = fileURLToPath(new URL("./fixtures/schema-valid", import.meta.url));

const schema: unknown = JSON.parse(readFileSync(schemaPath, "utf8"));
// strictRequired would reject the `oneOf: [{required: [template]}, {required: [messages]}]`
// idiom; every other strict check stays on, so a misspelt keyword fails here.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const validate = ajv.compile(schema as object);

/** YAML files under `dir`, recursively, as paths relative to it with `/` separators, sorted. */
function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => /\.ya?ml$/.test(file))
    .map((file) => file.split(sep).join("/"))
    .sort();
}

function check(file: string): { valid: boolean; errors: ErrorObject[] } {
  const data: unknown = parse(readFileSync(file, "utf8"));
  const valid = validate(data);
  return { valid, errors: validate.errors ?? [] };
}

function explain(file: string, errors: ErrorObject[]): string {
  const details = errors.map((error) => {
    const at = error.instancePath === "" ? "/" : error.instancePath;
    const name = error.propertyName === undefined ? "" : ` (key "${error.propertyName}")`;
    return `  ${at}${name}: ${error.keyword}: ${error.message ?? ""}`;
  });
  return [`${relative(root, file)}:`, ...details].join("\n");
}

/** Schema paths of properties and definitions that lack a title or a description. */
function untitled(node: unknown, path: string): string[] {
  if (typeof node !== "object" || node === null) return [];
  const missing: string[] = [];
  for (const [key, value] of Object.entries(node)) {
    const where = `${path}/${key}`;
    // Properties under if/then only narrow what a declared property accepts; editors show the
    // declaration's title.
    const named = (key === "properties" || key === "definitions") && !/\/(if|then)\//.test(where);
    if (named && typeof value === "object" && value !== null) {
      for (const [name, sub] of Object.entries(value)) {
        const { title, description } = (sub ?? {}) as { title?: unknown; description?: unknown };
        if (typeof title !== "string" || typeof description !== "string") {
          missing.push(`${where}/${name}`);
        }
      }
    }
    missing.push(...untitled(value, where));
  }
  return missing;
}

const prompts = yamlFiles(promptsDir);
const invalidFixtures = yamlFiles(invalidDir);
const validFixtures = yamlFiles(validDir);

describe("schema/prompt.schema.json", () => {
  it("is draft-07 with the published $id", () => {
    expect(schema).toMatchObject({
      $schema: "http://json-schema.org/draft-07/schema#",
      $id: "https://gitprompts.dev/schema/prompt.schema.json",
    });
  });

  it("gives every property and definition a title and a description, for editors", () => {
    const missing = untitled(schema, "#");
    expect(missing, `without title or description: ${missing.join(", ")}`).toEqual([]);
  });
});

describe("prompts/", () => {
  it("holds the example prompts", () => {
    expect(prompts).toEqual(
      expect.arrayContaining([
        "answerer_prompt.yaml",
        "caller.yaml",
        "planner.yaml",
        "shared/tool_rules.yaml",
      ]),
    );
  });

  it.each(prompts)("%s matches the schema", (name) => {
    const file = join(promptsDir, name);
    const { valid, errors } = check(file);
    expect(valid, explain(file, errors)).toBe(true);
  });

  it.each(prompts)("%s points its editor at the schema", (name) => {
    const file = join(promptsDir, name);
    const target = relative(dirname(file), schemaPath).split(sep).join("/");
    const firstLine = readFileSync(file, "utf8").split("\n")[0];
    expect(firstLine, relative(root, file)).toBe(`# yaml-language-server: $schema=${target}`);
  });
});

describe("test/fixtures/schema-valid", () => {
  it("has edge cases", () => {
    expect(validFixtures.length).toBeGreaterThanOrEqual(5);
  });

  it.each(validFixtures)("%s matches the schema", (name) => {
    const file = join(validDir, name);
    const { valid, errors } = check(file);
    expect(valid, explain(file, errors)).toBe(true);
  });
});

describe("test/fixtures/schema-invalid", () => {
  it("has one fixture per problem, at least 12", () => {
    expect(invalidFixtures.length).toBeGreaterThanOrEqual(12);
  });

  // Each fixture's first line, `# expect: <keyword> <instancePath>`, names the error it is
  // about, so a fixture cannot pass by failing for some other, accidental reason.
  it.each(invalidFixtures)("%s fails the schema for the stated reason", (name) => {
    const file = join(invalidDir, name);
    const header = /^# expect: (\S+) (\/\S*)$/.exec(
      readFileSync(file, "utf8").split("\n")[0] ?? "",
    );
    expect(
      header,
      `${relative(root, file)}: first line must be "# expect: <keyword> <instancePath>"`,
    ).not.toBe(null);
    const [, keyword, path] = header ?? [];
    const { valid, errors } = check(file);
    expect(
      valid,
      `${relative(root, file)} passed the schema but must fail it (${keyword} at ${path})`,
    ).toBe(false);
    const found = errors.some(
      (error) => error.keyword === keyword && (error.instancePath || "/") === path,
    );
    expect(found, `expected a "${keyword}" error at ${path}\n${explain(file, errors)}`).toBe(true);
  });
});
