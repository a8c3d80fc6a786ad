// Deep imports: the package index loads all nineteen of its modules, several milliseconds of
// start-up for every command that diffs.
import { diffArrays } from "diff/lib/diff/array.js";
import { structuredPatch } from "diff/lib/patch/create.js";
import { PromptsError } from "../errors.js";
import { PromptColumns } from "./prompt-columns.js";
import { canonicalJson, isPlainObject, ownValue } from "./json.js";
import { promptVariables, type PromptLookup, renderedText, renderPrompt } from "./render.js";
import type {
  JsonValue,
  Message,
  Prompt,
  PromptHeader,
  Role,
  VariableSpec,
  VariantSpec,
} from "./types.js";

/**
 * How a prompt differs between FROM and TO:
 * - `added`, `removed`: it exists on one side only;
 * - `renamed`: git's rename detection paired its files, or a removed and an added prompt have
 *   the same version (which catches files git does not track yet); its content may differ too;
 * - `changed`: its version differs (its own content, or a partial it includes);
 * - `formatting`: its file changed but its version did not (YAML style, comments, key order);
 * - `invalid`: it is valid on one side only (`invalidAt` says which); it is not compared.
 */
export type PromptChangeStatus =
  "added" | "removed" | "renamed" | "changed" | "formatting" | "invalid";

/** One side of a compared prompt. */
export interface PromptSide {
  name: string;
  version: string;
  /** Its file, relative to the repository root. */
  file: string;
}

/** A change of one structured field. */
export interface FieldChange {
  /**
   * The field, dotted: `description`, `model.temperature`, `variables.n.type`,
   * `variants.concise.weight`, `messages[1].role`; a key that is no plain name is bracketed
   * (`variants["v1.2"].weight`). `kind` is `text` or `chat`.
   */
  path: string;
  change: "added" | "removed" | "changed";
  /** The value at FROM; absent when the field was added. */
  from?: JsonValue;
  /** The value at TO; absent when the field was removed. */
  to?: JsonValue;
}

/** One hunk of a unified line diff, as the `diff` package's `structuredPatch` gives it. */
export interface DiffHunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** Lines starting with " " (context), "-", "+", or "\" (`\ No newline at end of file`). */
  lines: string[];
}

/** The line diff of one body: the template, one message, or one variant's. */
export interface BodyDiff {
  /** `template`, `messages[0]`, `variants.concise.template`, `variants.concise.messages[1]`. */
  path: string;
  /** The message's role (at TO, or at FROM when the message is gone). */
  role?: Role;
  /** Lines added and removed. */
  added: number;
  removed: number;
  hunks: DiffHunk[];
}

/** Why a change breaks a caller that worked against FROM. */
export type BreakingCode =
  | "prompt-removed"
  | "prompt-renamed"
  | "prompt-invalid"
  | "kind-changed"
  | "variable-removed"
  | "variable-renamed"
  | "variable-required"
  | "variable-retyped"
  | "variant-removed";

/** A change that breaks a caller that worked against FROM. */
export interface BreakingChange {
  code: BreakingCode;
  /** One line for humans, e.g. `variable "infos" removed`. */
  message: string;
}

/** The rendered text of both sides (with the variables given for the prompt), diffed. */
export interface RenderedDiff {
  /** Why FROM could not be rendered, if it could not. */
  fromError?: string;
  /** Why TO could not be rendered, if it could not. */
  toError?: string;
  added: number;
  removed: number;
  hunks: DiffHunk[];
}

/** How one prompt differs. */
export interface PromptDiff {
  /** Its name at TO, or at FROM when it was removed or is invalid at TO. */
  name: string;
  status: PromptChangeStatus;
  /** The prompt at FROM; null when it was added or is invalid there. */
  from: PromptSide | null;
  /** The prompt at TO; null when it was removed or is invalid there. */
  to: PromptSide | null;
  /** For `invalid`: the side where it does not validate. */
  invalidAt?: "from" | "to";
  /** Structured fields that changed, in a stable order. */
  fields: FieldChange[];
  /** Line diffs of the bodies that changed. */
  bodies: BodyDiff[];
  /** What breaks a caller that worked against FROM; empty when nothing does. */
  breaking: BreakingChange[];
  /** The prompts at TO that include this one as a partial (directly or not): they change too. */
  includedBy: string[];
  /** The partials it includes whose version changed: why it changed if its own text did not. */
  viaPartials: string[];
  /** Present when variables were given for this prompt. */
  rendered?: RenderedDiff;
}

/** How many prompts differ, by status. */
export interface DiffSummary {
  added: number;
  removed: number;
  renamed: number;
  changed: number;
  formatting: number;
  invalid: number;
  /** Prompts on both sides with the same version whose files git saw unchanged. */
  unchanged: number;
  /** Prompts with at least one breaking change. */
  breaking: number;
}

/**
 * The difference between two sets of prompts. As JSON (what `prompts diff --json` prints,
 * next to `from`, `to` and `issues`):
 *
 * ```
 * { prompts: [{ name, status, from: {name, version, file} | null, to: {…} | null,
 *               invalidAt?: "from" | "to",
 *               fields: [{ path, change: "added" | "removed" | "changed", from?, to? }],
 *               bodies: [{ path, role?, added, removed,
 *                          hunks: [{ oldStart, oldLines, newStart, newLines, lines }] }],
 *               breaking: [{ code, message }], includedBy: [name], viaPartials: [name],
 *               rendered?: { fromError?, toError?, added, removed, hunks } }],
 *   summary: { added, removed, renamed, changed, formatting, invalid, unchanged, breaking },
 *   different: boolean, breaking: boolean }
 * ```
 *
 * `prompts` holds every prompt that differs, sorted by name; unchanged prompts are only
 * counted.
 */
export interface PromptSetDiff {
  prompts: PromptDiff[];
  summary: DiffSummary;
  /** True when a prompt was added, removed, renamed, changed, or became valid or invalid. */
  different: boolean;
  /** True when a change breaks a caller that worked against FROM. */
  breaking: boolean;
}

/** Options of {@link diffPromptSets}. */
export interface DiffOptions {
  /** Compare only the prompts whose name (at FROM or TO) it accepts. Default: all. */
  filter?: (name: string) => boolean;
  /**
   * Names of the prompts that do not validate on each side: such a prompt is reported as
   * `invalid` rather than as added or removed.
   */
  invalid?: { from?: ReadonlySet<string>; to?: ReadonlySet<string> };
  /** Prompt name → variables: render those prompts on both sides and diff the text. */
  variables?: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  /**
   * Lines of context around each change in the line diffs. Default 3. Null counts the lines
   * added and removed without making hunks (`--stat`).
   */
  context?: number | null;
}

const NONE: ReadonlySet<string> = new Set();

/**
 * One side of a comparison: every prompt's name and version as columns, walked in one pass,
 * and the whole prompts, looked up for those that differ.
 */
export interface PromptSet {
  columns: PromptColumns;
  prompts: PromptLookup;
}

/** A side whose prompts are all at hand. */
export function promptSetOf(prompts: PromptLookup): PromptSet {
  return { columns: PromptColumns.of(prompts.values()), prompts };
}

/**
 * Compares the prompts of two sides. `renames` maps a new name to an old one as git's rename
 * detection paired their files; `changedNames` holds the names, on either side, of the files
 * git saw change (a prompt among them whose version did not change changed in formatting only).
 * The cost is one pass over both sets plus a detailed comparison of each prompt that differs.
 */
export function diffPromptSets(
  from: PromptSet,
  to: PromptSet,
  renames: ReadonlyMap<string, string>,
  changedNames: ReadonlySet<string>,
  options: DiffOptions = {},
): PromptSetDiff {
  // Over 80 lines on purpose: one merge pass over both sorted sides, whose steps share its counters and maps.
  const accept = options.filter ?? (() => true);
  const invalidFrom = options.invalid?.from ?? NONE;
  const invalidTo = options.invalid?.to ?? NONE;
  const context = options.context === undefined ? 3 : options.context;
  const entries: PromptDiff[] = [];
  const summary: DiffSummary = {
    added: 0,
    removed: 0,
    renamed: 0,
    changed: 0,
    formatting: 0,
    invalid: 0,
    unchanged: 0,
    breaking: 0,
  };

  const before = from.columns;
  const after = to.columns;
  // Name → index of the prompts on one side only.
  const removed = new Map<string, number>();
  const added = new Map<string, number>();
  // Both sides are sorted by name: one pass pairs them up. The columns are held in locals: this
  // loop runs for every prompt, mostly before the JIT has compiled it.
  const { names: oldNames, versions: oldVersions } = before;
  const { names: newNames, versions: newVersions } = after;
  for (let i = 0, j = 0; i < oldNames.length || j < newNames.length;) {
    const oldName = oldNames[i];
    const newName = newNames[j];
    if (newName === undefined || (oldName !== undefined && oldName < newName)) {
      const name = oldName as string;
      if (invalidTo.has(name)) {
        if (accept(name)) entries.push(invalidEntry(name, "to", sideAt(before, i)));
      } else removed.set(name, i);
      i++;
      continue;
    }
    if (oldName === undefined || newName < oldName) {
      if (invalidFrom.has(newName)) {
        if (accept(newName)) entries.push(invalidEntry(newName, "from", sideAt(after, j)));
      } else added.set(newName, j);
      j++;
      continue;
    }
    if (accept(newName)) {
      if (oldVersions[i] !== newVersions[j]) {
        entries.push({ ...compare(newName, newName), status: "changed" });
      } else if (changedNames.has(newName)) {
        entries.push(emptyEntry(newName, "formatting", sideAt(before, i), sideAt(after, j)));
      } else {
        summary.unchanged++;
      }
    }
    i++;
    j++;
  }
  const includers = new Map<string, string[]>();
  for (const [index, partials] of after.partials) {
    const name = after.names[index] as string;
    for (const partial of partials) {
      const list = includers.get(partial);
      if (list) list.push(name);
      else includers.set(partial, [name]);
    }
  }

  const pairs: [string, string][] = [];
  for (const [newName, oldName] of renames) {
    if (newName !== oldName && added.has(newName) && removed.has(oldName)) {
      pairs.push([oldName, newName]);
      added.delete(newName);
      removed.delete(oldName);
    }
  }
  // Same content under another name: a rename git could not see (an untracked new file).
  const removedByVersion = new Map<string, string[]>();
  for (const name of [...removed.keys()].sort()) {
    const version = before.versions[removed.get(name) as number] as string;
    const list = removedByVersion.get(version);
    if (list) list.push(name);
    else removedByVersion.set(version, [name]);
  }
  for (const name of [...added.keys()].sort()) {
    const oldName = removedByVersion
      .get(after.versions[added.get(name) as number] as string)
      ?.shift();
    if (oldName === undefined) continue;
    pairs.push([oldName, name]);
    added.delete(name);
    removed.delete(oldName);
  }

  for (const [oldName, newName] of pairs) {
    if (!accept(newName) && !accept(oldName)) continue;
    const i = before.indexOf(oldName);
    const j = after.indexOf(newName);
    const old = sideAt(before, i);
    const current = sideAt(after, j);
    const entry: PromptDiff =
      old.version === current.version
        ? emptyEntry(newName, "renamed", old, current)
        : { ...compare(oldName, newName), status: "renamed" };
    entry.breaking.unshift({
      code: "prompt-renamed",
      message: `renamed from "${oldName}": callers of "${oldName}" break`,
    });
    entries.push(entry);
  }
  for (const [name, index] of added) {
    if (!accept(name)) continue;
    entries.push(emptyEntry(name, "added", null, sideAt(after, index)));
  }
  for (const [name, index] of removed) {
    if (!accept(name)) continue;
    const entry = emptyEntry(name, "removed", sideAt(before, index), null);
    entry.breaking.push({ code: "prompt-removed", message: "prompt removed" });
    entries.push(entry);
  }

  for (const entry of entries) {
    summary[entry.status]++;
    if (entry.breaking.length > 0) summary.breaking++;
    const { from: before, to: after } = entry;
    if (entry.status !== "changed" && entry.status !== "renamed") continue;
    if (!before || !after || before.version === after.version) continue;
    entry.includedBy = [...(includers.get(entry.name) ?? [])].sort();
    const given = options.variables?.get(after.name) ?? options.variables?.get(before.name);
    if (given) {
      entry.rendered = diffRendered(
        from.prompts,
        before.name,
        to.prompts,
        after.name,
        given,
        context,
      );
    }
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const different =
    summary.added + summary.removed + summary.renamed + summary.changed + summary.invalid > 0;
  return { prompts: entries, summary, different, breaking: summary.breaking > 0 };

  /** Compares the prompt `oldName` of FROM with `newName` of TO. */
  function compare(oldName: string, newName: string): Omit<PromptDiff, "status"> {
    const old = from.prompts.get(oldName) as Prompt;
    const current = to.prompts.get(newName) as Prompt;
    return {
      name: current.name,
      from: side(old),
      to: side(current),
      fields: diffFields(old, current),
      bodies: diffBodies(old, current, context),
      breaking: breakingChanges(old, from.prompts, current, to.prompts),
      includedBy: [],
      viaPartials: changedPartials(old, current, from.columns, to.columns),
    };
  }
}

/** `parent.key`, or `parent["key"]` for a key that is no plain name. */
function childPath(parent: string, key: string): string {
  const part = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : JSON.stringify(key);
  if (parent === "") return part;
  return part.startsWith('"') ? `${parent}[${part}]` : `${parent}.${part}`;
}

function side(prompt: PromptHeader): PromptSide {
  return { name: prompt.name, version: prompt.version, file: prompt.file };
}

function sideAt(columns: PromptColumns, index: number): PromptSide {
  return {
    name: columns.names[index] as string,
    version: columns.versions[index] as string,
    file: columns.file(index),
  };
}

function emptyEntry(
  name: string,
  status: PromptChangeStatus,
  from: PromptSide | null,
  to: PromptSide | null,
): PromptDiff {
  return {
    name,
    status,
    from,
    to,
    fields: [],
    bodies: [],
    breaking: [],
    includedBy: [],
    viaPartials: [],
  };
}

function invalidEntry(name: string, at: "from" | "to", valid: PromptSide): PromptDiff {
  const entry =
    at === "to"
      ? emptyEntry(name, "invalid", valid, null)
      : emptyEntry(name, "invalid", null, valid);
  entry.invalidAt = at;
  if (at === "to") {
    entry.breaking.push({
      code: "prompt-invalid",
      message: "no longer valid: callers cannot render it",
    });
  }
  return entry;
}

function kindOf(prompt: { messages?: Message[] }): "text" | "chat" {
  return prompt.messages ? "chat" : "text";
}

function sortedKeys(...objects: (object | undefined)[]): string[] {
  const keys = new Set<string>();
  for (const object of objects) for (const key of Object.keys(object ?? {})) keys.add(key);
  return [...keys].sort();
}

function sameJson(a: unknown, b: unknown): boolean {
  return jsonEqual(a, b) || canonicalJson(a) === canonicalJson(b);
}

/**
 * Strict deep equality of JSON data: when it holds, so does {@link sameJson}, without building
 * two canonical texts. It may miss an equality that canonical JSON sees (an `undefined` member,
 * NaN), so it only ever lets a comparison be skipped.
 */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(b, key)) return false;
    if (!jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) {
      return false;
    }
  }
  return true;
}

/** Compares two JSON values, descending into objects; lists are compared whole. */
function diffValue(
  path: string,
  a: JsonValue | undefined,
  b: JsonValue | undefined,
  out: FieldChange[],
): void {
  if (a === undefined && b === undefined) return;
  if (a === undefined) out.push({ path, change: "added", to: b });
  else if (b === undefined) out.push({ path, change: "removed", from: a });
  else if (sameJson(a, b)) return;
  else if (isPlainObject(a) && isPlainObject(b)) {
    for (const key of sortedKeys(a, b))
      diffValue(childPath(path, key), ownValue(a, key), ownValue(b, key), out);
  } else out.push({ path, change: "changed", from: a, to: b });
}

/** A typed declaration as JSON data: it is JSON-shaped, but its interface says so nowhere. */
function asJson(value: object): JsonValue {
  return value as unknown as JsonValue;
}

/** The structured fields that changed: everything but the text of the bodies. */
export function diffFields(a: Prompt, b: Prompt): FieldChange[] {
  const out: FieldChange[] = [];
  const kindChanged = kindOf(a) !== kindOf(b);
  diffValue("kind", kindOf(a), kindOf(b), out);
  diffValue("raw", a.raw === true, b.raw === true, out);
  diffValue("delimiters", a.delimiters, b.delimiters, out);
  diffValue("description", a.description, b.description, out);
  diffValue("model", a.model, b.model, out);
  // Most changes leave the variables and variants alone: an equal declaration has no field
  // that changed, and is passed over without building the paths of its fields.
  const variables = jsonEqual(a.variables, b.variables) ? [] : sortedKeys(a.variables, b.variables);
  for (const name of variables) {
    const before = ownValue(a.variables, name);
    const after = ownValue(b.variables, name);
    if (jsonEqual(before, after)) continue;
    const path = childPath("variables", name);
    if (!before || !after) {
      diffValue(path, before && asJson(before), after && asJson(after), out);
      continue;
    }
    diffValue(`${path}.type`, before.type, after.type, out);
    diffValue(`${path}.required`, before.required, after.required, out);
    diffValue(`${path}.default`, before.default, after.default, out);
    diffValue(`${path}.description`, before.description, after.description, out);
  }
  if (!kindChanged) diffRoles("messages", a.messages, b.messages, out);
  const variants = jsonEqual(a.variants, b.variants) ? [] : sortedKeys(a.variants, b.variants);
  for (const name of variants) {
    const before = ownValue(a.variants, name);
    const after = ownValue(b.variants, name);
    if (jsonEqual(before, after)) continue;
    const path = childPath("variants", name);
    if (!before || !after) {
      diffValue(path, before && asJson(before), after && asJson(after), out);
      continue;
    }
    diffValue(`${path}.weight`, before.weight, after.weight, out);
    diffValue(`${path}.description`, before.description, after.description, out);
    diffValue(`${path}.model`, before.model, after.model, out);
    // A variant without its own body uses the prompt's: say so rather than diff against nothing.
    for (const body of ["template", "messages"] as const) {
      const old = before[body] as JsonValue | undefined;
      const current = after[body] as JsonValue | undefined;
      if ((old === undefined) !== (current === undefined)) {
        diffValue(`${path}.${body}`, old, current, out);
      }
    }
    diffRoles(`${path}.messages`, before.messages, after.messages, out);
  }
  diffValue("metadata", a.metadata, b.metadata, out);
  return out;
}

/** Roles that changed, and messages added or removed (their text is in the body diffs). */
function diffRoles(
  path: string,
  a: readonly Message[] | undefined,
  b: readonly Message[] | undefined,
  out: FieldChange[],
): void {
  if (!a || !b) return;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const before = a[i];
    const after = b[i];
    if (before && after) diffValue(`${path}[${i}].role`, before.role, after.role, out);
    else diffValue(`${path}[${i}]`, before?.role, after?.role, out);
  }
}

/**
 * Line diffs of the bodies whose text changed: the template or messages of the prompt, then
 * those of its variants. A body's path is made only when its text changed: most are equal.
 */
function diffBodies(a: Prompt, b: Prompt, context: number | null = 3): BodyDiff[] {
  const out: BodyDiff[] = [];
  // The prompt's own bodies, FROM's first, then those only TO has: one side may lack one (a
  // message added, text turned chat).
  const oldMessages = a.messages ?? [];
  const newMessages = b.messages ?? [];
  if (a.template !== undefined) pushBody(out, "", "template", a.template, b.template, context);
  for (let i = 0; i < oldMessages.length; i++) {
    pushMessage(out, "", i, oldMessages[i], newMessages[i], context);
  }
  if (a.template === undefined && b.template !== undefined) {
    pushBody(out, "", "template", undefined, b.template, context);
  }
  for (let i = oldMessages.length; i < newMessages.length; i++) {
    pushMessage(out, "", i, undefined, newMessages[i], context);
  }
  // A variant's body is compared only where both sides have it; the rest are field changes.
  for (const [name, after] of Object.entries(b.variants)) {
    if (!Object.hasOwn(a.variants, name)) continue;
    const before = a.variants[name] as VariantSpec;
    const prefix = `${childPath("variants", name)}.`;
    if (before.template !== undefined && after.template !== undefined) {
      pushBody(out, prefix, "template", before.template, after.template, context);
    }
    const messages = after.messages ?? [];
    for (let i = 0; i < messages.length; i++) {
      const old = before.messages?.[i];
      if (old) pushMessage(out, prefix, i, old, messages[i], context);
    }
  }
  return out;
}

function pushMessage(
  out: BodyDiff[],
  prefix: string,
  index: number,
  before: Message | undefined,
  after: Message | undefined,
  context: number | null,
): void {
  if ((before?.content ?? "") === (after?.content ?? "")) return;
  const role = after?.role ?? before?.role;
  pushBody(out, prefix, `messages[${index}]`, before?.content, after?.content, context, role);
}

function pushBody(
  out: BodyDiff[],
  prefix: string,
  path: string,
  before: string | undefined,
  after: string | undefined,
  context: number | null,
  role?: Role,
): void {
  const oldText = before ?? "";
  const newText = after ?? "";
  if (oldText === newText) return;
  out.push({
    path: `${prefix}${path}`,
    ...(role ? { role } : {}),
    ...diffLines(oldText, newText, context),
  });
}

/**
 * A unified line diff of two texts, with counts of the lines added and removed. With `context`
 * null only the counts are made, the hunks left empty: what `--stat` prints, at a fraction of
 * the cost.
 */
export function diffLines(
  oldText: string,
  newText: string,
  context: number | null = 3,
): { added: number; removed: number; hunks: DiffHunk[] } {
  // Single-line texts (a message, a quoted template) seldom end with a newline: say nothing of
  // it unless only one side has one.
  const open = (text: string) => text === "" || !text.endsWith("\n");
  const close = (text: string) => (text === "" || text.endsWith("\n") ? text : `${text}\n`);
  const [before, after] =
    open(oldText) && open(newText) ? [close(oldText), close(newText)] : [oldText, newText];
  if (context === null) {
    const counts = simpleLineCounts(before, after);
    if (counts) return { ...counts, hunks: [] };
  }
  // Lines both sides share at the start and at the end cannot be in a hunk, except as its
  // context: the patch is made of the rest, which is what makes a one-line edit of a long
  // prompt cost one line, as git's diff does.
  const oldLines = linesOf(before);
  const newLines = linesOf(after);
  let head = 0;
  while (head < oldLines.length && head < newLines.length && oldLines[head] === newLines[head]) {
    head++;
  }
  let tail = 0;
  while (
    tail < oldLines.length - head &&
    tail < newLines.length - head &&
    oldLines[oldLines.length - 1 - tail] === newLines[newLines.length - 1 - tail]
  ) {
    tail++;
  }
  if (context === null) {
    const removedLines = oldLines.slice(head, oldLines.length - tail);
    const addedLines = newLines.slice(head, newLines.length - tail);
    // Between a common start and end, one line against another, or nothing against some,
    // can only be replaced: the usual edit needs no diff at all.
    const single = removedLines.length === 1 && addedLines.length === 1;
    if (single || removedLines.length === 0 || addedLines.length === 0) {
      return { added: addedLines.length, removed: removedLines.length, hunks: [] };
    }
    let added = 0;
    let removed = 0;
    for (const change of diffArrays(removedLines, addedLines)) {
      if (change.added) added += change.count;
      else if (change.removed) removed += change.count;
    }
    return { added, removed, hunks: [] };
  }
  const skip = Math.max(0, head - context);
  const keepTail = Math.max(0, tail - context);
  const patch = structuredPatch(
    "",
    "",
    oldLines.slice(skip, oldLines.length - keepTail).join(""),
    newLines.slice(skip, newLines.length - keepTail).join(""),
    undefined,
    undefined,
    { context },
  );
  let added = 0;
  let removed = 0;
  const hunks = patch.hunks.map((hunk): DiffHunk => {
    for (const line of hunk.lines) {
      if (line.startsWith("+")) added++;
      else if (line.startsWith("-")) removed++;
    }
    return {
      oldStart: hunk.oldStart + skip,
      oldLines: hunk.oldLines,
      newStart: hunk.newStart + skip,
      newLines: hunk.newLines,
      lines: hunk.lines,
    };
  });
  return { added, removed, hunks };
}

/**
 * The lines removed and added from `a` to `b` when, between the lines they share at the start
 * and at the end, one line replaces one or lines are only added or only removed: the usual
 * edit, counted here without splitting either text into lines. Undefined for any other edit.
 */
function simpleLineCounts(a: string, b: string): { added: number; removed: number } | undefined {
  // The lines shared at the start are those whose newline comes before the first difference.
  const shortest = Math.min(a.length, b.length);
  let differ = 0;
  while (differ < shortest && a.charCodeAt(differ) === b.charCodeAt(differ)) differ++;
  if (differ === a.length && differ === b.length) return { added: 0, removed: 0 };
  let head = 0;
  for (let at = a.indexOf("\n"); at !== -1 && at < differ; at = a.indexOf("\n", at + 1)) head++;
  const aLines = lineCount(a);
  const bLines = lineCount(b);
  // The lines shared at the end, compared in place, last first.
  let tail = 0;
  let aEnd = a.length;
  let bEnd = b.length;
  while (tail < aLines - head && tail < bLines - head) {
    const aStart = aEnd < 2 ? 0 : a.lastIndexOf("\n", aEnd - 2) + 1;
    const bStart = bEnd < 2 ? 0 : b.lastIndexOf("\n", bEnd - 2) + 1;
    if (aEnd - aStart !== bEnd - bStart || !sameRange(a, aStart, b, bStart, aEnd - aStart)) break;
    tail++;
    aEnd = aStart;
    bEnd = bStart;
  }
  const removed = aLines - head - tail;
  const added = bLines - head - tail;
  return (removed === 1 && added === 1) || removed === 0 || added === 0
    ? { added, removed }
    : undefined;
}

/** How many lines {@link linesOf} finds in a text. */
function lineCount(text: string): number {
  let count = text.length > 0 && !text.endsWith("\n") ? 1 : 0;
  for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) count++;
  return count;
}

function sameRange(a: string, aStart: number, b: string, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) {
    if (a.charCodeAt(aStart + i) !== b.charCodeAt(bStart + i)) return false;
  }
  return true;
}

/** The lines of a text, each with the newline that ends it (the last may have none). */
function linesOf(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
    lines.push(text.slice(start, end + 1));
    start = end + 1;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

/** A caller must pass this variable: it is required and has no default. */
function mustGive(spec: VariableSpec): boolean {
  return spec.required && spec.default === undefined;
}

/**
 * What breaks a caller that rendered `a` successfully: variables removed (rendering refuses an
 * unknown variable), renamed, retyped or newly required, variants removed, text turned chat.
 * Variables are those the prompt accepts, its partials' included.
 */
export function breakingChanges(
  a: Prompt,
  fromSet: PromptLookup,
  b: Prompt,
  toSet: PromptLookup,
): BreakingChange[] {
  const out: BreakingChange[] = [];
  if (kindOf(a) !== kindOf(b)) {
    out.push({
      code: "kind-changed",
      message: `kind changed: ${kindOf(a)} → ${kindOf(b)} (callers read ${b.messages ? "messages" : "text"} now)`,
    });
  }
  const before = promptVariables(a, fromSet);
  const after = promptVariables(b, toSet);
  const gone = Object.keys(before)
    .filter((name) => !Object.hasOwn(after, name))
    .sort();
  const fresh = Object.keys(after)
    .filter((name) => !Object.hasOwn(before, name))
    .sort();
  for (const name of gone) {
    const type = (before[name] as VariableSpec).type;
    const index = fresh.findIndex((candidate) => (after[candidate] as VariableSpec).type === type);
    if (index === -1) {
      out.push({ code: "variable-removed", message: `variable "${name}" removed` });
      continue;
    }
    const [renamed] = fresh.splice(index, 1);
    out.push({
      code: "variable-renamed",
      message: `variable "${name}" removed, "${renamed}" added: renamed?`,
    });
  }
  for (const name of fresh) {
    if (mustGive(after[name] as VariableSpec)) {
      out.push({ code: "variable-required", message: `new required variable "${name}"` });
    }
  }
  for (const name of Object.keys(after).sort()) {
    const old = ownValue(before, name);
    const spec = after[name] as VariableSpec;
    if (!old) continue;
    if (old.type !== spec.type) {
      out.push({
        code: "variable-retyped",
        message: `variable "${name}" retyped: ${old.type} → ${spec.type}`,
      });
    } else if (!mustGive(old) && mustGive(spec)) {
      const why = old.required ? " (its default was removed)" : "";
      out.push({ code: "variable-required", message: `variable "${name}" is now required${why}` });
    }
  }
  for (const name of Object.keys(a.variants).sort()) {
    if (!Object.hasOwn(b.variants, name)) {
      out.push({ code: "variant-removed", message: `variant "${name}" removed` });
    }
  }
  return out;
}

/** The partials of either side whose version differs between the sides. */
function changedPartials(
  a: PromptHeader,
  b: PromptHeader,
  fromSet: PromptColumns,
  toSet: PromptColumns,
) {
  const names = new Set([...a.partials, ...b.partials]);
  return [...names].filter((name) => fromSet.versionOf(name) !== toSet.versionOf(name)).sort();
}

function diffRendered(
  fromSet: PromptLookup,
  oldName: string,
  toSet: PromptLookup,
  newName: string,
  variables: Readonly<Record<string, unknown>>,
  context: number | null,
): RenderedDiff {
  const render = (prompts: PromptLookup, name: string): { text?: string; error?: string } => {
    try {
      return { text: renderedText(renderPrompt(prompts, name, variables)) };
    } catch (error) {
      if (error instanceof PromptsError) return { error: error.message };
      throw error;
    }
  };
  const before = render(fromSet, oldName);
  const after = render(toSet, newName);
  const result: RenderedDiff = { added: 0, removed: 0, hunks: [] };
  if (before.error !== undefined) result.fromError = before.error;
  if (after.error !== undefined) result.toError = after.error;
  if (before.text === undefined || after.text === undefined) return result;
  return { ...result, ...diffLines(before.text, after.text, context) };
}

/** One field change as a line: `model.temperature: 0.2 → 0.7`, `variables.q: added`. */
export function formatFieldChange(change: FieldChange): string {
  // Prose is long and reads badly inline: say that it changed; the values are in --json.
  const prose = /(^|\.)description$/.test(change.path);
  const show = (value: JsonValue | undefined) => (prose ? undefined : shortValue(value));
  switch (change.change) {
    case "added": {
      const value = scalar(change.to) ? show(change.to) : undefined;
      return `${change.path}: added${value === undefined ? "" : ` (${value})`}`;
    }
    case "removed": {
      const value = scalar(change.from) ? show(change.from) : undefined;
      return `${change.path}: removed${value === undefined ? "" : ` (was ${value})`}`;
    }
    case "changed": {
      const before = show(change.from);
      const after = show(change.to);
      return before === undefined || after === undefined
        ? `${change.path}: changed`
        : `${change.path}: ${before} → ${after}`;
    }
  }
}

function scalar(value: JsonValue | undefined): boolean {
  return value === null || (typeof value !== "object" && value !== undefined);
}

const SHORT = 40;

/** A value short enough to show inline, or undefined. */
function shortValue(value: JsonValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") {
    if (value.length > SHORT || value.includes("\n")) return undefined;
    return /^[A-Za-z0-9_.:/@+-]+$/.test(value) ? value : JSON.stringify(value);
  }
  const text = typeof value === "object" && value !== null ? canonicalJson(value) : String(value);
  return text.length > SHORT ? undefined : text;
}

/** True when a pattern holds glob characters (`*`, `?`). */
export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/**
 * A glob over prompt names as a regular expression: `*` matches within one path segment, `**`
 * across segments (`agents/**` matches `agents/a` and `agents/x/b`), `?` one character.
 */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob.charAt(i);
    if (char === "*" && glob.charAt(i + 1) === "*") {
      i++;
      if (glob.charAt(i + 1) === "/") {
        i++;
        source += "(?:.*/)?";
      } else source += ".*";
    } else if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/**
 * Whether a name is selected by names and globs, as git selects paths: a plain name selects
 * that prompt and everything in the folder of that name (`agents` selects `agents/planner`);
 * a glob selects what it matches. No patterns select everything.
 */
export function nameMatcher(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.length === 0) return () => true;
  const exact = new Set<string>();
  const folders: string[] = [];
  const globs: RegExp[] = [];
  for (const pattern of patterns) {
    const trimmed = pattern.replace(/\/+$/, "");
    if (isGlob(trimmed)) globs.push(globToRegExp(trimmed));
    else {
      exact.add(trimmed);
      folders.push(`${trimmed}/`);
    }
  }
  return (name) =>
    exact.has(name) ||
    folders.some((folder) => name.startsWith(folder)) ||
    globs.some((glob) => glob.test(name));
}
