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
 * only the changed prompts are serialised again; the rest is string concatenation.
 */
export class SnapshotBuilder {
  private readonly fragments = new Map<string, { version: string; bytes: Buffer }>();

  build(live: ReadonlyMap<string, Prompt>, source: BundleSource): Snapshot {
    // A copy: the live map changes with the next edit, valid or not; a snapshot never does.
    const prompts = new Map(live);
    for (const name of this.fragments.keys()) if (!prompts.has(name)) this.fragments.delete(name);
    const names = [...prompts.keys()].sort();
    // The bytes are put together from per-prompt buffers: no string the size of the bundle
    // is made per edit, and the hash is fed the same bytes as it goes.
    const digest = createHash("sha256").update("{");
    const parts: Buffer[] = [];
    names.forEach((name, index) => {
      const prompt = prompts.get(name) as Prompt;
      let fragment = this.fragments.get(name);
      if (fragment?.version !== prompt.version) {
        fragment = { version: prompt.version, bytes: Buffer.from(bundleFragment(name, prompt)) };
        this.fragments.set(name, fragment);
      }
      if (index > 0) {
        digest.update(COMMA);
        parts.push(COMMA);
      }
      digest.update(fragment.bytes);
      parts.push(fragment.bytes);
    });
    const hash = digest.update("}").digest("hex");
    let bundle: Buffer | undefined;
    const bytes = () => {
      if (!bundle) {
        const { head, tail } = bundleEnvelope(hash, source);
        bundle = Buffer.concat([Buffer.from(`${head}{`), ...parts, Buffer.from(`}${tail}`)]);
      }
      return bundle;
    };
    let gzipped: Buffer | undefined;
    const lists = new Map<boolean, Buffer>();
    return {
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
                ? flatList(prompts)
                : { prompts: names.map((name) => summary(prompts.get(name) as Prompt)) },
            ),
          );
          lists.set(flat, body);
        }
        return body;
      },
    };
  }
}

const COMMA = Buffer.from(",");

function summary(prompt: Prompt) {
  return {
    name: prompt.name,
    version: prompt.version,
    description: prompt.description ?? null,
    variables: prompt.variables,
    variants: variantWeights(prompt),
  };
}

/** `{name: template}`; a chat prompt maps to its messages: the minimal contract of simple clients. */
function flatList(prompts: ReadonlyMap<string, Prompt>): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [name, prompt] of prompts) flat[name] = prompt.messages ?? prompt.template ?? "";
  return flat;
}
