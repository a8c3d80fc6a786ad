import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseBundle } from "../src/core/bundle.js";
import { canonicalJson } from "../src/core/json.js";
import { bundleTextOf, cli, expectOneLineError, gitRepo, tempDir, writeFiles } from "./helpers.js";

const GREETING = "variables:\n  name: string\ntemplate: Hello {{name}}!\n";
const COUNTER = "variables:\n  n: number\ntemplate: n={{n}}\n";

describe("names that every object inherits are not declared variables", () => {
  it("validate reports {{constructor}} and {{toString}} used without a declaration", async () => {
    const dir = tempDir({
      "prompts/inherit.yaml": 'template: "{{constructor}} {{toString}}"\n',
      "prompts/section.yaml": 'template: "{{#hasOwnProperty}}{{x}}{{/hasOwnProperty}}"\n',
    });
    const result = await cli(dir, "validate");
    expect(result.code).toBe(1);
    const output = result.stdout + result.stderr;
    expect(output).toContain(
      'prompts/inherit.yaml:1:12: error: variable "constructor" is used but not declared',
    );
    expect(output).toContain(
      'prompts/inherit.yaml:1:28: error: variable "toString" is used but not declared',
    );
    expect(output).toContain(
      'prompts/section.yaml:1:12: error: variable "hasOwnProperty" is used but not declared',
    );
  });

  it("render finds only the values' own fields: {{list.toString}} is not [object Object]", async () => {
    const dir = tempDir({
      "prompts/list.yaml": [
        "variables:",
        "  items: array",
        "  name: string",
        'template: "[{{items.toString}}][{{items.constructor.name}}][{{items.length}}][{{name.length}}]{{#items}}({{valueOf}}{{x}}){{/items}}"',
        "",
      ].join("\n"),
    });
    const result = await cli(
      dir,
      "render",
      "list",
      "--var",
      'items=[{"x": 1}, {"x": 2}]',
      "--var",
      "name=Ada",
    );
    expect(result).toEqual({ code: 0, stdout: "[][][2][3](1)(2)\n", stderr: "" });
  });

  it("diff sees a variable, a variant and a model key named like Object built-ins as added", async () => {
    const repo = gitRepo([{ files: { "prompts/p.yaml": "model: { name: m }\ntemplate: Hi\n" } }]);
    writeFiles(repo, {
      "prompts/p.yaml": [
        "model: { name: m, constructor: x }",
        "variables:",
        "  constructor: string",
        "template: Hi {{constructor}}",
        "variants:",
        "  toString: { weight: 10, template: Yo }",
        "",
      ].join("\n"),
    });
    const result = await cli(repo, "diff", "--json");
    expect(result.code).toBe(0);
    const [prompt] = (JSON.parse(result.stdout) as { prompts: Record<string, unknown>[] }).prompts;
    expect(prompt?.fields).toEqual([
      { path: "model.constructor", change: "added", to: "x" },
      {
        path: "variables.constructor",
        change: "added",
        to: { type: "string", required: true },
      },
      { path: "variants.toString", change: "added", to: { weight: 10, template: "Yo" } },
    ]);
    expect(prompt?.breaking).toEqual([
      { code: "variable-required", message: 'new required variable "constructor"' },
    ]);
  });
});

describe("__proto__ is no name: JSON objects keyed by it would lose it", () => {
  it("validate refuses a prompt file named __proto__, and its includer", async () => {
    const dir = tempDir({
      "prompts/__proto__.yaml": "template: there\n",
      "prompts/user.yaml": 'template: "Hi {{> __proto__}}"\n',
      "prompts/ok/__proto__x.yaml": "template: fine\n",
    });
    const result = await cli(dir, "validate");
    expect(result.code).toBe(1);
    const output = result.stdout + result.stderr;
    expect(output).toContain(
      'prompts/__proto__.yaml:1:1: error: prompt name "__proto__" is reserved in JavaScript objects; rename the file [bad-name]',
    );
    expect(output).toContain('prompts/user.yaml:1:15: error: includes "__proto__"');
    expect(output).toContain("2 errors");
  });

  it.each([
    [
      "a variable __proto__",
      '{"__proto__": {"type": "string", "required": true}}',
      "{}",
      "variable",
    ],
    ["a variant __proto__", "{}", '{"__proto__": {"weight": 10, "template": "y"}}', "variant"],
    ["a variant default", "{}", '{"default": {"weight": 10, "template": "y"}}', "variant"],
  ])("a bundle that names %s is refused", (_, variables, variants, what) => {
    // JSON.parse makes "__proto__" an own key, as reading a bundle file does.
    const prompt: unknown = JSON.parse(
      `{"model": {}, "partials": [], "template": "x", "version": "0123456789ab", "variables": ${variables}, "variants": ${variants}}`,
    );
    const source = { commit: null, ref: null, dirty: false };
    const text = bundleTextOf([`"x":${canonicalJson(prompt)}`], source);
    expect(() => parseBundle(text)).toThrow(
      new RegExp(`prompt "x".*${what} "(__proto__|default)"`),
    );
  });
});

describe("--var for a number takes a JSON number only", () => {
  it.each(["0x10", "0b1", "0o7", "Infinity", "-Infinity", "NaN", "", "+5", ".5", "5.", "1e400"])(
    "refuses --var n=%j with one line naming the variable and the form",
    async (value) => {
      const dir = tempDir({ "prompts/count.yaml": COUNTER });
      const result = await cli(dir, "render", "count", "--var", `n=${value}`);
      expectOneLineError(result, 1, "--var n: expected a number written as in JSON");
    },
  );

  it.each([
    ["0", "n=0"],
    ["-2.5", "n=-2.5"],
    ["1e3", "n=1000"],
    ["10", "n=10"],
    [" 7 ", "n=7"],
  ])("takes --var n=%j", async (value, expected) => {
    const dir = tempDir({ "prompts/count.yaml": COUNTER });
    const result = await cli(dir, "render", "count", "--var", `n=${value}`);
    expect(result).toEqual({ code: 0, stdout: `${expected}\n`, stderr: "" });
  });
});

describe("--vars reads a UTF-8 file of sane size, and nothing else", () => {
  it("refuses a file that is not UTF-8, naming the byte and where it is", async () => {
    const dir = tempDir({
      "prompts/greeting.yaml": GREETING,
      "vars.json": Buffer.concat([
        Buffer.from('{\n  "name": "caf'),
        Buffer.from([0xe9, 0x22, 0x7d]),
      ]),
    });
    const result = await cli(dir, "render", "greeting", "--vars", "vars.json");
    expectOneLineError(
      result,
      1,
      "--vars ",
      "vars.json: not UTF-8 text (byte 0xe9 at line 2, column 15)",
    );
  });

  it("reads a UTF-8 file with a byte-order mark", async () => {
    const dir = tempDir({
      "prompts/greeting.yaml": GREETING,
      "vars.json": '\ufeff{"name": "Zoë"}',
    });
    const result = await cli(dir, "render", "greeting", "--vars", "vars.json");
    expect(result).toEqual({ code: 0, stdout: "Hello Zoë!\n", stderr: "" });
  });

  it("refuses a file over 16 MiB without reading it", async () => {
    const dir = tempDir({ "prompts/greeting.yaml": GREETING });
    const big = join(dir, "big.json");
    writeFileSync(big, `{"name": "${"x".repeat(16 * 1024 * 1024)}"}`);
    const result = await cli(dir, "render", "greeting", "--vars", "big.json");
    expectOneLineError(result, 1, "big.json: larger than 16 MiB");
  });

  it("refuses /dev/zero at once", async () => {
    const dir = tempDir({ "prompts/greeting.yaml": GREETING });
    const started = performance.now();
    const result = await cli(dir, "render", "greeting", "--vars", "/dev/zero");
    expect(performance.now() - started).toBeLessThan(5_000);
    expectOneLineError(result, 1, "--vars /dev/zero: a device, not a file");
  });

  it("refuses a FIFO at once, without waiting for a writer", async () => {
    const dir = tempDir({ "prompts/greeting.yaml": GREETING });
    execFileSync("mkfifo", [join(dir, "pipe.json")]);
    const result = await cli(dir, "render", "greeting", "--vars", "pipe.json");
    expectOneLineError(result, 1, "pipe.json: a FIFO (named pipe), not a file");
  });

  it("refuses a directory", async () => {
    const dir = tempDir({ "prompts/greeting.yaml": GREETING, "vars.json/x": "" });
    const result = await cli(dir, "render", "greeting", "--vars", "vars.json");
    expectOneLineError(result, 1, "vars.json: a directory, not a file");
  });

  it("diff --vars refuses a device too", async () => {
    const repo = gitRepo([{ files: { "prompts/greeting.yaml": GREETING } }]);
    const result = await cli(repo, "diff", "--vars", "/dev/zero");
    expectOneLineError(result, 1, "--vars /dev/zero: a device, not a file");
  });
});
