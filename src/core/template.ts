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
}

/** What a template refers to, or why it does not parse. */
export interface TemplateAnalysis {
  variables: TemplateVariableUse[];
  partials: TemplatePartialUse[];
  error?: { message: string; offset: number };
}

/** The default Mustache tags. */
export const DEFAULT_TAGS: [string, string] = ["{{", "}}"];

const NAME_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;

// A private writer: its template cache and configuration never touch the host application's
// global Mustache.
const analysisWriter = new Mustache.Writer();

type Token = [string, string, number, number, Token[]?, number?];

/** Finds the variables and partials a Mustache template uses. */
export function analyzeTemplate(template: string, tags: [string, string]): TemplateAnalysis {
  const variables: TemplateVariableUse[] = [];
  const partials: TemplatePartialUse[] = [];
  let tokens: Token[];
  try {
    tokens = analysisWriter.parse(template, tags) as unknown as Token[];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const at = /at (\d+)\s*$/.exec(message);
    return {
      variables,
      partials,
      error: {
        message: message.replace(/\s*at \d+\s*$/, ""),
        offset: at?.[1] === undefined ? 0 : Number(at[1]),
      },
    };
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
        partials.push({ name: value, offset: start });
      }
    }
  };
  walk(tokens, []);
  return { variables, partials };
}
