import { readFileSync } from "node:fs";
import { addCommandHelp, usageLine } from "./command-help.js";
import { Command, Option } from "./commander.js";
import type { CliIO, CommandContext, GlobalOptions } from "./io.js";

function packageVersion(): string {
  const manifest = JSON.parse(
    readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
  ) as { version: string };
  return manifest.version;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * The `prompts` command line. Each action imports its command module only when it runs, so
 * `render` never loads what `validate` or `init` need.
 */
export function createProgram(io: CliIO, setExitCode: (code: number) => void): Command {
  // Over 80 lines on purpose: one commander declaration per command, read top to bottom as the CLI's table of contents.
  const program = new Command("prompts");
  const context = (command: Command): CommandContext => ({
    io,
    global: command.optsWithGlobals<GlobalOptions>(),
  });
  const finish = (code: number) => setExitCode(code);

  program
    .description("Manage the prompts of LLM applications like code: YAML files in git.")
    .version(packageVersion(), "-V, --version")
    .option("-C <dir>", "run as if started in <dir> (the repository root)")
    .option("--dir <path>", "prompt directory relative to the root (default: prompts)")
    .option("--json", "print data as JSON")
    .option("--no-color", "no colours (also NO_COLOR=1)")
    .option("--no-cache", "do not use the parse cache in .prompts/cache")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(usageLine(text)),
    });

  program
    .command("list")
    .description("list prompts: name, version, variables, variants, description")
    .option("--ref <ref>", "read the prompts of a git ref (tag, branch, commit)")
    .action(async (options: { ref?: string }, command: Command) => {
      const { listCommand } = await import("./commands/list.js");
      finish(await listCommand(context(command), options));
    });

  program
    .command("render")
    .description("print a prompt rendered with variables")
    .argument("<name>", "prompt name, e.g. answerer_prompt or agents/planner")
    .option("--var <key=value>", "a variable (repeatable); typed by its declaration", collect)
    .option("--vars <file>", "a JSON or YAML file of variables")
    .option("--variant <variant>", "the A/B variant to render (default: default)")
    .option("--ref <ref>", "read the prompts of a git ref")
    .action(async (name: string, options: RenderCliOptions, command: Command) => {
      const { renderCommand } = await import("./commands/render.js");
      finish(await renderCommand(context(command), name, options));
    });

  program
    .command("validate")
    .description("check every prompt; report all problems at once")
    .option("--staged", "check the prompts staged in the git index (for a pre-commit hook)")
    .option("--ref <ref>", "check the prompts of a git ref")
    .addOption(
      new Option("--format <format>", "output format")
        .choices(["text", "json", "github"])
        .default("text"),
    )
    .option("--strict", "fail on warnings too")
    .action(async (options: ValidateCliOptions, command: Command) => {
      const { validateCommand } = await import("./commands/validate.js");
      finish(await validateCommand(context(command), options));
    });

  program
    .command("publish")
    .description("write the bundle of every prompt (default dist/prompts.json), atomically")
    .option("--ref <ref>", "publish the prompts of a git ref")
    .option("--out <file>", "where to write (default: bundle: in prompts.config.yaml)")
    .action(async (options: { ref?: string; out?: string }, command: Command) => {
      const { publishCommand } = await import("./commands/publish.js");
      finish(await publishCommand(context(command), options));
    });

  program
    .command("diff")
    .description("how prompts differ between two refs, or a ref and the working tree")
    .argument("[args...]", "[FROM [TO]] [NAME…]: FROM defaults to HEAD, TO to the working tree")
    .option("--stat", "one line per prompt with counts, then a summary")
    .option("--exit-code", "exit 1 when the prompts differ, like git diff --exit-code")
    .option("--breaking", "with --exit-code: exit 1 on breaking changes only")
    .option(
      "--vars <file>",
      "a JSON or YAML file of prompt name → variables: diff the rendered text",
    )
    .action(
      async (
        args: string[],
        options: { stat?: boolean; exitCode?: boolean; breaking?: boolean; vars?: string },
        command: Command,
      ) => {
        const { diffCommand } = await import("./commands/diff.js");
        // Commander drops a literal "--" from the arguments; the command finds it in the raw ones.
        const raw = (command.parent as { rawArgs?: string[] } | null)?.rawArgs ?? [];
        finish(await diffCommand(context(command), args, options, raw));
      },
    );

  program
    .command("init")
    .description("scaffold prompts/, prompts.config.yaml, an example prompt and .gitignore entries")
    .action(async (_options: unknown, command: Command) => {
      const { initCommand } = await import("./commands/init.js");
      finish(await initCommand(context(command)));
    });

  program
    .command("log")
    .description("the versions of one prompt through history: version, commit, date, author, tag")
    .argument("<name>", "prompt name")
    .option("--ref <ref>", "start from this ref instead of HEAD")
    .action(async (name: string, options: { ref?: string }, command: Command) => {
      const { logCommand } = await import("./commands/log.js");
      finish(await logCommand(context(command), name, options));
    });

  program
    .command("tag")
    .description("validate the prompts at HEAD and make an annotated tag; --list shows tags")
    .argument("[tag]", "tag name, e.g. v1.2.0")
    .option("-m, --message <message>", "tag message")
    .option("-f, --force", "move an existing tag")
    .option("-l, --list", "list tags with dates and the prompts each changed")
    .action(async (name: string | undefined, options: TagCliOptions, command: Command) => {
      const { tagCommand } = await import("./commands/tag.js");
      finish(await tagCommand(context(command), name, options));
    });

  program
    .command("label")
    .description("environments as movable git refs: list, show, or point ENV at REF (a deploy)")
    .argument("[env]", "label name, e.g. production")
    .argument("[ref]", "what to deploy: tag, branch, commit")
    .option("--history", "list the moves of ENV")
    .option("--delete", "remove the label ENV")
    .option("-f, --force", "point at a ref even if its prompts are invalid")
    .action(
      async (
        env: string | undefined,
        ref: string | undefined,
        options: LabelCliOptions,
        command: Command,
      ) => {
        const { labelCommand } = await import("./commands/label.js");
        finish(await labelCommand(context(command), env, ref, options));
      },
    );

  program
    .command("serve")
    .description("serve prompts over HTTP to running agents: hot reload, rendering, usage ingest")
    .option("--port <port>", "port (0 picks a free one)", "7411")
    .option("--host <host>", "interface to bind", "127.0.0.1")
    .option("--ref <ref>", "serve a git ref (tag, label, branch) and follow it when it moves")
    .option("--token <token>", "require Authorization: Bearer <token> (or PROMPTS_TOKEN)")
    .option(
      "--allowed-host <name>",
      "a name requests may give in their Host header, besides the bound address and localhost (repeatable)",
      collect,
    )
    .option("--cors <origin>", "let pages of this origin call the API (repeatable)", collect)
    .option("--max-connections <n>", "connections held at once; more get a 503", "1000")
    .option("--max-body <bytes>", "largest request body accepted", String(4 * 1024 * 1024))
    .option("--verbose", "log every request")
    .action(async (options: ServeCliOptions, command: Command) => {
      const { serveCommand } = await import("./commands/serve.js");
      finish(await serveCommand(context(command), options));
    });

  program
    .command("typegen")
    .description("write the TypeScript types of prompt names and variables (prompts.d.ts)")
    .option("--out <file>", "where to write (default: prompts.d.ts at the repository root)")
    .option("--ref <ref>", "generate from the prompts of a git ref")
    .option("--check", "write nothing; exit 1 when the file is not what would be generated (CI)")
    .action(async (options: { out?: string; ref?: string; check?: boolean }, command: Command) => {
      const { typegenCommand } = await import("./commands/typegen.js");
      finish(await typegenCommand(context(command), options));
    });

  program
    .command("promote")
    .description("make a variant the prompt's body and end the experiment, ready to commit")
    .argument("<name>", "prompt name")
    .argument("<variant>", "the variant that won")
    .option("--dry-run", "print the rewritten file instead of writing it")
    .action(
      async (name: string, variant: string, options: { dryRun?: boolean }, command: Command) => {
        const { promoteCommand } = await import("./commands/promote.js");
        finish(await promoteCommand(context(command), name, variant, options));
      },
    );

  program
    .command("import")
    .description(
      "bring prompts from another tool into git: converted exactly, or refused with the reason",
    )
    .argument("<format>", "dict, langfuse, promptlayer, openai, prompty or dotprompt")
    .argument("[paths...]", "files (or folders of .prompty/.prompt files) to import")
    .option("--into <dir>", "write the prompts into this folder (default: the prompt directory)")
    .option("--dry-run", "write nothing; print what would be written")
    .option("--force", "replace prompts that exist already")
    .option(
      "--syntax <syntax>",
      "dict: the template syntax (fstring, mustache, jinja, handlebars)",
      "fstring",
    )
    .option("--url <url>", "langfuse: read this Langfuse project's API instead of an export file")
    .option("--public-key <key>", "langfuse: the project's public key (or LANGFUSE_PUBLIC_KEY)")
    .option("--secret-key <key>", "langfuse: the project's secret key (or LANGFUSE_SECRET_KEY)")
    .action(
      async (format: string, paths: string[], options: ImportCliOptions, command: Command) => {
        const { importCommand } = await import("./commands/import.js");
        finish(await importCommand(context(command), format, paths, options));
      },
    );

  program
    .command("stats")
    .description("compare versions or variants on reported outcomes, with confidence intervals")
    .argument("[name]", "only this prompt")
    .option("--by <what>", "group by version or variant", "version")
    .option("--since <date>", "only usages at or after this date")
    .option("--until <date>", "only usages at or before this date")
    .option("--from <url>", "read the statistics of a prompts serve instead of the local store")
    .option(
      "--method <method>",
      "always-valid (safe to look at any time) or fixed (one look at a planned size)",
      "always-valid",
    )
    .option("--correction <how>", "holm or none, for several arms against one control", "holm")
    .option("--plan", "show the outcomes per arm needed to detect --lift")
    .option("--lift <diff>", "with --plan: the absolute difference to detect (0.05 = 5 points)")
    .option("--series <unit>", "with --json: each group's counts per UTC day (day)")
    .action(async (name: string | undefined, options: StatsCliOptions, command: Command) => {
      const { statsCommand } = await import("./commands/stats.js");
      finish(await statsCommand(context(command), name, options));
    });

  const hook = program.command("hook").description("manage the git pre-commit hook");
  hook
    .command("install")
    .description("install a pre-commit hook that runs `prompts validate --staged`")
    .action(async (_options: unknown, command: Command) => {
      const { hookInstallCommand } = await import("./commands/hook.js");
      finish(await hookInstallCommand(context(command)));
    });
  hook
    .command("uninstall")
    .description("remove the hook (and restore a hook it had kept)")
    .action(async (_options: unknown, command: Command) => {
      const { hookUninstallCommand } = await import("./commands/hook.js");
      finish(await hookUninstallCommand(context(command)));
    });

  addCommandHelp(program);
  return program;
}

/** Options of `prompts render`. */
export interface RenderCliOptions {
  var?: string[];
  vars?: string;
  variant?: string;
  ref?: string;
}

/** Options of `prompts validate`. */
export interface ValidateCliOptions {
  staged?: boolean;
  ref?: string;
  format: "text" | "json" | "github";
  strict?: boolean;
}

/** Options of `prompts tag`. */
export interface TagCliOptions {
  message?: string;
  force?: boolean;
  list?: boolean;
}

/** Options of `prompts label`. */
export interface LabelCliOptions {
  history?: boolean;
  delete?: boolean;
  force?: boolean;
}

/** Options of `prompts import`. */
export interface ImportCliOptions {
  into?: string;
  dryRun?: boolean;
  force?: boolean;
  syntax?: string;
  url?: string;
  publicKey?: string;
  secretKey?: string;
}

/** Options of `prompts stats`. */
export interface StatsCliOptions {
  by?: string;
  since?: string;
  until?: string;
  from?: string;
  method?: string;
  correction?: string;
  plan?: boolean;
  lift?: string;
  series?: string;
}

/** Options of `prompts serve`. */
export interface ServeCliOptions {
  port?: string;
  host?: string;
  ref?: string;
  token?: string;
  allowedHost?: string[];
  cors?: string[];
  maxConnections?: string;
  maxBody?: string;
  verbose?: boolean;
}
