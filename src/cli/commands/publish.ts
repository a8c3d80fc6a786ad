import { relative, resolve } from "node:path";
import { type BundleSource, createBundle } from "../../core/bundle.js";
import { PromptsError } from "../../errors.js";
import { assertGitRepository, resolveCommit, workTreePrefix } from "../../git/objects.js";
import { uncommittedPaths } from "../../git/tags.js";
import { CONFIG_FILE, readConfig } from "../../store/config.js";
import type { CommandContext } from "../io.js";
import { loadValidPrompts } from "../load-valid.js";
import { plural, writeJson } from "../output.js";
import { displayPath, isOutside, resolveWriteTarget, writeFileAtomic } from "../write-file.js";

/** Options of `prompts publish`. */
export interface PublishCliOptions {
  /** Publish the prompts of this git ref instead of the working tree. */
  ref?: string;
  /** Where to write, relative to the working directory (or `-C`); `-` is standard output. */
  out?: string;
}

/** What `prompts publish --json` prints. */
export interface PublishReport {
  /** The file written, relative to the working directory when it is below it. */
  out: string;
  /** How many prompts the bundle holds. */
  prompts: number;
  /** The bundle's hash (its ETag). */
  hash: string;
  /** Size of the file in bytes. */
  bytes: number;
  source: BundleSource;
}

/**
 * `prompts publish [--ref R] [--out F]`: writes the bundle of every prompt (README: `prompts publish`), atomically,
 * and only when every prompt is valid.
 */
export async function publishCommand(
  context: CommandContext,
  options: PublishCliOptions,
): Promise<number> {
  const toStdout = options.out === "-";
  if (toStdout && context.global.json) {
    throw new PromptsError(
      "E_USAGE",
      "--json and --out - both write to standard output: use one of them",
    );
  }
  const loaded = await loadValidPrompts(context, options.ref, "publish");
  const { root } = loaded;
  const at = options.ref === undefined ? "" : ` at ${options.ref}`;
  if (loaded.prompts.size === 0) {
    throw new PromptsError(
      "E_INVALID_INPUT",
      `refusing to publish an empty bundle: no prompts in ${loaded.dir}/${at}`,
    );
  }

  const source: BundleSource =
    options.ref === undefined
      ? await workingTreeSource(root, loaded.dir)
      : { commit: loaded.commit ?? null, ref: options.ref, dirty: false };
  const bundle = createBundle(loaded.prompts, source);
  const summary = `${plural(loaded.prompts.size, "prompt")}, hash ${bundle.hash.slice(0, 12)}…, ${formatSize(Buffer.byteLength(bundle.text))}`;
  if (toStdout) {
    // Standard output carries the bundle and nothing else, so it can be piped or redirected.
    context.io.stdout.write(bundle.text);
    context.io.stderr.write(`published to standard output: ${summary}\n`);
    return 0;
  }

  const named =
    options.out === undefined
      ? await configuredTarget(root, context.global.cache)
      : resolve(context.io.cwd, context.global.C ?? ".", options.out);
  // A symlink the user names is followed; one where `bundle:` points is replaced (see writeFileAtomic).
  const target =
    options.out === undefined ? named : await resolveWriteTarget(named, `--out ${options.out}`);
  const shown = displayPath(context.io.cwd, named);
  await writeFileAtomic(target, bundle.text, `the bundle ${shown}`);

  const bytes = Buffer.byteLength(bundle.text);
  if (context.global.json) {
    const report: PublishReport = {
      out: shown,
      prompts: loaded.prompts.size,
      hash: bundle.hash,
      bytes,
      source,
    };
    writeJson(context, report);
  } else {
    context.io.stdout.write(`published ${shown}: ${summary}\n`);
  }
  return 0;
}

/** `bundle:` of the config, which must stay inside the repository: a cloned repo's config must not write elsewhere. */
async function configuredTarget(root: string, cache: boolean): Promise<string> {
  const { bundle } = await readConfig(root, cache);
  const target = resolve(root, bundle);
  const rel = relative(root, target);
  if (rel === "" || isOutside(rel)) {
    throw new PromptsError(
      "E_INVALID_INPUT",
      `${CONFIG_FILE}: bundle "${bundle}" must be a file inside the repository (or pass --out)`,
    );
  }
  return target;
}

/** Where the working tree's prompts come from: HEAD, and whether the prompt folder differs from it. */
async function workingTreeSource(root: string, dir: string): Promise<BundleSource> {
  try {
    await assertGitRepository(root, "prompts publish");
  } catch {
    return { commit: null, ref: null, dirty: false };
  }
  // A repository without commits has no HEAD; its prompts are then all uncommitted.
  const commit = await resolveCommit(root, "HEAD").catch(() => null);
  const pending = await uncommittedPaths(root, `${await workTreePrefix(root)}${dir}/`);
  return { commit, ref: null, dirty: pending.length > 0 };
}

/** "812 B", "12.3 KiB", "1.4 MiB". */
function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
