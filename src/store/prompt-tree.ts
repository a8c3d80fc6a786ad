import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { isSortedUnique, PromptHeaders } from "../core/headers.js";
import { type BodyText, promptBodies, promptShape, SHAPE_LENGTH } from "../core/prompt-parts.js";
import { type ListRow, listRowOf, type PromptSummary, summarizePrompt } from "../core/summary.js";
import type { Issue, Prompt, PromptSpec } from "../core/types.js";
import { parsedSpecOf } from "../core/parsed-spec.js";

/**
 * The prompts of one tree (a git tree, the working tree) for commands that read something of
 * every prompt but few whole prompts: `list` reads the summaries or the table's rows, `diff` the
 * headers of both sides and the bodies, or the whole prompts, of those that differ. Read back
 * from a record in the tree cache, a prompt is parsed from its JSON only when asked for, so a
 * warm `diff v1 v2` costs in proportion to what changed rather than to the size of the tree.
 */
export class PromptTree {
  private constructor(
    /** Name, version, file, partials (from a record, shape) of every valid prompt, by name. */
    readonly headers: PromptHeaders,
    /** The whole prompts, looked up lazily; iterating it reads them all. */
    readonly prompts: ReadonlyMap<string, Prompt>,
    private readonly readSummaries: () => PromptSummary[],
    private readonly readListRows: () => ListRow[],
    /** Errors and warnings of the tree's files, sorted by file and line. */
    readonly issues: readonly Issue[],
    /** How many prompt files the tree holds. */
    readonly fileCount: number,
    private readonly release: () => void = () => {},
    /** The bodies of a prompt by name, read apart from the whole prompt (see prompt-parts). */
    readonly bodies?: (name: string) => readonly BodyText[],
  ) {}

  /** A tree whose prompts were all just loaded. */
  static of(
    prompts: ReadonlyMap<string, Prompt>,
    issues: readonly Issue[],
    fileCount: number,
  ): PromptTree {
    const summaries = () => [...prompts.values()].map(summarizePrompt);
    return new PromptTree(
      PromptHeaders.of(prompts.values()),
      prompts,
      summaries,
      () => summaries().map(listRowOf),
      issues,
      fileCount,
    );
  }

  /**
   * The tree of a record file written from {@link PromptTree.record}, or undefined when there
   * is none or it is not one (another version's format, damage): the caller then loads the tree
   * afresh. Each prompt is parsed when it is asked for. `whole` reads the file at once, for a
   * reader of every prompt; otherwise only the parts asked for are read, from the file kept
   * open until {@link PromptTree.close}.
   */
  static readRecord(path: string, whole: boolean): PromptTree | undefined {
    let fd: number | undefined;
    try {
      let read: (offset: number, length: number) => string;
      let readPrompt: (offset: number, length: number) => string;
      let readBodies: (offset: number, length: number) => string;
      if (whole) {
        const bytes = readFileSync(path);
        read = (offset, length) => bytes.toString("utf8", offset, offset + length);
        readPrompt = read;
        readBodies = read;
      } else {
        const file = openSync(path, "r");
        fd = file;
        read = (offset, length) => readRange(file, offset, length);
        readPrompt = windowReader(file);
        readBodies = windowReader(file);
      }
      const record = readHead(read(0, PREFIX_LENGTH), read);
      if (!record) {
        if (fd !== undefined) closeSync(fd);
        return undefined;
      }
      const { meta, start, text } = record;
      const column = (range: Range) => (meta.count === 0 ? [] : text(range).split(SEPARATOR));
      const names = column(meta.names);
      const versions = column(meta.versions);
      // Files and shapes are sliced out when asked for: a diff asks for those of few prompts.
      const files = text(meta.files);
      const fileStarts = columnStarts(files, meta.count);
      const shapes = text(meta.shapes);
      const lengths = JSON.parse(text(meta.lengths)) as number[];
      const bodyLengths = JSON.parse(text(meta.bodyLengths)) as number[];
      const partials = new Map(JSON.parse(text(meta.partials)) as [number, string[]][]);
      const count = meta.count;
      if (
        names.length !== count ||
        versions.length !== count ||
        fileStarts === undefined ||
        shapes.length !== (count === 0 ? 0 : count * (SHAPE_LENGTH + 1) - 1) ||
        lengths.length !== count ||
        bodyLengths.length !== count ||
        !isSortedUnique(names)
      ) {
        throw new Error("the record's headers do not fit together");
      }
      const offsets = lineOffsets(start + meta.prompts, lengths);
      const bodyOffsets = lineOffsets(start + meta.bodies, bodyLengths);
      const headers = new PromptHeaders(
        names,
        versions,
        (index) => files.slice(fileStarts[index], (fileStarts[index + 1] as number) - 1),
        partials,
        (index) =>
          shapes.slice(index * (SHAPE_LENGTH + 1), index * (SHAPE_LENGTH + 1) + SHAPE_LENGTH),
      );
      const openFd = fd;
      return new PromptTree(
        headers,
        new LazyPrompts(
          headers,
          (index) =>
            JSON.parse(readPrompt(offsets[index] as number, lengths[index] as number)) as Prompt,
        ),
        () => JSON.parse(text(meta.summaries)) as PromptSummary[],
        () => JSON.parse(text(meta.rows)) as ListRow[],
        meta.issues,
        meta.fileCount,
        () => {
          if (openFd !== undefined) closeSync(openFd);
        },
        (name) => {
          const index = headers.indexOf(name);
          if (index === -1) throw new Error(`no prompt "${name}" in the record`);
          const at = bodyOffsets[index] as number;
          return JSON.parse(readBodies(at, bodyLengths[index] as number)) as BodyText[];
        },
      );
    } catch {
      if (fd !== undefined) closeSync(fd);
      return undefined;
    }
  }

  /** Lets go of the record file, if one is open: no prompt can be read after. */
  close(): void {
    this.release();
  }

  /** What `prompts list --json` shows of each prompt, sorted by name. */
  summaries(): PromptSummary[] {
    return this.readSummaries();
  }

  /** The rows of `prompts list`'s table, sorted by name. */
  listRows(): ListRow[] {
    return this.readListRows();
  }

  /**
   * The tree as the lines of a record file: a fixed-size prefix giving the length of the meta
   * line (issues, and where the rest is), the headers as columns (names, versions, files,
   * shapes, the length of each prompt's JSON and of its bodies' line, partials), the summaries,
   * the list's rows, each prompt's JSON in the order of the names, then each prompt's bodies
   * likewise — so that a reader reads only what it needs.
   */
  record(): string[] {
    const { names, versions, file, partials } = this.headers;
    const parts = names.map((name) => recordedParts(this.prompts.get(name) as Prompt));
    const promptLines = parts.map((part) => part.json);
    const bodyLines = parts.map((part) => part.bodies);
    const lines = [
      names.join(SEPARATOR),
      versions.join(SEPARATOR),
      names.map((_, index) => file(index)).join(SEPARATOR),
      parts.map((part) => part.shape).join(SEPARATOR),
      JSON.stringify(parts.map((part) => part.jsonBytes)),
      JSON.stringify(parts.map((part) => part.bodiesBytes)),
      JSON.stringify([...partials]),
      // As JSON.stringify writes an array: the items' JSON, comma-separated.
      `[${parts.map((part) => part.summary).join(",")}]`,
      `[${parts.map((part) => part.row).join(",")}]`,
    ];
    // Where each of those lines is, counted from the end of the meta line.
    const ranges: Range[] = [];
    let offset = 0;
    for (const line of lines) {
      const length = Buffer.byteLength(line);
      ranges.push([offset, length]);
      offset += length + 1;
    }
    const at = (index: number) => ranges[index] as Range;
    let bodiesAt = offset;
    for (const part of parts) bodiesAt += part.jsonBytes + 1;
    const meta: RecordMeta = {
      fileCount: this.fileCount,
      issues: this.issues,
      count: names.length,
      names: at(0),
      versions: at(1),
      files: at(2),
      shapes: at(3),
      lengths: at(4),
      bodyLengths: at(5),
      partials: at(6),
      summaries: at(7),
      rows: at(8),
      prompts: offset,
      bodies: bodiesAt,
    };
    const metaText = JSON.stringify(meta);
    const prefix = `${RECORD_FORMAT} ${String(Buffer.byteLength(metaText)).padStart(10, "0")}\n`;
    return [`${prefix}${metaText}`, ...lines, ...promptLines, ...bodyLines];
  }
}

/** What a record holds of one prompt, beside its header. */
interface RecordedParts {
  prompt: Prompt;
  json: string;
  jsonBytes: number;
  bodies: string;
  bodiesBytes: number;
  shape: string;
  /** The JSON of its summary and of its row in the list's table. */
  summary: string;
  row: string;
}

/**
 * Kept per parsed spec: the second tree a process records (the other side of a diff) shares
 * most of its prompts with the first, and a prompt made from the same spec, with the same name,
 * file, version and partials, is the same JSON. Only writing a record fills it.
 */
const recordedPartsBySpec = new WeakMap<PromptSpec, RecordedParts>();

function recordedParts(prompt: Prompt): RecordedParts {
  const spec = parsedSpecOf(prompt);
  const known = spec && recordedPartsBySpec.get(spec);
  if (known && sameHeader(known.prompt, prompt)) return known;
  const json = JSON.stringify(prompt);
  const bodies = JSON.stringify(promptBodies(prompt));
  const summary = summarizePrompt(prompt);
  const parts: RecordedParts = {
    prompt,
    json,
    jsonBytes: Buffer.byteLength(json),
    bodies,
    bodiesBytes: Buffer.byteLength(bodies),
    shape: promptShape(prompt),
    summary: JSON.stringify(summary),
    row: JSON.stringify(listRowOf(summary)),
  };
  if (spec) recordedPartsBySpec.set(spec, parts);
  return parts;
}

function sameHeader(a: Prompt, b: Prompt): boolean {
  return (
    a.name === b.name &&
    a.file === b.file &&
    a.version === b.version &&
    a.partials.length === b.partials.length &&
    a.partials.every((name, index) => b.partials[index] === name)
  );
}

/**
 * The issues and one part of a record file — the summaries, or the list's rows — reading no
 * more of it than those: what `prompts list --ref` needs of a large tree. Undefined when there
 * is no such record.
 */
export function readRecordCatalog(
  path: string,
  part: "summaries" | "rows",
): { issues: readonly Issue[]; fileCount: number; entries: unknown[] } | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const file = fd;
    const record = readHead(readRange(file, 0, PREFIX_LENGTH), (offset, length) =>
      readRange(file, offset, length),
    );
    if (!record) return undefined;
    const { meta, text } = record;
    const entries = JSON.parse(text(meta[part])) as unknown[];
    return { issues: meta.issues, fileCount: meta.fileCount, entries };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const RECORD_FORMAT = "gitprompts-tree/5";
/** `gitprompts-tree/5 0000123456\n`: the format, and the length of the meta line. */
const PREFIX_LENGTH = RECORD_FORMAT.length + 12;

/** A part of a record: offset (from the end of the meta line) and length, in bytes. */
type Range = [offset: number, length: number];

/** The meta line of a record. */
interface RecordMeta {
  fileCount: number;
  issues: readonly Issue[];
  /** How many prompts: the length of each column. */
  count: number;
  /** The names, sorted, joined by {@link SEPARATOR}. */
  names: Range;
  /** The versions, in the order of the names, joined likewise. */
  versions: Range;
  /** The files, likewise. */
  files: Range;
  /** The shape of each prompt (see prompt-parts), likewise. */
  shapes: Range;
  /** The length in bytes of each prompt's line, as a JSON array. */
  lengths: Range;
  /** The length in bytes of each prompt's line of bodies, as a JSON array. */
  bodyLengths: Range;
  /** `[index, partials]` of each prompt that includes any, as JSON. */
  partials: Range;
  summaries: Range;
  rows: Range;
  /** Where the first prompt's line starts; the others follow in the order of the names. */
  prompts: number;
  /** Where the first prompt's line of bodies starts (after the last prompt's line); likewise. */
  bodies: number;
}

/**
 * What joins the strings of a column: no path holds a NUL, and splitting a string costs a
 * fraction of parsing the same strings as JSON.
 */
const SEPARATOR = "\0";

/**
 * Reads the prefix and meta line of a record with `read` (absolute offsets) and gives a reader
 * of its ranges, with where they start (the end of the meta line); undefined when the prefix is
 * not this format's.
 */
function readHead(
  prefix: string,
  read: (offset: number, length: number) => string,
): { meta: RecordMeta; start: number; text: (range: Range) => string } | undefined {
  const match = new RegExp(`^${RECORD_FORMAT} (\\d{10})\\n$`).exec(prefix);
  if (!match) return undefined;
  const metaLength = Number(match[1]);
  const meta = JSON.parse(read(PREFIX_LENGTH, metaLength)) as RecordMeta;
  // Past the meta line and the newline that ends it.
  const start = PREFIX_LENGTH + metaLength + 1;
  return { meta, start, text: ([offset, length]) => read(start + offset, length) };
}

/**
 * Where each of the `count` strings of a column starts, and (last) one past its end: undefined
 * when the column does not hold that many.
 */
function columnStarts(column: string, count: number): Uint32Array | undefined {
  const starts = new Uint32Array(count + 1);
  let at = 0;
  for (let i = 1; i < count; i++) {
    const end = column.indexOf(SEPARATOR, at);
    if (end === -1) return undefined;
    at = end + 1;
    starts[i] = at;
  }
  if (count > 0 && column.indexOf(SEPARATOR, at) !== -1) return undefined;
  starts[count] = column.length + 1;
  return starts;
}

/**
 * Where each line of a run of lines starts, from where the first starts and their lengths: a
 * typed array, not ten thousand little ones.
 */
function lineOffsets(first: number, lengths: readonly number[]): Float64Array {
  const offsets = new Float64Array(lengths.length);
  let offset = first;
  for (let i = 0; i < lengths.length; i++) {
    offsets[i] = offset;
    offset += (lengths[i] as number) + 1;
  }
  return offsets;
}

/** How much of the file {@link windowReader} reads at once. */
const WINDOW = 64 * 1024;

/**
 * Reads ranges of a file through a window of {@link WINDOW} bytes. A diff asks for the prompts
 * that differ in the order of their names, which is their order in the record: one read then
 * serves all those that lie close together, rather than one read each.
 */
function windowReader(fd: number): (offset: number, length: number) => string {
  const window = Buffer.allocUnsafe(WINDOW);
  let start = 0;
  let end = 0;
  return (offset, length) => {
    if (offset < start || offset + length > end) {
      if (length > WINDOW) return readRange(fd, offset, length);
      start = offset;
      end = offset + readSync(fd, window, 0, WINDOW, offset);
      // A short read is the end of the file: the record is shorter than its head says.
      if (offset + length > end) return readRange(fd, offset, length);
    }
    return window.toString("utf8", offset - start, offset - start + length);
  };
}

function readRange(fd: number, offset: number, length: number): string {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const count = readSync(fd, buffer, done, length - done, offset + done);
    if (count === 0) throw new Error("the record is shorter than its head says");
    done += count;
  }
  return buffer.toString("utf8");
}

/** A read-only map of prompts that parses each the first time it is asked for. */
class LazyPrompts implements ReadonlyMap<string, Prompt> {
  private readonly parsed = new Map<string, Prompt>();

  constructor(
    private readonly headers: PromptHeaders,
    /** Reads the prompt at an index of the headers. */
    private readonly read: (index: number) => Prompt,
  ) {}

  get size(): number {
    return this.headers.size;
  }

  has(name: string): boolean {
    return this.headers.has(name);
  }

  get(name: string): Prompt | undefined {
    let prompt = this.parsed.get(name);
    if (prompt === undefined) {
      const index = this.headers.indexOf(name);
      if (index === -1) return undefined;
      prompt = this.read(index);
      this.parsed.set(name, prompt);
    }
    return prompt;
  }

  *keys(): MapIterator<string> {
    yield* this.headers.names;
  }

  *values(): MapIterator<Prompt> {
    for (const name of this.headers.names) yield this.get(name) as Prompt;
  }

  *entries(): MapIterator<[string, Prompt]> {
    for (const name of this.headers.names) yield [name, this.get(name) as Prompt];
  }

  [Symbol.iterator](): MapIterator<[string, Prompt]> {
    return this.entries();
  }

  forEach(
    callback: (value: Prompt, key: string, map: ReadonlyMap<string, Prompt>) => void,
    thisArg?: unknown,
  ): void {
    for (const [name, prompt] of this.entries()) callback.call(thisArg, prompt, name, this);
  }
}
