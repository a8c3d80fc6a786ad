import Mustache from "mustache";
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../src/core/stats.js";
import { scanTags, type Token } from "../src/core/template.js";

/** Mustache's own tokens, with its text tokens and the extra fields of partials left out. */
function mustacheTags(template: string, tags: [string, string]): Token[] | undefined {
  const writer = new Mustache.Writer();
  let tokens: Token[];
  try {
    tokens = writer.parse(template, tags) as Token[];
  } catch {
    return undefined;
  }
  const strip = (list: Token[]): Token[] =>
    list
      .filter((token) => token[0] !== "text")
      .map((token) => {
        const [type, value, start, end, children, closeAt] = token;
        // A partial's fifth field is its indentation, not tags.
        return type === "#" || type === "^"
          ? [type, value, start, end, strip(children ?? []), closeAt]
          : [type, value, start, end];
      });
  return strip(tokens);
}

function expectSameAsMustache(template: string, tags: [string, string] = ["{{", "}}"]): void {
  const scanned = scanTags(template, tags);
  const parsed = mustacheTags(template, tags);
  if (scanned === undefined) {
    // Left to Mustache: a template that does not parse, or that sets its delimiters.
    expect(
      parsed === undefined || template.includes(`${tags[0]}=`) || /\{\{\s*=/.test(template),
    ).toBe(true);
    return;
  }
  expect(scanned, JSON.stringify(template)).toEqual(parsed);
}

describe("scanning a template's tags", () => {
  it.each([
    "",
    "no tags at all",
    "Hi {{name}}, {{ spaced }} {{{raw}}} {{& amp}} {{! a comment }}",
    "{{#items}}- {{.}}\n{{/items}}{{^none}}nothing{{/none}}",
    "{{#a}}{{#b}}{{c}}{{/b}}{{/a}}",
    "{{> partial}} {{>  spaced/partial  }}",
    "{{ # spaced }}x{{ / spaced }}",
    "{{}} {{ }} {{{ }}}",
    "{{a}}}",
    "{{a\n}}",
    "unclosed {{tag",
    "{{#open}} never closed",
    "{{/never}} opened",
    "{{#a}}{{/b}}",
    "{{=<% %>=}} <% x %>",
    "{{{unclosed}}",
  ])("matches Mustache on %j", (template) => {
    expectSameAsMustache(template);
  });

  it("matches Mustache with other delimiters", () => {
    expectSameAsMustache("<% x %> {{y}} <%#s%><%{ r }%><%/s%>", ["<%", "%>"]);
    expectSameAsMustache("[[x]] [[{y}]]", ["[[", "]]"]);
  });

  it("matches Mustache on thousands of generated templates", () => {
    // TEMPLATE_SCAN_RUNS and TEMPLATE_SCAN_SEED search further by hand.
    const random = mulberry32(Number(process.env.TEMPLATE_SCAN_SEED ?? 11));
    const pieces = [
      "{{",
      "}}",
      "{",
      "}",
      "#",
      "^",
      "/",
      ">",
      "&",
      "!",
      " ",
      "\n",
      "\t",
      "a",
      "b",
      ".",
      "x.y",
      "=",
      "\u00a0",
      "text",
    ];
    const runs = Number(process.env.TEMPLATE_SCAN_RUNS ?? 5_000);
    for (let run = 0; run < runs; run++) {
      let template = "";
      const length = Math.floor(random() * 24);
      for (let i = 0; i < length; i++) template += pieces[Math.floor(random() * pieces.length)];
      expectSameAsMustache(template);
    }
  });
});
