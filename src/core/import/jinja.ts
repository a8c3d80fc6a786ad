import { lineAt, type Conversion, type TemplateNode, tidy } from "./template-ir.js";

const NAME = "[A-Za-z_][A-Za-z0-9_]*";
const PATH = new RegExp(`^${NAME}(?:\\.${NAME})*$`);
const FOR = new RegExp(`^for\\s+(${NAME})\\s+in\\s+(${NAME}(?:\\.${NAME})*)$`);
const IF = new RegExp(`^if\\s+(not\\s+)?(${NAME}(?:\\.${NAME})*)$`);
const TAG = /\{\{|\{%|\{#/g;

interface Frame {
  node: Extract<TemplateNode, { kind: "section" }> | undefined;
  kind: "root" | "for" | "if";
  /** The loop variable a `for` binds. */
  loopVar?: string;
  /** The section an `else` opens, for `endif` to close. */
  elseOf?: Extract<TemplateNode, { kind: "section" }>;
  body: TemplateNode[];
}

/**
 * Converts the subset of Jinja that prompts use, as `jinja2.Template(text)` renders it (default
 * settings: no autoescape, block lines kept, one trailing newline dropped): `{{ x }}` and
 * `{{ x.y }}`, `{% for i in xs %}`, `{% if [not] x %}…{% else %}…{% endif %}`, comments and
 * `-` whitespace control. Anything else (filters, expressions, macros, `loop.*`, `set`,
 * includes) refuses the prompt, naming the construct and its line.
 */
export function convertJinja(input: string): Conversion {
  const source = input.endsWith("\n") ? input.slice(0, -1) : input;
  const root: Frame = { node: undefined, kind: "root", body: [] };
  const stack: Frame[] = [root];
  const refuse = (reason: string, at: number): Conversion => ({
    ok: false,
    refusal: { reason, line: lineAt(source, at) },
  });
  let at = 0;
  let stripNext = false;
  const pushText = (text: string, stripEnd: boolean) => {
    let value = stripNext ? text.replace(/^\s+/, "") : text;
    if (stripEnd) value = value.replace(/\s+$/, "");
    stripNext = false;
    current().body.push({ kind: "text", text: value });
  };
  const current = () => stack.at(-1) as Frame;
  for (TAG.lastIndex = 0; ;) {
    const match = TAG.exec(source);
    const open = match?.index ?? source.length;
    const kind = match?.[0];
    const closer = kind === "{{" ? "}}" : kind === "{%" ? "%}" : "#}";
    const close = match ? source.indexOf(closer, open + 2) : -1;
    const rawInner = match && close !== -1 ? source.slice(open + 2, close) : "";
    const stripBefore = rawInner.startsWith("-");
    pushText(source.slice(at, open), stripBefore);
    if (!match) break;
    if (close === -1) return refuse(`${kind} is never closed`, open);
    const stripAfter = rawInner.endsWith("-");
    if (rawInner.startsWith("+") || rawInner.endsWith("+")) {
      return refuse("`+` whitespace control is not supported", open);
    }
    const inner = rawInner.slice(stripBefore ? 1 : 0, stripAfter ? -1 : undefined).trim();
    at = close + 2;
    TAG.lastIndex = at;
    stripNext = stripAfter;
    const line = lineAt(source, open);
    if (kind === "{#") continue;
    if (kind === "{{") {
      const node = readVariable(inner, stack, line);
      if ("reason" in node) return refuse(node.reason, open);
      current().body.push(node);
      continue;
    }
    const problem = readStatement(inner, stack, line);
    if (problem) return refuse(problem, open);
  }
  const open = stack.at(-1);
  if (stack.length > 1 && open) {
    return refuse(`{% ${open.kind} %} is never closed (add {% end${open.kind} %})`, source.length);
  }
  return { ok: true, nodes: tidy(root.body), changes: ["Jinja blocks → Mustache sections"] };
}

/** The name as seen from the innermost loop: its item (`.`), a field of it, or a variable. */
function resolveName(
  path: string,
  stack: readonly Frame[],
): { name: string; item: boolean } | { reason: string } {
  const [head = path, ...rest] = path.split(".");
  const loops = stack.filter((frame) => frame.kind === "for");
  const innermost = loops.at(-1);
  if (head === "loop") return { reason: "`loop.*` has no Mustache equivalent" };
  if (innermost?.loopVar === head) {
    return { name: rest.length === 0 ? "." : rest.join("."), item: rest.length > 0 };
  }
  if (loops.some((frame) => frame.loopVar === head)) {
    return { reason: `"${head}" is an outer loop's item: Mustache reaches only the innermost` };
  }
  return { name: path, item: false };
}

function readVariable(
  inner: string,
  stack: readonly Frame[],
  line: number,
): TemplateNode | { reason: string } {
  if (inner.includes("|")) return { reason: `a filter in {{ ${inner} }}` };
  if (!PATH.test(inner)) return { reason: `an expression in {{ ${inner} }}` };
  const resolved = resolveName(inner, stack);
  if ("reason" in resolved) return resolved;
  return resolved.item
    ? { kind: "var", name: resolved.name, line, item: true }
    : { kind: "var", name: resolved.name, line };
}

function readStatement(inner: string, stack: Frame[], line: number): string | undefined {
  const frame = stack.at(-1) as Frame;
  const forMatch = FOR.exec(inner);
  const ifMatch = IF.exec(inner);
  if (forMatch || ifMatch) {
    const path = (forMatch?.[2] ?? ifMatch?.[2]) as string;
    const resolved = resolveName(path, stack);
    if ("reason" in resolved) return resolved.reason;
    if (resolved.name === ".") return `{% ${inner} %} tests the loop item itself`;
    if (resolved.name.includes(".")) return `{% ${inner} %}: a dotted section name`;
    const section: Extract<TemplateNode, { kind: "section" }> = {
      kind: "section",
      name: resolved.name,
      inverted: Boolean(ifMatch?.[1]),
      role: forMatch ? "loop" : "if",
      children: [],
      line,
    };
    if (resolved.item) section.item = true;
    frame.body.push(section);
    const next: Frame = { node: section, kind: forMatch ? "for" : "if", body: section.children };
    if (forMatch?.[1]) next.loopVar = forMatch[1];
    stack.push(next);
    return undefined;
  }
  if (inner === "else") {
    if (frame.kind !== "if" || !frame.node || frame.elseOf) {
      return frame.kind === "for"
        ? "{% for %}…{% else %} has no Mustache equivalent"
        : "{% else %} outside an {% if %}";
    }
    const opposite: Extract<TemplateNode, { kind: "section" }> = {
      ...frame.node,
      inverted: !frame.node.inverted,
      children: [],
    };
    stack[stack.length - 2]?.body.push(opposite);
    frame.elseOf = opposite;
    frame.body = opposite.children;
    return undefined;
  }
  if (inner === "endfor" || inner === "endif") {
    const wanted = inner === "endfor" ? "for" : "if";
    if (frame.kind !== wanted) return `{% ${inner} %} without its {% ${wanted} %}`;
    stack.pop();
    return undefined;
  }
  const word = /^\w+/.exec(inner)?.[0] ?? inner;
  return `{% ${word} %} (${word === "elif" ? "elif chains" : "this statement"}) has no Mustache equivalent`;
}
