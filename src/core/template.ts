import Mustache from "mustache";

/** A variable reference found in a template. `offset` is into the template text. */
export interface TemplateVariableUse {
  /** The first segment of the name: `user.name` → `user`. */
  name: string;
  /** The tag as written, for messages. */
  tag: string;
  offset: number;
  /** Names of the enclosing `{{#section}}`s, outermost first. */
  sections: string[];
  /** The tag looks like literal text (JSX, GitHub Actions, another tool's template). */
  literalLike: boolean;
}

/** A `{{> partial}}` found in a template. */
export interface TemplatePartialUse {
  name: string;
  offset: number;
  /** Length of the tag as written. */
  length: number;
}

/** What a template refers to, or why it does not parse. */
export interface TemplateAnalysis {
  variables: TemplateVariableUse[];
  partials: TemplatePartialUse[];
  /** Where the template stops parsing: the offending tag's offset and length. */
  error?: { message: string; offset: number; length: number };
}

/** The default Mustache tags. */
export const DEFAULT_TAGS: [string, string] = ["{{", "}}"];

const NAME_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;

// A private writer: its configuration never touches the host application's global Mustache.
// Without its template cache, which would keep the tokens of every template ever analysed: each
// is analysed once per load, and a server would pile up one entry per edit for good.
const analysisWriter = new Mustache.Writer();
(analysisWriter as { templateCache?: unknown }).templateCache = undefined;

/**
 * A tag as Mustache's parser gives it: type, value, start, end, and for a section the tags
 * inside it and where it closes.
 */
export type Token = [string, string, number, number, Token[]?, number?];

/** Finds the variables and partials a Mustache template uses. */
export function analyzeTemplate(template: string, tags: [string, string]): TemplateAnalysis {
  const variables: TemplateVariableUse[] = [];
  const partials: TemplatePartialUse[] = [];
  let tokens = scanTags(template, tags);
  if (!tokens) {
    try {
      const parsed: unknown = analysisWriter.parse(template, tags);
      tokens = parsed as Token[];
    } catch (error) {
      return { variables, partials, error: placeSyntaxError(template, tags, error) };
    }
  }
  const walk = (list: Token[], sections: string[]): void => {
    for (const token of list) {
      const [type, value, start] = token;
      if (type === "name" || type === "&" || type === "#" || type === "^") {
        if (value !== ".") {
          const head = value.split(".")[0] ?? value;
          const before = template.slice(Math.max(0, start - 1), start);
          variables.push({
            name: head,
            tag: template.slice(start, token[3]),
            offset: start,
            sections,
            literalLike: !NAME_PATH.test(value) || before === "$" || before === "=",
          });
        }
        const children = token[4];
        if (children) walk(children, type === "#" ? [...sections, value] : sections);
      } else if (type === ">") {
        partials.push({ name: value, offset: start, length: token[3] - start });
      }
    }
  };
  walk(tokens, []);
  return { variables, partials };
}

const TAG_TYPES = new Set(["#", "^", "/", ">", "{", "&", "!"]);
const SPACES = /\s*/y;
const SPACE = /\s/;

/**
 * The tags of a template as Mustache's parser would give them (type, value, start, end, and the
 * tags inside each section), without its text tokens: Mustache makes a token of every
 * character of text, the largest single cost of reading a prompt file once YAML was fast.
 * Undefined when the template changes its delimiters or does not parse, for Mustache to parse
 * and word the error; the tests hold its answers to Mustache's.
 */
export function scanTags(template: string, [open, close]: [string, string]): Token[] | undefined {
  const root: Token[] = [];
  const sections: Token[] = [];
  let tokens = root;
  let at = template.indexOf(open);
  while (at !== -1) {
    const start = at;
    SPACES.lastIndex = at + open.length;
    SPACES.test(template);
    let pos = SPACES.lastIndex;
    let type = template[pos] ?? "";
    if (TAG_TYPES.has(type)) {
      pos++;
      SPACES.lastIndex = pos;
      SPACES.test(template);
      pos = SPACES.lastIndex;
    } else if (type === "=") {
      return undefined;
    } else {
      type = "name";
    }
    // The value runs to the first closing tag, less the spaces before it.
    const closing = type === "{" ? `}${close}` : close;
    const closeAt = template.indexOf(closing, pos);
    if (closeAt === -1) return undefined;
    let valueEnd = closeAt;
    while (valueEnd > pos && SPACE.test(template[valueEnd - 1] as string)) valueEnd--;
    const value = template.slice(pos, valueEnd);
    const end = closeAt + closing.length;
    if (type === "{") type = "&";
    const token: Token = [type, value, start, end];
    if (type === "/") {
      const section = sections.pop();
      if (!section || section[1] !== value) return undefined;
      section[5] = start;
      tokens = sections.at(-1)?.[4] ?? root;
    } else {
      tokens.push(token);
      if (type === "#" || type === "^") {
        token[4] = [];
        sections.push(token);
        tokens = token[4];
      }
    }
    at = template.indexOf(open, end);
  }
  return sections.length === 0 ? root : undefined;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Mustache reports an unclosed section or tag at the end of the template; the author needs the
 * tag that was opened and never closed.
 */
function placeSyntaxError(
  template: string,
  tags: [string, string],
  error: unknown,
): { message: string; offset: number; length: number } {
  const raw = error instanceof Error ? error.message : String(error);
  const message = raw.replace(/\s*at \d+\s*$/, "");
  const reported = Number(/at (\d+)\s*$/.exec(raw)?.[1] ?? 0);
  const section = /^Unclosed section "(.*)"$/.exec(message);
  if (section) {
    const opening = new RegExp(
      `${escapeRegExp(tags[0])}\\s*[#^]\\s*${escapeRegExp(section[1] ?? "")}\\s*${escapeRegExp(tags[1])}`,
      "g",
    );
    let last: RegExpExecArray | undefined;
    for (let match = opening.exec(template); match; match = opening.exec(template)) last = match;
    if (last) return { message, offset: last.index, length: last[0].length };
  }
  if (message.startsWith("Unclosed tag")) {
    const offset = template.lastIndexOf(tags[0], Math.max(0, reported - 1));
    if (offset !== -1) return { message, offset, length: tags[0].length };
  }
  const end = template.indexOf(tags[1], reported);
  return { message, offset: reported, length: end === -1 ? 1 : end + tags[1].length - reported };
}
