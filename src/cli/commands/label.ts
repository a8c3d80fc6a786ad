import { assertGitRepository } from "../../git/objects.js";
import {
  checkLabelName,
  deleteLabel,
  labelHistory,
  listLabels,
  type LabelMove,
  type LabelMoveResult,
  moveLabel,
} from "../../git/labels.js";
import { loadPrompts } from "../../store/load.js";
import { PromptsError } from "../../errors.js";
import { type CommandContext, loadOptionsOf, rootOf } from "../io.js";
import { colorsFor, formatTable, plural, reportIssues, writeJson } from "../output.js";
import type { LabelCliOptions } from "../program.js";

/**
 * `prompts label [ENV [REF]]`: environments as movable git refs. No argument lists labels, ENV
 * shows one, ENV REF moves it (forward a deploy, back a rollback), `--history ENV` lists its
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
  const result = await moveLabel(root, label as string, ref);
  if (context.global.json) {
    writeJson(context, {
      move: result.move,
      previous: result.previous ?? null,
      kind: result.kind,
      earlier: result.earlier ?? null,
    });
    return 0;
  }
  context.io.stdout.write(`${describeMove(result, plural(loaded.prompts.size, "prompt"))}\n`);
  return 0;
}

/** One line for a move: from where to where, and whether it was a deploy or a rollback. */
function describeMove({ move, previous, kind, earlier }: LabelMoveResult, prompts: string): string {
  const at = (position: LabelMove) => `${position.ref} (${position.target.slice(0, 12)})`;
  if (kind === "unchanged") {
    return `${move.label} already points at ${at(move)}, since ${move.date}: nothing to do`;
  }
  const from = previous ? at(previous) : "(new)";
  const note =
    kind === "rollback"
      ? earlier
        ? ` — a rollback to the deploy of ${earlier.date}`
        : " — a rollback to an older commit"
      : "";
  return `${move.label}: ${from} → ${at(move)}, ${prompts}${note}`;
}

async function printMoves(
  context: CommandContext,
  moves: readonly LabelMove[],
  history: boolean,
): Promise<void> {
  const colors = await colorsFor(context, context.io.stdout);
  const rows = moves.map((move) => [
    ...(history ? [colors.bold(move.date)] : [colors.bold(move.label)]),
    `${move.ref} ${colors.dim(`(${move.target.slice(0, 12)})`)}`,
    ...(history ? [] : [move.date]),
    move.author,
  ]);
  const header = (history ? ["MOVED", "TO", "BY"] : ["LABEL", "POINTS AT", "SINCE", "BY"]).map(
    (title) => colors.dim(title),
  );
  context.io.stdout.write(`${formatTable([header, ...rows])}\n`);
}
