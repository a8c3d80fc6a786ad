import { promptHistory } from "../../store/prompt-history.js";
import { type CommandContext, loadOptionsOf } from "../io.js";
import { colorsFor, formatTable, writeJson } from "../output.js";

/** `prompts log NAME`: the versions of one prompt through history, newest first. */
export async function logCommand(
  context: CommandContext,
  name: string,
  options: { ref?: string },
): Promise<number> {
  const { cwd, root, dir } = loadOptionsOf(context);
  const entries = await promptHistory(name, {
    cwd,
    ...(root === undefined ? {} : { root }),
    ...(dir === undefined ? {} : { dir }),
    ...(options.ref === undefined ? {} : { ref: options.ref }),
  });
  if (context.global.json) {
    writeJson(context, { name, versions: entries });
    return 0;
  }
  const colors = await colorsFor(context, context.io.stdout);
  const rows = entries.map((entry) => [
    entry.version === null
      ? colors.yellow(`(${entry.state})`.padEnd(12))
      : colors.bold(entry.version),
    colors.dim(entry.commit.slice(0, 12)),
    entry.date.slice(0, 10),
    entry.author,
    entry.tag ?? "",
    entry.subject,
  ]);
  context.io.stdout.write(
    `${formatTable([["VERSION", "COMMIT", "DATE", "AUTHOR", "FIRST TAG", "SUBJECT"].map((t) => colors.dim(t)), ...rows])}\n`,
  );
  return 0;
}
