import { gzipSync } from "node:zlib";
import { assembleBundle, type BundleSource, bundleFragment } from "../core/bundle.js";
import type { Prompt } from "../core/types.js";
import { variantWeights } from "../core/variants.js";

/**
 * One consistent state of what the server serves: the prompts and the bundle made of them.
 * Replaced whole after a good reload — a request never sees half of an update.
 */
export interface Snapshot {
  prompts: ReadonlyMap<string, Prompt>;
  /** The bundle file's bytes, exactly as `prompts publish` would write them. */
  bundle: Buffer;
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
  private readonly fragments = new Map<string, { version: string; text: string }>();

  build(live: ReadonlyMap<string, Prompt>, source: BundleSource): Snapshot {
    // A copy: the live map changes with the next edit, valid or not; a snapshot never does.
    const prompts = new Map(live);
    for (const name of this.fragments.keys()) if (!prompts.has(name)) this.fragments.delete(name);
    const names = [...prompts.keys()].sort();
    const texts = names.map((name) => {
      const prompt = prompts.get(name) as Prompt;
      let fragment = this.fragments.get(name);
      if (fragment?.version !== prompt.version) {
        fragment = { version: prompt.version, text: bundleFragment(name, prompt) };
        this.fragments.set(name, fragment);
      }
      return fragment.text;
    });
    const { text, hash } = assembleBundle(texts, source);
    const bundle = Buffer.from(text);
    let gzipped: Buffer | undefined;
    const lists = new Map<boolean, Buffer>();
    return {
      prompts,
      bundle,
      hash,
      etag: `"${hash}"`,
      gzipped: () => (gzipped ??= gzipSync(bundle)),
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

/** One prompt as `GET /v1/prompts` lists it. */
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
