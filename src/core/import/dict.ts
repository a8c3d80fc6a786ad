import { isPlainObject } from "../json.js";
import type { ImportCandidate, SourceVariable, Syntax } from "./convert.js";
import {
  asJson,
  badInput,
  optionalObject,
  optionalString,
  readData,
  type SourceFile,
} from "./source-file.js";
import { VARIABLE_TYPES, type VariableType } from "../types.js";

/**
 * A home-grown prompt API's answer: a mapping `name → text`, or `name → {template | messages,
 * model?, description?, variables?}`, in JSON or YAML.
 */
export function readDict(file: SourceFile, syntax: Syntax): ImportCandidate[] {
  const data = readData(file);
  if (!isPlainObject(data)) {
    throw badInput(
      file.path,
      "",
      "must be a mapping of prompt name to text or to {template | messages}",
    );
  }
  const entries = Object.entries(data);
  if (entries.length === 0) throw badInput(file.path, "", "holds no prompts");
  return entries.map(([name, value]) => {
    const source = `${file.path}#${name}`;
    if (typeof value === "string") return { source, name, syntax, template: value };
    const entry = optionalObject(file.path, name, value);
    if (!entry) throw badInput(file.path, name, "must be a text or {template | messages}");
    const candidate: ImportCandidate = { source, name, syntax };
    const template = optionalString(file.path, `${name}.template`, entry.template);
    if (template !== undefined) candidate.template = template;
    if (entry.messages !== undefined)
      candidate.messages = readMessages(file.path, `${name}.messages`, entry.messages);
    if ((template === undefined) === (candidate.messages === undefined)) {
      throw badInput(file.path, name, "needs exactly one of template or messages");
    }
    const description = optionalString(file.path, `${name}.description`, entry.description);
    if (description) candidate.description = description;
    if (typeof entry.model === "string") candidate.model = { name: entry.model };
    else {
      const model = optionalObject(file.path, `${name}.model`, entry.model);
      if (model) candidate.model = model;
    }
    const variables = readVariables(file.path, `${name}.variables`, entry.variables);
    if (variables) candidate.variables = variables;
    return candidate;
  });
}

/** `[{role, content}]`, located. */
export function readMessages(
  file: string,
  field: string,
  value: unknown,
): { role: string; content: string }[] {
  if (!Array.isArray(value)) throw badInput(file, field, "must be a list of {role, content}");
  return value.map((message: unknown, index) => {
    const at = `${field}[${index}]`;
    if (!isPlainObject(message)) throw badInput(file, at, "must be {role, content}");
    const role = optionalString(file, `${at}.role`, message.role);
    const content = optionalString(file, `${at}.content`, message.content);
    if (role === undefined || content === undefined)
      throw badInput(file, at, "needs role and content");
    return { role, content };
  });
}

/** `name → type` or `name → {type?, default?, description?}`, located. */
export function readVariables(
  file: string,
  field: string,
  value: unknown,
): Record<string, SourceVariable> | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    return Object.fromEntries(
      value.filter((name) => typeof name === "string").map((name: string) => [name, {}]),
    );
  }
  const map = optionalObject(file, field, value);
  if (!map) return undefined;
  const out: Record<string, SourceVariable> = {};
  for (const [name, spec] of Object.entries(map)) {
    if (typeof spec === "string") {
      out[name] = VARIABLE_TYPES.includes(spec as VariableType)
        ? { type: spec as VariableType }
        : {};
      continue;
    }
    const given = optionalObject(file, `${field}.${name}`, spec) ?? {};
    const variable: SourceVariable = {};
    if (typeof given.type === "string" && VARIABLE_TYPES.includes(given.type as VariableType)) {
      variable.type = given.type as VariableType;
    }
    if (given.default !== undefined) variable.default = asJson(given.default);
    if (typeof given.description === "string") variable.description = given.description;
    out[name] = variable;
  }
  return out;
}
