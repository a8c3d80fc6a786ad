import type { VariableSpec } from "../types.js";

/**
 * A template read from another engine's syntax, as the Mustache it becomes: text, variables
 * (`.` for the current item of a loop), sections (a loop or a condition), partials. Every source
 * converter produces this; {@link emitMustache} writes it out.
 */
export type TemplateNode =
  | { kind: "text"; text: string }
  /** `item`: the name is a field of the current loop item, not a variable. */
  | { kind: "var"; name: string; line: number; item?: boolean }
  | {
      kind: "section";
      name: string;
      inverted: boolean;
      /** A loop makes its variable an array; a condition, a boolean (or the string it tests). */
      role: "loop" | "if";
      /** The name is a field of the current loop item, not a variable. */
      item?: boolean;
      children: TemplateNode[];
      line: number;
    }
  | { kind: "partial"; name: string; line: number }
  /** A comment kept in place: Handlebars and Mustache both drop a comment's line when it stands alone. */
  | { kind: "comment" };

/** Why a template cannot be converted exactly, and where (1-based line in its source text). */
export interface Refusal {
  reason: string;
  line: number;
}

/** A converted template or a located refusal. */
export type Conversion =
  { ok: true; nodes: TemplateNode[]; changes: string[] } | { ok: false; refusal: Refusal };

/** The line (1-based) of `offset` in `text`. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let index = text.indexOf("\n"); index !== -1 && index < offset;) {
    line++;
    index = text.indexOf("\n", index + 1);
  }
  return line;
}

/** Merges neighbouring text nodes, drops empty ones. */
export function tidy(nodes: TemplateNode[]): TemplateNode[] {
  const out: TemplateNode[] = [];
  for (const node of nodes) {
    if (node.kind === "text") {
      if (node.text === "") continue;
      const last = out.at(-1);
      if (last?.kind === "text") {
        out[out.length - 1] = { kind: "text", text: last.text + node.text };
        continue;
      }
    }
    if (node.kind === "section") out.push({ ...node, children: tidy(node.children) });
    else out.push(node);
  }
  return out;
}

/**
 * `{% if xs %}` / `{{#if xs}}` on a list that is also looped over: Mustache would repeat the
 * block per item, so the test becomes `{{#xs.length}}` (a list is true when it is not empty,
 * in Jinja and Handlebars alike). Returns the changed trees.
 */
export function testListsByLength(bodies: readonly TemplateNode[][]): TemplateNode[][] {
  const looped = new Set<string>();
  const collect = (nodes: readonly TemplateNode[]) => {
    for (const node of nodes) {
      if (node.kind !== "section") continue;
      if (node.role === "loop" && !node.item) looped.add(node.name);
      collect(node.children);
    }
  };
  bodies.forEach(collect);
  const rewrite = (nodes: readonly TemplateNode[]): TemplateNode[] =>
    nodes.map((node) => {
      if (node.kind !== "section") return node;
      const byLength = node.role === "if" && !node.item && looped.has(node.name);
      return {
        ...node,
        name: byLength ? `${node.name}.length` : node.name,
        children: rewrite(node.children),
      };
    });
  return looped.size === 0 ? [...bodies] : bodies.map(rewrite);
}

interface Usage {
  printed: boolean;
  fields: boolean;
  looped: boolean;
  tested: boolean;
  line: number;
}

/**
 * The variables a converted template needs, typed by use: looped over → `array`, only tested →
 * `boolean`, read by field → `object`, otherwise `string`. Inside a loop, names are fields of
 * the item and declare nothing. Refuses the uses Mustache would read differently.
 */
export function inferVariables(
  bodies: readonly TemplateNode[][],
): { variables: Record<string, VariableSpec> } | { refusal: Refusal } {
  const usages = new Map<string, Usage>();
  let refusal: Refusal | undefined;
  const use = (name: string, line: number, change: Partial<Usage>) => {
    const usage = usages.get(name) ?? {
      printed: false,
      fields: false,
      looped: false,
      tested: false,
      line,
    };
    usages.set(name, Object.assign(usage, change));
  };
  const walk = (nodes: readonly TemplateNode[], enclosing: ("loop" | "if")[]) => {
    for (const node of nodes) {
      if (refusal) return;
      if (node.kind === "var") {
        if (node.name === "." && enclosing.at(-1) === "if") {
          refusal = {
            reason:
              "the loop item is printed inside a condition: Mustache would print the condition's value there",
            line: node.line,
          };
          return;
        }
        if (node.name === "." || node.item) continue;
        const [head = node.name, ...rest] = node.name.split(".");
        use(head, node.line, rest.length > 0 ? { fields: true } : { printed: true });
      } else if (node.kind === "section") {
        // `xs.length` only tests the list the loop declares.
        if (!node.item && !node.name.endsWith(".length")) {
          use(node.name, node.line, node.role === "loop" ? { looped: true } : { tested: true });
        }
        walk(node.children, [...enclosing, node.role]);
      }
    }
  };
  for (const body of bodies) walk(body, []);
  if (refusal) return { refusal };
  const variables: Record<string, VariableSpec> = {};
  for (const [name, usage] of usages) {
    if (usage.looped && (usage.tested || usage.printed || usage.fields)) {
      return {
        refusal: {
          reason: `"${name}" is looped over and also tested or printed: Mustache would repeat the block or print the list differently`,
          line: usage.line,
        },
      };
    }
    if (usage.fields && usage.printed) {
      return {
        refusal: {
          reason: `"${name}" is printed whole and read by field: its printed form differs between engines`,
          line: usage.line,
        },
      };
    }
    const type = usage.looped
      ? "array"
      : usage.fields
        ? "object"
        : usage.printed
          ? "string"
          : "boolean";
    variables[name] = { type, required: true };
  }
  return { variables };
}

/** The Mustache tags to try, in order, when the text holds the default ones. */
const TAG_CANDIDATES: [string, string][] = [
  ["{{", "}}"],
  ["<%", "%>"],
  ["[[", "]]"],
  ["<<", ">>"],
  ["{%", "%}"],
  ["(((", ")))"],
];

type Piece =
  { tag: false; text: string } | { tag: true; text: string; block: boolean; line: number };

/** Options of {@link emitMustache}. */
export interface EmitOptions {
  /**
   * The source engine keeps the line of a block tag that stands alone on it (Jinja does;
   * Handlebars, like Mustache, drops it): the output re-creates that line's end.
   */
  keepStandaloneLines?: boolean;
}

/** The Mustache text of converted bodies, with the tags they need. */
export type Emitted =
  | { ok: true; bodies: string[]; delimiters?: [string, string]; raw?: true; changes: string[] }
  | { ok: false; refusal: Refusal };

/**
 * Writes converted templates as Mustache. All bodies of a prompt share its tags, so they are
 * chosen together: `{{ }}` unless some text holds them (then `raw: true` when there is no tag
 * at all, else the first other pair the text does not hold).
 */
export function emitMustache(
  bodies: readonly TemplateNode[][],
  options: EmitOptions = {},
): Emitted {
  const changes: string[] = [];
  const pieceLists: Piece[][] = [];
  for (const body of bodies) {
    const pieces: Piece[] = [];
    const refusal = toPieces(body, pieces);
    if (refusal) return { ok: false, refusal };
    pieceLists.push(pieces);
  }
  const hasTags = pieceLists.some((pieces) => pieces.some((piece) => piece.tag));
  if (!hasTags) {
    const texts = pieceLists.map((pieces) => pieces.map((piece) => piece.text).join(""));
    if (texts.some((text) => /\{\{|\}\}/.test(text))) {
      changes.push("kept verbatim with `raw: true`: its {{ }} are text, not template tags");
      return { ok: true, bodies: texts, raw: true, changes };
    }
    return { ok: true, bodies: texts, changes };
  }
  if (options.keepStandaloneLines) {
    for (let index = 0; index < pieceLists.length; index++) {
      const fixed = keepStandaloneLines(pieceLists[index] ?? []);
      if ("refusal" in fixed) return { ok: false, refusal: fixed.refusal };
      pieceLists[index] = fixed.pieces;
    }
  }
  for (const tags of TAG_CANDIDATES) {
    const written = pieceLists.map((pieces) => writePieces(pieces, tags));
    if (written.every((text) => text !== undefined)) {
      if (tags !== TAG_CANDIDATES[0]) {
        changes.push(`delimiters ${tags.join(" ")}: the text holds literal {{ or }}`);
        return { ok: true, bodies: written, delimiters: tags, changes };
      }
      return { ok: true, bodies: written, changes };
    }
  }
  return {
    ok: false,
    refusal: { reason: "the text holds every pair of tags gitprompts could use", line: 1 },
  };
}

function toPieces(nodes: readonly TemplateNode[], pieces: Piece[]): Refusal | undefined {
  for (const node of nodes) {
    switch (node.kind) {
      case "text":
        pieces.push({ tag: false, text: node.text });
        break;
      case "var":
        pieces.push({ tag: true, text: node.name, block: false, line: node.line });
        break;
      case "partial":
        pieces.push({ tag: true, text: `>${node.name}`, block: true, line: node.line });
        break;
      case "comment":
        pieces.push({ tag: true, text: "! ", block: true, line: 0 });
        break;
      case "section": {
        const open = `${node.inverted ? "^" : "#"}${node.name}`;
        pieces.push({ tag: true, text: open, block: true, line: node.line });
        const refusal = toPieces(node.children, pieces);
        if (refusal) return refusal;
        pieces.push({ tag: true, text: `/${node.name}`, block: true, line: node.line });
        break;
      }
    }
  }
  return undefined;
}

/**
 * Mustache drops a line that holds only block tags and spaces, with its line end; Jinja keeps
 * the spaces and the line end. A line `TAG spaces\n` becomes `TAG\nspaces\n`: Mustache drops
 * the first line and prints the second, which is what Jinja printed. Spaces before the tag
 * cannot be kept on the tag's side of it, so an indented tag alone on its line is refused.
 */
function keepStandaloneLines(pieces: Piece[]): { pieces: Piece[] } | { refusal: Refusal } {
  const lines: Piece[][] = [[]];
  for (const piece of pieces) {
    if (piece.tag) {
      lines.at(-1)?.push(piece);
      continue;
    }
    const parts = piece.text.split("\n");
    parts.forEach((part, index) => {
      if (index > 0) {
        lines.at(-1)?.push({ tag: false, text: "\n" });
        lines.push([]);
      }
      if (part !== "") lines.at(-1)?.push({ tag: false, text: part });
    });
  }
  const out: Piece[] = [];
  for (const line of lines) {
    const tags = line.filter((piece) => piece.tag);
    const standalone =
      tags.length > 0 &&
      tags.every((piece) => piece.tag && piece.block) &&
      line.every((piece) => piece.tag || /^\s*$/.test(piece.text));
    if (!standalone) {
      out.push(...line);
      continue;
    }
    const first = line.findIndex((piece) => piece.tag);
    const lastTag = line.length - 1 - [...line].reverse().findIndex((piece) => piece.tag);
    const before = line.slice(0, first);
    const between = line.slice(first, lastTag + 1).filter((piece) => !piece.tag);
    const firstTag = line[first];
    if (before.length > 0 || between.length > 0) {
      return {
        refusal: {
          reason:
            "a block tag indented or sharing its line with spaces: Jinja keeps those spaces where Mustache drops them",
          line: firstTag?.tag ? firstTag.line : 1,
        },
      };
    }
    const after = line.slice(lastTag + 1);
    out.push(...line.slice(first, lastTag + 1));
    if (after.length === 0) continue;
    out.push({ tag: false, text: "\n" });
    out.push(...after);
  }
  return { pieces: out };
}

function writePieces(
  pieces: readonly Piece[],
  [open, close]: [string, string],
): string | undefined {
  let out = "";
  let text = "";
  // Text must hold no tag, and must not end in the beginning of the tag that follows it.
  const flush = (beforeTag: boolean) => {
    const bad = beforeTag ? `${text}${open}`.indexOf(open) !== text.length : text.includes(open);
    if (bad || text.includes(close)) return false;
    out += text;
    text = "";
    return true;
  };
  for (const piece of pieces) {
    if (!piece.tag) {
      text += piece.text;
      continue;
    }
    if (!flush(true) || piece.text.includes(open) || piece.text.includes(close)) return undefined;
    out += `${open}${piece.text}${close}`;
  }
  return flush(false) ? out : undefined;
}
