import { isPlainObject } from "../json.js";
import type { JsonObject } from "../types.js";
import type { ImportCandidate } from "./convert.js";
import { asJson, badInput, readData, type SourceFile } from "./source-file.js";

/**
 * A Langfuse export: an array of prompt versions `{name, version, type: text | chat, prompt,
 * config, labels, tags, commitMessage, createdAt, createdBy}` (also accepted wrapped as
 * `{data: […]}`, the API's page shape).
 */
export function readLangfuseExport(file: SourceFile): ImportCandidate[] {
  const data = readData(file);
  const list = isPlainObject(data) && Array.isArray(data.data) ? data.data : data;
  if (!Array.isArray(list))
    throw badInput(file.path, "", "must be an array of Langfuse prompt versions");
  if (list.length === 0)
    throw badInput(file.path, "", "holds no prompt versions (an empty export)");
  return readLangfuseVersions(list, file.path);
}

/** Langfuse prompt versions (as the export or `GET /api/public/v2/prompts/{name}` give them). */
export function readLangfuseVersions(list: readonly unknown[], origin: string): ImportCandidate[] {
  return list.map((entry, index) => {
    const at = `[${index}]`;
    if (!isPlainObject(entry)) throw badInput(origin, at, "must be a prompt version object");
    if (typeof entry.name !== "string" || entry.name === "")
      throw badInput(origin, `${at}.name`, "is missing");
    if (typeof entry.version !== "number" || !Number.isInteger(entry.version)) {
      throw badInput(origin, `${at}.version`, "must be an integer");
    }
    const { name, version } = entry;
    const labels = Array.isArray(entry.labels)
      ? entry.labels.filter((label) => typeof label === "string")
      : [];
    const date =
      typeof entry.createdAt === "string"
        ? entry.createdAt
        : typeof entry.updatedAt === "string"
          ? entry.updatedAt
          : undefined;
    const candidate: ImportCandidate = {
      source: `${origin}#${name}@${version}`,
      name,
      syntax: "variables",
      history: {
        version,
        message:
          typeof entry.commitMessage === "string" && entry.commitMessage.trim() !== ""
            ? entry.commitMessage
            : `import ${name} version ${version}`,
        labels: labels.filter((label) => label !== "latest"),
        ...(date ? { date } : {}),
        ...(typeof entry.createdBy === "string" ? { author: entry.createdBy } : {}),
      },
    };
    const type = entry.type ?? (typeof entry.prompt === "string" ? "text" : "chat");
    if (type === "text") {
      if (typeof entry.prompt !== "string")
        throw badInput(origin, `${at}.prompt`, "must be a string for a text prompt");
      candidate.template = entry.prompt;
    } else if (type === "chat") {
      if (!Array.isArray(entry.prompt))
        throw badInput(origin, `${at}.prompt`, "must be a list of messages for a chat prompt");
      const messages = [];
      for (const [i, message] of entry.prompt.entries()) {
        if (isPlainObject(message) && message.type === "placeholder") {
          candidate.refusal = {
            reason: `prompt[${i}]: the message placeholder "${String(message.name)}" has no gitprompts equivalent`,
          };
          return candidate;
        }
        if (
          !isPlainObject(message) ||
          typeof message.role !== "string" ||
          typeof message.content !== "string"
        ) {
          throw badInput(origin, `${at}.prompt[${i}]`, "must be {role, content}");
        }
        messages.push({ role: message.role, content: message.content });
      }
      candidate.messages = messages;
    } else {
      throw badInput(origin, `${at}.type`, 'must be "text" or "chat"');
    }
    if (isPlainObject(entry.config)) {
      const { model, ...rest } = asJson(entry.config) as JsonObject;
      const out: JsonObject = {};
      if (model !== undefined) out.name = model;
      Object.assign(out, rest);
      if (Object.keys(out).length > 0) candidate.model = out;
    }
    const tags = Array.isArray(entry.tags)
      ? entry.tags.filter((tag) => typeof tag === "string")
      : [];
    if (tags.length > 0) candidate.metadata = { tags };
    return candidate;
  });
}
