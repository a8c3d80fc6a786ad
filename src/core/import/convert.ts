import { stringify } from "yaml";
import { checkPromptName } from "../names.js";
import { type ParsedPromptFile, parsePromptSource } from "../parse.js";
import type { JsonObject, JsonValue, Role, VariableSpec, VariableType } from "../types.js";
import { ROLES, VARIABLE_TYPES } from "../types.js";
import { convertFstring } from "./fstring.js";
import { convertHandlebars } from "./handlebars.js";
import { convertJinja } from "./jinja.js";
import {
  type Conversion,
  emitMustache,
  inferVariables,
  lineAt,
  type TemplateNode,
  testListsByLength,
  tidy,
} from "./template-ir.js";

/**
 * The template syntaxes a source can be written in. `variables` is the plain `{{name}}`
 * substitution of Langfuse, OpenAI and Humanloop: any other `{{…}}` is text to them.
 */
export type Syntax = "fstring" | "jinja" | "handlebars" | "mustache" | "variables";

/** A variable as a source declares it. */
export interface SourceVariable {
  type?: VariableType;
  /** False when the source marks it optional; by default a variable without a default is required. */
  required?: boolean;
  default?: JsonValue;
  description?: string;
}

/** One version of a prompt in a source that keeps versions. */
export interface VersionInfo {
  version: number;
  /** ISO 8601, when the source says. */
  date?: string;
  message: string;
  author?: string;
  /** The deployment labels pointing at this version. */
  labels: string[];
}

/** One prompt as a source format reads it, before its template is converted. */
export interface ImportCandidate {
  /** Where it comes from, for the report: `file`, `file#name`, `file#name@3`. */
  source: string;
  /** Its name in the source. */
  name: string;
  syntax: Syntax;
  template?: string;
  messages?: { role: string; content: string }[];
  description?: string;
  model?: JsonObject;
  variables?: Record<string, SourceVariable>;
  metadata?: JsonObject;
  /** What the source reader changed on the way (e.g. a reference turned into a partial). */
  changes?: string[];
  /** For sources with history (Langfuse): the version this candidate is, to commit in order. */
  history?: VersionInfo;
  /**
   * The source strips the spaces around each rendered message (Prompty): a message that starts
   * or ends with a block is refused, since what the block leaves there would be stripped too.
   */
  stripsMessages?: boolean;
  /** Set when the source reader refuses it already. */
  refusal?: { reason: string; line?: number };
}

/** One row of the import report. */
export interface ImportRow {
  source: string;
  name: string;
  status: "imported" | "converted" | "refused";
  changes: string[];
  reason?: string;
  /** `file:line` of what was refused, where known. */
  location?: string;
}

/** A converted prompt: the file text to write and its report row. */
export type ConvertedPrompt =
  | { ok: true; text: string; parsed: ParsedPromptFile; row: ImportRow }
  | { ok: false; row: ImportRow };

const LANGFUSE_REFERENCE = /@@@langfusePrompt:name=([^|@]+)(?:\|(version|label)=([^@|]+))?@@@/g;
const VARIABLE_TAG = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Reads a template in the given syntax into the template tree. */
function convertTemplate(syntax: Syntax, text: string): Conversion {
  switch (syntax) {
    case "fstring":
      return convertFstring(text);
    case "jinja":
      return convertJinja(text);
    case "handlebars":
      return convertHandlebars(text);
    case "variables":
      return convertVariables(text);
    case "mustache":
      return { ok: true, nodes: [{ kind: "text", text }], changes: [] };
  }
}

/**
 * Plain `{{name}}` substitution: name tags become variables, Langfuse prompt references become
 * partials, and every other `{{…}}` stays text (these engines print it as written).
 */
function convertVariables(text: string): Conversion {
  const nodes: TemplateNode[] = [];
  const changes: string[] = [];
  const found: { at: number; end: number; node: TemplateNode }[] = [];
  for (const match of text.matchAll(VARIABLE_TAG)) {
    found.push({
      at: match.index,
      end: match.index + match[0].length,
      node: { kind: "var", name: match[1] as string, line: lineAt(text, match.index) },
    });
  }
  for (const match of text.matchAll(LANGFUSE_REFERENCE)) {
    const target = sanitizeName(match[1] as string);
    found.push({
      at: match.index,
      end: match.index + match[0].length,
      node: { kind: "partial", name: target, line: lineAt(text, match.index) },
    });
    changes.push(
      match[2] === "label" || match[2] === "version"
        ? `reference to ${match[1]} (${match[2]} ${match[3]}) → partial {{> ${target}}}, which follows the file's history`
        : `reference to ${match[1]} → partial {{> ${target}}}`,
    );
  }
  found.sort((a, b) => a.at - b.at);
  let at = 0;
  for (const item of found) {
    if (item.at < at) continue;
    nodes.push({ kind: "text", text: text.slice(at, item.at) }, item.node);
    at = item.end;
  }
  nodes.push({ kind: "text", text: text.slice(at) });
  if (found.length > 0) changes.push("{{name}} substitution → Mustache variables");
  return { ok: true, nodes: tidy(nodes), changes };
}

/** A valid prompt name for a source name: `/` folders kept, other characters replaced. */
export function sanitizeName(name: string): string {
  const segments = name
    .trim()
    .split("/")
    .map((segment) =>
      segment
        // Accents go, letters stay: "Résumé" → "Resume".
        .normalize("NFKD")
        .replace(/[\u0300-\u036f]/g, "")
        .replace(/[^A-Za-z0-9_.-]+/g, "-")
        .replace(/^[.-]+/, "")
        .replace(/-+$/, ""),
    )
    .filter((segment) => segment !== "" && segment !== "." && segment !== "..");
  const joined = segments.join("/");
  return joined === "" || checkPromptName(joined) ? "unnamed" : joined;
}

/**
 * Converts one candidate into the text of its prompt file, exactly or not at all: a template
 * that cannot be converted exactly, a role gitprompts has not, or a file that does not parse
 * back to what was meant, refuses it with the reason.
 */
export function convertCandidate(candidate: ImportCandidate, name: string): ConvertedPrompt {
  const row: ImportRow = { source: candidate.source, name, status: "imported", changes: [] };
  if (name !== candidate.name) row.changes.push(`renamed from "${candidate.name}"`);
  row.changes.push(...(candidate.changes ?? []));
  const refuse = (reason: string, line?: number): ConvertedPrompt => {
    const refused: ImportRow = { ...row, status: "refused", reason };
    if (line !== undefined) refused.location = `${candidate.source}:${line}`;
    return { ok: false, row: refused };
  };
  if (candidate.refusal) return refuse(candidate.refusal.reason, candidate.refusal.line);
  const texts = candidate.messages
    ? candidate.messages.map((message) => message.content)
    : [candidate.template ?? ""];
  for (const message of candidate.messages ?? []) {
    if (!ROLES.includes(message.role as Role)) {
      return refuse(`the role "${message.role}" (gitprompts has system, user, assistant)`);
    }
  }
  const read = readBodies(candidate, texts);
  if (!read.ok) return refuse(read.refusal.reason, read.refusal.line);
  const { changes } = read;
  let written: string[] = texts;
  let variables: Record<string, VariableSpec> = {};
  const file: Record<string, unknown> = {};
  if (candidate.syntax !== "mustache") {
    const bodies = testListsByLength(read.bodies);
    const inferred = inferVariables(bodies);
    if ("refusal" in inferred) return refuse(inferred.refusal.reason, inferred.refusal.line);
    variables = inferred.variables;
    const emitted = emitMustache(bodies, {
      keepStandaloneLines: candidate.syntax !== "fstring",
    });
    if (!emitted.ok) return refuse(emitted.refusal.reason, emitted.refusal.line);
    for (const change of emitted.changes) changes.add(change);
    written = emitted.bodies;
    if (emitted.raw) file.raw = true;
    if (emitted.delimiters) file.delimiters = emitted.delimiters;
    const changed = written.some((text, index) => text !== texts[index]);
    if (changed) row.changes.push(...changes);
    else row.changes.push(...[...changes].filter((change) => change.startsWith("kept")));
  } else {
    variables = mustacheVariables(candidate);
  }
  variables = mergeDeclared(variables, candidate.variables ?? {});
  const text = fileTextOf(candidate, variables, written, file);
  const parsed = parsePromptSource(text);
  const roundTrip = parsed.spec?.messages?.map((message) => message.content) ?? [
    parsed.spec?.template ?? "",
  ];
  if (!parsed.spec || roundTrip.some((content, index) => content !== written[index])) {
    return refuse(
      "its text does not survive being written as a prompt file (line ends or control characters)",
    );
  }
  if (row.changes.length > 0) row.status = "converted";
  return { ok: true, text, parsed, row };
}

/** Each text of a candidate as template nodes, with the changes converting it made. */
function readBodies(
  candidate: ImportCandidate,
  texts: readonly string[],
):
  | { ok: true; bodies: TemplateNode[][]; changes: Set<string> }
  | { ok: false; refusal: { reason: string; line?: number } } {
  const bodies: TemplateNode[][] = [];
  const changes = new Set<string>();
  for (const [index, text] of texts.entries()) {
    const converted = convertTemplate(candidate.syntax, text);
    if (!converted.ok) {
      const where = candidate.messages ? `message ${index + 1}: ` : "";
      return {
        ok: false,
        refusal: { ...converted.refusal, reason: `${where}${converted.refusal.reason}` },
      };
    }
    for (const change of converted.changes) changes.add(change);
    const edges = [converted.nodes[0], converted.nodes.at(-1)];
    if (candidate.stripsMessages && edges.some((node) => node?.kind === "section")) {
      const where = candidate.messages ? `message ${index + 1}` : "the prompt";
      const line = edges.find((node) => node?.kind === "section")?.line;
      return {
        ok: false,
        refusal: {
          reason: `${where} starts or ends with a block: the source strips the spaces a block leaves there, which Mustache cannot; put text before and after it`,
          ...(line === undefined ? {} : { line }),
        },
      };
    }
    bodies.push(converted.nodes);
  }
  return { ok: true, bodies, changes };
}

/** The text of the prompt file a candidate becomes, with its bodies as `written`. */
function fileTextOf(
  candidate: ImportCandidate,
  variables: Record<string, VariableSpec>,
  written: readonly string[],
  file: Record<string, unknown>,
): string {
  const body = candidate.messages
    ? {
        messages: candidate.messages.map((message, index) => ({
          role: message.role,
          content: written[index] ?? "",
        })),
      }
    : { template: written[0] ?? "" };
  return promptFileText({
    ...(candidate.description ? { description: candidate.description } : {}),
    ...(candidate.model && Object.keys(candidate.model).length > 0
      ? { model: candidate.model }
      : {}),
    ...(Object.keys(variables).length > 0 ? { variables: yamlVariables(variables) } : {}),
    ...body,
    ...file,
    ...(candidate.metadata && Object.keys(candidate.metadata).length > 0
      ? { metadata: candidate.metadata }
      : {}),
  });
}

/** The variables of a Mustache template, typed by use, for sources already in Mustache. */
function mustacheVariables(candidate: ImportCandidate): Record<string, VariableSpec> {
  const variables: Record<string, VariableSpec> = {};
  for (const text of candidate.messages?.map((m) => m.content) ?? [candidate.template ?? ""]) {
    const parsed = parsePromptSource(promptFileText({ template: text }));
    for (const use of parsed.uses) {
      if (use.sections.length > 0 || use.literalLike) continue;
      variables[use.name] ??= { type: use.tag.includes(".") ? "object" : "string", required: true };
    }
  }
  return variables;
}

function mergeDeclared(
  inferred: Record<string, VariableSpec>,
  declared: Record<string, SourceVariable>,
): Record<string, VariableSpec> {
  const merged: Record<string, VariableSpec> = { ...inferred };
  for (const [name, given] of Object.entries(declared)) {
    const used = merged[name];
    const type =
      used?.type ?? (given.type && VARIABLE_TYPES.includes(given.type) ? given.type : "string");
    const spec: VariableSpec = {
      type,
      required: given.default === undefined && given.required !== false,
    };
    if (given.default !== undefined) spec.default = given.default;
    if (given.description) spec.description = given.description;
    merged[name] = spec;
  }
  return merged;
}

function yamlVariables(variables: Record<string, VariableSpec>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(variables).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const short = spec.required && spec.default === undefined && !spec.description;
    out[name] = short
      ? spec.type
      : {
          type: spec.type,
          ...(spec.required ? {} : { required: false }),
          ...(spec.default !== undefined ? { default: spec.default } : {}),
          ...(spec.description ? { description: spec.description } : {}),
        };
  }
  return out;
}

/** A prompt file's YAML: bodies as literal blocks so they read as they render. */
function promptFileText(content: Record<string, unknown>): string {
  return stringify(content, { lineWidth: 0, blockQuote: "literal" });
}
