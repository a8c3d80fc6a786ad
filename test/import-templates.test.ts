import { describe, expect, it } from "vitest";
import { convertCandidate, type Syntax } from "../src/core/import/convert.js";
import { type EngineCase, renderConverted, renderWithEngines } from "./import-engines.js";

interface TemplateCase {
  syntax: Exclude<Syntax, "mustache">;
  template: string;
  samples: Record<string, unknown>[];
  /** What the report says changed, in part. */
  change?: RegExp;
}

const people = [{ name: "Ada", role: "eng" }, { name: "Bob" }];

/** Templates that convert exactly: each rendered by its own engine and by gitprompts. */
const convertible: Record<string, TemplateCase> = {
  "fstring plain": {
    syntax: "fstring",
    template: "Answer: {user_query}\n",
    samples: [{ user_query: "why?" }],
  },
  "fstring braces": {
    syntax: "fstring",
    template: 'Reply as JSON {{"answer": {answer}}} for {name}.',
    samples: [{ answer: "42", name: "x" }],
  },
  "fstring literal mustache braces": {
    syntax: "fstring",
    template: "Use {{{{ placeholders }}}} like {x}",
    samples: [{ x: "this" }],
    change: /delimiters/,
  },
  "fstring brace next to field": { syntax: "fstring", template: "{{{x}}}", samples: [{ x: "v" }] },
  "fstring dotted": {
    syntax: "fstring",
    template: "Hi {user.name} ({user.id})",
    samples: [{ user: { name: "Ada", id: "7" } }],
  },
  "fstring no fields": { syntax: "fstring", template: "Just text.", samples: [{}] },
  "fstring only braces": {
    syntax: "fstring",
    template: "style={{{{color: 'red'}}}}",
    samples: [{}],
    change: /raw/,
  },
  "jinja inline": {
    syntax: "jinja",
    template: "Q: {{ question }} {% if urgent %}NOW{% else %}later{% endif %}",
    samples: [
      { question: "a", urgent: true },
      { question: "b", urgent: false },
    ],
  },
  "jinja block lines": {
    syntax: "jinja",
    template: "Facts:\n{% for fact in facts %}\n- {{ fact }}\n{% endfor %}\nQuestion: {{ q }}\n",
    samples: [
      { facts: ["a", "b"], q: "?" },
      { facts: [], q: "" },
    ],
  },
  "jinja objects in loop": {
    syntax: "jinja",
    template:
      "{% for p in people %}{{ p.name }}{% if p.role %} ({{ p.role }}){% endif %}; {% endfor %}",
    samples: [{ people }],
  },
  "jinja not and comments": {
    syntax: "jinja",
    template: "{# note #}{% if not done %}todo{% endif %} {{ who }}",
    samples: [
      { done: false, who: "me" },
      { done: true, who: "you" },
    ],
  },
  "jinja whitespace control": {
    syntax: "jinja",
    template: "A   {%- if x %}  B {%- endif -%}   C",
    samples: [{ x: true }, { x: false }],
  },
  "jinja if then print": {
    syntax: "jinja",
    template: "{% if name %}Hello {{ name }}{% endif %}!",
    samples: [{ name: "Ada" }, { name: "" }],
  },
  "jinja nested loops": {
    syntax: "jinja",
    template:
      "{% for g in groups %}\n{{ g.title }}:\n{% for m in g.members %}\n  * {{ m }}\n{% endfor %}\n{% endfor %}",
    samples: [
      {
        groups: [
          { title: "x", members: ["a", "b"] },
          { title: "y", members: [] },
        ],
      },
    ],
  },
  "jinja if on a looped list": {
    syntax: "jinja",
    template:
      "Describe {{ product }}.{% if features %} Features:{% for f in features %} {{ f }};{% endfor %}{% endif %}",
    samples: [
      { product: "a", features: ["x", "y"] },
      { product: "b", features: [] },
    ],
  },
  "handlebars if on a looped list": {
    syntax: "handlebars",
    template: "{{#if xs}}Items:{{#each xs}} {{this}}{{/each}}{{else}}No items{{/if}}",
    samples: [{ xs: ["1", "2"] }, { xs: [] }],
  },
  "handlebars each and if": {
    syntax: "handlebars",
    template:
      "Facts:\n{{#each facts}}\n- {{this}}\n{{/each}}\n{{#if urgent}}NOW{{else}}later{{/if}} {{q}}",
    samples: [
      { facts: ["a", "b"], urgent: true, q: "?" },
      { facts: [], urgent: false, q: "" },
    ],
  },
  "handlebars unless and fields": {
    syntax: "handlebars",
    template:
      "{{#each people}}{{name}}{{#unless role}} (no role){{/unless}}; {{/each}}{{#unless done}}\ntodo\n{{/unless}}",
    samples: [
      { people, done: false },
      { people: [], done: true },
    ],
  },
  "handlebars each else and tilde": {
    syntax: "handlebars",
    template: "{{#each xs~}}\n  {{this}},\n{{~else}}none{{/each}} {{!-- a comment --}}end",
    samples: [{ xs: ["1", "2"] }, { xs: [] }],
  },
  "variables only": {
    syntax: "variables",
    template: "Hi {{ name }}, see <div style={{color: 'red'}}> and {{name}}.",
    samples: [{ name: "Ada" }],
  },
  "variables, jsx only": {
    syntax: "variables",
    template: "<div style={{color: 'red'}}>${{ github.sha }}</div>",
    samples: [{}],
    change: /raw/,
  },
};

/** Templates refused, with the construct and its line. */
const refused: Record<string, { syntax: Syntax; template: string; reason: RegExp; line: number }> =
  {
    "fstring conversion": {
      syntax: "fstring",
      template: "a\n{x!r}",
      reason: /\{x!r\}.*conversion/,
      line: 2,
    },
    "fstring spec": { syntax: "fstring", template: "{x:>20}", reason: /format spec/, line: 1 },
    "fstring index": { syntax: "fstring", template: "{x[0]}", reason: /indexing/, line: 1 },
    "fstring positional": {
      syntax: "fstring",
      template: "{} and {0}",
      reason: /positional/,
      line: 1,
    },
    "fstring single brace": { syntax: "fstring", template: "a }", reason: /single `}`/, line: 1 },
    "jinja filter": {
      syntax: "jinja",
      template: "x\n\n{{ name | upper }}",
      reason: /filter/,
      line: 3,
    },
    "jinja loop.index": {
      syntax: "jinja",
      template: "{% for i in xs %}{{ loop.index }}{% endfor %}",
      reason: /loop\.\*/,
      line: 1,
    },
    "jinja set": { syntax: "jinja", template: "{% set x = 1 %}", reason: /set/, line: 1 },
    "jinja macro": {
      syntax: "jinja",
      template: "{% macro m() %}{% endmacro %}",
      reason: /macro/,
      line: 1,
    },
    "jinja unbalanced": {
      syntax: "jinja",
      template: "{% if x %}\nyes",
      reason: /never closed/,
      line: 2,
    },
    "jinja stray end": { syntax: "jinja", template: "a{% endfor %}", reason: /without/, line: 1 },
    "jinja expression": { syntax: "jinja", template: "{{ a + b }}", reason: /expression/, line: 1 },
    "jinja indented block": {
      syntax: "jinja",
      template: "x\n  {% if a %}\ny\n  {% endif %}\n",
      reason: /indented/,
      line: 2,
    },
    "handlebars helper": {
      syntax: "handlebars",
      template: "{{upper name}}",
      reason: /helper/,
      line: 1,
    },
    "handlebars @index": {
      syntax: "handlebars",
      template: "{{#each xs}}\n{{@index}}{{/each}}",
      reason: /@index/,
      line: 2,
    },
    "handlebars unbalanced": {
      syntax: "handlebars",
      template: "{{#if x}}a",
      reason: /cannot parse/,
      line: 1,
    },
    "handlebars parent path": {
      syntax: "handlebars",
      template: "{{#each xs}}{{../y}}{{/each}}",
      reason: /parent path/,
      line: 1,
    },
  };

describe("template conversion is proved against the source engines", () => {
  const entries = Object.entries(convertible);
  const converted = entries.map(([label, entry]) => {
    const result = convertCandidate(
      { source: label, name: "p", syntax: entry.syntax, template: entry.template },
      "p",
    );
    return { label, entry, result };
  });
  const cases: EngineCase[] = converted.flatMap(({ entry }) =>
    entry.samples.map((vars) => ({ engine: entry.syntax, template: entry.template, vars })),
  );
  const expected = renderWithEngines(cases);
  let next = 0;
  for (const { label, entry, result } of converted) {
    const outputs = entry.samples.map((vars) => ({ vars, expected: expected[next++] }));
    it(`${label} renders as ${entry.syntax} does`, () => {
      if (!result.ok) throw new Error(`refused: ${result.row.reason}`);
      if (entry.change) expect(result.row.changes.join("; ")).toMatch(entry.change);
      for (const { vars, expected: want } of outputs) {
        expect(want?.error).toBeUndefined();
        expect(renderConverted({ p: result.text }, "p", vars).text).toBe(want?.text);
      }
    });
  }
});

describe("templates that cannot be converted exactly are refused with the place", () => {
  for (const [label, entry] of Object.entries(refused)) {
    it(label, () => {
      const result = convertCandidate(
        { source: "in.json#p", name: "p", syntax: entry.syntax, template: entry.template },
        "p",
      );
      expect(result.ok).toBe(false);
      expect(result.row.status).toBe("refused");
      expect(result.row.reason).toMatch(entry.reason);
      expect(result.row.location).toBe(`in.json#p:${entry.line}`);
    });
  }
});
