import { createRequire } from "node:module";

// Handlebars is CommonJS whose types declare no default export; require() reads it as it is.
const Handlebars = createRequire(import.meta.url)("handlebars") as typeof import("handlebars");
import type { Conversion, TemplateNode } from "./template-ir.js";
import { tidy } from "./template-ir.js";

type Ast = hbs.AST.Statement;
type Path = hbs.AST.PathExpression;

class Refused extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
  ) {
    super(reason);
  }
}

/**
 * Converts a Handlebars template, parsed with the `handlebars` package's own parser, as
 * Handlebars renders it with `noEscape` (as dotprompt does): variables, `{{#each}}`, `{{#if}}`,
 * `{{#unless}}`, `{{else}}`, partials. Helpers, `@data` variables, `../` paths and block
 * parameters refuse the prompt, naming the construct and its line. Handlebars' own whitespace
 * rules (standalone lines, `~`) are applied by its parser, so the text is what it prints.
 */
export function convertHandlebars(source: string): Conversion {
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(source);
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    const line = /line (\d+)/.exec(String(message))?.[1];
    return {
      ok: false,
      refusal: { reason: `Handlebars cannot parse it: ${message}`, line: Number(line ?? 1) },
    };
  }
  try {
    return {
      ok: true,
      nodes: tidy(convertBody(program.body, 0)),
      changes: ["Handlebars blocks → Mustache sections"],
    };
  } catch (error) {
    if (error instanceof Refused) {
      return { ok: false, refusal: { reason: error.reason, line: error.line } };
    }
    throw error;
  }
}

function convertBody(body: readonly Ast[], loops: number): TemplateNode[] {
  return body.flatMap((statement) => convertStatement(statement, loops));
}

function convertStatement(statement: Ast, loops: number): TemplateNode[] {
  const line = statement.loc?.start.line ?? 1;
  switch (statement.type) {
    case "ContentStatement":
      return [{ kind: "text", text: (statement as hbs.AST.ContentStatement).value }];
    case "CommentStatement":
      return [];
    case "MustacheStatement": {
      const mustache = statement as hbs.AST.MustacheStatement;
      if (mustache.params.length > 0 || mustache.hash || mustache.path.type !== "PathExpression") {
        throw new Refused(`the helper {{${describe(mustache.path)} …}}`, line);
      }
      const { name, item } = pathName(mustache.path as Path, loops, line);
      return [item ? { kind: "var", name, line, item: true } : { kind: "var", name, line }];
    }
    case "BlockStatement":
      return convertBlock(statement as hbs.AST.BlockStatement, loops, line);
    case "PartialStatement": {
      const partial = statement as hbs.AST.PartialStatement;
      if (partial.params.length > 0 || partial.hash || partial.name.type !== "PathExpression") {
        throw new Refused("a partial with parameters", line);
      }
      return [{ kind: "partial", name: partial.name.original, line }];
    }
    default:
      throw new Refused(`${statement.type} has no Mustache equivalent`, line);
  }
}

function convertBlock(block: hbs.AST.BlockStatement, loops: number, line: number): TemplateNode[] {
  const helper = block.path.type === "PathExpression" ? block.path.original : "";
  const [param, ...more] = block.params;
  if (!["each", "if", "unless"].includes(helper) || !param || more.length > 0 || block.hash) {
    throw new Refused(`the block helper {{#${describe(block.path)}}}`, line);
  }
  if (param.type !== "PathExpression") throw new Refused(`{{#${helper}}} of a literal`, line);
  if (block.program.blockParams?.length) throw new Refused("block parameters (as |x|)", line);
  const { name, item } = pathName(param as Path, loops, line);
  if (name === "." || name.includes(".")) {
    throw new Refused(`{{#${helper} ${(param as Path).original}}}: not a plain name`, line);
  }
  const role = helper === "each" ? "loop" : "if";
  const inner = loops + (role === "loop" ? 1 : 0);
  const section = (inverted: boolean, children: TemplateNode[]): TemplateNode => ({
    kind: "section",
    name,
    inverted,
    role,
    children,
    line,
    ...(item ? { item: true } : {}),
  });
  const out = [section(helper === "unless", convertBody(block.program.body, inner))];
  if (block.inverse) {
    out.push(section(helper !== "unless", convertBody(block.inverse.body, loops)));
  }
  return out;
}

function pathName(path: Path, loops: number, line: number): { name: string; item: boolean } {
  if (path.data) throw new Refused(`the data variable @${path.parts.join(".")}`, line);
  if (path.depth > 0) throw new Refused(`the parent path ${path.original}`, line);
  if (path.parts.length === 0) {
    if (loops === 0) throw new Refused("{{this}} outside a loop", line);
    return { name: ".", item: true };
  }
  return { name: path.parts.join("."), item: loops > 0 };
}

function describe(node: hbs.AST.Expression): string {
  return node.type === "PathExpression" ? (node as Path).original : node.type;
}
