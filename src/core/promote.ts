import { isDeepStrictEqual } from "node:util";
import {
  Document,
  isAlias,
  isMap,
  isNode,
  isScalar,
  type Node,
  Pair,
  parseDocument,
  Scalar,
  YAMLMap,
} from "yaml";
import { PromptsError } from "../errors.js";
import { DEFAULT_VARIANT } from "./names.js";
import { normalizeSource, PROMPT_KEYS } from "./parse.js";
import { didYouMean } from "./suggest.js";

/** Options of {@link promoteVariant}. */
export interface PromoteOptions {
  /** The prompt's name, for messages. */
  name?: string;
}

/** As many aliases as the parser accepts (see parse.ts). */
const MAX_ALIAS_COUNT = 100;
const TO_STRING = { lineWidth: 0 } as const;

type AnyNode = Node | null | undefined;
type TopPair = Pair<unknown, unknown>;

/**
 * The text of a prompt file with `variant` promoted: its `template` (or `messages`) becomes the
 * prompt's body, its `model` is shallow-merged over the prompt's (as rendering does), and
 * `variants` is removed, since a promoted arm ends the experiment. Every other top-level key
 * keeps its exact text — comments, quoting, order, the `# yaml-language-server` line; the keys
 * that change are written by the `yaml` package. Throws `E_INVALID_INPUT` for `default`, for
 * an unknown variant and for a file that is not a readable prompt mapping.
 */
export function promoteVariant(
  text: string,
  variant: string,
  options: PromoteOptions = {},
): string {
  // Over 80 lines on purpose: the checks and the edit of one file, in order.
  const subject = options.name === undefined ? "the prompt" : `prompt "${options.name}"`;
  const bom = text.charCodeAt(0) === 0xfeff ? "\uFEFF" : "";
  const crlf = text.includes("\r\n");
  const source = normalizeSource(text);
  const doc = parseDocument(source, { keepSourceTokens: false, uniqueKeys: true });
  const root = doc.contents;
  if (doc.errors.length > 0 || !isMap(root)) {
    throw new PromptsError(
      "E_INVALID_INPUT",
      `${subject} is not a valid prompt file; fix it first (run: prompts validate)`,
    );
  }

  const variantsNode = resolveNode(doc, root.get("variants", true));
  const names = isMap(variantsNode) ? variantsNode.items.map((pair) => keyOf(pair)) : [];
  const listed = names.length === 0 ? "it has no variants" : `variants: ${names.join(", ")}`;
  if (variant === DEFAULT_VARIANT) {
    throw new PromptsError(
      "E_INVALID_INPUT",
      `"${DEFAULT_VARIANT}" is already the body of ${subject}: nothing to promote; name a variant (${listed})`,
    );
  }
  const arm = names.includes(variant)
    ? resolveNode(doc, (variantsNode as YAMLMap).get(variant, true))
    : undefined;
  if (!isMap(arm)) {
    throw new PromptsError(
      "E_INVALID_INPUT",
      `${subject} has no variant "${variant}"${didYouMean(variant, names)}; ${listed}`,
    );
  }

  const expected = expectedContent(doc, variant);
  const original = new Map(root.items.map((pair) => [pair, placeOf(pair)]));
  const changed = new Set<TopPair>();

  const bodyKey = arm.has("template") ? "template" : arm.has("messages") ? "messages" : undefined;
  if (bodyKey !== undefined) {
    const body = detach(doc, arm.get(bodyKey, true));
    if (isScalar(body) && typeof body.value === "string" && body.value.includes("\n")) {
      // A multi-line template stays a `|` block, whatever quoting the variant used.
      if (body.type !== Scalar.BLOCK_FOLDED) body.type = Scalar.BLOCK_LITERAL;
    }
    changed.add(setTop(root, bodyKey, body));
    const other = bodyKey === "template" ? "messages" : "template";
    root.delete(other);
  }

  const armModel = resolveNode(doc, arm.get("model", true));
  if (isMap(armModel) && armModel.items.length > 0) {
    let model = resolveNode(doc, root.get("model", true));
    if (isMap(model) && isAlias(root.get("model", true))) model = detach(doc, model);
    if (!isMap(model)) model = new YAMLMap();
    for (const pair of armModel.items) {
      const key = keyOf(pair);
      const value = detach(doc, pair.value as AnyNode);
      const previous = model.get(key, true) as AnyNode;
      // The comment on the replaced value stays on the line, where a reviewer sees it.
      if (value && previous?.comment && !value.comment) value.comment = previous.comment;
      model.set(key, value);
    }
    changed.add(setTop(root, "model", model));
  }

  root.delete("variants");

  const spliced = splice(source, root, original, changed);
  for (const candidate of [spliced, doc.toString(TO_STRING)]) {
    if (candidate !== undefined && holds(candidate, expected)) {
      const out = crlf ? candidate.replace(/\n/g, "\r\n") : candidate;
      return bom + out;
    }
  }
  throw new PromptsError(
    "E_INVALID_INPUT",
    `cannot promote "${variant}" in ${subject}: the rewritten file would not hold the same content (YAML anchors or aliases shared with the variants?); edit it by hand`,
  );
}

/** Where an original top-level pair stands in the source. */
interface Place {
  keyStart: number;
  valueEnd: number;
}

function placeOf(pair: TopPair): Place | undefined {
  const key = pair.key as AnyNode;
  const value = pair.value as AnyNode;
  const keyStart = key?.range?.[0];
  const valueEnd = value?.range?.[2] ?? key?.range?.[2];
  return keyStart === undefined || valueEnd === undefined ? undefined : { keyStart, valueEnd };
}

/**
 * The new text made of the original text of every unchanged top-level pair and a freshly
 * written one for each changed pair. `undefined` when the layout does not allow it (a flow
 * mapping at the top, two keys on one line): the caller then writes the whole document.
 */
function splice(
  source: string,
  root: YAMLMap,
  original: ReadonlyMap<TopPair, Place | undefined>,
  changed: ReadonlySet<TopPair>,
): string | undefined {
  if (root.flow) return undefined;
  const pairs = [...original.keys()];
  const places = pairs.map((pair) => original.get(pair));
  if (places.some((place) => place === undefined)) return undefined;
  const spans = (places as Place[]).map((place) => {
    const keyLine = lineStart(source, place.keyStart);
    const indent = source.slice(keyLine, place.keyStart);
    return { keyLine, indent, start: keyLine, middleEnd: 0, end: 0 };
  });
  for (const [index, span] of spans.entries()) {
    if (span.indent.trim() !== "") return undefined;
    // Comment lines right above a key, at its indentation, belong to it.
    if (index > 0) {
      for (;;) {
        const previous = lineStart(source, span.start - 1);
        const line = source.slice(previous, span.start - 1);
        if (span.start === 0 || !line.startsWith(`${span.indent}#`)) break;
        span.start = previous;
      }
    }
  }
  for (const [index, span] of spans.entries()) {
    const place = places[index] as Place;
    const next = spans[index + 1];
    let middleEnd = lineEnd(source, Math.max(place.valueEnd - 1, span.keyLine));
    // Blank lines after the value separate it from what follows: they are not part of it.
    while (middleEnd > span.keyLine) {
      const previous = lineStart(source, middleEnd - 1);
      if (source.slice(previous, middleEnd).trim() !== "") break;
      middleEnd = previous;
    }
    if (next) {
      if (next.start < middleEnd) return undefined;
      span.end = next.start;
    } else {
      span.end = middleEnd;
    }
    span.middleEnd = middleEnd;
  }
  const first = spans[0];
  const last = spans.at(-1);
  let out = first ? source.slice(0, first.start) : "";
  for (const pair of root.items) {
    const index = pairs.indexOf(pair);
    const span = spans[index];
    if (!span) out += pairText(pair);
    else if (!changed.has(pair)) out += source.slice(span.start, span.end);
    else {
      out +=
        source.slice(span.start, span.keyLine) +
        pairText(pair) +
        source.slice(span.middleEnd, span.end);
    }
  }
  out += source.slice(last ? last.end : 0);
  // A removed last key must not leave blank lines at the end of the file.
  return source.endsWith("\n\n") ? out : out.replace(/\n{2,}$/, "\n");
}

/** One top-level pair written on its own; its comments above stay in the original text. */
function pairText(pair: TopPair): string {
  const copy = pair.clone();
  const key = copy.key;
  if (isNode(key)) {
    key.commentBefore = undefined;
    key.spaceBefore = false;
  }
  const single = new Document();
  const map = new YAMLMap();
  map.items.push(copy);
  single.contents = map;
  return single.toString(TO_STRING);
}

/** Sets a top-level key; a new key goes where the format lists it, before the keys after it. */
function setTop(root: YAMLMap, key: string, value: unknown): TopPair {
  const existing = root.items.find((pair) => keyOf(pair) === key);
  if (existing) {
    existing.value = value;
    return existing;
  }
  const order = PROMPT_KEYS as readonly string[];
  const rank = order.indexOf(key);
  const at = root.items.findIndex((pair) => order.indexOf(keyOf(pair)) > rank);
  const added: TopPair = new Pair(new Scalar(key), value);
  root.items.splice(at === -1 ? root.items.length : at, 0, added);
  return added;
}

/** The file's content as data after the promotion: what the new text must parse to. */
function expectedContent(doc: Document, variant: string): Record<string, unknown> {
  const data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as Record<string, unknown>;
  const variants = data.variants as Record<string, Record<string, unknown>>;
  const arm = variants[variant] ?? {};
  if (arm.template !== undefined) {
    data.template = arm.template;
    delete data.messages;
  } else if (arm.messages !== undefined) {
    data.messages = arm.messages;
    delete data.template;
  }
  const armModel = arm.model as Record<string, unknown> | null | undefined;
  if (armModel && Object.keys(armModel).length > 0) {
    data.model = { ...(data.model as Record<string, unknown> | null | undefined), ...armModel };
  }
  delete data.variants;
  return data;
}

function holds(text: string, expected: Record<string, unknown>): boolean {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) return false;
  return isDeepStrictEqual(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), expected);
}

/** The node an alias points to, or the node itself. */
function resolveNode(doc: Document, node: AnyNode): AnyNode {
  return isAlias(node) ? node.resolve(doc) : node;
}

/** A copy of a node that can move to another place: no alias, no anchor to leave behind. */
function detach(doc: Document, node: AnyNode): Node | null {
  const resolved = resolveNode(doc, node);
  if (!resolved) return null;
  const copy = resolved.clone() as Node;
  copy.anchor = undefined;
  return copy;
}

function keyOf(pair: TopPair): string {
  const key = pair.key as AnyNode;
  return isScalar(key) ? String(key.value) : String(key);
}

function lineStart(text: string, position: number): number {
  return position <= 0 ? 0 : text.lastIndexOf("\n", position - 1) + 1;
}

/** The position after the end of the line holding `position` (after its newline). */
function lineEnd(text: string, position: number): number {
  const newline = text.indexOf("\n", position);
  return newline === -1 ? text.length : newline + 1;
}
