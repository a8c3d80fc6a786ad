import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, git, gitRepo, runBin, tempDir, writeFiles } from "./helpers.js";
import { ANSWERER, GREETING, PLANNER } from "./sample-prompts.js";

/** Variables of every type that `--var` has to convert. */
const TYPED = `description: Shows typed variables.
variables:
  n: number
  flag: boolean
  items: array
template: |
  n={{n}}{{#n}} (non-zero){{/n}}
  {{#flag}}flag is on{{/flag}}{{^flag}}flag is off{{/flag}}
  items:{{#items}} <{{.}}>{{/items}}
`;

/** An unknown key on line 3: `prompts/broken.yaml:3:1`. */
const BROKEN = `description: A typo in a key.
template: Hi
templat: Hi again
`;

/** A valid prompt that declares a variable no template uses: one warning. */
const WARNS = `description: Declares more than it uses.
variables:
  unused: string
template: Nothing to fill in.
`;

const PROMPTS = {
  "prompts/greeting.yaml": GREETING,
  "prompts/answerer.yaml": ANSWERER,
  "prompts/planner.yaml": PLANNER,
};

const NO_STACK = "    at ";

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

describe("prompts list", () => {
  it("prints a table of name, version, variables, variants and description", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "list");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const [header, ...rows] = lines(result.stdout);
    expect(header).toMatch(/^NAME\s+VERSION\s+VARIABLES\s+VARIANTS\s+DESCRIPTION$/);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(
      /^answerer\s+[0-9a-f]{12}\s+infos, user_query\s+default 70%, concise 30%\s+Answers from the facts it is given\.$/,
    );
    expect(rows[1]).toMatch(/^greeting\s+[0-9a-f]{12}\s+name\s+-\s+Greets someone by name\.$/);
    expect(rows[2]).toMatch(/^planner\s+[0-9a-f]{12}\s+user_query, max_queries\s+-\s+Plans/);
    // Columns line up: every row starts its version where the header says VERSION.
    const column = header?.indexOf("VERSION");
    for (const row of rows) expect(row.search(/[0-9a-f]{12}/)).toBe(column);
  });

  it("--json prints {prompts: [{name, version, file, kind, description, variables, variants, partials}], issues}", async () => {
    const dir = tempDir({
      ...PROMPTS,
      "prompts/shared/rules.yaml": "template: Be brief.\n",
      "prompts/with_partial.yaml": "template: |\n  Rules:\n  {{> shared/rules}}\n",
    });
    const result = await cli(dir, "list", "--json");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const data = JSON.parse(result.stdout) as {
      prompts: Record<string, unknown>[];
      issues: unknown[];
    };
    expect(Object.keys(data).sort()).toEqual(["issues", "prompts"]);
    expect(data.issues).toEqual([]);
    expect(data.prompts.map((prompt) => prompt.name)).toEqual([
      "answerer",
      "greeting",
      "planner",
      "shared/rules",
      "with_partial",
    ]);
    for (const prompt of data.prompts) {
      expect(Object.keys(prompt).sort()).toEqual([
        "description",
        "file",
        "kind",
        "name",
        "partials",
        "variables",
        "variants",
        "version",
      ]);
      expect(prompt.version).toMatch(/^[0-9a-f]{12}$/);
    }
    expect(data.prompts[0]).toMatchObject({
      name: "answerer",
      file: "prompts/answerer.yaml",
      kind: "text",
      description: "Answers from the facts it is given.",
      variables: {
        infos: { type: "array", required: true, description: "Facts" },
        user_query: { type: "string", required: true },
      },
      variants: { default: 70, concise: 30 },
      partials: [],
    });
    expect(data.prompts[2]).toMatchObject({
      name: "planner",
      kind: "chat",
      variables: { max_queries: { type: "number", required: false, default: 3 } },
      variants: { default: 100 },
    });
    expect(data.prompts[3]).toMatchObject({ description: null });
    expect(data.prompts[4]).toMatchObject({
      file: "prompts/with_partial.yaml",
      partials: ["shared/rules"],
    });
  });

  it("lists the valid prompts and reports a broken file as file:line:col on stderr, exit 1", async () => {
    const dir = tempDir({ ...PROMPTS, "prompts/broken.yaml": BROKEN });
    const result = await cli(dir, "list");
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^answerer\s/m);
    expect(result.stdout).toMatch(/^greeting\s/m);
    expect(result.stdout).toMatch(/^planner\s/m);
    expect(result.stdout).not.toContain("broken");
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^prompts\/broken\.yaml:3:1: error: unknown key "templat" \(did you mean "template"\?\)/,
    );
  });

  it("--json reports a broken file in issues with exit 1", async () => {
    const dir = tempDir({ ...PROMPTS, "prompts/broken.yaml": BROKEN });
    const result = await cli(dir, "list", "--json");
    expect(result.code).toBe(1);
    const data = JSON.parse(result.stdout) as { prompts: { name: string }[]; issues: unknown[] };
    expect(data.prompts.map((prompt) => prompt.name)).toEqual(["answerer", "greeting", "planner"]);
    expect(data.issues).toEqual([
      expect.objectContaining({
        file: "prompts/broken.yaml",
        line: 3,
        col: 1,
        code: "unknown-key",
        severity: "error",
      }),
    ]);
  });

  it("says so when the prompt directory holds no prompt", async () => {
    const dir = tempDir({ "prompts/README.md": "not a prompt" });
    const result = await cli(dir, "list");
    expect(result).toMatchObject({ code: 0, stdout: "no prompts in prompts/\n" });
  });

  it.each([
    ["--dir other", ["--dir", "other"], {}],
    ["dir: other in prompts.config.yaml", [], { "prompts.config.yaml": "dir: other\n" }],
  ])("reads another prompt directory with %s", async (_label, flags, extra) => {
    const dir = tempDir({
      "other/greeting.yaml": GREETING,
      "prompts/decoy.yaml": GREETING,
      ...extra,
    });
    const result = await cli(dir, ...flags, "list");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^greeting\s/m);
    expect(result.stdout).not.toContain("decoy");
  });

  it("--dir overrides dir: of prompts.config.yaml", async () => {
    const dir = tempDir({
      "prompts.config.yaml": "dir: other\n",
      "other/from_config.yaml": GREETING,
      "third/from_flag.yaml": GREETING,
    });
    const result = await cli(dir, "--dir", "third", "list");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^from_flag\s/m);
    expect(result.stdout).not.toContain("from_config");
  });

  it("-C <dir> runs in that directory", async () => {
    const project = tempDir(PROMPTS);
    const elsewhere = tempDir();
    const result = await cli(elsewhere, "-C", project, "list");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^greeting\s/m);
    const relative = await cli(dirname(project), "-C", project.split("/").pop() ?? "", "list");
    expect(relative.code).toBe(0);
    expect(relative.stdout).toMatch(/^greeting\s/m);
  });

  it("finds the repository root from a subdirectory", async () => {
    const repo = gitRepo([{ files: { ...PROMPTS, "src/deep/er/index.ts": "export {};\n" } }]);
    const result = await cli(join(repo, "src", "deep", "er"), "list");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^greeting\s/m);
  });

  it("finds the root by prompts.config.yaml from a subdirectory, outside git", async () => {
    const dir = tempDir({
      "prompts.config.yaml": "dir: library\n",
      "library/greeting.yaml": GREETING,
      "app/nested/.keep": "",
    });
    const result = await cli(join(dir, "app", "nested"), "list");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^greeting\s/m);
  });
});

describe("prompts render", () => {
  it("prints a text prompt as it is", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "render", "greeting", "--var", "name=Ada");
    expect(result).toEqual({ code: 0, stdout: "Hello Ada!\n", stderr: "" });
  });

  it("inserts values literally: no HTML escaping, no template in values", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "render", "greeting", "--var", "name=<b>&'{{name}}'");
    expect(result).toMatchObject({ code: 0, stdout: "Hello <b>&'{{name}}'!\n" });
  });

  it("prints a chat prompt as one [role] block per message", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "render", "planner", "--var", "user_query=What is RAG?");
    expect(result).toEqual({
      code: 0,
      stdout: "[system]\nWrite at most 3 queries.\n\n[user]\nWhat is RAG?\n",
      stderr: "",
    });
  });

  it("--json prints {name, version, variant, model, text}", async () => {
    const dir = tempDir(PROMPTS);
    const listed = JSON.parse((await cli(dir, "list", "--json")).stdout) as {
      prompts: { name: string; version: string }[];
    };
    const version = listed.prompts.find((prompt) => prompt.name === "answerer")?.version;
    const result = await cli(
      dir,
      "--json",
      "render",
      "answerer",
      "--var",
      'infos=["a","b"]',
      "--var",
      "user_query=Why?",
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      name: "answerer",
      version,
      variant: "default",
      model: { name: "model-one", temperature: 0.2 },
      text: "Facts:\n- a\n- b\nQ: Why?\n",
    });
  });

  it("--json prints {name, version, variant, model, messages} for a chat prompt", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "render", "planner", "--json", "--var", "user_query=Hi");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      name: "planner",
      version: expect.stringMatching(/^[0-9a-f]{12}$/),
      variant: "default",
      model: { name: "model-two" },
      messages: [
        { role: "system", content: "Write at most 3 queries." },
        { role: "user", content: "Hi" },
      ],
    });
  });

  it.each([
    [["n=3", "flag=yes", 'items=["a","b"]'], "n=3 (non-zero)\nflag is on\nitems: <a> <b>\n"],
    [["n=0", "flag=no", "items=[]"], "n=0\nflag is off\nitems:\n"],
    [["n=-2.5", "flag=true", 'items=["x"]'], "n=-2.5 (non-zero)\nflag is on\nitems: <x>\n"],
    [["n=1e3", "flag=off", "items=[1,2]"], "n=1000 (non-zero)\nflag is off\nitems: <1> <2>\n"],
  ])("types --var %j by the declaration", async (vars, expected) => {
    const dir = tempDir({ "prompts/typed.yaml": TYPED });
    const result = await cli(dir, "render", "typed", ...vars.flatMap((v) => ["--var", v]));
    expect(result).toEqual({ code: 0, stdout: expected, stderr: "" });
  });

  it.each([
    ["n=abc", "n", "a number"],
    ["n=", "n", "a number"],
    ["flag=maybe", "flag", "true or false"],
    ["items=a,b", "items", "a JSON array"],
    ['items={"a":1}', "items", "a JSON array"],
  ])(
    "--var %s fails with exit 1 naming the variable and the type",
    async (assignment, name, type) => {
      const dir = tempDir({ "prompts/typed.yaml": TYPED });
      const others = ["n=1", "flag=yes", "items=[]"].filter((v) => !v.startsWith(`${name}=`));
      const result = await cli(
        dir,
        "render",
        "typed",
        ...[...others, assignment].flatMap((v) => ["--var", v]),
      );
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(lines(result.stderr)).toHaveLength(1);
      expect(result.stderr).toContain(name);
      expect(result.stderr).toContain(type);
      expect(result.stderr).not.toContain(NO_STACK);
    },
  );

  it("lists every missing variable on one line, exit 1", async () => {
    const dir = tempDir({ "prompts/typed.yaml": TYPED });
    const result = await cli(dir, "render", "typed");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(lines(result.stderr)).toEqual([
      '✗ cannot render "typed": missing required variables: n, flag, items',
    ]);
  });

  it("does not ask for a variable that has a default", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "render", "planner");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("missing required variable: user_query");
    expect(result.stderr).not.toContain("max_queries");
  });

  it("refuses an unknown variable with a did-you-mean, exit 1", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "render", "greeting", "--var", "name=Ada", "--var", "nme=Bob");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain('unknown variable "nme" (did you mean "name"?)');
  });

  it.each([["novalue"], ["=value"]])(
    "--var %s (no key=value) is a usage error, exit 2",
    async (bad) => {
      const dir = tempDir(PROMPTS);
      const result = await cli(dir, "render", "greeting", "--var", bad);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("key=value");
      expect(result.stderr).not.toContain(NO_STACK);
    },
  );

  it.each([
    ["vars.json", JSON.stringify({ n: 2, flag: true, items: ["x", "y"] })],
    ["vars.yaml", "n: 2\nflag: true\nitems:\n  - x\n  - y\n"],
    ["vars.yml", "{ n: 2, flag: true, items: [x, y] }\n"],
  ])("--vars %s gives typed values", async (file, content) => {
    const dir = tempDir({ "prompts/typed.yaml": TYPED, [file]: content });
    const result = await cli(dir, "render", "typed", "--vars", file);
    expect(result).toEqual({
      code: 0,
      stdout: "n=2 (non-zero)\nflag is on\nitems: <x> <y>\n",
      stderr: "",
    });
    const overridden = await cli(
      dir,
      "render",
      "typed",
      "--vars",
      file,
      "--var",
      "flag=no",
      "--var",
      "n=7",
    );
    expect(overridden).toEqual({
      code: 0,
      stdout: "n=7 (non-zero)\nflag is off\nitems: <x> <y>\n",
      stderr: "",
    });
  });

  it("reads --vars relative to the working directory, not the root", async () => {
    const repo = gitRepo([{ files: { ...PROMPTS, "app/vars.json": '{"name":"Lin"}' } }]);
    const result = await cli(join(repo, "app"), "render", "greeting", "--vars", "vars.json");
    expect(result).toMatchObject({ code: 0, stdout: "Hello Lin!\n" });
  });

  it("reads --vars relative to -C <dir>, as if started there", async () => {
    const project = tempDir({ ...PROMPTS, "vars.json": '{"name":"Lin"}' });
    const result = await cli(tempDir(), "-C", project, "render", "greeting", "--vars", "vars.json");
    expect(result).toEqual({ code: 0, stdout: "Hello Lin!\n", stderr: "" });
  });

  it("keeps everything after the first = of --var as the value", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "render", "greeting", "--var", "name=a=b");
    expect(result).toMatchObject({ code: 0, stdout: "Hello a=b!\n" });
  });

  it.each([["__proto__"], ["constructor"], ["toString"]])(
    "refuses --var %s=x as an unknown variable",
    async (key) => {
      const dir = tempDir(PROMPTS);
      const result = await cli(dir, "render", "greeting", "--var", "name=Ada", "--var", `${key}=x`);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain(`unknown variable "${key}"`);
    },
  );

  it("fails with exit 1 naming a missing --vars file", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "render", "greeting", "--vars", "nowhere.json");
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain("nowhere.json");
    expect(result.stderr).not.toContain(NO_STACK);
  });

  it.each([
    ["bad.json", "{ not json", "not valid JSON"],
    ["bad.yaml", "a: [", "not valid YAML"],
    ["list.json", "[1, 2]", "mapping"],
  ])(
    "fails with exit 1 on a --vars file %s that holds no mapping",
    async (file, content, words) => {
      const dir = tempDir({ ...PROMPTS, [file]: content });
      const result = await cli(dir, "render", "greeting", "--vars", file);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(file);
      expect(result.stderr).toContain(words);
    },
  );

  it("--variant concise renders that arm", async () => {
    const dir = tempDir(PROMPTS);
    const args = ["render", "answerer", "--var", "infos=[]", "--var", "user_query=Why?"];
    const result = await cli(dir, ...args, "--variant", "concise");
    expect(result).toEqual({ code: 0, stdout: "Briefly: Why?\n", stderr: "" });
    const json = await cli(dir, ...args, "--variant", "concise", "--json");
    expect(JSON.parse(json.stdout)).toMatchObject({ variant: "concise", text: "Briefly: Why?\n" });
  });

  it("refuses an unknown variant with a did-you-mean, exit 1", async () => {
    const dir = tempDir(PROMPTS);
    const args = ["render", "answerer", "--var", "infos=[]", "--var", "user_query=Why?"];
    const result = await cli(dir, ...args, "--variant", "consise");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no variant "consise" (did you mean "concise"?)');
  });

  it("refuses an unknown prompt with a did-you-mean and the next step, exit 1", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "render", "greetin", "--var", "name=Ada");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^✗ prompt "greetin" not found .*\(did you mean "greeting"\?\) \(run: prompts list\)\n$/,
    );
  });

  it("reports an invalid prompt with its file:line:col error, exit 1", async () => {
    const dir = tempDir({ ...PROMPTS, "prompts/broken.yaml": BROKEN });
    const result = await cli(dir, "render", "broken");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^prompts\/broken\.yaml:3:1: error: unknown key "templat"/m);
    expect(result.stderr).toContain('prompt "broken" is invalid');
    expect(result.stderr).not.toContain(NO_STACK);
  });

  it("is not stopped by an unrelated broken prompt file", async () => {
    const dir = tempDir({
      ...PROMPTS,
      "prompts/broken.yaml": BROKEN,
      "prompts/not_yaml.yaml": "template: [unclosed\n",
    });
    const result = await cli(dir, "render", "greeting", "--var", "name=Ada");
    expect(result).toEqual({ code: 0, stdout: "Hello Ada!\n", stderr: "" });
  });

  it("renders a prompt that includes a partial", async () => {
    const dir = tempDir({
      "prompts/shared/sign.yaml": "variables:\n  who: string\ntemplate: '-- {{who}}'\n",
      "prompts/letter.yaml": "template: |\n  Dear reader,\n  {{> shared/sign}}\n",
    });
    const result = await cli(dir, "render", "letter", "--var", "who=Ada");
    expect(result).toEqual({ code: 0, stdout: "Dear reader,\n-- Ada\n", stderr: "" });
  });

  it.each([["../secret"], ["../prompts/../secret"], ["sub/../../secret"], ["./../secret"]])(
    "cannot read outside the prompt directory with %s",
    async (name) => {
      const dir = tempDir({
        ...PROMPTS,
        "secret.yaml": "template: TOP SECRET\n",
        "prompts/sub/inner.yaml": "template: inner\n",
      });
      const result = await cli(dir, "render", name);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).not.toContain("TOP SECRET");
      expect(result.stderr).toContain(`prompt "${name}" not found`);
    },
  );
});

describe("prompts validate", () => {
  it("exits 0 with a ✓ summary when everything is valid", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "validate");
    expect(result).toEqual({ code: 0, stdout: "✓ 3 prompt files, all valid\n", stderr: "" });
  });

  it("reports every error of every file at once, exit 1", async () => {
    const dir = tempDir({
      ...PROMPTS,
      "prompts/a.yaml": "template: hi\nfoo: 1\nbar: 2\n",
      "prompts/b.yaml": 'variables:\n  x: strng\ntemplate: "{{x}}"\n',
      "prompts/c.yaml": "template: Hello {{name}}\n",
      "prompts/d.yaml": 'template: "x: [\n',
    });
    const result = await cli(dir, "validate");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const reported = lines(result.stderr);
    expect(reported.map((line) => line.split(": error: ")[0])).toEqual([
      "prompts/a.yaml:2:1",
      "prompts/a.yaml:3:1",
      "prompts/b.yaml:2:6",
      "prompts/c.yaml:1:17",
      "prompts/d.yaml:2:1",
      "✗ 7 prompt files: 5 errors, 0 warnings",
    ]);
    expect(reported[0]).toContain('unknown key "foo"');
    expect(reported[2]).toContain('unknown type "strng"');
    expect(reported[3]).toContain('variable "name" is used but not declared');
    expect(reported[4]).toContain("YAML");
  });

  it("passes with warnings alone, and fails on them with --strict", async () => {
    const dir = tempDir({ ...PROMPTS, "prompts/warns.yaml": WARNS });
    const lenient = await cli(dir, "validate");
    expect(lenient.code).toBe(0);
    expect(lenient.stderr).toMatch(
      /^prompts\/warns\.yaml:3:3: warning: variable "unused" is declared but no template uses it/,
    );
    expect(lenient.stdout).toBe("✓ 4 prompt files: 0 errors, 1 warning\n");
    const strict = await cli(dir, "validate", "--strict");
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain("✗ 4 prompt files: 0 errors, 1 warning");
  });

  it("--format json prints {ok, files, prompts, errors, warnings, issues}", async () => {
    const dir = tempDir({
      ...PROMPTS,
      "prompts/warns.yaml": WARNS,
      "prompts/broken.yaml": BROKEN,
    });
    const result = await cli(dir, "validate", "--format", "json");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("");
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toEqual({
      ok: false,
      files: 5,
      prompts: 4,
      errors: 1,
      warnings: 1,
      issues: [
        {
          file: "prompts/broken.yaml",
          line: 3,
          col: 1,
          path: "templat",
          message: expect.stringContaining('unknown key "templat"'),
          severity: "error",
          code: "unknown-key",
        },
        {
          file: "prompts/warns.yaml",
          line: 3,
          col: 3,
          path: "variables.unused",
          message: 'variable "unused" is declared but no template uses it',
          severity: "warning",
          code: "unused-variable",
        },
      ],
    });
  });

  it("--format json is ok: true for a valid tree", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "validate", "--format", "json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: true,
      files: 3,
      prompts: 3,
      errors: 0,
      warnings: 0,
      issues: [],
    });
  });

  it("--format github prints workflow annotations", async () => {
    const dir = tempDir({
      "prompts/x.yaml": BROKEN,
      "prompts/warns.yaml": WARNS,
    });
    const result = await cli(dir, "validate", "--format", "github");
    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toEqual([
      '::warning file=prompts/warns.yaml,line=3,col=3,title=prompts%3A unused-variable::variable "unused" is declared but no template uses it',
      '::error file=prompts/x.yaml,line=3,col=1,title=prompts%3A unknown-key::unknown key "templat" (did you mean "template"?); allowed: description, model, variables, template, messages, variants, raw, delimiters, metadata',
      "2 prompt files: 1 error, 1 warning",
    ]);
  });

  it("--format github escapes %, : and , in properties and newlines in messages", async () => {
    const dir = tempDir({
      "prompts/we%ird,na:me.yaml": 'template: hi\n"a\\nb%c": 1\n',
    });
    const result = await cli(dir, "validate", "--format", "github");
    expect(result.code).toBe(1);
    const annotations = lines(result.stdout).filter((line) => line.startsWith("::"));
    expect(annotations).toHaveLength(2);
    for (const line of annotations) {
      expect(line).toMatch(/^::error file=prompts\/we%25ird%2Cna%3Ame\.yaml,line=\d+,col=\d+,/);
    }
    expect(annotations[1]).toContain(
      'title=prompts%3A unknown-key::unknown key "a%0Ab%25c"; allowed:',
    );
    // One annotation per line: the newline inside the message did not split it.
    expect(lines(result.stdout)).toHaveLength(3);
  });

  it("refuses --format xml with exit 2", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "validate", "--format", "xml");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("xml");
    expect(result.stdout).toBe("");
  });

  it("--staged checks the index, not the working tree", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    writeFileSync(join(repo, "prompts/greeting.yaml"), BROKEN);
    git(repo, "add", "prompts/greeting.yaml");
    const stagedBad = await cli(repo, "validate", "--staged");
    expect(stagedBad.code).toBe(1);
    expect(stagedBad.stderr).toMatch(/^prompts\/greeting\.yaml:3:1: error: unknown key/m);

    writeFileSync(join(repo, "prompts/greeting.yaml"), GREETING);
    git(repo, "add", "prompts/greeting.yaml");
    writeFileSync(join(repo, "prompts/greeting.yaml"), BROKEN);
    writeFileSync(join(repo, "prompts/untracked.yaml"), BROKEN);
    const stagedGood = await cli(repo, "validate", "--staged");
    expect(stagedGood).toMatchObject({ code: 0, stderr: "" });
    expect(stagedGood.stdout).toContain("✓ 3 prompt files, all valid");
    expect((await cli(repo, "validate")).code).toBe(1);
  });

  it("--staged works before the first commit", async () => {
    const repo = gitRepo();
    writeFiles(repo, { ...PROMPTS, "prompts/broken.yaml": BROKEN });
    git(repo, "add", "prompts");
    const bad = await cli(repo, "validate", "--staged");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^prompts\/broken\.yaml:3:1: error:/m);
    git(repo, "rm", "-q", "--cached", "prompts/broken.yaml");
    expect((await cli(repo, "validate", "--staged")).code).toBe(0);
  });

  it("--staged sees a staged deletion", async () => {
    const repo = gitRepo([{ files: { ...PROMPTS, "prompts/broken.yaml": BROKEN } }]);
    git(repo, "rm", "-q", "prompts/broken.yaml");
    const result = await cli(repo, "validate", "--staged");
    expect(result.code).toBe(0);
  });

  it("--ref checks a tag's prompts while the working tree is fine", async () => {
    const repo = gitRepo([
      { files: { ...PROMPTS, "prompts/greeting.yaml": BROKEN }, tags: ["v1"] },
      { files: { "prompts/greeting.yaml": GREETING }, tags: ["v2"] },
    ]);
    expect((await cli(repo, "validate")).code).toBe(0);
    expect((await cli(repo, "validate", "--ref", "v2")).code).toBe(0);
    const old = await cli(repo, "validate", "--ref", "v1");
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/^prompts\/greeting\.yaml:3:1: error: unknown key "templat"/m);
    const head = await cli(repo, "validate", "--ref", "HEAD~1");
    expect(head.code).toBe(1);
  });

  it("list and render read a prompt at --ref", async () => {
    const repo = gitRepo([
      { files: { "prompts/greeting.yaml": GREETING.replace("Hello", "Hi") }, tags: ["v1"] },
      { files: PROMPTS },
    ]);
    const old = await cli(repo, "render", "greeting", "--ref", "v1", "--var", "name=Ada");
    expect(old).toEqual({ code: 0, stdout: "Hi Ada!\n", stderr: "" });
    expect((await cli(repo, "render", "greeting", "--var", "name=Ada")).stdout).toBe(
      "Hello Ada!\n",
    );
    const listed = await cli(repo, "list", "--ref", "v1");
    expect(
      lines(listed.stdout)
        .slice(1)
        .map((row) => row.split(/\s+/)[0]),
    ).toEqual(["greeting"]);
    const missing = await cli(repo, "render", "planner", "--ref", "v1");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('prompt "planner" not found in prompts/ at ref "v1"');
    expect(missing.stderr).toContain("(run: prompts list --ref v1)");
  });

  it.each([
    [["validate", "--ref", "v9"]],
    [["list", "--ref", "v9"]],
    [["render", "greeting", "--ref", "v9", "--var", "name=Ada"]],
  ])("%j fails with one line naming the unknown ref, exit 1", async (argv) => {
    const repo = gitRepo([{ files: PROMPTS, tags: ["v1"] }]);
    const result = await cli(repo, ...argv);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/^✗ unknown git ref "v9"/);
  });

  describe("in a project below the top of the git repository (a monorepo package)", () => {
    const files = {
      "packages/app/prompts.config.yaml": "dir: prompts\n",
      "packages/app/prompts/greeting.yaml": GREETING,
      "prompts/top_level.yaml": GREETING,
    };

    it("--staged checks the package's staged prompts", async () => {
      const repo = gitRepo([{ files }]);
      const app = join(repo, "packages/app");
      const clean = await cli(app, "validate", "--staged");
      expect(clean.code).toBe(0);
      expect(clean.stdout).toContain("✓ 1 prompt file, all valid");

      writeFileSync(join(app, "prompts/greeting.yaml"), BROKEN);
      git(repo, "add", "-A", "packages/app/prompts");
      const broken = await cli(app, "validate", "--staged");
      expect(broken.code).toBe(1);
      expect(broken.stderr).toMatch(/^prompts\/greeting\.yaml:3:1: error: unknown key/m);
    });

    it("--ref reads the package's prompts at that ref", async () => {
      const repo = gitRepo([
        { files: { ...files, "packages/app/prompts/greeting.yaml": BROKEN }, tags: ["v1"] },
        { files, tags: ["v2"] },
      ]);
      const app = join(repo, "packages/app");
      const good = await cli(app, "validate", "--ref", "v2");
      expect(good.code).toBe(0);
      expect(good.stdout).toContain("✓ 1 prompt file, all valid");
      const bad = await cli(app, "validate", "--ref", "v1");
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/^prompts\/greeting\.yaml:3:1: error: unknown key/m);
      const rendered = await cli(app, "render", "greeting", "--ref", "v2", "--var", "name=Ada");
      expect(rendered).toEqual({ code: 0, stdout: "Hello Ada!\n", stderr: "" });
    });
  });

  it("fails with one line for --staged outside a git repository, exit 1", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "validate", "--staged");
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain("not a git repository");
  });

  it("fails when there is no prompt directory, pointing at init, exit 1", async () => {
    const dir = tempDir({ "README.md": "# empty\n" });
    const result = await cli(dir, "validate");
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/^✗ no prompt directory "prompts\/" .*\(run: prompts init/);
  });
});

describe("the command line", () => {
  it.each([
    [["bogus"], "unknown command 'bogus'"],
    [["list", "--bogus"], "unknown option '--bogus'"],
    [["--bogus", "list"], "unknown option '--bogus'"],
    [["render"], "missing required argument"],
    [["render", "greeting", "--var"], "argument missing"],
    [["render", "greeting", "extra"], "too many arguments"],
  ])("%j is a usage error, exit 2", async (argv, message) => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, ...argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain(NO_STACK);
  });

  it("--version prints the package version, exit 0", async () => {
    const manifest = JSON.parse(
      readFileSync(new URL("../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    const result = await cli(tempDir(), "--version");
    expect(result).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: "" });
  });

  it.each([[["--help"]], [["render", "--help"]], [["help", "validate"]]])(
    "%j prints help, exit 0",
    async (argv) => {
      const result = await cli(tempDir(), ...argv);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: prompts/);
      expect(result.stderr).toBe("");
    },
  );

  it.each([
    ["an unknown prompt", PROMPTS, ["render", "nope"]],
    ["a missing variable", PROMPTS, ["render", "greeting"]],
    ["no prompt directory", {}, ["list"]],
    ["--staged outside git", PROMPTS, ["validate", "--staged"]],
    ["a bad config file", { ...PROMPTS, "prompts.config.yaml": "dri: x\n" }, ["list"]],
    ["a prompt dir outside the root", PROMPTS, ["--dir", "../elsewhere", "list"]],
  ])("prints %s as one line without a stack trace", async (_label, files, argv) => {
    const dir = tempDir(files);
    const result = await cli(dir, ...argv);
    expect(result.code).toBeGreaterThan(0);
    expect(result.code).toBeLessThan(3);
    expect(result.stdout).toBe("");
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/^✗ /);
    expect(result.stderr).not.toContain(NO_STACK);
  });
});

describe("prompts init", () => {
  it("scaffolds a prompt, the config and .gitignore in an empty directory", async () => {
    const dir = tempDir();
    const result = await cli(dir, "init");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^created\s+prompts\/hello\.yaml$/m);
    expect(result.stdout).toMatch(/^created\s+prompts\.config\.yaml$/m);
    expect(result.stdout).toMatch(/^created\s+\.gitignore/m);

    const hello = readFileSync(join(dir, "prompts/hello.yaml"), "utf8");
    const schema = /^# yaml-language-server: \$schema=(\S+)$/m.exec(hello)?.[1];
    expect(schema).toBe("../node_modules/gitprompts/schema/prompt.schema.json");
    expect(resolve(dir, "prompts", schema ?? "")).toBe(
      join(dir, "node_modules/gitprompts/schema/prompt.schema.json"),
    );
    expect(readFileSync(join(dir, "prompts.config.yaml"), "utf8")).toMatch(/^dir: prompts$/m);
    expect(lines(readFileSync(join(dir, ".gitignore"), "utf8"))).toContain(".prompts/");

    const rendered = await cli(dir, "render", "hello", "--var", "name=Ada");
    expect(rendered).toMatchObject({ code: 0, stderr: "" });
    expect(rendered.stdout).toContain("Ada");
    expect((await cli(dir, "validate")).code).toBe(0);
  });

  it("points the schema comment at node_modules from a nested --dir", async () => {
    const dir = tempDir();
    expect((await cli(dir, "--dir", "config/llm", "init")).code).toBe(0);
    const hello = readFileSync(join(dir, "config/llm/hello.yaml"), "utf8");
    expect(hello).toContain(
      "# yaml-language-server: $schema=../../node_modules/gitprompts/schema/prompt.schema.json",
    );
    expect(readFileSync(join(dir, "prompts.config.yaml"), "utf8")).toMatch(/^dir: config\/llm$/m);
    // The config now points at the new directory: no --dir needed any more.
    expect((await cli(dir, "render", "hello", "--var", "name=Ada")).code).toBe(0);
  });

  it("overwrites nothing when run again, and says kept", async () => {
    const dir = tempDir();
    expect((await cli(dir, "init")).code).toBe(0);
    const custom = {
      "prompts/hello.yaml": "description: mine\ntemplate: Mine.\n",
      "prompts.config.yaml": "dir: prompts\nbundle: out/bundle.json\n",
      ".gitignore": "node_modules/\n.prompts/\n",
    };
    for (const [path, text] of Object.entries(custom)) writeFileSync(join(dir, path), text);
    const again = await cli(dir, "init");
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^kept\s+prompts\//m);
    expect(again.stdout).toMatch(/^kept\s+prompts\.config\.yaml/m);
    expect(again.stdout).toMatch(/^kept\s+\.gitignore/m);
    expect(again.stdout).not.toContain("created");
    for (const [path, text] of Object.entries(custom)) {
      expect(readFileSync(join(dir, path), "utf8")).toBe(text);
    }
  });

  it("scaffolds into the directory an existing prompts.config.yaml names", async () => {
    const dir = tempDir({ "prompts.config.yaml": "dir: llm\n" });
    const result = await cli(dir, "init");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^created\s+llm\/hello\.yaml$/m);
    expect(existsSync(join(dir, "llm/hello.yaml"))).toBe(true);
    expect(existsSync(join(dir, "prompts"))).toBe(false);
    // The next step init prints works.
    expect(result.stdout).toContain("prompts render hello --var name=Ada");
    const rendered = await cli(dir, "render", "hello", "--var", "name=Ada");
    expect(rendered).toMatchObject({ code: 0, stderr: "" });
  });

  it("does not add hello.yaml to a prompt directory that holds prompts", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "init");
    expect(result.code).toBe(0);
    expect(existsSync(join(dir, "prompts/hello.yaml"))).toBe(false);
    expect(result.stdout).toMatch(/^kept\s+prompts\//m);
  });

  it.each([
    ["with a final newline", "node_modules/\ndist/\n"],
    ["without a final newline", "node_modules/\ndist/"],
  ])("appends .prompts/ once to an existing .gitignore %s", async (_label, original) => {
    const dir = tempDir({ ".gitignore": original });
    expect((await cli(dir, "init")).code).toBe(0);
    expect((await cli(dir, "init")).code).toBe(0);
    const text = readFileSync(join(dir, ".gitignore"), "utf8");
    expect(text.startsWith(original)).toBe(true);
    const entries = lines(text);
    expect(entries.slice(0, 2)).toEqual(["node_modules/", "dist/"]);
    expect(entries.filter((line) => line === ".prompts/")).toHaveLength(1);
    expect(text.endsWith("\n")).toBe(true);
  });

  it("keeps a .gitignore that already ignores .prompts", async () => {
    const dir = tempDir({ ".gitignore": "node_modules\n.prompts\n" });
    const result = await cli(dir, "init");
    expect(result.stdout).toMatch(/^kept\s+\.gitignore/m);
    expect(readFileSync(join(dir, ".gitignore"), "utf8")).toBe("node_modules\n.prompts\n");
  });
});

describe("prompts hook", () => {
  const MARKER_HOOK = (marker: string, status = 0) =>
    `#!/bin/sh\necho ran >> '${marker}'\nexit ${status}\n`;

  function runHook(repo: string, hook: string) {
    // `node` must be found for the hook's fallback to the package's own bin/prompts.js.
    const path = `${dirname(process.execPath)}:${process.env.PATH ?? ""}`;
    return spawnSync(hook, [], {
      cwd: repo,
      encoding: "utf8",
      env: { ...process.env, PATH: path },
    });
  }

  it("installs an executable pre-commit hook that runs validate --staged", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    const result = await cli(repo, "hook", "install");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const hook = join(repo, ".git/hooks/pre-commit");
    expect(result.stdout).toContain(hook);
    expect(statSync(hook).mode & 0o111).toBe(0o111);
    expect(readFileSync(hook, "utf8")).toMatch(/^#!\/bin\/sh\n/);
    expect(readFileSync(hook, "utf8")).toContain("validate --staged");
    expect(runHook(repo, hook).status).toBe(0);
    writeFileSync(join(repo, "prompts/greeting.yaml"), BROKEN);
    git(repo, "add", "prompts/greeting.yaml");
    const failed = runHook(repo, hook);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("prompts/greeting.yaml:3:1: error:");
  });

  it("keeps an existing hook as pre-commit.before-gitprompts and still runs it", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    const marker = join(tempDir(), "marker");
    const hook = join(repo, ".git/hooks/pre-commit");
    const original = MARKER_HOOK(marker);
    writeFileSync(hook, original);
    chmodSync(hook, 0o755);

    const result = await cli(repo, "hook", "install");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("pre-commit.before-gitprompts");
    const kept = join(repo, ".git/hooks/pre-commit.before-gitprompts");
    expect(readFileSync(kept, "utf8")).toBe(original);
    expect(statSync(kept).mode & 0o111).toBe(0o111);

    expect(runHook(repo, hook).status).toBe(0);
    expect(readFileSync(marker, "utf8")).toBe("ran\n");

    // A failing earlier hook stops the commit before the prompts are checked.
    writeFileSync(kept, MARKER_HOOK(marker, 3));
    expect(runHook(repo, hook).status).toBe(3);
    expect(readFileSync(marker, "utf8")).toBe("ran\nran\n");
  });

  it("does not switch on a hook that was switched off (not executable)", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    const marker = join(tempDir(), "marker");
    const hook = join(repo, ".git/hooks/pre-commit");
    writeFileSync(hook, MARKER_HOOK(marker, 1));
    chmodSync(hook, 0o644);
    expect((await cli(repo, "hook", "install")).code).toBe(0);
    const kept = join(repo, ".git/hooks/pre-commit.before-gitprompts");
    expect(readFileSync(kept, "utf8")).toBe(MARKER_HOOK(marker, 1));
    expect(statSync(kept).mode & 0o111).toBe(0);
    expect(runHook(repo, hook).status).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });

  it("is idempotent: installing twice keeps one hook and the kept one", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    const marker = join(tempDir(), "marker");
    const hook = join(repo, ".git/hooks/pre-commit");
    writeFileSync(hook, MARKER_HOOK(marker));
    chmodSync(hook, 0o755);
    expect((await cli(repo, "hook", "install")).code).toBe(0);
    const first = readFileSync(hook, "utf8");
    const second = await cli(repo, "hook", "install");
    expect(second).toMatchObject({ code: 0, stderr: "" });
    expect(readFileSync(hook, "utf8")).toBe(first);
    expect(readFileSync(join(repo, ".git/hooks/pre-commit.before-gitprompts"), "utf8")).toBe(
      MARKER_HOOK(marker),
    );
    expect(runHook(repo, hook).status).toBe(0);
    // The kept hook ran once, not once per install.
    expect(readFileSync(marker, "utf8")).toBe("ran\n");
  });

  it("honours core.hooksPath", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    git(repo, "config", "core.hooksPath", "githooks");
    const result = await cli(repo, "hook", "install");
    expect(result.code).toBe(0);
    const hook = join(repo, "githooks/pre-commit");
    expect(existsSync(hook)).toBe(true);
    expect(statSync(hook).mode & 0o111).toBe(0o111);
    expect(existsSync(join(repo, ".git/hooks/pre-commit"))).toBe(false);
    expect((await cli(repo, "hook", "uninstall")).code).toBe(0);
    expect(existsSync(hook)).toBe(false);
  });

  it("works from a subdirectory of the repository", async () => {
    const repo = gitRepo([{ files: { ...PROMPTS, "src/app/.keep": "" } }]);
    const result = await cli(join(repo, "src/app"), "hook", "install");
    expect(result.code).toBe(0);
    expect(existsSync(join(repo, ".git/hooks/pre-commit"))).toBe(true);
  });

  it.each([["install"], ["uninstall"]])(
    "hook %s outside a git repository fails, exit 1",
    async (verb) => {
      const dir = tempDir(PROMPTS);
      const result = await cli(dir, "hook", verb);
      expect(result.code).toBe(1);
      expect(lines(result.stderr)).toHaveLength(1);
      expect(result.stderr).toContain("not a git repository");
      expect(result.stderr).not.toContain(NO_STACK);
    },
  );

  it("uninstall restores the previous hook", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    const marker = join(tempDir(), "marker");
    const hook = join(repo, ".git/hooks/pre-commit");
    writeFileSync(hook, MARKER_HOOK(marker));
    chmodSync(hook, 0o755);
    expect((await cli(repo, "hook", "install")).code).toBe(0);
    const result = await cli(repo, "hook", "uninstall");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("restored");
    expect(readFileSync(hook, "utf8")).toBe(MARKER_HOOK(marker));
    expect(statSync(hook).mode & 0o111).toBe(0o111);
    expect(existsSync(join(repo, ".git/hooks/pre-commit.before-gitprompts"))).toBe(false);
  });

  it("uninstall removes the hook, and leaves a foreign hook alone", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    const hook = join(repo, ".git/hooks/pre-commit");
    expect((await cli(repo, "hook", "install")).code).toBe(0);
    expect((await cli(repo, "hook", "uninstall")).code).toBe(0);
    expect(existsSync(hook)).toBe(false);

    writeFileSync(hook, "#!/bin/sh\nexit 0\n");
    const foreign = await cli(repo, "hook", "uninstall");
    expect(foreign.code).toBe(0);
    expect(foreign.stdout).toContain("no gitprompts hook");
    expect(readFileSync(hook, "utf8")).toBe("#!/bin/sh\nexit 0\n");
  });
});

describe("the parse cache", () => {
  it("stays out of git status in a repository where nobody ran init", async () => {
    const repo = gitRepo([{ files: { "prompts/greeting.yaml": GREETING } }]);
    expect((await cli(repo, "list")).code).toBe(0);
    expect(existsSync(join(repo, ".prompts", "cache"))).toBe(true);
    expect(git(repo, "status", "--porcelain")).toBe("");
  });

  it("is started by the first run in a clone and filled from the second, so that a run made once (CI) does not pay for it", async () => {
    const dir = tempDir({
      "prompts.config.yaml": "dir: prompts\n",
      "prompts/greeting.yaml": GREETING,
      "prompts/answerer.yaml": ANSWERER,
    });
    const cache = join(dir, ".prompts", "cache", "parse.log");
    const lines = () => readFileSync(cache, "utf8").split("\n").filter(Boolean);
    const first = await cli(dir, "list", "--json");
    expect(first.code).toBe(0);
    expect(lines()).toHaveLength(1); // its header only, though a config file was read too
    expect(await cli(dir, "list", "--json")).toEqual(first);
    const filled = lines();
    expect(filled).toHaveLength(4); // the header, the config and the two prompts
    expect(filled.join("\n")).toContain("Hello {{name}}!");
    expect(await cli(dir, "list", "--json")).toEqual(first);
    expect(lines()).toEqual(filled); // read, nothing new to write
  });

  it("gives the same answers warm as cold, and follows edits", async () => {
    const dir = tempDir({ "prompts/greeting.yaml": GREETING });
    const cold = await cli(dir, "render", "greeting", "--var", "name=Ada");
    const warm = await cli(dir, "render", "greeting", "--var", "name=Ada");
    expect(warm).toEqual(cold);
    writeFiles(dir, { "prompts/greeting.yaml": GREETING.replace("Hello", "Goodbye") });
    expect((await cli(dir, "render", "greeting", "--var", "name=Ada")).stdout).toBe(
      "Goodbye Ada!\n",
    );
    writeFiles(dir, { "prompts/greeting.yaml": GREETING.replace("name: string", "nmae: string") });
    const broken = await cli(dir, "validate");
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('variable "name" is used but not declared');
  });

  it("a cache file cut short or garbled costs only parsing again: the answers stay the same", () => {
    const dir = tempDir({
      "prompts/greeting.yaml": GREETING,
      "prompts/answerer.yaml": ANSWERER,
      "prompts/planner.yaml": PLANNER.replace(
        "user_query: string",
        "user_query: string\n  unused: string",
      ),
    });
    const list = ["list", "--json"];
    const cold = runBin(dir, list);
    expect(cold.code).toBe(0);
    expect(runBin(dir, list)).toEqual(cold); // the second run fills the cache
    const pack = join(dir, ".prompts", "cache", "parse.log");
    const whole = readFileSync(pack);
    for (const damaged of [
      whole.subarray(0, Math.floor(whole.length / 2)),
      Buffer.from(whole.toString("latin1").replace(/"spec"/g, '"sp\n'), "latin1"),
      Buffer.from("not a pack"),
    ]) {
      writeFileSync(pack, damaged);
      expect(runBin(dir, list)).toEqual(cold);
      expect(runBin(dir, ["validate"]).stderr).toContain('variable "unused" is declared but');
    }
    // "not a pack" was started afresh by `list` and filled again by `validate`.
    expect(readFileSync(pack)).toEqual(whole);
  });
});
