// A prompt's body as the author wrote it, with its Mustache tags highlighted: variables,
// sections (and inverted ones), partials (each a link to its prompt) and comments. The tags come
// from mustache's own parser, so what is highlighted is exactly what rendering will see.
import Mustache from "mustache";
import type { ComponentChildren } from "preact";
import { namePath } from "../api.js";

/** What a tag of the template is, for its colour and its title. */
type TagKind = "variable" | "section" | "inverted" | "close" | "partial" | "comment" | "delimiters";

interface TagSpan {
  start: number;
  end: number;
  kind: TagKind;
  /** The variable, section or partial named. */
  name: string;
}

/** A token of `Mustache.parse`: [type, value, start, end, children?, closeStart?]. */
type Token = [string, string, number, number, ...unknown[]];

const KIND_OF: Record<string, TagKind> = {
  name: "variable",
  "&": "variable",
  "#": "section",
  "^": "inverted",
  ">": "partial",
  "!": "comment",
  "=": "delimiters",
};

const DEFAULT_TAGS: [string, string] = ["{{", "}}"];

/**
 * The tags of a template in source order. Whitespace that mustache drops around standalone tags
 * is no concern here: only the tags' spans are taken, the text between them is shown as written.
 */
function templateTags(template: string, delimiters?: [string, string]): TagSpan[] {
  const spans: TagSpan[] = [];
  let tags: [string, string] = delimiters ?? DEFAULT_TAGS;
  const walk = (tokens: Token[]) => {
    for (const token of tokens) {
      const [type, value, start, end] = token;
      const kind = KIND_OF[type];
      if (kind === undefined) continue;
      spans.push({ start, end, kind, name: value });
      if (type === "=") {
        const next = value.trim().split(/\s+/);
        if (next.length === 2) tags = next as [string, string];
      }
      if (type === "#" || type === "^") {
        walk((token[4] as Token[] | undefined) ?? []);
        // The closing tag is not a token of its own: its start is kept on the section.
        const closeStart = token[5] as number;
        const closeEnd = template.indexOf(tags[1], closeStart);
        if (closeEnd !== -1)
          spans.push({
            start: closeStart,
            end: closeEnd + tags[1].length,
            kind: "close",
            name: value,
          });
      }
    }
  };
  walk(Mustache.parse(template, tags));
  return spans.sort((a, b) => a.start - b.start);
}

const TITLE: Record<TagKind, (name: string) => string> = {
  variable: (name) => `variable ${name}`,
  section: (name) => `section ${name}: shown for each item, or when true`,
  inverted: (name) => `inverted section ${name}: shown when empty or false`,
  close: (name) => `end of ${name}`,
  partial: (name) => `partial ${name}`,
  comment: () => "comment: not rendered",
  delimiters: () => "delimiters changed",
};

/**
 * A template (or one message's content) with its tags highlighted. A `raw` body is verbatim text;
 * a template mustache cannot parse is shown plain (the server would not serve it anyway).
 */
export function TemplateBody({
  text,
  delimiters,
  raw,
}: {
  text: string;
  delimiters?: [string, string] | undefined;
  raw?: boolean | undefined;
}) {
  let spans: TagSpan[] = [];
  if (!raw) {
    try {
      spans = templateTags(text, delimiters);
    } catch {
      spans = [];
    }
  }
  const parts: ComponentChildren[] = [];
  let at = 0;
  for (const span of spans) {
    if (span.start < at) continue;
    if (span.start > at) parts.push(text.slice(at, span.start));
    const tag = text.slice(span.start, span.end);
    parts.push(
      span.kind === "partial" ? (
        <a
          key={span.start}
          class="tpl partial"
          href={`/prompts/${namePath(span.name)}`}
          title={TITLE.partial(span.name)}
        >
          {tag}
        </a>
      ) : (
        <span key={span.start} class={`tpl ${span.kind}`} title={TITLE[span.kind](span.name)}>
          {tag}
        </span>
      ),
    );
    at = span.end;
  }
  if (at < text.length) parts.push(text.slice(at));
  return <pre class="body">{parts}</pre>;
}

/** The body of a prompt or of a variant: the template, or each message under its role. */
export function PromptBody({
  template,
  messages,
  delimiters,
  raw,
}: {
  template?: string | undefined;
  messages?: { role: string; content: string }[] | undefined;
  delimiters?: [string, string] | undefined;
  raw?: boolean | undefined;
}) {
  if (messages) {
    return (
      <ol class="messages">
        {messages.map((message, index) => (
          <li key={index} class={`message role-${message.role}`}>
            <span class="role">{message.role}</span>
            <TemplateBody text={message.content} delimiters={delimiters} raw={raw} />
          </li>
        ))}
      </ol>
    );
  }
  return <TemplateBody text={template ?? ""} delimiters={delimiters} raw={raw} />;
}
