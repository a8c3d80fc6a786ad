import { isPlainObject } from "../json.js";
import type { JsonObject, VariableType } from "../types.js";
import type { ImportCandidate, SourceVariable } from "./convert.js";
import { asJson, baseName, splitFrontMatter, type SourceFile } from "./source-file.js";

const ROLE_MARKER = /\{\{\s*role\s+(?:"([a-z]+)"|'([a-z]+)')\s*\}\}/g;
const HUMANLOOP_TAG = /^[ \t]*<(system|user|assistant)>[ \t]*$/m;
const HUMANLOOP_BLOCK = /<(system|user|assistant|tool)>\n?([\s\S]*?)<\/\1>/g;

/**
 * `.prompt` files. Two formats share the extension, told apart by content: dotprompt (YAML front
 * matter with `model`, `config`, a Picoschema `input`; a Handlebars body split by
 * `{{role "…"}}`), and Humanloop's (`<system>…</system>` blocks with `{{ name }}` variables).
 * A dotprompt file named `_name.prompt` is a partial, imported as the prompt `name`.
 */
export function readDotprompt(file: SourceFile): ImportCandidate[] {
  const { meta, body } = splitFrontMatter(file);
  const fileName = baseName(file.path);
  if (HUMANLOOP_TAG.test(body) && !ROLE_MARKER.test(body)) return [readHumanloop(file, meta, body)];
  ROLE_MARKER.lastIndex = 0;
  const partial = fileName.startsWith("_");
  const name = partial ? fileName.slice(1) : typeof meta.name === "string" ? meta.name : fileName;
  const candidate: ImportCandidate = {
    source: file.path,
    name,
    syntax: "handlebars",
    changes: [partial ? "read as a dotprompt partial" : "read as dotprompt"],
  };
  const model: JsonObject = {};
  if (typeof meta.model === "string") model.name = meta.model;
  if (isPlainObject(meta.config)) Object.assign(model, asJson(meta.config) as JsonObject);
  if (Object.keys(model).length > 0) candidate.model = model;
  if (typeof meta.description === "string") candidate.description = meta.description;
  const input = isPlainObject(meta.input) ? meta.input : {};
  const variables = picoschemaVariables(
    input.schema,
    isPlainObject(input.default) ? input.default : {},
  );
  if (variables) candidate.variables = variables;
  const markers = [...body.matchAll(ROLE_MARKER)];
  if (markers.length === 0) {
    candidate.template = body;
    return [candidate];
  }
  // Dotprompt renders, then splits at the role markers and drops pieces that are only spaces.
  const messages: { role: string; content: string }[] = [];
  const before = body.slice(0, markers[0]?.index ?? 0);
  if (before.trim() !== "") messages.push({ role: "user", content: before });
  for (const [index, marker] of markers.entries()) {
    const content = body.slice(
      marker.index + marker[0].length,
      markers[index + 1]?.index ?? body.length,
    );
    if (content.trim() === "") continue;
    messages.push({ role: marker[1] ?? marker[2] ?? "", content });
  }
  candidate.messages = messages;
  return [candidate];
}

function readHumanloop(file: SourceFile, meta: JsonObject, body: string): ImportCandidate {
  const candidate: ImportCandidate = {
    source: file.path,
    name: baseName(file.path),
    syntax: "variables",
    changes: ["read as a Humanloop .prompt (<system> tags)"],
  };
  const { model, provider, endpoint, template_language: language, ...parameters } = meta;
  if (language !== undefined && language !== "default") {
    candidate.refusal = {
      reason: `template_language ${JSON.stringify(language)} (only the default {{ }} substitution)`,
    };
    return candidate;
  }
  const out: JsonObject = {};
  if (typeof model === "string") out.name = model;
  if (typeof provider === "string") out.provider = provider;
  if (typeof endpoint === "string") out.endpoint = endpoint;
  Object.assign(out, asJson(parameters) as JsonObject);
  if (Object.keys(out).length > 0) candidate.model = out;
  const messages = [...body.matchAll(HUMANLOOP_BLOCK)].map((match) => ({
    role: match[1] ?? "",
    content: dedent(match[2] ?? ""),
  }));
  if (messages.length === 0) candidate.template = body.trim();
  else candidate.messages = messages;
  return candidate;
}

/** Strips the indentation every non-blank line shares, and the final line end. */
function dedent(text: string): string {
  const lines = text.replace(/\n[ \t]*$/, "").split("\n");
  const indents = lines
    .filter((line) => line.trim() !== "")
    .map((line) => /^[ \t]*/.exec(line)?.[0].length ?? 0);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((line) => line.slice(cut)).join("\n");
}

const PICO_TYPES: Record<string, VariableType> = {
  string: "string",
  number: "number",
  integer: "number",
  boolean: "boolean",
  array: "array",
  object: "object",
  any: "string",
};

/** Picoschema `name?: type, description` / `name(array): …` / `name(object): …` → variables. */
function picoschemaVariables(
  schema: unknown,
  defaults: Record<string, unknown>,
): Record<string, SourceVariable> | undefined {
  if (!isPlainObject(schema)) return undefined;
  const out: Record<string, SourceVariable> = {};
  for (const [key, value] of Object.entries(schema)) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)(\?)?(?:\((\w+)\))?$/.exec(key);
    if (!match?.[1]) continue;
    const [, name, optional, wrapper] = match;
    const [typeWord = "", ...rest] = typeof value === "string" ? value.split(",") : [];
    const type = wrapper ? PICO_TYPES[wrapper] : PICO_TYPES[typeWord.trim()];
    const variable: SourceVariable = { type: type ?? "string" };
    const description = typeof value === "string" && !wrapper ? rest.join(",").trim() : "";
    if (description) variable.description = description;
    if (defaults[name] !== undefined) variable.default = asJson(defaults[name]);
    if (optional) variable.required = false;
    out[name] = variable;
  }
  return out;
}
