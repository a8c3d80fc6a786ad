import { PromptsError } from "../../errors.js";
import { assertGitRepository, resolveCommit, workTreePrefix } from "../../git/objects.js";
import {
  changedPaths,
  createAnnotatedTag,
  isValidTagName,
  listTags,
  type TagInfo,
  tagCommit,
  uncommittedPaths,
} from "../../git/tags.js";
import { isPromptFileName } from "../../core/names.js";
import { readConfig } from "../../store/config.js";
import { loadPrompts } from "../../store/load.js";
import { type CommandContext, loadOptionsOf, rootOf } from "../io.js";
import { colorsFor, formatTable, plural, reportIssues, writeJson } from "../output.js";
import type { TagCliOptions } from "../program.js";

/**
 * `prompts tag TAG [-m MSG]`: an annotated tag at HEAD once its prompts validate;
 * `prompts tag --list`: the tags with their dates and how many prompts each changed.
 */
export async function tagCommand(
  context: CommandContext,
  name: string | undefined,
  options: TagCliOptions,
): Promise<number> {
  const loadOptions = loadOptionsOf(context);
  const root = rootOf(context);
  await assertGitRepository(root, "prompts tag");
  if (options.list) return listCommand(context, root, loadOptions.dir);
  if (name === undefined)
    throw new PromptsError(
      "E_USAGE",
      "usage: prompts tag TAG [-m MESSAGE] (or prompts tag --list)",
    );
  if (!(await isValidTagName(root, name))) {
    throw new PromptsError(
      "E_INVALID_INPUT",
      `"${name}" is not a valid git tag name (see: git check-ref-format)`,
    );
  }
  const existing = await tagCommit(root, name);
  if (existing !== undefined && !options.force) {
    throw new PromptsError(
      "E_INVALID_INPUT",
      `tag ${name} already exists at ${existing.slice(0, 12)} (use --force to move it)`,
    );
  }
  const head = await resolveCommit(root, "HEAD");
  // The tag will point at HEAD, so HEAD's prompts are what must be valid, not the working tree's.
  const loaded = await loadPrompts({ ...loadOptions, root, ref: head });
  const errors = loaded.issues.filter((issue) => issue.severity === "error");
  if (errors.length > 0) {
    await reportIssues(context, errors);
    throw new PromptsError(
      "E_INVALID_PROMPT",
      `refusing to tag ${name}: the prompts at HEAD have ${plural(errors.length, "error")}`,
    );
  }
  const pending = await uncommittedPaths(root, `${await workTreePrefix(root)}${loaded.dir}/`);
  if (pending.length > 0) {
    const shown =
      pending.slice(0, 5).join(", ") + (pending.length > 5 ? `, … (${pending.length} in all)` : "");
    context.io.stderr.write(
      `warning: ${loaded.dir}/ has uncommitted changes that ${name} will not contain: ${shown}\n`,
    );
  }
  const message = options.message ?? `prompts ${name}: ${plural(loaded.prompts.size, "prompt")}`;
  await createAnnotatedTag(root, name, head, message, options.force === true);
  if (context.global.json)
    writeJson(context, {
      tag: name,
      commit: head,
      prompts: loaded.prompts.size,
      moved: existing !== undefined,
    });
  else
    context.io.stdout.write(
      `tagged ${name} at ${head.slice(0, 12)}: ${plural(loaded.prompts.size, "prompt")}, all valid\n`,
    );
  return 0;
}

async function listCommand(
  context: CommandContext,
  root: string,
  dirOption: string | undefined,
): Promise<number> {
  const tags = await listTags(root);
  const dir = `${await workTreePrefix(root)}${dirOption ?? (await readConfig(root)).dir}/`;
  // One git diff per tag, against the tag before it: as many processes as tags, not files,
  // and a few at a time.
  const rows: (TagInfo & { changed: number | null; since: string | null })[] = [];
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < tags.length; index = next++) {
      const tag = tags[index] as TagInfo;
      const previous = tags[index - 1];
      const changed =
        previous === undefined
          ? null
          : (await changedPaths(root, previous.commit, tag.commit, dir)).filter(isPromptFileName)
              .length;
      rows[index] = { ...tag, changed, since: previous?.name ?? null };
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  if (context.global.json) {
    writeJson(context, { tags: [...rows].reverse() });
    return 0;
  }
  if (rows.length === 0) {
    context.io.stdout.write("no tags yet (run: prompts tag v1)\n");
    return 0;
  }
  const colors = await colorsFor(context, context.io.stdout);
  const table = [...rows]
    .reverse()
    .map((row) => [
      colors.bold(row.name),
      row.date,
      row.changed === null
        ? "first tag"
        : `${plural(row.changed, "prompt")} changed since ${row.since}`,
      colors.dim(row.subject),
    ]);
  context.io.stdout.write(
    `${formatTable([["TAG", "DATE", "CHANGES", "MESSAGE"].map((t) => colors.dim(t)), ...table])}\n`,
  );
  return 0;
}
