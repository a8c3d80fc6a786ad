import { isPlainObject } from "../json.js";
import type { JsonObject } from "../types.js";
import type { ImportCandidate, Syntax } from "./convert.js";
import { readVariables } from "./dict.js";
import {
  asJson,
  badInput,
  baseName,
  optionalObject,
  readData,
  type SourceFile,
} from "./source-file.js";

const FORMATS: Record<string, Syntax> = { "f-string": "fstring", jinja2: "jinja" };

/**
 * PromptLayer prompt templates as its API returns them: `{prompt_name, prompt_template: {type:
 * chat | completion, messages | content, input_variables, template_format}, metadata: {model:
 * {provider, name, parameters}}}`, one or a list.
 */
export function readPromptLayer(file: SourceFile): ImportCandidate[] {
  const data = readData(file);
  const list = Array.isArray(data) ? data : [data];
  if (list.length === 0) throw badInput(file.path, "", "holds no prompt templates");
  return list.map((entry: unknown, index) => {
    const at = Array.isArray(data) ? `[${index}]` : "";
    const field = (name: string) => (at ? `${at}.${name}` : name);
    if (!isPlainObject(entry))
      throw badInput(file.path, at || "", "must be a PromptLayer prompt template object");
    const template = optionalObject(file.path, field("prompt_template"), entry.prompt_template);
    if (!template) throw badInput(file.path, field("prompt_template"), "is missing");
    const name =
      typeof entry.prompt_name === "string"
        ? entry.prompt_name
        : Array.isArray(data)
          ? `${baseName(file.path)}-${index + 1}`
          : baseName(file.path);
    const format =
      typeof template.template_format === "string" ? template.template_format : "f-string";
    const syntax = FORMATS[format];
    const candidate: ImportCandidate = {
      source: `${file.path}#${name}`,
      name,
      syntax: syntax ?? "fstring",
    };
    if (!syntax) {
      candidate.refusal = { reason: `template_format "${format}" (known: f-string, jinja2)` };
      return candidate;
    }
    if (template.type === "chat") {
      if (!Array.isArray(template.messages))
        throw badInput(file.path, field("prompt_template.messages"), "must be a list");
      const messages = [];
      for (const [i, message] of template.messages.entries()) {
        const where = field(`prompt_template.messages[${i}]`);
        if (!isPlainObject(message)) throw badInput(file.path, where, "must be a message object");
        const text = contentText(message.content);
        if (text === undefined) {
          candidate.refusal = {
            reason: `${where}: content other than text (images, tool calls) has no gitprompts equivalent`,
          };
          return candidate;
        }
        messages.push({
          role: typeof message.role === "string" ? message.role : "(none)",
          content: text,
        });
      }
      candidate.messages = messages;
    } else if (template.type === "completion") {
      const text = contentText(template.content);
      if (text === undefined)
        throw badInput(
          file.path,
          field("prompt_template.content"),
          "must be a list of {type: text, text}",
        );
      candidate.template = text;
    } else {
      throw badInput(file.path, field("prompt_template.type"), 'must be "chat" or "completion"');
    }
    const metadata = optionalObject(file.path, field("metadata"), entry.metadata);
    const model = optionalObject(file.path, field("metadata.model"), metadata?.model);
    if (model) {
      const out: JsonObject = {};
      if (typeof model.name === "string") out.name = model.name;
      if (typeof model.provider === "string") out.provider = model.provider;
      Object.assign(out, asJson(model.parameters ?? {}) as JsonObject);
      candidate.model = out;
    }
    const variables = readVariables(
      file.path,
      field("prompt_template.input_variables"),
      template.input_variables,
    );
    if (variables) candidate.variables = variables;
    if (typeof entry.commit_message === "string") candidate.description = entry.commit_message;
    return candidate;
  });
}

/** The text of `[{type: "text", text}]` (or a plain string); undefined for anything else. */
function contentText(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return undefined;
  let text = "";
  for (const part of content) {
    if (!isPlainObject(part) || part.type !== "text" || typeof part.text !== "string")
      return undefined;
    text += part.text;
  }
  return text;
}
