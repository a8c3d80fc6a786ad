import { Document, isScalar, Pair, Scalar, type ScalarTag, YAMLMap, YAMLSeq } from "yaml";

/**
 * A composer for the plain YAML that prompt files are nearly always written in: block mappings
 * and sequences, one-line plain and quoted scalars, `|` and `>` block scalars, one-line flow
 * collections, comments. It builds the same nodes, values and source ranges as the `yaml`
 * library, about four times faster — parsing is most of the cost of reading a large tree cold.
 *
 * Anything outside that subset — anchors, tags, multi-line plain or quoted scalars, explicit
 * indentation, tabs, duplicate keys, anything that would be a YAML error — makes it give up
 * (`undefined`), and the caller parses the file with the `yaml` library, which also words every
 * error. Its answers are checked against the library's on generated files in the tests.
 */
export function composeSimpleYaml(source: string, lineStarts: number[]): YAMLMap | undefined {
  if (UNSUPPORTED_CHARS.test(source)) return undefined;
  lineStarts.length = 0;
  lineStarts.push(0);
  for (let i = source.indexOf("\n"); i !== -1; i = source.indexOf("\n", i + 1)) {
    lineStarts.push(i + 1);
  }
  try {
    return new SimpleComposer(source, lineStarts).document();
  } catch (error) {
    // Absurd nesting runs out of stack: the library words that.
    if (error !== GIVE_UP && !(error instanceof RangeError)) throw error;
    lineStarts.length = 0;
    return undefined;
  }
}

/** The document whose schema and options {@link composeSimpleYaml}'s nodes are read with. */
export function simpleYamlDocument(): Document {
  return (defaultDocument ??= new Document());
}

let defaultDocument: Document | undefined;

/** Control characters and tabs: the library has rules of its own for them. */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const UNSUPPORTED_CHARS = /[\x00-\x08\x0b-\x1f\x7f\t]/;
/**
 * The library's nodes, made without their constructors, which define a property on each new
 * node (most of the cost of building a few hundred thousand of them): each kind gets a
 * prototype below the library's class that carries the kind's identity, taken from a node the
 * library made, so that `isScalar`, `isMap` and the rest, and the classes' methods, work alike.
 */
function nodeMaker<T extends object>(sample: T): () => T {
  const identity = Object.getOwnPropertySymbols(sample).map((symbol) => [
    symbol,
    { value: (sample as Record<symbol, unknown>)[symbol] },
  ]);
  const prototype = Object.create(
    Object.getPrototypeOf(sample) as object,
    Object.fromEntries(identity) as PropertyDescriptorMap,
  ) as T;
  return () => Object.create(prototype) as T;
}

const makeScalar = nodeMaker(new Scalar<unknown>(null));
const makeMap = nodeMaker(new YAMLMap());
const makeSeq = nodeMaker(new YAMLSeq());
const makePair = nodeMaker(new Pair<unknown, unknown>(null));

function scalarNode(value: unknown): Scalar {
  const node = makeScalar();
  node.value = value;
  return node;
}

function mapNode(): YAMLMap {
  const node = makeMap();
  node.items = [];
  return node;
}

function seqNode(): YAMLSeq {
  const node = makeSeq();
  node.items = [];
  return node;
}

function pairNode(key: Scalar, value: Scalar | YAMLMap | YAMLSeq): Pair {
  const node = makePair();
  node.key = key;
  node.value = value;
  return node;
}

/** Thrown, always the same object, to leave a file to the library. */
const GIVE_UP = new Error("outside the simple subset");
/** A key the subset reads: no quotes, spaces or indicators. */
const KEY = /[A-Za-z0-9_$][A-Za-z0-9_$./-]*/y;
/** Characters that cannot start a plain scalar, or start something else. */
const INDICATORS = new Set([
  "[",
  "]",
  "{",
  "}",
  ",",
  "#",
  "&",
  "*",
  "!",
  "|",
  ">",
  "'",
  '"',
  "%",
  "@",
  "`",
]);
const FLOW_INDICATORS = new Set([",", "[", "]", "{", "}"]);
const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  '"': '"',
  "/": "/",
  n: "\n",
  t: "\t",
  r: "\r",
  "0": "\0",
};
/** The YAML spec's limit on an implicit key. */
const MAX_KEY_LENGTH = 1024;

function giveUp(): never {
  throw GIVE_UP;
}

class SimpleComposer {
  private readonly tags: ScalarTag[];
  private readonly options: Document["options"];
  /** The line being read. */
  private line = 0;

  constructor(
    private readonly src: string,
    private readonly lineStarts: readonly number[],
  ) {
    const doc = simpleYamlDocument();
    this.options = doc.options;
    this.tags = doc.schema.tags.filter(
      (tag): tag is ScalarTag => !("collection" in tag && tag.collection),
    );
  }

  document(): YAMLMap {
    this.skipEmptyLines();
    // A document start marker may open the file; directives and further documents may not.
    if (this.line < this.lineCount && this.lineText(this.line).startsWith("---")) {
      const rest = this.lineText(this.line).slice(3);
      if (!/^ *(?: #.*)?$/.test(rest)) giveUp();
      this.line++;
      this.skipEmptyLines();
    }
    if (this.line >= this.lineCount || this.indentOf(this.line) !== 0) giveUp();
    const start = this.lineStarts[this.line] as number;
    if (this.isSeqItem(start)) giveUp();
    const root = this.blockMap(start, 0);
    this.skipEmptyLines();
    if (this.line < this.lineCount) giveUp();
    return root;
  }

  private get lineCount(): number {
    return this.lineStarts.length;
  }

  private lineEnd(line: number): number {
    const next = this.lineStarts[line + 1];
    return next === undefined ? this.src.length : next - 1;
  }

  private lineText(line: number): string {
    return this.src.slice(this.lineStarts[line], this.lineEnd(line));
  }

  private indentOf(line: number): number {
    const start = this.lineStarts[line] as number;
    let at = start;
    while (this.src.charCodeAt(at) === 32) at++;
    return at - start;
  }

  /** Blank or comment-only. */
  private isEmptyLine(line: number): boolean {
    const start = (this.lineStarts[line] as number) + this.indentOf(line);
    return start >= this.lineEnd(line) || this.src[start] === "#";
  }

  private skipEmptyLines(): void {
    while (this.line < this.lineCount && this.isEmptyLine(this.line)) this.line++;
  }

  private isSeqItem(at: number): boolean {
    return (
      this.src[at] === "-" &&
      (at + 1 >= this.src.length || this.src[at + 1] === " " || this.src[at + 1] === "\n")
    );
  }

  /** A block mapping whose first key starts at `at` (on the current line), at column `indent`. */
  private blockMap(at: number, indent: number): YAMLMap {
    const map = mapNode();
    const keys = new Set<unknown>();
    let keyStart = at;
    for (;;) {
      const pair = this.mapEntry(keyStart, indent);
      const key = (pair.key as Scalar).value;
      if (keys.has(key)) giveUp();
      keys.add(key);
      map.items.push(pair);
      this.skipEmptyLines();
      if (this.line >= this.lineCount) break;
      const lineIndent = this.indentOf(this.line);
      if (lineIndent < indent) break;
      if (lineIndent > indent) giveUp();
      keyStart = (this.lineStarts[this.line] as number) + indent;
      if (this.isSeqItem(keyStart)) break;
    }
    map.range = [at, this.endOfRead(), this.endOfRead()];
    return map;
  }

  /** Where what was read ends: the start of the current line. */
  private endOfRead(): number {
    return this.line < this.lineCount ? (this.lineStarts[this.line] as number) : this.src.length;
  }

  /** `key: value` with the key at `at`; leaves the current line past the value. */
  private mapEntry(at: number, indent: number): Pair {
    KEY.lastIndex = at;
    if (!KEY.test(this.src)) giveUp();
    const keyEnd = KEY.lastIndex;
    if (keyEnd - at > MAX_KEY_LENGTH || this.src[keyEnd] !== ":") giveUp();
    const key = this.plainScalar(this.src.slice(at, keyEnd), at, keyEnd, true);
    const afterColon = keyEnd + 1;
    const end = this.lineEnd(this.line);
    if (afterColon === end) {
      this.line++;
      return pairNode(key, this.nestedBlock(indent, afterColon));
    }
    if (this.src[afterColon] !== " ") giveUp();
    const valueStart = this.skipSpaces(afterColon);
    if (valueStart === end || this.src[valueStart] === "#") {
      this.line++;
      return pairNode(key, this.nestedBlock(indent, undefined));
    }
    return pairNode(key, this.inlineValue(valueStart, indent));
  }

  /**
   * The value of a key that ends its line: a mapping or sequence on the lines below (a
   * sequence may stand at the key's own column), or null when there is none.
   */
  private nestedBlock(indent: number, emptyAt: number | undefined): YAMLMap | YAMLSeq | Scalar {
    this.skipEmptyLines();
    if (this.line < this.lineCount) {
      const lineIndent = this.indentOf(this.line);
      const start = (this.lineStarts[this.line] as number) + lineIndent;
      if (lineIndent > indent) {
        return this.isSeqItem(start) ? this.blockSeq(lineIndent) : this.blockMap(start, lineIndent);
      }
      if (lineIndent === indent && this.isSeqItem(start)) return this.blockSeq(lineIndent);
    }
    // An empty value is null, which the library places just after a colon that ends its line.
    if (emptyAt === undefined) giveUp();
    const scalar = scalarNode(null);
    scalar.range = [emptyAt, emptyAt, emptyAt];
    return scalar;
  }

  /** A block sequence whose dashes stand at column `indent`, starting on the current line. */
  private blockSeq(indent: number): YAMLSeq {
    const seq = seqNode();
    const start = (this.lineStarts[this.line] as number) + indent;
    for (;;) {
      const dash = (this.lineStarts[this.line] as number) + indent;
      const end = this.lineEnd(this.line);
      if (dash + 1 === end) {
        this.line++;
        this.skipEmptyLines();
        if (this.line >= this.lineCount || this.indentOf(this.line) <= indent) giveUp();
        const lineIndent = this.indentOf(this.line);
        const at = (this.lineStarts[this.line] as number) + lineIndent;
        seq.items.push(
          this.isSeqItem(at) ? this.blockSeq(lineIndent) : this.blockMap(at, lineIndent),
        );
      } else {
        const at = this.skipSpaces(dash + 1);
        if (at === end || this.src[at] === "#" || this.isSeqItem(at)) giveUp();
        KEY.lastIndex = at;
        const isKey =
          KEY.test(this.src) &&
          this.src[KEY.lastIndex] === ":" &&
          (KEY.lastIndex + 1 === end || this.src[KEY.lastIndex + 1] === " ");
        seq.items.push(
          isKey
            ? this.blockMap(at, at - (this.lineStarts[this.line] as number))
            : this.inlineValue(at, indent),
        );
      }
      this.skipEmptyLines();
      if (this.line >= this.lineCount) break;
      const lineIndent = this.indentOf(this.line);
      if (lineIndent < indent) break;
      if (lineIndent > indent) giveUp();
      if (!this.isSeqItem((this.lineStarts[this.line] as number) + indent)) break;
    }
    seq.range = [start, this.endOfRead(), this.endOfRead()];
    return seq;
  }

  /** A value that starts on the current line at `at`, in a collection at column `indent`. */
  private inlineValue(at: number, indent: number): Scalar | YAMLMap | YAMLSeq {
    const char = this.src[at] as string;
    if (char === "|" || char === ">") return this.blockScalar(at, indent);
    let node: Scalar | YAMLMap | YAMLSeq;
    let end: number;
    if (char === "{" || char === "[" || char === '"' || char === "'") {
      [node, end] = this.flowNode(at);
    } else {
      if (INDICATORS.has(char)) giveUp();
      const lineEnd = this.lineEnd(this.line);
      let valueEnd = this.src.indexOf(" #", at);
      if (valueEnd === -1 || valueEnd > lineEnd) valueEnd = lineEnd;
      while (this.src.charCodeAt(valueEnd - 1) === 32) valueEnd--;
      const text = this.src.slice(at, valueEnd);
      if (text.includes(": ") || text.endsWith(":") || this.opensSomethingElse(at)) giveUp();
      node = this.plainScalar(text, at, valueEnd, false);
      end = valueEnd;
    }
    this.endLine(end);
    // A plain scalar may go on over more-indented lines; anything else there is an error.
    this.skipEmptyLines();
    if (this.line < this.lineCount && this.indentOf(this.line) > indent) giveUp();
    return node;
  }

  /**
   * `-`, `?` or `:` followed by a space or the end of the line (or, in a flow collection, a
   * flow indicator) starts an indicator, not text.
   */
  private opensSomethingElse(at: number, inFlow = false): boolean {
    const char = this.src[at];
    if (char !== "-" && char !== "?" && char !== ":") return false;
    const next = this.src[at + 1];
    return (
      next === undefined || next === " " || next === "\n" || (inFlow && FLOW_INDICATORS.has(next))
    );
  }

  /** Checks that only spaces and a comment follow `at` on the current line, and moves past it. */
  private endLine(at: number): void {
    const end = this.lineEnd(this.line);
    const rest = this.skipSpaces(at);
    if (rest !== end && !(this.src[rest] === "#" && rest > at)) giveUp();
    this.line++;
  }

  private skipSpaces(at: number): number {
    let index = at;
    while (this.src.charCodeAt(index) === 32) index++;
    return index;
  }

  /** A scalar resolved by the schema's tags, as the library resolves one written plain. */
  private plainScalar(text: string, start: number, end: number, atKey: boolean): Scalar {
    const tag = isPlainWord(text)
      ? undefined
      : this.tags.find(
          (candidate) =>
            (candidate.default === true || (atKey && candidate.default === "key")) &&
            candidate.test?.test(text),
        );
    let scalar: Scalar;
    if (tag) {
      const resolved = tag.resolve(text, giveUp, this.options);
      scalar = isScalar(resolved) ? resolved : scalarNode(resolved);
    } else {
      scalar = scalarNode(text);
    }
    scalar.range = [start, end, end];
    return scalar;
  }

  /** `|` or `>` at `at`, its lines more indented than `indent`. */
  private blockScalar(at: number, indent: number): Scalar {
    const folded = this.src[at] === ">";
    let headerEnd = at + 1;
    let chomp: "clip" | "strip" | "keep" = "clip";
    if (this.src[headerEnd] === "-") chomp = "strip";
    else if (this.src[headerEnd] === "+") chomp = "keep";
    if (chomp !== "clip") headerEnd++;
    this.endLine(headerEnd);
    const lines: string[] = [];
    let contentIndent = -1;
    let lastContent = -1;
    const firstLine = this.line;
    for (; this.line < this.lineCount; this.line++) {
      const start = this.lineStarts[this.line] as number;
      // The line after a final line break holds nothing.
      if (start === this.src.length) break;
      const lineIndent = this.indentOf(this.line);
      const end = this.lineEnd(this.line);
      if (start + lineIndent === end) {
        // Spaces past the content's column on an empty line are content: left to the library.
        if (contentIndent !== -1 && lineIndent > contentIndent) giveUp();
        lines.push("");
        continue;
      }
      if (contentIndent === -1) {
        if (lineIndent <= indent) break;
        contentIndent = lineIndent;
        // Leading empty lines longer than the first content line are an error.
        for (let line = firstLine; line < this.line; line++) {
          if (this.indentOf(line) > contentIndent) giveUp();
        }
      } else if (lineIndent < contentIndent) {
        break;
      }
      // A more-indented line in a folded scalar keeps its line breaks: left to the library.
      if (folded && lineIndent > contentIndent) giveUp();
      lines.push(this.src.slice(start + contentIndent, end));
      lastContent = lines.length - 1;
    }
    // A block that runs to the end of a file without a final line break ends differently.
    if (lastContent === -1 || (this.line === this.lineCount && !this.src.endsWith("\n"))) giveUp();
    const content = lines.slice(0, lastContent + 1);
    const trailing = lines.length - content.length;
    let value = folded ? foldLines(content) : content.join("\n");
    if (chomp === "clip") value += "\n";
    else if (chomp === "keep") value += "\n".repeat(trailing + 1);
    const end = this.endOfRead();
    const scalar = scalarNode(value);
    scalar.type = folded ? Scalar.BLOCK_FOLDED : Scalar.BLOCK_LITERAL;
    scalar.range = [at, end, end];
    return scalar;
  }

  /** A flow collection or quoted scalar on one line; returns the node and where it ends. */
  private flowNode(at: number, atKey = false): [Scalar | YAMLMap | YAMLSeq, number] {
    const char = this.src[at];
    if (char === '"') return this.doubleQuoted(at);
    if (char === "'") return this.singleQuoted(at);
    if (char === "{") return this.flowMap(at);
    if (char === "[") return this.flowSeq(at);
    return this.flowPlain(at, atKey);
  }

  private flowMap(at: number): [YAMLMap, number] {
    const map = mapNode();
    map.flow = true;
    const keys = new Set<unknown>();
    let index = this.skipSpaces(at + 1);
    while (this.src[index] !== "}") {
      const [key, keyEnd] = this.flowNode(index, true);
      if (!isScalar(key) || this.src[keyEnd] !== ":" || this.src[keyEnd + 1] !== " ") giveUp();
      if (keys.has(key.value)) giveUp();
      keys.add(key.value);
      const valueStart = this.skipSpaces(keyEnd + 1);
      if (this.src[valueStart] === "," || this.src[valueStart] === "}") giveUp();
      const [value, valueEnd] = this.flowNode(valueStart);
      map.items.push(pairNode(key, value));
      index = this.afterFlowEntry(valueEnd, "}");
    }
    map.range = [at, index + 1, index + 1];
    return [map, index + 1];
  }

  private flowSeq(at: number): [YAMLSeq, number] {
    const seq = seqNode();
    seq.flow = true;
    let index = this.skipSpaces(at + 1);
    while (this.src[index] !== "]") {
      const [item, itemEnd] = this.flowNode(index);
      seq.items.push(item);
      index = this.afterFlowEntry(itemEnd, "]");
    }
    seq.range = [at, index + 1, index + 1];
    return [seq, index + 1];
  }

  /** Past `,` and spaces after an entry; at the closing bracket if it comes next. */
  private afterFlowEntry(at: number, close: string): number {
    let index = this.skipSpaces(at);
    if (this.src[index] === ",") index = this.skipSpaces(index + 1);
    else if (this.src[index] !== close) giveUp();
    if (this.src[index] === "\n" || index >= this.src.length) giveUp();
    return index;
  }

  private flowPlain(at: number, atKey: boolean): [Scalar, number] {
    const first = this.src[at];
    if (
      first === undefined ||
      first === "\n" ||
      INDICATORS.has(first) ||
      this.opensSomethingElse(at, true)
    ) {
      giveUp();
    }
    let index = at;
    for (;;) {
      const char = this.src[index];
      if (char === undefined || char === "\n" || FLOW_INDICATORS.has(char)) break;
      if (char === ":") {
        const next = this.src[index + 1];
        if (next === undefined || next === " " || next === "\n" || FLOW_INDICATORS.has(next)) break;
      }
      if (char === "#" && this.src[index - 1] === " ") giveUp();
      index++;
    }
    let end = index;
    while (this.src.charCodeAt(end - 1) === 32) end--;
    return [this.plainScalar(this.src.slice(at, end), at, end, atKey), end];
  }

  private doubleQuoted(at: number): [Scalar, number] {
    let value = "";
    let index = at + 1;
    for (;;) {
      const char = this.src[index];
      if (char === undefined || char === "\n") giveUp();
      if (char === '"') break;
      if (char === "\\") {
        const escaped = SIMPLE_ESCAPES[this.src[index + 1] ?? ""];
        if (escaped === undefined) giveUp();
        value += escaped;
        index += 2;
        continue;
      }
      value += char;
      index++;
    }
    return [this.quoted(value, at, index + 1, Scalar.QUOTE_DOUBLE), index + 1];
  }

  private singleQuoted(at: number): [Scalar, number] {
    let value = "";
    let index = at + 1;
    for (;;) {
      const close = this.src.indexOf("'", index);
      const newline = this.src.indexOf("\n", index);
      if (close === -1 || (newline !== -1 && newline < close)) giveUp();
      value += this.src.slice(index, close);
      if (this.src[close + 1] !== "'") {
        index = close + 1;
        break;
      }
      value += "'";
      index = close + 2;
    }
    return [this.quoted(value, at, index, Scalar.QUOTE_SINGLE), index];
  }

  private quoted(value: string, start: number, end: number, type: Scalar.Type): Scalar {
    const scalar = scalarNode(value);
    scalar.type = type;
    scalar.range = [start, end, end];
    return scalar;
  }
}

/**
 * A plain scalar that starts with a letter is a string unless it is one of the core schema's
 * words for null and booleans: no need to try every tag on `description` or `llama-3`.
 */
function isPlainWord(text: string): boolean {
  const first = text.charCodeAt(0);
  const letter = (first >= 65 && first <= 90) || (first >= 97 && first <= 122) || first === 95;
  return letter && !CORE_WORDS.has(text);
}

const CORE_WORDS = new Set([
  "null",
  "Null",
  "NULL",
  "true",
  "True",
  "TRUE",
  "false",
  "False",
  "FALSE",
]);

/**
 * Folds the lines of a `>` scalar: a line break between two lines becomes a space, and n empty
 * lines between them n line breaks; empty lines before the first line are line breaks.
 */
function foldLines(lines: readonly string[]): string {
  let value = "";
  let empty = 0;
  let started = false;
  for (const line of lines) {
    if (line === "") {
      empty++;
      continue;
    }
    value += started && empty === 0 ? ` ${line}` : "\n".repeat(empty) + line;
    started = true;
    empty = 0;
  }
  return value;
}
