import { applyPatch } from "diff";
import { describe, expect, it } from "vitest";
import {
  breakingChanges,
  diffFields,
  diffLines,
  type DiffOptions,
  diffPromptSets,
  type FieldChange,
  formatFieldChange,
  globToRegExp,
  nameMatcher,
  type PromptSetDiff,
  promptSetOf,
} from "../src/core/diff.js";
import { parsePromptSource } from "../src/core/parse.js";
import { mulberry32 } from "../src/core/stats.js";
import type { Prompt } from "../src/core/types.js";
import { validatePrompts } from "../src/core/validate.js";

/** Valid prompts from YAML texts by name, as the loader would give them. */
function promptSet(files: Record<string, string>): Map<string, Prompt> {
  const sources = Object.entries(files).map(([name, text]) => ({
    name,
    file: `prompts/${name}.yaml`,
    parsed: parsePromptSource(text),
  }));
  const { prompts, issues } = validatePrompts(sources);
  const errors = issues.filter((issue) => issue.severity === "error");
  if (errors.length > 0) throw new Error(`test prompt invalid: ${JSON.stringify(errors)}`);
  return prompts;
}

/** diffPromptSets of two sides whose prompts are all at hand. */
function diffSets(
  from: Map<string, Prompt>,
  to: Map<string, Prompt>,
  renames: ReadonlyMap<string, string>,
  changedNames: ReadonlySet<string>,
  options?: DiffOptions,
): PromptSetDiff {
  return diffPromptSets(promptSetOf(from), promptSetOf(to), renames, changedNames, options);
}

function one(text: string): Prompt {
  return promptSet({ p: text }).get("p") as Prompt;
}

const BASE = `description: Answers questions.
model: { name: model-one, temperature: 0.2 }
variables:
  user_query: string
  n: { type: string, required: false }
template: |
  Q: {{user_query}} {{n}}
variants:
  concise:
    weight: 30
    template: "Briefly: {{user_query}}"
`;

const CHAT = `variables:
  q: string
messages:
  - role: system
    content: Be brief.
  - role: user
    content: "{{q}}"
`;

describe("diffFields", () => {
  it.each<[string, string, string, string[]]>([
    ["a model setting", BASE, BASE.replace("0.2", "0.7"), ["model.temperature: 0.2 → 0.7"]],
    [
      "a model setting added and one removed",
      BASE,
      BASE.replace("temperature: 0.2", "top_p: 0.9"),
      ["model.temperature: removed (was 0.2)", "model.top_p: added (0.9)"],
    ],
    [
      "a string value, quoted when it has spaces",
      BASE,
      BASE.replace("name: model-one", 'name: "model two"'),
      ['model.name: model-one → "model two"'],
    ],
    [
      "a variable added",
      "variables:\n  a: string\ntemplate: '{{a}}'\n",
      "variables:\n  a: string\n  user_query: string\ntemplate: '{{a}} {{user_query}}'\n",
      ["variables.user_query: added"],
    ],
    [
      "a variable retyped",
      BASE,
      BASE.replace("n: { type: string", "n: { type: number"),
      ["variables.n.type: string → number"],
    ],
    [
      "required and default",
      BASE,
      BASE.replace("required: false }", "required: true, default: x }"),
      ["variables.n.required: false → true", "variables.n.default: added (x)"],
    ],
    [
      "a variant's weight",
      BASE,
      BASE.replace("weight: 30", "weight: 50"),
      ["variants.concise.weight: 30 → 50"],
    ],
    [
      "a variant removed",
      BASE,
      BASE.replace(/variants:[\s\S]*$/, ""),
      ["variants.concise: removed"],
    ],
    [
      "a variant whose name is no plain key",
      BASE.replace("concise:", "v1.2:"),
      BASE.replace("concise:", "v1.2:").replace("weight: 30", "weight: 20"),
      ['variants["v1.2"].weight: 30 → 20'],
    ],
    [
      "prose says only that it changed",
      BASE,
      BASE.replace("Answers questions.", "Answers every question."),
      ["description: changed"],
    ],
    [
      "a message's role, and a message added",
      CHAT,
      CHAT.replace("role: user", "role: assistant") +
        '  - role: user\n    content: "again {{q}}"\n',
      ["messages[1].role: user → assistant", "messages[2]: added (user)"],
    ],
    [
      "text turned chat",
      "template: Be brief.\n",
      "messages:\n  - role: system\n    content: Be brief.\n",
      ["kind: text → chat"],
    ],
    [
      "nested metadata",
      "template: x\nmetadata: { owner: { team: a } }\n",
      "template: x\nmetadata: { owner: { team: b } }\n",
      ["metadata.owner.team: a → b"],
    ],
    ["nothing but the body", BASE, BASE.replace("Q:", "Question:"), []],
  ])("%s", (_label, before, after, expected) => {
    expect(diffFields(one(before), one(after)).map(formatFieldChange)).toEqual(expected);
  });
});

describe("formatFieldChange", () => {
  it.each<[FieldChange, string]>([
    [
      { path: "model.temperature", change: "changed", from: 0.2, to: 0.7 },
      "model.temperature: 0.2 → 0.7",
    ],
    [{ path: "raw", change: "changed", from: false, to: true }, "raw: false → true"],
    [
      { path: "model.stop", change: "changed", from: ["a"], to: ["a", "b"] },
      'model.stop: ["a"] → ["a","b"]',
    ],
    [{ path: "model.name", change: "changed", from: "", to: "m" }, 'model.name: "" → m'],
    [{ path: "model.x", change: "changed", from: "a".repeat(41), to: "b" }, "model.x: changed"],
    [{ path: "model.x", change: "changed", from: "two\nlines", to: "b" }, "model.x: changed"],
    [
      { path: "variables.q.description", change: "changed", from: "a", to: "b" },
      "variables.q.description: changed",
    ],
    [
      { path: "variables.q", change: "added", to: { type: "string", required: true } },
      "variables.q: added",
    ],
    [{ path: "model.seed", change: "removed", from: 7 }, "model.seed: removed (was 7)"],
  ])("%j → %s", (change, line) => {
    expect(formatFieldChange(change)).toBe(line);
  });
});

describe("breakingChanges", () => {
  const withVars = (vars: string, body = "{{a}}") =>
    `variables:\n${vars}template: "${body}"\nvariants:\n  v: { weight: 10 }\n`;
  it.each<[string, string, string, string[]]>([
    ["nothing for a new body", withVars("  a: string\n"), withVars("  a: string\n", "x {{a}}"), []],
    [
      "a variable removed",
      withVars("  a: string\n  b: number\n", "{{a}}{{b}}"),
      withVars("  a: string\n"),
      ['variable "b" removed'],
    ],
    [
      "a removed and an added variable of one type: renamed?",
      withVars("  a: string\n"),
      withVars("  c: string\n", "{{c}}"),
      ['variable "a" removed, "c" added: renamed?'],
    ],
    [
      "retyped",
      withVars("  a: string\n"),
      withVars("  a: number\n"),
      ['variable "a" retyped: string → number'],
    ],
    [
      "required false → true",
      withVars("  a: { type: string, required: false }\n"),
      withVars("  a: string\n"),
      ['variable "a" is now required'],
    ],
    [
      "a default removed",
      withVars("  a: { type: string, default: x }\n"),
      withVars("  a: string\n"),
      ['variable "a" is now required (its default was removed)'],
    ],
    [
      "a new required variable",
      withVars("  a: string\n"),
      withVars("  a: string\n  z: number\n", "{{a}}{{z}}"),
      ['new required variable "z"'],
    ],
    [
      "nothing for a new optional variable or one with a default",
      withVars("  a: string\n"),
      withVars(
        "  a: string\n  y: { type: number, required: false }\n  z: { type: number, default: 1 }\n",
        "{{a}}{{y}}{{z}}",
      ),
      [],
    ],
    [
      "nothing for a variable made optional",
      withVars("  a: string\n"),
      withVars("  a: { type: string, required: false }\n"),
      [],
    ],
    [
      "a variant removed",
      withVars("  a: string\n"),
      withVars("  a: string\n").replace(/variants:.*\n.*\n/, ""),
      ['variant "v" removed'],
    ],
    [
      "text turned chat",
      "template: hi\n",
      "messages:\n  - { role: user, content: hi }\n",
      ["kind changed: text → chat (callers read messages now)"],
    ],
  ])("%s", (_label, before, after, expected) => {
    const a = promptSet({ p: before });
    const b = promptSet({ p: after });
    const messages = breakingChanges(a.get("p") as Prompt, a, b.get("p") as Prompt, b).map(
      (change) => change.message,
    );
    expect(messages).toEqual(expected);
  });

  it("counts the variables a partial brings: a required one added there breaks the includer", () => {
    const partial = "variables:\n  tone: string\ntemplate: 'Tone: {{tone}}'\n";
    const a = promptSet({ p: "template: '{{> shared}}'\n", shared: "template: plain\n" });
    const b = promptSet({ p: "template: '{{> shared}}'\n", shared: partial });
    expect(
      breakingChanges(a.get("p") as Prompt, a, b.get("p") as Prompt, b).map((c) => c.message),
    ).toEqual(['new required variable "tone"']);
  });
});

describe("diffLines", () => {
  it("gives unified hunks with -old and +new lines and counts them", () => {
    const result = diffLines("one\nold line\nthree\n", "one\nnew line\nthree\nfour\n");
    expect(result.added).toBe(2);
    expect(result.removed).toBe(1);
    expect(result.hunks).toEqual([
      {
        oldStart: 1,
        oldLines: 3,
        newStart: 1,
        newLines: 4,
        lines: [" one", "-old line", "+new line", " three", "+four"],
      },
    ]);
  });

  it.each<[string, string, string, string[]]>([
    ["neither side ends with a newline", "a", "b", ["-a", "+b"]],
    ["a text added", "", "b", ["+b"]],
    ["a newline added", "a", "a\n", ["-a", "\\ No newline at end of file", "+a"]],
  ])("says nothing of a missing final newline unless it changed: %s", (_label, a, b, lines) => {
    expect(diffLines(a, b).hunks.flatMap((hunk) => hunk.lines)).toEqual(lines);
  });

  it("keeps only the given lines of context", () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i}`).join("\n");
    const after = before.replace("line 10", "line ten");
    const [hunk] = diffLines(before, after, 1).hunks;
    expect(hunk?.lines).toEqual([" line 9", "-line 10", "+line ten", " line 11"]);
  });

  it("diffs only what lies between the common start and end, and still gives a minimal patch that turns one text into the other", () => {
    const random = mulberry32(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    // Few distinct lines, so that edits meet repeated lines at the edges of the common parts.
    const words = ["alpha", "beta", "gamma", "", "beta"];
    for (let round = 0; round < 400; round++) {
      const before = Array.from({ length: Math.floor(random() * 30) }, () => pick(words));
      const after = [...before];
      for (let edits = Math.floor(random() * 4); edits > 0; edits--) {
        const at = Math.floor(random() * (after.length + 1));
        const edit = pick(["insert", "delete", "replace"]);
        if (edit === "insert") after.splice(at, 0, pick(words));
        else if (edit === "delete") after.splice(at, 1);
        else after.splice(at, 1, `${pick(words)}!`);
      }
      const ending = () => pick(["\n", ""]);
      const [oldText, newText] = closedPair(
        before.join("\n") + ending(),
        after.join("\n") + ending(),
      );
      const context = pick([0, 1, 3]);
      const result = diffLines(oldText, newText, context);
      const label = JSON.stringify({ oldText, newText, context });
      // Where lines repeat, another alignment may be as short as the whole texts' one: what
      // must hold is the same size and a patch that applies exactly where it says.
      const whole = diffLines(oldText, newText, Number.MAX_SAFE_INTEGER);
      expect([result.added, result.removed], label).toEqual([whole.added, whole.removed]);
      const patch = { oldFileName: "", newFileName: "", oldHeader: "", newHeader: "" };
      expect(applyPatch(oldText, { ...patch, hunks: result.hunks }), label).toBe(newText);
      for (const hunk of result.hunks) {
        const kept = hunk.lines.filter((line) => line.startsWith(" ")).length;
        expect(hunk.oldLines, label).toBe(kept + hunk.lines.filter((l) => l[0] === "-").length);
      }
    }
  });
});

/** The texts as diffLines compares them: a final newline added where neither side has one. */
function closedPair(a: string, b: string): [string, string] {
  const open = (text: string) => text === "" || !text.endsWith("\n");
  return open(a) && open(b) ? [a === "" ? a : `${a}\n`, b === "" ? b : `${b}\n`] : [a, b];
}

/** The statuses of a set diff as `status name` lines. */
function statuses(result: PromptSetDiff): string[] {
  return result.prompts.map((entry) =>
    entry.status === "renamed"
      ? `renamed ${entry.from?.name} → ${entry.to?.name}`
      : `${entry.status} ${entry.name}`,
  );
}

describe("diffPromptSets", () => {
  const GREETING = "variables:\n  name: string\ntemplate: 'Hello {{name}}!'\n";
  const BYE = "template: Bye.\n";
  const FAREWELL = "template: Farewell.\n";

  it.each<
    [string, Record<string, string>, Record<string, string>, [string, string][], string[], string[]]
  >([
    ["nothing differs", { a: BYE }, { a: BYE }, [], [], []],
    ["a prompt added", { a: BYE }, { a: BYE, b: GREETING }, [], [], ["added b"]],
    ["a prompt removed", { a: BYE, b: GREETING }, { a: BYE }, [], ["b"], ["removed b"]],
    ["a prompt changed", { a: BYE }, { a: FAREWELL }, [], ["a"], ["changed a"]],
    [
      "a rename git saw, with an edit",
      { old: BYE },
      { new: FAREWELL },
      [["new", "old"]],
      ["old", "new"],
      ["renamed old → new"],
    ],
    [
      "a rename git did not see: same version under another name",
      { old: GREETING, other: BYE },
      { new: GREETING, more: FAREWELL },
      [],
      ["old"],
      ["added more", "renamed old → new", "removed other"],
    ],
    ["a file changed but not its version", { a: BYE }, { a: BYE }, [], ["a"], ["formatting a"]],
    [
      "a git rename whose target name exists on both sides is no rename",
      { a: BYE, b: GREETING },
      { a: FAREWELL, b: GREETING },
      [["a", "b"]],
      ["a", "b"],
      ["changed a", "formatting b"],
    ],
  ])("%s", (_label, before, after, renames, changed, expected) => {
    const result = diffSets(
      promptSet(before),
      promptSet(after),
      new Map(renames),
      new Set(changed),
    );
    expect(statuses(result)).toEqual(expected);
    expect(result.different).toBe(expected.some((line) => !line.startsWith("formatting")));
  });

  it("counts each status and the unchanged prompts", () => {
    const result = diffSets(
      promptSet({ a: BYE, b: GREETING, c: BYE.replace("Bye", "C"), gone: "template: G\n" }),
      promptSet({ a: FAREWELL, b: GREETING, c: BYE.replace("Bye", "C"), fresh: "template: F\n" }),
      new Map(),
      new Set(["c"]),
    );
    expect(result.summary).toEqual({
      added: 1,
      removed: 1,
      renamed: 0,
      changed: 1,
      formatting: 1,
      invalid: 0,
      unchanged: 1,
      breaking: 1,
    });
    expect(result.breaking).toBe(true);
  });

  it("marks removed and renamed prompts as breaking, added ones not", () => {
    const result = diffSets(
      promptSet({ gone: BYE, old: GREETING }),
      promptSet({ new: GREETING, fresh: FAREWELL }),
      new Map(),
      new Set(),
    );
    expect(Object.fromEntries(result.prompts.map((e) => [e.name, e.breaking]))).toEqual({
      fresh: [],
      gone: [{ code: "prompt-removed", message: "prompt removed" }],
      new: [{ code: "prompt-renamed", message: 'renamed from "old": callers of "old" break' }],
    });
  });

  it("reports a prompt valid on one side only as invalid there, not as added or removed", () => {
    const result = diffSets(
      promptSet({ a: BYE, b: BYE }),
      promptSet({ b: BYE, c: GREETING }),
      new Map(),
      new Set(),
      { invalid: { from: new Set(["c"]), to: new Set(["a"]) } },
    );
    expect(result.prompts.map((e) => [e.name, e.status, e.invalidAt, e.breaking.length])).toEqual([
      ["a", "invalid", "to", 1],
      ["c", "invalid", "from", 0],
    ]);
    expect(result.summary.invalid).toBe(2);
  });

  it("compares only the names the filter accepts, either name of a rename", () => {
    const result = diffSets(
      promptSet({ "agents/a": BYE, "agents/old": GREETING, top: BYE }),
      promptSet({ "agents/a": FAREWELL, "misc/new": GREETING, top: FAREWELL }),
      new Map(),
      new Set(),
      { filter: nameMatcher(["agents/*"]) },
    );
    expect(statuses(result)).toEqual(["changed agents/a", "renamed agents/old → misc/new"]);
  });

  it("gives field changes, body hunks and breaking changes of a changed prompt", () => {
    const result = diffSets(
      promptSet({ p: BASE }),
      promptSet({
        p: BASE.replace("0.2", "0.7")
          .replace("Q:", "Question:")
          .replace(/variants:[\s\S]*$/, ""),
      }),
      new Map(),
      new Set(["p"]),
    );
    const [entry] = result.prompts;
    expect(entry?.fields.map(formatFieldChange)).toEqual([
      "model.temperature: 0.2 → 0.7",
      "variants.concise: removed",
    ]);
    expect(entry?.bodies).toEqual([
      {
        path: "template",
        added: 1,
        removed: 1,
        hunks: [
          {
            oldStart: 1,
            oldLines: 1,
            newStart: 1,
            newLines: 1,
            lines: ["-Q: {{user_query}} {{n}}", "+Question: {{user_query}} {{n}}"],
          },
        ],
      },
    ]);
    expect(entry?.breaking).toEqual([
      { code: "variant-removed", message: 'variant "concise" removed' },
    ]);
    expect(entry?.from?.version).not.toBe(entry?.to?.version);
  });

  it("diffs each message and a variant's own body", () => {
    const before = `${CHAT}variants:\n  v:\n    weight: 5\n    messages:\n      - { role: user, content: "short {{q}}" }\n`;
    const after = before.replace("Be brief.", "Be very brief.").replace("short", "terse");
    const [entry] = diffSets(
      promptSet({ p: before }),
      promptSet({ p: after }),
      new Map(),
      new Set(),
    ).prompts;
    expect(entry?.bodies.map((body) => [body.path, body.role, body.hunks[0]?.lines])).toEqual([
      ["messages[0]", "system", ["-Be brief.", "+Be very brief."]],
      ["variants.v.messages[0]", "user", ["-short {{q}}", "+terse {{q}}"]],
    ]);
  });

  it("lists who includes a changed partial, and says which partial changed an includer", () => {
    const includer = "template: 'Rules: {{> shared/rules}}'\n";
    const result = diffSets(
      promptSet({
        caller: includer,
        planner: includer,
        other: BYE,
        "shared/rules": "template: Be brief.\n",
      }),
      promptSet({
        caller: includer,
        planner: includer,
        other: BYE,
        "shared/rules": "template: Be kind.\n",
      }),
      new Map(),
      new Set(["shared/rules"]),
    );
    expect(statuses(result)).toEqual(["changed caller", "changed planner", "changed shared/rules"]);
    const byName = new Map(result.prompts.map((entry) => [entry.name, entry]));
    expect(byName.get("shared/rules")?.includedBy).toEqual(["caller", "planner"]);
    expect(byName.get("caller")).toMatchObject({
      viaPartials: ["shared/rules"],
      fields: [],
      bodies: [],
    });
  });

  it("renders both sides with the given variables and diffs the text", () => {
    const result = diffSets(
      promptSet({ g: GREETING }),
      promptSet({ g: GREETING.replace("Hello", "Hi") }),
      new Map(),
      new Set(),
      { variables: new Map([["g", { name: "Ada" }]]) },
    );
    expect(result.prompts[0]?.rendered).toEqual({
      added: 1,
      removed: 1,
      hunks: [
        { oldStart: 1, oldLines: 1, newStart: 1, newLines: 1, lines: ["-Hello Ada!", "+Hi Ada!"] },
      ],
    });
  });

  it("reports a render error of one side for that prompt", () => {
    const result = diffSets(
      promptSet({ g: GREETING }),
      promptSet({ g: "variables:\n  name: string\n  day: string\ntemplate: '{{name}} {{day}}'\n" }),
      new Map(),
      new Set(),
      { variables: new Map([["g", { name: "Ada" }]]) },
    );
    expect(result.prompts[0]?.rendered).toEqual({
      toError: 'cannot render "g": missing required variable: day',
      added: 0,
      removed: 0,
      hunks: [],
    });
  });
});

describe("nameMatcher and globToRegExp", () => {
  it.each<[string[], string, boolean]>([
    [[], "anything/at/all", true],
    [["greeting"], "greeting", true],
    [["greeting"], "greetings", false],
    [["agents"], "agents/planner", true],
    [["agents/"], "agents/x/y", true],
    [["agents"], "agentsmith", false],
    [["agents/*"], "agents/planner", true],
    [["agents/*"], "agents/deep/planner", false],
    [["agents/**"], "agents/deep/planner", true],
    [["**/rules"], "rules", true],
    [["**/rules"], "shared/x/rules", true],
    [["*_prompt"], "answerer_prompt", true],
    [["*_prompt"], "agents/answerer_prompt", false],
    [["p?"], "p1", true],
    [["v1.2"], "v1x2", false],
    [["a", "b*"], "bee", true],
  ])("%j selects %s: %s", (patterns, name, expected) => {
    expect(nameMatcher(patterns)(name)).toBe(expected);
  });

  it("escapes regular-expression characters", () => {
    expect(globToRegExp("a+(b)*").test("a+(b)c")).toBe(true);
    expect(globToRegExp("a+(b)*").test("aa(b)c")).toBe(false);
  });
});
