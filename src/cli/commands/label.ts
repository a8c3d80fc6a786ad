import { assertGitRepository } from "../../git/objects.js";
import {
  checkLabelName,
  deleteLabel,
  labelHistory,
  listLabels,
  type LabelMove,
  moveLabel,
} from "../../git/labels.js";
import { loadPrompts } from "../../store/load.js";
import { PromptsError } from "../../errors.js";
import { type CommandContext, loadOptionsOf, rootOf } from "../io.js";
import { colorsFor, formatTable, plural, reportIssues, writeJson } from "../output.js";
import type { LabelCliOptions } from "../program.js";

/**
 * `prompts label [ENV [REF]]`: environments as movable git refs. No argument lists labels, ENV
 * shows one, ENV REF moves it (a deploy; moving back is a rollback), `--history ENV` lists its
 * moves, `--delete ENV` removes it.
 */
export async function labelCommand(
  context: CommandContext,
  label: string | undefined,
  ref: string | undefined,
  options: LabelCliOptions,
): Promise<number> {
  const loadOptions = loadOptionsOf(context);
  const root = rootOf(context);
  if (label !== undefined) checkLabelName(label);
  await assertGitRepository(root, "prompts label");
  if (options.delete) {
    if (label === undefined || ref !== undefined)
      throw new PromptsError("E_USAGE", "usage: prompts label --delete ENV");
    await deleteLabel(root, label);
    context.io.stdout.write(`deleted label ${label}\n`);
    return 0;
  }
  if (options.history) {
    if (label === undefined || ref !== undefined)
      throw new PromptsError("E_USAGE", "usage: prompts label --history ENV");
    const moves = await labelHistory(root, label);
    if (context.global.json) writeJson(context, { label, moves });
    else await printMoves(context, moves, true);
    return 0;
  }
  if (ref === undefined) {
    const labels = (await listLabels(root)).filter(
      (move) => label === undefined || move.label === label,
    );
    if (label !== undefined && labels.length === 0)
      throw new PromptsError("E_GIT", `no label "${label}" (run: prompts label)`);
    if (context.global.json) writeJson(context, { labels });
    else if (labels.length === 0)
      context.io.stdout.write("no labels yet (run: prompts label production <ref>)\n");
    else await printMoves(context, labels, false);
    return 0;
  }

  // A deploy must not ship broken prompts: check them at the ref first.
  const loaded = await loadPrompts({ ...loadOptions, root, ref });
  const errors = loaded.issues.filter((issue) => issue.severity === "error");
  if (errors.length > 0 && !options.force) {
    await reportIssues(context, errors);
    throw new PromptsError(
      "E_INVALID_PROMPT",
      `refusing to point ${label} at ${ref}: its prompts have ${errors.length} error(s) (fix them, or --force)`,
    );
  }
  const { move, previous } = await moveLabel(root, label as string, ref);
  if (context.global.json) {
    writeJson(context, { move, previous: previous ?? null });
    return 0;
  }
  const short = (sha: string) => sha.slice(0, 12);
  const from = previous ? `${previous.ref} (${short(previous.target)})` : "(new)";
  // Back to a target it had before, other than the one it just left: a rollback.
  const history = previous ? await labelHistory(root, move.label) : [];
  const earlier = history.slice(2).some((old) => old.target === move.target);
  const note =
    previous?.target === move.target
      ? " (it pointed there already)"
      : earlier
        ? " — a rollback to an earlier deploy"
        : "";
  context.io.stdout.write(
    `${move.label}: ${from} → ${move.ref} (${short(move.target)}), ${plural(loaded.prompts.size, "prompt")}${note}\n`,
  );
  return 0;
}

async function printMoves(
  context: CommandContext,
  moves: readonly LabelMove[],
  history: boolean,
): Promise<void> {
  const colors = await colorsFor(context, context.io.stdout);
  const rows = moves.map((move) => [
    colors.bold(history ? move.date : move.label),
    `${move.ref} ${colors.dim(`(${move.target.slice(0, 12)})`)}`,
    history ? `by ${move.author}` : `since ${move.date} by ${move.author}`,
  ]);
  const header = (history ? ["MOVED", "TO", "BY"] : ["LABEL", "POINTS AT", "SINCE"]).map((title) =>
    colors.dim(title),
  );
  context.io.stdout.write(`${formatTable([header, ...rows])}\n`);
}
