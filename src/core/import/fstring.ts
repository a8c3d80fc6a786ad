import { lineAt, type Conversion, type TemplateNode, tidy } from "./template-ir.js";

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Converts a Python `str.format` template, read as `string.Formatter().parse` reads it: `{{` and
 * `}}` are literal braces, `{name}` and `{name.field}` are variables. Conversions (`!r`),
 * format specs (`:>20`), indexing (`[0]`) and positional fields (`{}`, `{0}`) have no Mustache
 * equivalent and refuse the prompt, naming the field and its line.
 */
export function convertFstring(source: string): Conversion {
  const nodes: TemplateNode[] = [];
  let text = "";
  let index = 0;
  const refuse = (reason: string, at: number): Conversion => ({
    ok: false,
    refusal: { reason, line: lineAt(source, at) },
  });
  while (index < source.length) {
    const char = source[index];
    if (char === "}") {
      if (source[index + 1] !== "}") {
        return refuse("a single `}` (str.format fails on it; write `}}` for a brace)", index);
      }
      text += "}";
      index += 2;
      continue;
    }
    if (char !== "{") {
      text += char;
      index++;
      continue;
    }
    if (source[index + 1] === "{") {
      text += "{";
      index += 2;
      continue;
    }
    const close = fieldEnd(source, index + 1);
    if (close === -1) {
      return refuse("a `{` that is never closed (str.format fails on it)", index);
    }
    const field = source.slice(index + 1, close);
    const problem = fieldProblem(field);
    if (problem) return refuse(`{${field}}: ${problem}`, index);
    nodes.push({ kind: "text", text }, { kind: "var", name: field, line: lineAt(source, index) });
    text = "";
    index = close + 1;
  }
  nodes.push({ kind: "text", text });
  const changes = source.includes("{") || source.includes("}") ? ["str.format {x} → {{x}}"] : [];
  return { ok: true, nodes: tidy(nodes), changes };
}

/** Where a replacement field closes: braces nest inside a format spec (`{x:{width}}`). */
function fieldEnd(source: string, from: number): number {
  let depth = 1;
  for (let index = from; index < source.length; index++) {
    if (source[index] === "{") depth++;
    else if (source[index] === "}" && --depth === 0) return index;
  }
  return -1;
}

function fieldProblem(field: string): string | undefined {
  if (field === "" || /^\d/.test(field)) {
    return "a positional field: name it (str.format's positional arguments have no name to declare)";
  }
  if (field.includes("!")) return "a conversion (`!r`, `!s`, `!a`) has no Mustache equivalent";
  if (field.includes(":")) return "a format spec has no Mustache equivalent";
  if (field.includes("[")) return "indexing has no Mustache equivalent";
  if (!field.split(".").every((part) => NAME.test(part))) {
    return "not a variable name (letters, digits, _; fields after dots)";
  }
  return undefined;
}
