import { PromptsError } from "../errors.js";
import { canonicalJson, isPlainObject, sha256Hex } from "./json.js";
import {
  checkPromptName,
  DEFAULT_VARIANT,
  VARIABLE_NAME_PATTERN,
  VARIANT_NAME_PATTERN,
} from "./names.js";
import {
  type JsonObject,
  type Message,
  type Prompt,
  ROLES,
  VARIABLE_TYPES,
  type VariableSpec,
  type VariantSpec,
} from "./types.js";

/** The `format` of the bundles this version of gitprompts writes and reads. */
export const BUNDLE_FORMAT = "gitprompts-bundle/1";

/** One prompt in a bundle: everything a client needs to render it without the repository. */
export interface BundlePrompt {
  /** The prompt's version: 12 hex digits of the SHA-256 of its content and its partials'. */
  version: string;
  /** One line for humans, when the prompt has one. */
  description?: string;
  /** The body of a text prompt (a Mustache template); exactly one of `template` and `messages`. */
  template?: string;
  /** The body of a chat prompt: each `content` is a Mustache template. */
  messages?: Message[];
  /** The variables the prompt itself declares, normalised (those of its partials are not repeated). */
  variables: Record<string, VariableSpec>;
  /** Model settings, free-form; `{}` when the prompt has none. */
  model: JsonObject;
  /** The A/B arms besides `default` (the prompt's own body); `{}` when there are none. */
  variants: Record<string, VariantSpec>;
  /**
   * The order the file declares the variants in, when there are two or more: variants take
   * consecutive slices of the units in that order, and JSON objects here have sorted keys.
   */
  variant_order?: string[];
  /** Names of the prompts it includes, directly or through other partials, sorted; each is a prompt of the same bundle. */
  partials: string[];
  /** True when the body is verbatim text, not a template. */
  raw?: boolean;
  /** Custom Mustache tags, e.g. `["<%", "%>"]`. */
  delimiters?: [string, string];
  /** Free-form data the prompt carries along. */
  metadata?: JsonObject;
}

/** Where a bundle's prompts were read from. */
export interface BundleSource {
  /** The commit the prompts were read at: the ref's commit, or HEAD for the working tree; null outside git. */
  commit: string | null;
  /** The ref given to `prompts publish --ref`, as written; null for the working tree. */
  ref: string | null;
  /** True when the prompts came from a working tree whose prompt directory had uncommitted changes. */
  dirty: boolean;
}

/** A bundle as `parseBundle` returns it (README: `prompts publish`). */
export interface Bundle {
  /** Always {@link BUNDLE_FORMAT}. */
  format: typeof BUNDLE_FORMAT;
  /** Where the prompts come from. */
  source: BundleSource;
  /** Hex SHA-256 of the canonical JSON of `prompts`: the bundle's identity (and its ETag). */
  hash: string;
  /** The prompts by name. */
  prompts: Record<string, BundlePrompt>;
}

/** A bundle serialised: its text (ending in a newline) and its hash. */
export interface BundleText {
  /** The canonical JSON of the whole bundle followed by one newline. */
  text: string;
  /** Hex SHA-256 of the canonical JSON of the prompts object. */
  hash: string;
}

/** What a bundle holds of one loaded prompt. */
export function toBundlePrompt(prompt: Prompt): BundlePrompt {
  const bundled: BundlePrompt = {
    version: prompt.version,
    variables: prompt.variables,
    model: prompt.model ?? {},
    variants: prompt.variants,
    partials: [...prompt.partials].sort(),
  };
  const order = Object.keys(prompt.variants);
  if (order.length > 1) bundled.variant_order = order;
  if (prompt.description !== undefined) bundled.description = prompt.description;
  if (prompt.template !== undefined) bundled.template = prompt.template;
  if (prompt.messages !== undefined) bundled.messages = prompt.messages;
  if (prompt.raw !== undefined) bundled.raw = prompt.raw;
  if (prompt.delimiters !== undefined) bundled.delimiters = prompt.delimiters;
  if (prompt.metadata !== undefined) bundled.metadata = prompt.metadata;
  return bundled;
}

/**
 * One member of the bundle's prompts object, `"name":{…}` in canonical JSON. A server keeps
 * these per prompt and re-serialises only the prompts that changed.
 */
export function bundleFragment(name: string, prompt: Prompt): string {
  return `${JSON.stringify(name)}:${canonicalJson(toBundlePrompt(prompt))}`;
}

/**
 * What stands around the prompts object in a bundle's text: `head + prompts + tail` is the
 * whole file. For whoever assembles the bytes without one big string (the server).
 */
export function bundleEnvelope(hash: string, source: BundleSource): { head: string; tail: string } {
  const sourceJson = canonicalJson({
    commit: source.commit,
    dirty: source.dirty,
    ref: source.ref,
  });
  // Keys in canonical order: format, hash, prompts, source.
  return {
    head: `{"format":${JSON.stringify(BUNDLE_FORMAT)},"hash":${JSON.stringify(hash)},"prompts":`,
    tail: `,"source":${sourceJson}}\n`,
  };
}

/** The bundle of a set of loaded prompts: the same bytes whatever the order of the map. */
export function createBundle(
  prompts: ReadonlyMap<string, Prompt>,
  source: BundleSource,
): BundleText {
  // Sorted by name, by string order, as canonical JSON sorts keys: the hash is of these bytes.
  const fragments = [...prompts.keys()]
    .sort()
    .map((name) => bundleFragment(name, prompts.get(name) as Prompt));
  const members = `{${fragments.join(",")}}`;
  const hash = sha256Hex(members);
  const { head, tail } = bundleEnvelope(hash, source);
  return { text: `${head}${members}${tail}`, hash };
}

/**
 * Reads a bundle and checks it: the format, the hash against the prompts, and the shape of each
 * prompt. Throws a `PromptsError` (`E_INVALID_INPUT`) naming what is wrong, so a corrupt or
 * half-written bundle is refused rather than half used. `where` (a path or URL) goes into the
 * messages. Members a later minor revision may add are kept and not checked.
 */
export function parseBundle(text: string, where?: string): Bundle {
  const prefix = where === undefined ? "invalid bundle: " : `invalid bundle ${where}: `;
  const fail = (message: string, details?: string[]): never => {
    throw new PromptsError("E_INVALID_INPUT", prefix + message, details ? { details } : {});
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail(`not valid JSON (${reason}); a truncated or half-written file?`);
  }
  if (!isPlainObject(value)) return fail("not a JSON object; a gitprompts bundle is one");
  const format = value.format;
  if (format !== BUNDLE_FORMAT) {
    if (typeof format === "string" && format.startsWith("gitprompts-bundle/")) {
      fail(
        `format "${format}" is not supported; this gitprompts reads "${BUNDLE_FORMAT}" (upgrade gitprompts)`,
      );
    }
    fail(
      `format is ${format === undefined ? "missing" : JSON.stringify(format)}, expected "${BUNDLE_FORMAT}"; not a gitprompts bundle`,
    );
  }
  const prompts = value.prompts;
  if (!isPlainObject(prompts)) return fail("`prompts` must be an object of name → prompt");
  const hash = value.hash;
  if (typeof hash !== "string" || !/^[0-9a-f]{64}$/.test(hash)) {
    return fail("`hash` must be 64 lowercase hex digits (a SHA-256)");
  }
  const actual = sha256Hex(canonicalJson(prompts));
  if (actual !== hash) {
    fail(
      `hash mismatch: the bundle says ${hash.slice(0, 12)}…, its prompts hash to ${actual.slice(0, 12)}…; it is corrupt or was edited (run: prompts publish)`,
    );
  }
  const source = value.source;
  if (
    !isPlainObject(source) ||
    !isStringOrNull(source.commit) ||
    !isStringOrNull(source.ref) ||
    typeof source.dirty !== "boolean"
  ) {
    fail("`source` must be {commit: string|null, ref: string|null, dirty: boolean}");
  }
  const problems: string[] = [];
  for (const name of Object.keys(prompts).sort()) {
    checkBundlePrompt(name, prompts[name], prompts, problems);
  }
  if (problems.length > 0) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    fail(`${problems[0]}${more}`, problems);
  }
  return value as unknown as Bundle;
}

function isStringOrNull(value: unknown): value is string | null {
  return value === null || typeof value === "string";
}

/** Appends to `problems` what is wrong with one prompt of a bundle. */
function checkBundlePrompt(
  name: string,
  value: unknown,
  prompts: Record<string, unknown>,
  problems: string[],
): void {
  const badName = checkPromptName(name);
  if (badName !== undefined) problems.push(badName);
  const at = `prompt "${name}"`;
  if (!isPlainObject(value)) {
    problems.push(`${at} must be an object`);
    return;
  }
  if (typeof value.version !== "string" || value.version === "") {
    problems.push(`${at} has no version`);
  }
  const hasTemplate = value.template !== undefined;
  const hasMessages = value.messages !== undefined;
  if (hasTemplate && hasMessages) problems.push(`${at} has both template and messages`);
  else if (!hasTemplate && !hasMessages) problems.push(`${at} has neither template nor messages`);
  if (hasTemplate && typeof value.template !== "string") {
    problems.push(`${at}: \`template\` must be a string`);
  }
  if (hasMessages) checkMessages(value.messages, `${at}: \`messages\``, problems);
  if (value.description !== undefined && typeof value.description !== "string") {
    problems.push(`${at}: \`description\` must be a string`);
  }
  checkVariables(value.variables, at, problems);
  if (!isPlainObject(value.model)) problems.push(`${at}: \`model\` must be an object`);
  checkVariants(value.variants, at, problems);
  const partials = value.partials;
  if (!Array.isArray(partials) || partials.some((partial) => typeof partial !== "string")) {
    problems.push(`${at}: \`partials\` must be a list of prompt names`);
  } else {
    for (const partial of partials as string[]) {
      if (!Object.hasOwn(prompts, partial)) {
        problems.push(`${at} includes "${partial}", which is not in the bundle`);
      }
    }
  }
  if (value.raw !== undefined && typeof value.raw !== "boolean") {
    problems.push(`${at}: \`raw\` must be true or false`);
  }
  const delimiters = value.delimiters;
  if (
    delimiters !== undefined &&
    !(
      Array.isArray(delimiters) &&
      delimiters.length === 2 &&
      delimiters.every((tag) => typeof tag === "string" && tag !== "")
    )
  ) {
    problems.push(`${at}: \`delimiters\` must be two non-empty strings`);
  }
  if (value.metadata !== undefined && !isPlainObject(value.metadata)) {
    problems.push(`${at}: \`metadata\` must be an object`);
  }
}

function checkMessages(value: unknown, at: string, problems: string[]): void {
  const ok =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (message) =>
        isPlainObject(message) &&
        (ROLES as readonly unknown[]).includes(message.role) &&
        typeof message.content === "string",
    );
  if (!ok) problems.push(`${at} must be a non-empty list of {role, content}`);
}

function checkVariables(value: unknown, at: string, problems: string[]): void {
  if (!isPlainObject(value)) {
    problems.push(`${at}: \`variables\` must be an object`);
    return;
  }
  for (const [name, spec] of Object.entries(value)) {
    // A prompt file cannot declare `__proto__`: a bundle made by hand must not either.
    const ok =
      validName(name, VARIABLE_NAME_PATTERN) &&
      isPlainObject(spec) &&
      (VARIABLE_TYPES as readonly unknown[]).includes(spec.type) &&
      typeof spec.required === "boolean";
    if (!ok) problems.push(`${at}: variable "${name}" must be {type, required, …}`);
  }
}

function validName(name: string, pattern: RegExp): boolean {
  return pattern.test(name) && name !== "__proto__";
}

function checkVariants(value: unknown, at: string, problems: string[]): void {
  if (!isPlainObject(value)) {
    problems.push(`${at}: \`variants\` must be an object`);
    return;
  }
  for (const [name, variant] of Object.entries(value)) {
    const where = `${at}: variant "${name}"`;
    if (!validName(name, VARIANT_NAME_PATTERN) || name === DEFAULT_VARIANT) {
      problems.push(`${where} is not a valid variant name`);
      continue;
    }
    if (!isPlainObject(variant)) {
      problems.push(`${where} must be an object`);
      continue;
    }
    if (typeof variant.weight !== "number" || !Number.isFinite(variant.weight)) {
      problems.push(`${where} has no weight`);
    }
    if (variant.template !== undefined && typeof variant.template !== "string") {
      problems.push(`${where}: \`template\` must be a string`);
    }
    if (variant.messages !== undefined) checkMessages(variant.messages, where, problems);
    if (variant.model !== undefined && !isPlainObject(variant.model)) {
      problems.push(`${where}: \`model\` must be an object`);
    }
  }
}

/**
 * The prompts of a parsed bundle as `Prompt` objects, sorted by name, so that `renderPrompt`
 * renders from a bundle exactly as from files. Each one's `file` is `bundle:<name>`.
 */
export function bundleToPrompts(bundle: Bundle): Map<string, Prompt> {
  const prompts = new Map<string, Prompt>();
  for (const name of Object.keys(bundle.prompts).sort()) {
    const bundled = bundle.prompts[name] as BundlePrompt;
    const prompt: Prompt = {
      name,
      file: `bundle:${name}`,
      version: bundled.version,
      partials: bundled.partials,
      variables: bundled.variables,
      model: bundled.model,
      variants: inDeclaredOrder(bundled.variants, bundled.variant_order),
    };
    if (bundled.description !== undefined) prompt.description = bundled.description;
    if (bundled.template !== undefined) prompt.template = bundled.template;
    if (bundled.messages !== undefined) prompt.messages = bundled.messages;
    if (bundled.raw !== undefined) prompt.raw = bundled.raw;
    if (bundled.delimiters !== undefined) prompt.delimiters = bundled.delimiters;
    if (bundled.metadata !== undefined) prompt.metadata = bundled.metadata;
    prompts.set(name, prompt);
  }
  return prompts;
}

/** The variants in the order the file declared them, which decides who gets which. */
function inDeclaredOrder(
  variants: Record<string, VariantSpec>,
  order: readonly string[] | undefined,
): Record<string, VariantSpec> {
  if (!order) return variants;
  const ordered: Record<string, VariantSpec> = {};
  for (const name of order)
    if (Object.hasOwn(variants, name)) ordered[name] = variants[name] as VariantSpec;
  for (const [name, variant] of Object.entries(variants))
    if (!Object.hasOwn(ordered, name)) ordered[name] = variant;
  return ordered;
}
