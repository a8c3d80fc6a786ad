import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../src/cli/main.js";
import { cli, type CliResult, git, gitRepo, tempDir, writeFiles } from "./helpers.js";
import { GREETING } from "./sample-prompts.js";

const ANSWERER = `description: Answers from the facts it is given.
model: { name: model-one, temperature: 0.2 }
variables:
  infos: { type: array, description: Facts }
  user_query: string
template: |
  Facts:
  {{#infos}}
  - {{.}}
  {{/infos}}
  Answer in a friendly tone.
  Q: {{user_query}}
variants:
  concise:
    weight: 30
    template: |
      Briefly: {{user_query}}
`;

/** GREETING in another YAML style, with comments: the same content, so the same version. */
const GREETING_RESTYLED = `# Greets people.
template: "Hello {{name}}!\\n"   # the body
variables: { name: { type: string } }
description: "Greets someone by name."
`;

const PLANNER = `description: Plans searches.
variables:
  user_query: string
messages:
  - role: system
    content: Plan the searches.
  - role: user
    content: "{{user_query}}"
`;

const PROMPTS = {
  "prompts/answerer.yaml": ANSWERER,
  "prompts/greeting.yaml": GREETING,
  "prompts/planner.yaml": PLANNER,
};

const RULES = "description: Rules every tool-using prompt follows.\ntemplate: |\n  Be brief.\n";
const INCLUDER = (intro: string) =>
  `variables:\n  user_query: string\ntemplate: |\n  ${intro}\n  {{> shared/rules}}\n  {{user_query}}\n`;

/** The prompt of the breaking-change tests, and every breaking edit of it at once. */
const CONTRACT = `variables:
  a: string
  b: string
  c: { type: string, required: false }
  d: { type: number, default: 3 }
template: "{{a}} {{b}} {{c}} {{d}}"
variants:
  short: { weight: 10, template: "{{a}}" }
`;
const CONTRACT_BROKEN = `variables:
  a: number
  c: string
  d: number
template: "{{a}} {{c}} {{d}}"
`;

/** Prompts whose name and version `prompts list --json` gives. */
async function versions(cwd: string, ...argv: string[]): Promise<Record<string, string>> {
  const listed = await cli(cwd, "list", "--json", ...argv);
  const data = JSON.parse(listed.stdout) as { prompts: { name: string; version: string }[] };
  return Object.fromEntries(data.prompts.map((prompt) => [prompt.name, prompt.version]));
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

/** Runs the CLI with a terminal-like stdout and the given environment (no NO_COLOR). */
async function cliOnTerminal(
  cwd: string,
  env: Record<string, string>,
  ...argv: string[]
): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const base: Record<string, string | undefined> = { ...process.env };
  delete base.NO_COLOR;
  delete base.FORCE_COLOR;
  const code = await run(argv, {
    cwd,
    env: { ...base, ...env },
    stdout: { write: (chunk: string) => (stdout += chunk), isTTY: true },
    stderr: { write: (chunk: string) => (stderr += chunk), isTTY: true },
  });
  return { code, stdout, stderr };
}

const ESC = "\u001b[";

describe("prompts diff: what changed", () => {
  it("compares HEAD with the working tree by default: an uncommitted edit with its versions", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    const before = await versions(repo);
    writeFiles(repo, {
      "prompts/answerer.yaml": ANSWERER.replace("0.2", "0.7").replace("friendly", "formal"),
    });
    const after = await versions(repo);
    const result = await cli(repo, "diff");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(lines(result.stdout)).toEqual([
      `M answerer  ${before.answerer} → ${after.answerer}`,
      "  model.temperature: 0.2 → 0.7",
      "  template:",
      "  @@ -2,5 +2,5 @@",
      "   {{#infos}}",
      "   - {{.}}",
      "   {{/infos}}",
      "  -Answer in a friendly tone.",
      "  +Answer in a formal tone.",
      "   Q: {{user_query}}",
      "HEAD → working tree: 1 changed, 2 unchanged",
    ]);
    expect(before.answerer).not.toBe(after.answerer);
  });

  it("says so when nothing changed", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    const result = await cli(repo, "diff");
    expect(result).toEqual({
      code: 0,
      stdout: "HEAD → working tree: no prompt changes (3 unchanged)\n",
      stderr: "",
    });
  });

  it("FROM TO compares two refs, whatever the working tree holds; FROM alone compares it with the working tree", async () => {
    const repo = gitRepo([
      { files: PROMPTS, tags: ["v1"] },
      { files: { "prompts/greeting.yaml": GREETING.replace("Hello", "Hi") }, tags: ["v2"] },
      { files: { "prompts/planner.yaml": PLANNER.replace("Plan the", "Plan all the") } },
    ]);
    writeFiles(repo, { "prompts/answerer.yaml": ANSWERER.replace("0.2", "0.5") });
    const refs = await cli(repo, "diff", "v1", "v2");
    expect(refs.code).toBe(0);
    expect(refs.stdout).toMatch(/^M greeting {2}/m);
    expect(refs.stdout).toContain("  -Hello {{name}}!\n  +Hi {{name}}!\n");
    expect(refs.stdout).not.toMatch(/^M (answerer|planner)/m);
    expect(refs.stdout).toMatch(/^v1 → v2: 1 changed, 2 unchanged$/m);

    const toWorktree = await cli(repo, "diff", "v1");
    expect(toWorktree.stdout.match(/^M \S+/gm)).toEqual(["M answerer", "M greeting", "M planner"]);
    expect(toWorktree.stdout).toMatch(/^v1 → working tree: 3 changed, 0 unchanged$/m);

    const back = await cli(repo, "diff", "HEAD", "v1");
    expect(back.stdout.match(/^M \S+/gm)).toEqual(["M greeting", "M planner"]);
    expect(back.stdout).toContain("  -Plan all the searches.\n  +Plan the searches.\n");
  });

  it("FROM and TO may be labels: what moving a label would deploy", async () => {
    const repo = gitRepo([
      { files: PROMPTS, tags: ["v1"] },
      { files: { "prompts/greeting.yaml": GREETING.replace("Hello", "Hi") }, tags: ["v2"] },
    ]);
    expect((await cli(repo, "label", "production", "v1")).code).toBe(0);
    expect((await cli(repo, "label", "staging", "v2")).code).toBe(0);
    // A branch of the same name as a label is shadowed by the label, as for --ref.
    git(repo, "branch", "staging", "v1");

    const promote = await cli(repo, "diff", "production", "staging", "--stat");
    expect(promote.code).toBe(0);
    expect(promote.stdout).toMatch(/^ M greeting {2}[0-9a-f]{12} → [0-9a-f]{12} {2}\+1 -1$/m);
    expect(promote.stdout).toMatch(/^production → staging: 1 changed, 2 unchanged$/m);
    expect((await cli(repo, "diff", "staging", "v2", "--exit-code")).code).toBe(0);
  });

  it("NAME and globs narrow the comparison; a plain folder name selects the prompts in it", async () => {
    const files = {
      "prompts/agents/caller.yaml": GREETING,
      "prompts/agents/deep/planner.yaml": GREETING,
      "prompts/top.yaml": GREETING,
    };
    const repo = gitRepo([{ files, tags: ["v1"] }]);
    const edited = GREETING.replace("Hello", "Hey");
    writeFiles(repo, Object.fromEntries(Object.keys(files).map((path) => [path, edited])));
    const changed = async (...argv: string[]) =>
      (await cli(repo, "diff", ...argv)).stdout.match(/^M \S+/gm);
    expect(await changed()).toEqual(["M agents/caller", "M agents/deep/planner", "M top"]);
    expect(await changed("agents/*")).toEqual(["M agents/caller"]);
    expect(await changed("agents/**")).toEqual(["M agents/caller", "M agents/deep/planner"]);
    expect(await changed("agents")).toEqual(["M agents/caller", "M agents/deep/planner"]);
    expect(await changed("top")).toEqual(["M top"]);
    expect(await changed("v1", "top", "agents/deep/*")).toEqual(["M agents/deep/planner", "M top"]);
    const summary = await cli(repo, "diff", "top");
    expect(summary.stdout).toMatch(/^HEAD → working tree: 1 changed, 0 unchanged$/m);
  });

  it("shows added, removed and renamed prompts (git mv, and a new file git does not track yet)", async () => {
    const repo = gitRepo([{ files: PROMPTS, tags: ["v1"] }]);
    const before = await versions(repo);
    mkdirSync(join(repo, "prompts/people"));
    git(repo, "mv", "prompts/greeting.yaml", "prompts/people/greeting.yaml");
    git(repo, "rm", "-q", "prompts/planner.yaml");
    // An untracked copy and a deleted original: git sees only the deletion.
    renameSync(join(repo, "prompts/answerer.yaml"), join(repo, "prompts/responder.yaml"));
    writeFiles(repo, { "prompts/fresh.yaml": "template: Brand new.\n" });
    const after = await versions(repo);
    const result = await cli(repo, "diff");
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([
      `A fresh  none → ${after.fresh}`,
      `R greeting → people/greeting  ${before.greeting}`,
      '  breaking: renamed from "greeting": callers of "greeting" break',
      `D planner  ${before.planner} → none`,
      "  breaking: prompt removed",
      `R answerer → responder  ${before.answerer}`,
      '  breaking: renamed from "answerer": callers of "answerer" break',
      "HEAD → working tree: 1 added, 1 removed, 2 renamed, 0 unchanged; 3 prompts with breaking changes",
    ]);
  });

  it("follows a renamed and edited prompt between commits with git's rename detection", async () => {
    const long = GREETING.replace(
      "Hello {{name}}!",
      "Hello {{name}}!\n  Nice to see you.\n  Take a seat.\n  Coffee?",
    );
    const repo = gitRepo([
      { files: { ...PROMPTS, "prompts/greeting.yaml": long }, tags: ["v1"] },
      {
        files: {
          "prompts/greeting.yaml": null,
          "prompts/welcome.yaml": long.replace("Coffee?", "Tea?"),
        },
        tags: ["v2"],
      },
    ]);
    const result = await cli(repo, "diff", "v1", "v2");
    expect(result.stdout).toMatch(/^R greeting → welcome {2}[0-9a-f]{12} → [0-9a-f]{12}$/m);
    expect(result.stdout).toContain("  -Coffee?\n  +Tea?\n");
    expect(result.stdout).toMatch(/^v1 → v2: 1 renamed, 2 unchanged; 1 prompt with breaking/m);
  });

  it("prints the field-level changes exactly", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    writeFiles(repo, {
      "prompts/answerer.yaml": ANSWERER.replace("temperature: 0.2", "temperature: 0.7, top_p: 0.9")
        .replace(
          "user_query: string",
          "user_query: string\n  tone: { type: string, default: calm }",
        )
        .replace("Q: {{user_query}}", "Q: {{user_query}} ({{tone}})")
        .replace("weight: 30", "weight: 50")
        .replace("from the facts", "from the facts alone"),
    });
    const result = await cli(repo, "diff");
    const fields = lines(result.stdout).filter((line) => /^ {2}[a-z].*: /.test(line));
    expect(fields).toEqual([
      "  description: changed",
      "  model.temperature: 0.2 → 0.7",
      "  model.top_p: added (0.9)",
      "  variables.tone: added",
      "  variants.concise.weight: 30 → 50",
    ]);
    expect(result.stdout).not.toContain("breaking");
  });

  it("shows a change of YAML style and comments as formatting only, same version", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    const { greeting } = await versions(repo);
    writeFiles(repo, { "prompts/greeting.yaml": GREETING_RESTYLED });
    const result = await cli(repo, "diff");
    expect(lines(result.stdout)).toEqual([
      `= greeting: formatting only, same version ${greeting}`,
      "HEAD → working tree: no prompt changes (1 formatting only, 2 unchanged)",
    ]);
    expect((await cli(repo, "diff", "--exit-code")).code).toBe(0);
  });

  it("lists the prompts that include a changed partial, and why they changed", async () => {
    const repo = gitRepo([
      {
        files: {
          ...PROMPTS,
          "prompts/shared/rules.yaml": RULES,
          "prompts/caller.yaml": INCLUDER("Pick a tool."),
          "prompts/zplanner.yaml": INCLUDER("Plan."),
        },
      },
    ]);
    writeFiles(repo, { "prompts/shared/rules.yaml": RULES.replace("Be brief.", "Be very brief.") });
    const result = await cli(repo, "diff");
    const block = (name: string) =>
      result.stdout
        .split("\n\n")
        .find((text) => text.startsWith(`M ${name} `))
        ?.split("\n");
    expect(block("shared/rules")).toEqual([
      expect.stringMatching(/^M shared\/rules {2}[0-9a-f]{12} → [0-9a-f]{12}$/),
      "  included by: caller, zplanner",
      "  template:",
      "  @@ -1,1 +1,1 @@",
      "  -Be brief.",
      "  +Be very brief.",
    ]);
    expect(block("caller")).toEqual([
      expect.stringMatching(/^M caller {2}[0-9a-f]{12} → [0-9a-f]{12}$/),
      "  partial changed: shared/rules",
    ]);
    expect(result.stdout).toMatch(/^HEAD → working tree: 3 changed, 3 unchanged$/m);
  });
});

describe("prompts diff: breaking changes", () => {
  it("lists a removed, retyped and newly required variable and a removed variant", async () => {
    const repo = gitRepo([{ files: { "prompts/contract.yaml": CONTRACT } }]);
    writeFiles(repo, { "prompts/contract.yaml": CONTRACT_BROKEN });
    const result = await cli(repo, "diff");
    expect(result.code).toBe(0);
    expect(lines(result.stdout).filter((line) => line.startsWith("  breaking: "))).toEqual([
      '  breaking: variable "b" removed',
      '  breaking: variable "a" retyped: string → number',
      '  breaking: variable "c" is now required',
      '  breaking: variable "d" is now required (its default was removed)',
      '  breaking: variant "short" removed',
    ]);
    expect(result.stdout).toMatch(/; 1 prompt with breaking changes$/m);
  });

  it('calls a removed and an added variable of one type "renamed?"', async () => {
    const before = "variables:\n  user: string\ntemplate: 'Hi {{user}}'\n";
    const repo = gitRepo([{ files: { "prompts/hi.yaml": before } }]);
    writeFiles(repo, { "prompts/hi.yaml": before.replace(/user/g, "person") });
    const result = await cli(repo, "diff");
    expect(result.stdout).toContain(
      '  breaking: variable "user" removed, "person" added: renamed?\n',
    );
  });

  it.each<[string, number, number, Record<string, string | null>, string[]]>([
    ["nothing changed", 0, 0, {}, []],
    ["only formatting", 0, 0, { "prompts/greeting.yaml": GREETING_RESTYLED }, []],
    ["a model setting", 1, 0, { "prompts/answerer.yaml": ANSWERER.replace("0.2", "0.3") }, []],
    [
      "a new optional variable",
      1,
      0,
      {
        "prompts/greeting.yaml": GREETING.replace(
          "name: string",
          "name: string\n  mood: { type: string, required: false }",
        ).replace("Hello {{name}}", "Hello {{name}} {{mood}}"),
      },
      [],
    ],
    ["a prompt added", 1, 0, { "prompts/new.yaml": "template: New.\n" }, []],
    ["a prompt removed", 1, 1, { "prompts/planner.yaml": null }, []],
    ["a prompt renamed", 1, 1, {}, ["prompts/planner.yaml", "prompts/plan.yaml"]],
    [
      "a variable removed",
      1,
      1,
      {
        "prompts/greeting.yaml": GREETING.replace("  name: string\n", "").replace(
          "{{name}}",
          "you",
        ),
      },
      [],
    ],
    [
      "a variant removed",
      1,
      1,
      { "prompts/answerer.yaml": ANSWERER.replace(/variants:[\s\S]*$/, "") },
      [],
    ],
  ])(
    "%s: --exit-code exits %i, --exit-code --breaking %i",
    async (_label, anyChange, breaking, edits, move) => {
      const repo = gitRepo([{ files: PROMPTS }]);
      for (const [path, text] of Object.entries(edits)) {
        if (text === null) rmSync(join(repo, path));
        else writeFiles(repo, { [path]: text });
      }
      if (move.length === 2) git(repo, "mv", move[0] as string, move[1] as string);
      expect((await cli(repo, "diff")).code).toBe(0);
      expect((await cli(repo, "diff", "--exit-code")).code).toBe(anyChange);
      expect((await cli(repo, "diff", "--exit-code", "--breaking")).code).toBe(breaking);
      expect((await cli(repo, "diff", "--breaking", "--exit-code", "--stat")).code).toBe(breaking);
    },
  );

  it("refuses --breaking without --exit-code, exit 2", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    const result = await cli(repo, "diff", "--breaking");
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual([expect.stringMatching(/^✗ --breaking .*--exit-code/)]);
  });
});

describe("prompts diff --vars", () => {
  it("renders both sides with the variables and diffs the text the model sees", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    writeFiles(repo, {
      "prompts/greeting.yaml": GREETING.replace("Hello", "Hi"),
      "prompts/planner.yaml": PLANNER.replace("Plan the", "Plan all the"),
      "vars.yaml": "greeting:\n  name: Ada\nplanner: { user_query: Is Node 20 supported? }\n",
    });
    const result = await cli(repo, "diff", "--vars", "vars.yaml");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("  rendered:\n  @@ -1,1 +1,1 @@\n  -Hello Ada!\n  +Hi Ada!\n");
    expect(result.stdout).toContain(
      "  rendered:\n  @@ -1,5 +1,5 @@\n   [system]\n  -Plan the searches.\n  +Plan all the searches.\n",
    );
  });

  it("reports a render error on one side for that prompt only", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    writeFiles(repo, {
      "prompts/greeting.yaml": GREETING.replace(
        "name: string",
        "name: string\n  day: string",
      ).replace("Hello {{name}}!", "Hello {{name}}, happy {{day}}!"),
      "prompts/answerer.yaml": ANSWERER.replace("friendly", "formal"),
      "vars.json": JSON.stringify({
        greeting: { name: "Ada" },
        answerer: { infos: ["sky is blue"], user_query: "Why?" },
      }),
    });
    const result = await cli(repo, "diff", "--vars", "vars.json");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "  rendered: cannot render in the working tree: missing required variable: day\n",
    );
    expect(result.stdout).toContain(
      "  -Answer in a friendly tone.\n  +Answer in a formal tone.\n   Q: Why?\n",
    );
  });

  it("fails with exit 1 naming a --vars file that is no mapping of prompt → variables", async () => {
    const repo = gitRepo([{ files: { ...PROMPTS, "vars.yaml": "greeting: Ada\n" } }]);
    const result = await cli(repo, "diff", "--vars", "vars.yaml");
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(/^✗ .*vars\.yaml: "greeting" must map variable names to values$/),
    ]);
  });
});

describe("prompts diff --stat and --json", () => {
  it("--stat prints one line per prompt with counts, then the summary", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    const before = await versions(repo);
    writeFiles(repo, {
      "prompts/answerer.yaml": ANSWERER.replace("0.2", "0.7")
        .replace("friendly", "formal")
        .replace("  Q: {{user_query}}\n", "  Q: {{user_query}}\n  Thanks.\n"),
      "prompts/greeting.yaml": GREETING_RESTYLED,
    });
    rmSync(join(repo, "prompts/planner.yaml"));
    const after = await versions(repo);
    const result = await cli(repo, "diff", "--stat");
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")).toEqual([
      ` M answerer  ${before.answerer} → ${after.answerer}  +2 -1  1 field`,
      ` = greeting  ${before.greeting}                 formatting only`,
      ` D planner   ${before.planner} → none          breaking`,
      "HEAD → working tree: 1 removed, 1 changed, 1 formatting only, 0 unchanged; 1 prompt with breaking changes",
      "",
    ]);
  });

  it("--json prints {from, to, prompts, summary, different, breaking, issues}", async () => {
    const repo = gitRepo([{ files: PROMPTS, tags: ["v1"] }]);
    const before = await versions(repo);
    writeFiles(repo, {
      "prompts/answerer.yaml": ANSWERER.replace("0.2", "0.7").replace("friendly", "formal"),
    });
    const after = await versions(repo);
    const result = await cli(repo, "diff", "v1", "--json");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const data = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(data).sort()).toEqual([
      "breaking",
      "different",
      "from",
      "issues",
      "prompts",
      "summary",
      "to",
    ]);
    expect(data).toMatchObject({
      from: { ref: "v1", commit: git(repo, "rev-parse", "HEAD").trim() },
      to: { ref: null, commit: null },
      different: true,
      breaking: false,
      issues: { from: [], to: [] },
      summary: {
        added: 0,
        removed: 0,
        renamed: 0,
        changed: 1,
        formatting: 0,
        invalid: 0,
        unchanged: 2,
        breaking: 0,
      },
    });
    expect(data.prompts).toEqual([
      {
        name: "answerer",
        status: "changed",
        from: { name: "answerer", version: before.answerer, file: "prompts/answerer.yaml" },
        to: { name: "answerer", version: after.answerer, file: "prompts/answerer.yaml" },
        fields: [{ path: "model.temperature", change: "changed", from: 0.2, to: 0.7 }],
        bodies: [
          {
            path: "template",
            added: 1,
            removed: 1,
            hunks: [
              {
                oldStart: 2,
                oldLines: 5,
                newStart: 2,
                newLines: 5,
                lines: [
                  " {{#infos}}",
                  " - {{.}}",
                  " {{/infos}}",
                  "-Answer in a friendly tone.",
                  "+Answer in a formal tone.",
                  " Q: {{user_query}}",
                ],
              },
            ],
          },
        ],
        breaking: [],
        includedBy: [],
        viaPartials: [],
      },
    ]);
  });
});

describe("prompts diff: arguments and errors", () => {
  it.each([[["v9"]], [["v1", "v9"]], [["v9", "--", "greeting"]]])(
    "%j fails with one line naming the unknown ref, exit 1",
    async (argv) => {
      const repo = gitRepo([{ files: PROMPTS, tags: ["v1"] }]);
      const result = await cli(repo, "diff", ...argv);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(lines(result.stderr)).toEqual([expect.stringMatching(/^✗ unknown git ref "v9"/)]);
    },
  );

  it("shows every prompt as added before the first commit, or when HEAD had no prompt folder", async () => {
    const unborn = gitRepo();
    writeFiles(unborn, PROMPTS);
    const first = await cli(unborn, "diff");
    expect(first.code).toBe(0);
    expect(first.stdout.match(/^A \S+/gm)).toEqual(["A answerer", "A greeting", "A planner"]);

    const repo = gitRepo([{ files: { "README.md": "# app\n" }, tags: ["v0"] }, { files: PROMPTS }]);
    const result = await cli(repo, "diff", "v0", "HEAD", "--stat");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^v0 → HEAD: 3 added, 0 unchanged$/m);
  });

  it("fails with one line outside a git repository, exit 1", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "diff");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(/^✗ .* is not a git repository \(prompts diff needs git/),
    ]);
  });

  it('"--" ends the refs: after it, a name that is also a tag is a prompt name', async () => {
    const repo = gitRepo([
      { files: { ...PROMPTS, "prompts/release.yaml": GREETING }, tags: ["release"] },
      { files: { "prompts/greeting.yaml": GREETING.replace("Hello", "Hi") } },
    ]);
    writeFiles(repo, { "prompts/release.yaml": GREETING.replace("Hello", "Hey") });
    // As a ref: the tag against the working tree.
    const asRef = await cli(repo, "diff", "release");
    expect(asRef.stdout.match(/^M \S+/gm)).toEqual(["M greeting", "M release"]);
    // As a name: HEAD against the working tree, that prompt only.
    const asName = await cli(repo, "diff", "--", "release");
    expect(asName.stdout.match(/^M \S+/gm)).toEqual(["M release"]);
    const both = await cli(repo, "diff", "release", "HEAD", "--", "greeting");
    expect(both.stdout.match(/^M \S+/gm)).toEqual(["M greeting"]);
    const tooMany = await cli(repo, "diff", "release", "HEAD", "HEAD", "--", "greeting");
    expect(tooMany.code).toBe(2);
  });

  it("reports invalid prompts of either side as file:line:col and diffs the valid ones", async () => {
    const broken = "description: A typo in a key.\ntemplate: Hi\ntemplat: Hi again\n";
    const repo = gitRepo([
      { files: { ...PROMPTS, "prompts/broken.yaml": broken }, tags: ["v1"] },
      { files: { "prompts/broken.yaml": "template: Fixed.\n" }, tags: ["v2"] },
    ]);
    writeFiles(repo, {
      "prompts/planner.yaml": broken,
      "prompts/answerer.yaml": ANSWERER.replace("0.2", "0.7"),
    });
    const worktree = await cli(repo, "diff", "v2");
    expect(worktree.code).toBe(0);
    expect(lines(worktree.stderr)).toEqual([
      expect.stringMatching(/^prompts\/planner\.yaml:3:1: error: unknown key "templat"/),
    ]);
    expect(worktree.stdout).toMatch(/^M answerer {2}/m);
    expect(worktree.stdout).toContain(
      "! planner: invalid in the working tree (see the errors above); not compared",
    );
    expect(worktree.stdout).toMatch(/1 changed, 1 invalid, 2 unchanged; 1 prompt with breaking/);

    const refs = await cli(repo, "diff", "v1", "v2");
    expect(refs.code).toBe(0);
    expect(lines(refs.stderr)).toEqual([
      expect.stringMatching(/^v1:prompts\/broken\.yaml:3:1: error: unknown key "templat"/),
    ]);
    expect(refs.stdout).toContain("! broken: invalid at v1 (see the errors above); not compared");
  });

  it("exits 1 when a NAME asked for is missing or invalid on both sides", async () => {
    const broken = "template: Hi\ntemplat: Hi again\n";
    const repo = gitRepo([{ files: { ...PROMPTS, "prompts/broken.yaml": broken } }]);
    const invalid = await cli(repo, "diff", "HEAD", "broken");
    expect(invalid.code).toBe(1);
    expect(lines(invalid.stderr)).toEqual([
      expect.stringMatching(/^prompts\/broken\.yaml:2:1: error: unknown key/),
      '✗ prompt "broken" is invalid; fix the errors above (run: prompts validate)',
    ]);
    const missing = await cli(repo, "diff", "HEAD", "--", "greting");
    expect(missing.code).toBe(1);
    expect(lines(missing.stderr)).toEqual([
      '✗ prompt "greting" not found at HEAD or in the working tree (did you mean "greeting"?) (run: prompts list)',
    ]);
    // Where a ref could stand, the argument is named as both.
    const either = await cli(repo, "diff", "HEAD", "greting");
    expect(either.code).toBe(1);
    expect(lines(either.stderr)).toEqual([
      '✗ unknown git ref "greting" (run: git tag --list, git branch --all); no prompt is named "greting" either (did you mean "greeting"?) (run: prompts list)',
    ]);
    // A glob that matches nothing is no error.
    expect((await cli(repo, "diff", "HEAD", "nothing/*")).code).toBe(0);
  });

  it("works in a project below the top of the repository (a monorepo package)", async () => {
    const repo = gitRepo([
      {
        files: {
          "packages/app/prompts.config.yaml": "dir: prompts\n",
          "packages/app/prompts/greeting.yaml": GREETING,
          "prompts/greeting.yaml": GREETING,
        },
      },
    ]);
    const app = join(repo, "packages/app");
    git(app, "mv", "prompts/greeting.yaml", "prompts/hello.yaml");
    writeFileSync(join(app, "prompts/hello.yaml"), GREETING_RESTYLED);
    writeFiles(repo, { "prompts/greeting.yaml": GREETING.replace("Hello", "Hi") });
    const result = await cli(app, "diff");
    expect(lines(result.stdout)).toEqual([
      expect.stringMatching(/^R greeting → hello {2}[0-9a-f]{12}$/),
      '  breaking: renamed from "greeting": callers of "greeting" break',
      "HEAD → working tree: 1 renamed, 0 unchanged; 1 prompt with breaking changes",
    ]);
  });
});

describe("prompts diff: colours", () => {
  const edit = (repo: string) =>
    writeFiles(repo, { "prompts/answerer.yaml": ANSWERER.replace("friendly", "formal") });

  it("prints no escape codes with NO_COLOR, even on a terminal", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    edit(repo);
    const result = await cliOnTerminal(repo, { NO_COLOR: "1" }, "diff");
    expect(result.stdout).toContain("  -Answer in a friendly tone.\n");
    expect(result.stdout).not.toContain(ESC);
  });

  it("colours lines and highlights the changed words on a terminal", async () => {
    const repo = gitRepo([{ files: PROMPTS }]);
    edit(repo);
    const result = await cliOnTerminal(repo, { FORCE_COLOR: "1" }, "diff");
    expect(result.code).toBe(0);
    const red = `${ESC}31m`;
    const green = `${ESC}32m`;
    const inverse = `${ESC}7m`;
    expect(result.stdout).toContain(`${red}-`);
    expect(result.stdout).toContain(`${green}+`);
    // Only the word that changed is in reverse video, not the rest of its line.
    expect(result.stdout).toContain(`${inverse}friendly`);
    expect(result.stdout).toContain(`${inverse}formal`);
    expect(result.stdout).not.toContain(`${inverse}Answer`);
    // Without the codes, the text is the plain diff.
    // eslint-disable-next-line no-control-regex -- stripping ANSI codes is the point
    const plain = result.stdout.replace(/\u001b\[[0-9;]*m/g, "");
    expect(plain).toContain("  -Answer in a friendly tone.\n  +Answer in a formal tone.\n");
  });
});
