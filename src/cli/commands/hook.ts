import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PromptsError } from "../../errors.js";
import { hooksDirectory, workTreePrefix } from "../../git/objects.js";
import { type CommandContext, rootOf } from "../io.js";

const MARKER = "# installed by gitprompts: prompts hook install";
/** Where a hook that was there before ours is kept, and run first. */
const CHAINED = "pre-commit.before-gitprompts";

/** Quotes a path for sh. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The hook: git runs it at the top of the work tree; `project` is the root's path from there. */
function hookScript(fallbackBin: string, project: string): string {
  const quoted = shellQuote(fallbackBin);
  return `#!/bin/sh
${MARKER}
# Checks the prompts staged for this commit; skip once with: git commit --no-verify
hooks_dir=$(cd "$(dirname "$0")" && pwd)
if [ -x "$hooks_dir/${CHAINED}" ]; then
  "$hooks_dir/${CHAINED}" "$@" || exit $?
fi
cd ${shellQuote(project === "" ? "." : project)} || exit 1
if [ -x ./node_modules/.bin/prompts ]; then
  exec ./node_modules/.bin/prompts -C . validate --staged
elif command -v prompts >/dev/null 2>&1; then
  exec prompts -C . validate --staged
elif [ -f ${quoted} ]; then
  exec node ${quoted} -C . validate --staged
fi
echo "gitprompts: the prompts command was not found; run npm install (or skip with git commit --no-verify)" >&2
exit 1
`;
}

async function hookPaths(
  context: CommandContext,
): Promise<{ hook: string; chained: string; project: string }> {
  const root = rootOf(context);
  let dir: string;
  try {
    dir = await hooksDirectory(root);
  } catch {
    throw new PromptsError("E_GIT", `${root} is not a git repository (run: git init)`);
  }
  return {
    hook: join(dir, "pre-commit"),
    chained: join(dir, CHAINED),
    project: await workTreePrefix(root),
  };
}

/** `prompts hook install`: a pre-commit hook running `prompts validate --staged`; keeps a hook already there. */
export async function hookInstallCommand(context: CommandContext): Promise<number> {
  const { hook, chained, project } = await hookPaths(context);
  const existing = existsSync(hook) ? await readFile(hook, "utf8") : undefined;
  let note = "";
  if (existing !== undefined && !existing.includes(MARKER)) {
    if (existsSync(chained)) {
      throw new PromptsError(
        "E_INVALID_INPUT",
        `both ${hook} and ${chained} exist; merge them by hand, then run this again`,
      );
    }
    // Its mode is kept: a hook git skipped (not executable) stays skipped.
    await rename(hook, chained);
    note = ` (the hook that was there is kept as ${CHAINED} and runs first)`;
  }
  const bin = fileURLToPath(new URL("../../../bin/prompts.js", import.meta.url));
  await mkdir(join(hook, ".."), { recursive: true });
  await writeFile(hook, hookScript(bin, project));
  await chmod(hook, 0o755);
  context.io.stdout.write(
    `${existing?.includes(MARKER) ? "updated" : "installed"} ${hook}${note}\n`,
  );
  return 0;
}

/** `prompts hook uninstall`: removes our hook and puts back the one it had kept. */
export async function hookUninstallCommand(context: CommandContext): Promise<number> {
  const { hook, chained } = await hookPaths(context);
  const existing = existsSync(hook) ? await readFile(hook, "utf8") : undefined;
  if (existing === undefined || !existing.includes(MARKER)) {
    context.io.stdout.write(`no gitprompts hook at ${hook}\n`);
    return 0;
  }
  await rm(hook);
  if (existsSync(chained)) {
    await rename(chained, hook);
    context.io.stdout.write(`removed the gitprompts hook; restored the previous ${hook}\n`);
  } else {
    context.io.stdout.write(`removed ${hook}\n`);
  }
  return 0;
}
