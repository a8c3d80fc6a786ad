import { isPlainObject } from "../json.js";
import type { JsonObject } from "../types.js";
import type { ImportCandidate, SourceVariable, Syntax } from "./convert.js";
import { readVariables } from "./dict.js";
import { asJson, badInput, baseName, splitFrontMatter, type SourceFile } from "./source-file.js";

const ROLE_LINE = /^[ \t]*#?[ \t]*(system|user|assistant|function|tool|developer)[ \t]*:[ \t]*$/gim;

/**
 * `.prompty` files, v1 (`model.api/configuration/parameters`, an `inputs` map, `sample`) and v2
 * (`model.id/provider/options`, an `inputs` list with `kind`/`default`). The body's `system:`,
 * `user:`, `assistant:` lines split it into messages, each stripped as Prompty strips them.
 */
export function readPrompty(file: SourceFile): ImportCandidate[] {
  const { meta, body, bodyLine } = splitFrontMatter(file);
  const name =
    typeof meta.name === "string" && meta.name.trim() !== "" ? meta.name : baseName(file.path);
  const syntax = templateSyntax(meta.template);
  const candidate: ImportCandidate = {
    source: file.path,
    name,
    syntax: syntax ?? "jinja",
    stripsMessages: true,
  };
  if (!syntax) {
    candidate.refusal = {
      reason: `template format ${JSON.stringify(meta.template)} (known: jinja2, mustache)`,
    };
    return [candidate];
  }
  if (typeof meta.description === "string") candidate.description = meta.description;
  const model = readModel(file.path, meta.model);
  if (model) candidate.model = model;
  const variables = readInputs(file.path, meta.inputs);
  if (variables) candidate.variables = variables;
  if (isPlainObject(meta.sample)) candidate.metadata = { sample: asJson(meta.sample) };
  const markers = [...body.matchAll(ROLE_LINE)];
  if (markers.length === 0) {
    candidate.template = body.trim();
    return [candidate];
  }
  const messages: { role: string; content: string }[] = [];
  const before = body.slice(0, markers[0]?.index ?? 0);
  if (before.trim() !== "") messages.push({ role: "system", content: before.trim() });
  for (const [index, marker] of markers.entries()) {
    const start = marker.index + marker[0].length;
    const end = markers[index + 1]?.index ?? body.length;
    const role = (marker[1] ?? "").toLowerCase();
    const line = bodyLine + body.slice(0, marker.index).split("\n").length - 1;
    if (!["system", "user", "assistant"].includes(role)) {
      candidate.refusal = {
        reason: `the role "${role}:" (gitprompts has system, user, assistant)`,
        line,
      };
      return [candidate];
    }
    messages.push({ role, content: body.slice(start, end).trim() });
  }
  candidate.messages = messages;
  (candidate.changes ??= []).push("role lines → messages");
  return [candidate];
}

function templateSyntax(template: unknown): Syntax | undefined {
  const format = isPlainObject(template)
    ? isPlainObject(template.format)
      ? template.format.kind
      : template.format
    : template;
  if (format === undefined || format === null || format === "jinja2" || format === "jinja")
    return "jinja";
  if (format === "mustache") return "mustache";
  if (format === "handlebars") return "handlebars";
  return undefined;
}

/** v1: `{api, configuration: {type, azure_deployment | name | model}, parameters}`; v2: `{id, provider, options}`. */
function readModel(file: string, model: unknown): JsonObject | undefined {
  if (typeof model === "string") return { name: model };
  if (!isPlainObject(model)) return undefined;
  const out: JsonObject = {};
  const configuration = isPlainObject(model.configuration) ? model.configuration : {};
  const name =
    model.id ?? configuration.azure_deployment ?? configuration.model ?? configuration.name;
  if (typeof name === "string") out.name = name;
  const provider = model.provider ?? configuration.type;
  if (typeof provider === "string") out.provider = provider;
  if (typeof model.api === "string") out.api = model.api;
  const parameters = model.parameters ?? model.options;
  if (parameters !== undefined && !isPlainObject(parameters)) {
    throw badInput(file, "model.parameters", "must be a mapping");
  }
  // Connection settings (endpoints, keys, `${env:…}` references) are deployment, not prompt.
  Object.assign(out, asJson(parameters ?? {}) as JsonObject);
  return out;
}

/** v1 `inputs: {name: {type, default, description}}`; v2 `inputs: [{name, kind, default}]`. */
function readInputs(file: string, inputs: unknown): Record<string, SourceVariable> | undefined {
  if (!Array.isArray(inputs)) return readVariables(file, "inputs", inputs);
  const map: Record<string, unknown> = {};
  for (const [index, input] of inputs.entries()) {
    if (!isPlainObject(input) || typeof input.name !== "string") {
      throw badInput(file, `inputs[${index}]`, "must be {name, kind, default?}");
    }
    const type = input.kind === "integer" || input.kind === "float" ? "number" : input.kind;
    map[input.name] = { ...input, type };
  }
  return readVariables(file, "inputs", map);
}
