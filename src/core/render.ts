import Mustache from "mustache";
import { PromptsError } from "../errors.js";
import { DEFAULT_VARIANT } from "./names.js";
import { didYouMean } from "./suggest.js";
import { DEFAULT_TAGS } from "./template.js";
import type { JsonObject, Message, Prompt, VariableSpec } from "./types.js";
import { article, mergeVariables, toTemplateData, valueType } from "./variables.js";

/** Prompts by name, as `loadPrompts` returns them. */
export type PromptLookup = ReadonlyMap<string, Prompt>;

/** Options of {@link renderPrompt}. */
export interface RenderOptions {
  /** The A/B arm to render; `default` (the prompt's own body) when left out. */
  variant?: string;
}

/** A rendered prompt: `text` for a text prompt, `messages` for a chat prompt. */
export interface RenderResult {
  name: string;
  version: string;
  variant: string;
  text?: string;
  messages?: Message[];
  /** The prompt's model settings with the variant's merged over them. */
  model: JsonObject;
}

/**
 * The parsed templates a writer keeps, up to a bound, the oldest going first: Mustache's own
 * cache keeps every template it ever parsed, which in a server that runs for months means every
 * version of every prompt any edit made. A hit is a plain lookup, as in Mustache's own cache:
 * rendering is measured against a bare `Mustache.render`.
 */
class BoundedTemplateCache {
  private readonly entries = new Map<string, unknown>();

  constructor(private readonly limit: number) {}

  get(key: string): unknown {
    return this.entries.get(key);
  }

  set(key: string, tokens: unknown): void {
    this.entries.set(key, tokens);
    if (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}

// A private writer: rendering must not touch the global Mustache that the host application may
// use with HTML escaping.
const writer = new Mustache.Writer();
(writer as { templateCache?: unknown }).templateCache = new BoundedTemplateCache(4_096);
/**
 * A value as text, as `String()` writes it. The objects of a view have no prototype (see
 * `toTemplateData`), and `String()` of one throws: an object is `[object Object]` here, and a
 * list joins its items as an array's `toString` does.
 */
function templateText(value: unknown): string {
  if (Array.isArray(value))
    return value.map((item: unknown) => (item == null ? "" : templateText(item))).join(",");
  if (typeof value === "object" && value !== null) return "[object Object]";
  return String(value);
}
// `{{{name}}}` and `{{&name}}` would add the value to the output as it is, which throws too.
(writer as { unescapedValue?: unknown }).unescapedValue = (
  token: [string, string],
  context: Mustache.Context,
): string | undefined => {
  const value: unknown = context.lookup(token[1]);
  return value == null ? undefined : templateText(value);
};
/** Values are inserted as written: no HTML escaping. */
const renderConfig = (tags: [string, string]) => ({
  tags,
  escape: templateText,
});
const configs = new Map<string, ReturnType<typeof renderConfig>>();

/**
 * Mustache's name lookup, on own properties only. Mustache looks a name up with `in` and runs
 * a function it finds as a lambda: `{{list.toString}}` would print `[object Object]` and
 * `{{list.constructor.name}}` would print `Array`. Values are JSON data, so a name is present
 * only as an own property, and a function is never a value.
 */
class DataContext extends Mustache.Context {
  private readonly found = new Map<string, unknown>();

  override push(view: unknown): Mustache.Context {
    return new DataContext(view, this);
  }

  override lookup(name: string): unknown {
    if (name === ".") return this.view;
    if (this.found.has(name)) return this.found.get(name);
    // Most names have no dot: they are looked up without splitting them.
    const path = name.includes(".") ? name.split(".") : undefined;
    const find = (view: unknown) => (path ? valueAtPath(view, path) : ownField(view, name));
    let value = find(this.view);
    for (let context = this.parent; context && value === MISSING; context = context.parent)
      value = find(context.view);
    if (value === MISSING || typeof value === "function") value = undefined;
    this.found.set(name, value);
    return value;
  }
}

/** What a lookup that finds nothing gives: `undefined` may be a value found. */
const MISSING = Symbol("missing");

function ownField(view: unknown, key: string): unknown {
  return typeof view === "object" && view !== null && Object.hasOwn(view, key)
    ? (view as Record<string, unknown>)[key]
    : MISSING;
}

/**
 * The value at a dotted `path` under `view`, as Mustache finds it: also on a string
 * (`{{name.length}}`).
 */
function valueAtPath(view: unknown, path: readonly string[]): unknown {
  let value = view;
  for (const key of path) {
    if (value === null || value === undefined || !Object.hasOwn(value, key)) return MISSING;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

const acceptedVariables = new WeakMap<Prompt, Record<string, VariableSpec>>();

/** The variables a prompt accepts: its own and those of the partials it includes. */
export function promptVariables(
  prompt: Prompt,
  prompts: PromptLookup,
): Record<string, VariableSpec> {
  // Nothing to merge, nothing to remember: a WeakMap entry per prompt is what `diff` would pay
  // for most, as it asks once for each of the thousands of prompts it compares.
  if (prompt.partials.length === 0) return prompt.variables;
  let variables = acceptedVariables.get(prompt);
  if (!variables) {
    variables = mergeVariables(
      prompt.variables,
      prompt.partials.map((name) => requirePrompt(prompts, name, prompt.name)),
    );
    acceptedVariables.set(prompt, variables);
  }
  return variables;
}

/**
 * Renders a prompt with the given variables. Throws a `PromptsError` that lists every missing,
 * unknown or mistyped variable at once. Values are inserted literally: a value holding `{{x}}`
 * stays `{{x}}`.
 */
export function renderPrompt(
  prompts: PromptLookup,
  name: string,
  variables: Readonly<Record<string, unknown>> = {},
  options: RenderOptions = {},
): RenderResult {
  const prompt = prompts.get(name);
  if (!prompt) {
    throw new PromptsError(
      "E_PROMPT_NOT_FOUND",
      `prompt "${name}" not found${didYouMean(name, prompts.keys())} (run: prompts list)`,
    );
  }
  const variantName = options.variant ?? DEFAULT_VARIANT;
  // Own keys only: "toString" is not a variant of every prompt.
  const variant =
    variantName === DEFAULT_VARIANT || !Object.hasOwn(prompt.variants, variantName)
      ? undefined
      : prompt.variants[variantName];
  if (variantName !== DEFAULT_VARIANT && !variant) {
    const known = [DEFAULT_VARIANT, ...Object.keys(prompt.variants)];
    throw new PromptsError(
      "E_INVALID_INPUT",
      `prompt "${name}" has no variant "${variantName}"${didYouMean(variantName, known)}; variants: ${known.join(", ")}`,
    );
  }
  const view = checkVariables(prompt, promptVariables(prompt, prompts), variables);
  const model = variant?.model ? { ...prompt.model, ...variant.model } : { ...prompt.model };
  const result: RenderResult = { name, version: prompt.version, variant: variantName, model };
  const render = (template: string) => renderTemplate(prompt, prompts, template, view);
  const messages = variant?.messages ?? prompt.messages;
  if (messages) {
    result.messages = messages.map((message) => ({
      role: message.role,
      content: render(message.content),
    }));
  } else {
    result.text = render(variant?.template ?? prompt.template ?? "");
  }
  return result;
}

/** A rendered prompt as one text: a text prompt as it is, a chat prompt as `[role]` blocks. */
export function renderedText(result: RenderResult): string {
  const withNewline = (text: string) => (text.endsWith("\n") ? text : `${text}\n`);
  if (result.messages) {
    return result.messages
      .map((message) => `[${message.role}]\n${withNewline(message.content)}`)
      .join("\n");
  }
  return withNewline(result.text ?? "");
}

function renderTemplate(
  prompt: Prompt,
  prompts: PromptLookup,
  template: string,
  view: Record<string, unknown>,
): string {
  if (prompt.raw) return template;
  const tags = prompt.delimiters ?? DEFAULT_TAGS;
  const key = tags.join(" ");
  let config = configs.get(key);
  if (!config) {
    config = renderConfig(tags);
    configs.set(key, config);
  }
  const partials =
    prompt.partials.length === 0
      ? undefined
      : (partial: string) => requirePrompt(prompts, partial, prompt.name).template;
  return writer.render(template, new DataContext(view), partials, config);
}

function requirePrompt(prompts: PromptLookup, name: string, includer: string): Prompt {
  const partial = prompts.get(name);
  if (!partial) {
    throw new PromptsError(
      "E_PROMPT_NOT_FOUND",
      `prompt "${includer}" includes "${name}", which is not loaded`,
    );
  }
  return partial;
}

/** Checks the given values against the declarations and returns the view with defaults. */
function checkVariables(
  prompt: Prompt,
  declared: Record<string, VariableSpec>,
  given: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const problems: string[] = [];
  const unknown = Object.keys(given).filter((key) => !Object.hasOwn(declared, key));
  for (const key of unknown) {
    problems.push(`unknown variable "${key}"${didYouMean(key, Object.keys(declared))}`);
  }
  // No prototype: Mustache looks names up with `in`, and `{{constructor}}` must not find
  // Object.prototype's function and run it as a lambda.
  const view = Object.create(null) as Record<string, unknown>;
  const missing: string[] = [];
  for (const [key, spec] of Object.entries(declared)) {
    const value = Object.hasOwn(given, key) ? given[key] : undefined;
    if (value === undefined || value === null) {
      if (spec.default !== undefined) view[key] = spec.default;
      else if (spec.required) missing.push(key);
      continue;
    }
    const type = valueType(value);
    if (type !== spec.type) {
      problems.push(
        `variable "${key}" must be ${article(spec.type)}, got ${type === "other" ? typeof value : type}`,
      );
      continue;
    }
    if (type === "array" || type === "object") {
      // A function inside a value would run as a Mustache lambda and re-read text as template.
      const copy = toTemplateData(value);
      if ("problem" in copy) {
        problems.push(`variable "${key}" holds ${copy.problem}; values must be JSON data`);
        continue;
      }
      view[key] = copy.data;
      continue;
    }
    view[key] = value;
  }
  if (missing.length > 0) {
    problems.unshift(
      `missing required variable${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}`,
    );
  }
  if (problems.length > 0) {
    throw new PromptsError(
      "E_INVALID_INPUT",
      `cannot render "${prompt.name}": ${problems.join("; ")}`,
      {
        details: problems,
      },
    );
  }
  return view;
}
