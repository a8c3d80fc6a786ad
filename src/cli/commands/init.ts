import { existsSync } from "node:fs";
import { appendFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { CONFIG_FILE, readConfig } from "../../store/config.js";
import type { CommandContext } from "../io.js";
import { loadOptionsOf, rootOf } from "../io.js";

const EXAMPLE_NAME = "hello";

function examplePrompt(schemaPath: string): string {
  return `# yaml-language-server: $schema=${schemaPath}
description: Greets a user by name; an example to edit or delete.
model: { name: gpt-4o-mini, temperature: 0.7 }
variables:
  name: { type: string, description: Who to greet }
  tone: { type: string, required: false, default: friendly }
template: |
  Write a short, {{tone}} greeting for {{name}}.
`;
}

const CONFIG_TEXT = `# gitprompts settings (https://github.com/gitprompts/gitprompts)
# The folder that holds the prompt files, relative to this file.
dir: prompts
# Where \`prompts publish\` writes the bundle.
bundle: dist/prompts.json
`;

const IGNORED = [".prompts/"];

/** `prompts init`: scaffolds what a repository needs, never overwriting anything. */
export async function initCommand(context: CommandContext): Promise<number> {
  const options = loadOptionsOf(context);
  const root = rootOf(context);
  const dir = options.dir ?? (await readConfig(root, false)).dir;
  const lines: string[] = [];
  const say = (verb: string, path: string, note = "") =>
    lines.push(`${verb.padEnd(8)}${path}${note}`);

  const promptDir = join(root, dir);
  await mkdir(promptDir, { recursive: true });
  const hasPrompts = (await readdir(promptDir, { recursive: true })).some((entry) =>
    /\.ya?ml$/.test(String(entry)),
  );
  const examplePath = join(promptDir, `${EXAMPLE_NAME}.yaml`);
  if (hasPrompts) {
    say("kept", `${dir}/`, " (already holds prompts)");
  } else {
    const schema = relative(
      dirname(examplePath),
      join(root, "node_modules/gitprompts/schema/prompt.schema.json"),
    );
    await writeFile(examplePath, examplePrompt(schema.split("\\").join("/")), { flag: "wx" });
    say("created", relative(root, examplePath));
  }

  const configPath = join(root, CONFIG_FILE);
  if (existsSync(configPath)) {
    say("kept", CONFIG_FILE, " (exists)");
  } else {
    await writeFile(configPath, CONFIG_TEXT.replace("dir: prompts", `dir: ${dir}`), { flag: "wx" });
    say("created", CONFIG_FILE);
  }

  const gitignorePath = join(root, ".gitignore");
  const current = existsSync(gitignorePath) ? await readFile(gitignorePath, "utf8") : undefined;
  const present = new Set((current ?? "").split(/\r?\n/).map((line) => line.trim()));
  const missing = IGNORED.filter(
    (entry) => !present.has(entry) && !present.has(entry.replace(/\/$/, "")),
  );
  if (missing.length === 0) {
    say("kept", ".gitignore", " (already ignores .prompts/)");
  } else {
    const prefix = current === undefined || current === "" || current.endsWith("\n") ? "" : "\n";
    await appendFile(
      gitignorePath,
      `${prefix}# gitprompts: usage logs and caches\n${missing.join("\n")}\n`,
    );
    say(current === undefined ? "created" : "updated", ".gitignore", ` (+ ${missing.join(", ")})`);
  }

  context.io.stdout.write(`${lines.join("\n")}\n`);
  if (!hasPrompts) {
    context.io.stdout.write(
      `\nnext: prompts render ${EXAMPLE_NAME} --var name=Ada\n      prompts hook install   (validate prompts before each commit)\n`,
    );
  }
  return 0;
}
