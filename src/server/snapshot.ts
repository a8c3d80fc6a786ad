import { gzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import { type BundleSource, bundleEnvelope, bundleFragment } from "../core/bundle.js";
import type { Prompt } from "../core/types.js";
import { variantWeights } from "../core/variants.js";

/**
 * One consistent state of what the server serves: the prompts and the bundle made of them.
 * Replaced whole after a good reload — a request never sees half of an update.
 */
export interface Snapshot {
  prompts: ReadonlyMap<string, Prompt>;
  /**
   * The bundle file's bytes, exactly as `prompts publish` would write them; put together on
   * first use, so edits nobody fetches cost no copy of the whole bundle.
   */
  bundle(): Buffer;
  hash: string;
  etag: string;
  /** The bundle gzipped, made on the first request that accepts gzip. */
  gzipped(): Buffer;
  /** `GET /v1/prompts` bodies, made on first use. */
  listBody(flat: boolean): Buffer;
}

/**
 * Builds snapshots from per-prompt JSON fragments, keeping them between builds: after an edit
 * only the changed prompts are serialised again.
 *
 * What a snapshot holds is shared with the next one, so that an edit allocates for what it
 * changed, not for the whole tree (copying a map of 10,000 prompts, sorting their names and
 * listing their fragments made megabytes per edit, which a server's heap kept long after).
 * Fragments are written one after the other, comma-separated, into buffers of their own — and
 * moved into each bundle put together — so that the hash and the bundle take runs of
 * neighbouring fragments at once.
 */
export class SnapshotBuilder {
  private prompts = LayeredMap.of(new Map<string, Prompt>());
  private fragments = LayeredMap.of(new Map<string, Buffer>());
  /** The names, sorted: the order of the bundle. Replaced, never changed, when names come or go. */
  private names: readonly string[] = [];
  /** The memory fragments are written to: there, two fragments one byte apart have a comma between. */
  private readonly owned = new WeakSet<ArrayBufferLike>();
  private chunk = Buffer.alloc(0);
  private used = 0;
  private built = false;
  private latest: Snapshot | undefined;

  /**
   * A snapshot of `live`. With `changed` — every name whose prompt may differ from the last
   * build's — only those are looked at; without, all of them.
   */
  build(
    live: ReadonlyMap<string, Prompt>,
    source: BundleSource,
    changed?: Iterable<string>,
  ): Snapshot {
    if (changed === undefined || !this.built) this.takeAll(live);
    else this.take(live, changed);
    this.built = true;
    const runs = this.runs();
    const digest = createHash("sha256").update("{");
    for (const run of runs) digest.update(run);
    const hash = digest.update("}").digest("hex");
    const { prompts, names } = this;
    let bundle: Buffer | undefined;
    const bytes = () => {
      if (!bundle) {
        const { head, tail } = bundleEnvelope(hash, source);
        bundle = this.assemble(`${head}{`, runs, `}${tail}`);
        if (this.latest === snapshot) this.moveInto(bundle, Buffer.byteLength(head) + 1);
      }
      return bundle;
    };
    let gzipped: Buffer | undefined;
    const lists = new Map<boolean, Buffer>();
    const snapshot: Snapshot = {
      prompts,
      bundle: bytes,
      hash,
      etag: `"${hash}"`,
      gzipped: () => (gzipped ??= gzipSync(bytes())),
      listBody: (flat) => {
        let body = lists.get(flat);
        if (!body) {
          body = Buffer.from(
            JSON.stringify(
              flat
                ? flatList(names, prompts)
                : { prompts: names.map((name) => summary(prompts.get(name) as Prompt)) },
            ),
          );
          lists.set(flat, body);
        }
        return body;
      },
    };
    this.latest = snapshot;
    return snapshot;
  }

  /** Takes every prompt of `live`, keeping the fragments of those whose version is unchanged. */
  private takeAll(live: ReadonlyMap<string, Prompt>): void {
    const names = [...live.keys()].sort();
    const prompts = new Map<string, Prompt>();
    const fragments = new Map<string, Buffer>();
    for (const name of names) {
      const prompt = live.get(name) as Prompt;
      prompts.set(name, prompt);
      const kept = this.fragments.get(name);
      fragments.set(
        name,
        kept && this.prompts.get(name)?.version === prompt.version
          ? kept
          : this.write(bundleFragment(name, prompt)),
      );
    }
    this.prompts = LayeredMap.of(prompts);
    this.fragments = LayeredMap.of(fragments);
    this.names = names;
  }

  /** Takes the named prompts of `live`: those changed, added or gone since the last build. */
  private take(live: ReadonlyMap<string, Prompt>, changed: Iterable<string>): void {
    const prompts = new Map<string, Prompt | undefined>();
    const fragments = new Map<string, Buffer | undefined>();
    const added: string[] = [];
    const gone = new Set<string>();
    for (const name of changed) {
      const prompt = live.get(name);
      const before = this.prompts.get(name);
      if (prompt?.version === before?.version) continue;
      prompts.set(name, prompt);
      fragments.set(name, prompt && this.write(bundleFragment(name, prompt)));
      if (!before) added.push(name);
      else if (!prompt) gone.add(name);
    }
    this.prompts = this.prompts.with(prompts);
    this.fragments = this.fragments.with(fragments);
    if (added.length > 0 || gone.size > 0) {
      const names = this.names.filter((name) => !gone.has(name));
      for (const name of added.sort()) names.splice(sortedIndex(names, name), 0, name);
      this.names = names;
    }
  }

  /** Writes a fragment after the last one written, with a comma between them. */
  private write(text: string): Buffer {
    const length = Buffer.byteLength(text);
    if (this.used + 1 + length > this.chunk.length) {
      this.chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, length));
      this.owned.add(this.chunk.buffer);
      this.used = 0;
    } else if (this.used > 0) {
      this.chunk[this.used++] = COMMA_BYTE;
    }
    const start = this.used;
    this.used += this.chunk.write(text, start);
    return this.chunk.subarray(start, this.used);
  }

  /**
   * The bytes of the prompts object between its braces, as few buffers: fragments one byte
   * apart in memory that is ours (the comma between them) make one run.
   */
  private runs(): Buffer[] {
    const runs: Buffer[] = [];
    let run: Buffer | undefined;
    let start = 0;
    let end = 0;
    const close = () => {
      if (run) runs.push(Buffer.from(run.buffer, start, end - start));
      run = undefined;
    };
    for (const name of this.names) {
      const fragment = this.fragments.get(name) as Buffer;
      if (run?.buffer === fragment.buffer && fragment.byteOffset === end + 1) {
        end = fragment.byteOffset + fragment.length;
        continue;
      }
      close();
      if (runs.length > 0) runs.push(COMMA);
      if (this.owned.has(fragment.buffer)) {
        run = fragment;
        start = fragment.byteOffset;
        end = start + fragment.length;
      } else runs.push(fragment);
    }
    close();
    return runs;
  }

  /** One buffer of its own (never a slice of Node's shared pool) of the given parts. */
  private assemble(head: string, runs: readonly Buffer[], tail: string): Buffer {
    let size = Buffer.byteLength(head) + Buffer.byteLength(tail);
    for (const run of runs) size += run.length;
    const bytes = Buffer.allocUnsafeSlow(size);
    let at = bytes.write(head);
    for (const run of runs) at += run.copy(bytes, at);
    bytes.write(tail, at);
    return bytes;
  }

  /**
   * Makes the fragments slices of a bundle just put together, whose prompts object starts at
   * `start`: the buffers they were slices of can go once no older snapshot needs them.
   */
  private moveInto(bundle: Buffer, start: number): void {
    const fragments = new Map<string, Buffer>();
    let at = start;
    for (const name of this.names) {
      const length = (this.fragments.get(name) as Buffer).length;
      fragments.set(name, bundle.subarray(at, at + length));
      at += length + 1;
    }
    this.owned.add(bundle.buffer);
    this.fragments = LayeredMap.of(fragments);
  }
}

/** Fragments are written to buffers of this size: small enough to waste little, large enough for long runs. */
const CHUNK_BYTES = 64 * 1024;
const COMMA_BYTE = 0x2c;
const COMMA = Buffer.from(",");

/** Where `name` goes in the sorted `names`. */
function sortedIndex(names: readonly string[], name: string): number {
  let low = 0;
  let high = names.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((names[middle] as string) < name) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * A map that shares its contents with the one it was made from: a base map that never changes
 * and a few changes on top (`undefined` for a key that went). Making one with more changes
 * copies only the changes, until they are many enough that folding them into a new base costs
 * little per change.
 */
class LayeredMap<V> implements ReadonlyMap<string, V> {
  /** A map of `base` itself, which must not change after. */
  static of<V>(base: ReadonlyMap<string, V>): LayeredMap<V> {
    return new LayeredMap(base, new Map<string, V | undefined>(), base.size);
  }

  private constructor(
    private readonly base: ReadonlyMap<string, V>,
    private readonly changes: ReadonlyMap<string, V | undefined>,
    readonly size: number,
  ) {}

  /** This map with `updates` applied (`undefined` removes a key). */
  with(updates: ReadonlyMap<string, V | undefined>): LayeredMap<V> {
    if (updates.size === 0) return this;
    let size = this.size;
    const changes = new Map(this.changes);
    for (const [key, value] of updates) {
      size += (value === undefined ? 0 : 1) - (this.has(key) ? 1 : 0);
      changes.set(key, value);
    }
    const layered = new LayeredMap(this.base, changes, size);
    if (changes.size <= Math.max(32, Math.sqrt(size))) return layered;
    return LayeredMap.of(new Map(layered));
  }

  get(key: string): V | undefined {
    return this.changes.has(key) ? this.changes.get(key) : this.base.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  *entries(): MapIterator<[string, V]> {
    for (const entry of this.base) if (!this.changes.has(entry[0])) yield entry;
    for (const [key, value] of this.changes) if (value !== undefined) yield [key, value];
  }

  *keys(): MapIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }
}

function summary(prompt: Prompt) {
  return {
    name: prompt.name,
    version: prompt.version,
    kind: promptKind(prompt),
    file: prompt.file,
    description: prompt.description ?? null,
    variables: prompt.variables,
    variants: variantWeights(prompt),
  };
}

/** `chat` for a prompt of messages, `text` for one of a template. */
export function promptKind(prompt: Prompt): "text" | "chat" {
  return prompt.messages === undefined ? "text" : "chat";
}

/** `{name: template}`; a chat prompt maps to its messages: the minimal contract of simple clients. */
function flatList(
  names: readonly string[],
  prompts: ReadonlyMap<string, Prompt>,
): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const name of names) {
    const prompt = prompts.get(name) as Prompt;
    flat[name] = prompt.messages ?? prompt.template ?? "";
  }
  return flat;
}
