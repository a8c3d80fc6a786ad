import { isPlainObject } from "../json.js";
import type { JsonObject } from "../types.js";
import type { ImportCandidate, SourceVariable } from "./convert.js";
import { asJson, badInput, optionalString, readData, type SourceFile } from "./source-file.js";

/**
 * OpenAI stored prompts as JSON (`{id, version, instructions | messages, model, variables}`),
 * one or a list. `{{name}}` is plain substitution; `developer` messages become `system`.
 */
export function readOpenAi(file: SourceFile): ImportCandidate[] {
  const data = readData(file);
  const list = Array.isArray(data) ? data : [data];
  if (list.length === 0) throw badInput(file.path, "", "holds no prompts");
  return list.map((entry: unknown, index) => {
    const at = Array.isArray(data) ? `[${index}].` : "";
    if (!isPlainObject(entry))
      throw badInput(file.path, at.slice(0, -1), "must be a prompt object");
    const id = optionalString(file.path, `${at}id`, entry.id);
    const name = optionalString(file.path, `${at}name`, entry.name) ?? id;
    if (!name) throw badInput(file.path, `${at}id`, "is missing");
    const version =
      typeof entry.version === "string" || typeof entry.version === "number"
        ? String(entry.version)
        : undefined;
    const candidate: ImportCandidate = {
      source: `${file.path}#${name}${version ? `@${version}` : ""}`,
      name,
      syntax: "variables",
    };
    const instructions = optionalString(file.path, `${at}instructions`, entry.instructions);
    if (entry.messages !== undefined) {
      if (!Array.isArray(entry.messages))
        throw badInput(file.path, `${at}messages`, "must be a list");
      const messages =
        instructions === undefined ? [] : [{ role: "system", content: instructions }];
      for (const [i, message] of entry.messages.entries()) {
        const where = `${at}messages[${i}]`;
        if (!isPlainObject(message)) throw badInput(file.path, where, "must be {role, content}");
        const text = contentText(message.content);
        if (text === undefined) {
          candidate.refusal = {
            reason: `${where}: content other than text has no gitprompts equivalent`,
          };
          return candidate;
        }
        const role = String(message.role);
        if (role === "developer") {
          (candidate.changes ??= []).push("developer message → system");
        }
        messages.push({ role: role === "developer" ? "system" : role, content: text });
      }
      candidate.messages = messages;
    } else if (instructions !== undefined) {
      candidate.template = instructions;
    } else {
      throw badInput(file.path, `${at}instructions`, "is missing (or give messages)");
    }
    if (typeof entry.model === "string") candidate.model = { name: entry.model };
    else if (isPlainObject(entry.model)) candidate.model = asJson(entry.model) as JsonObject;
    if (isPlainObject(entry.variables)) {
      const variables: Record<string, SourceVariable> = {};
      for (const [key, value] of Object.entries(entry.variables)) {
        // A stored prompt's variables map a name to its default value.
        variables[key] = typeof value === "string" ? { type: "string", default: value } : {};
      }
      candidate.variables = variables;
    }
    const metadata: JsonObject = {};
    if (id) metadata.openai_id = id;
    if (version) metadata.openai_version = version;
    candidate.metadata = metadata;
    return candidate;
  });
}

function contentText(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return undefined;
  let text = "";
  for (const part of content) {
    if (!isPlainObject(part) || typeof part.text !== "string" || !/text$/.test(String(part.type))) {
      return undefined;
    }
    text += part.text;
  }
  return text;
}
