import type { Command } from "./commander.js";

/** What `prompts CMD --help` adds after the options: examples, and the global options CMD honours. */
interface CommandHelp {
  /** Command lines, each with an optional `# why`. */
  examples: string[];
  /** The global options (of `prompts --help`) that change what the command does. */
  globals: GlobalOption[];
}

type GlobalOption = "-C <dir>" | "--dir <path>" | "--json" | "--no-color" | "--no-cache";

const ALL: GlobalOption[] = ["-C <dir>", "--dir <path>", "--json", "--no-color", "--no-cache"];

/** By command path (`hook install`). */
const HELP: Record<string, CommandHelp> = {
  list: {
    examples: [
      "prompts list",
      "prompts list --ref v1.2.0",
      "prompts list --json | jq -r '.prompts[].name'",
    ],
    globals: ALL,
  },
  render: {
    examples: [
      "prompts render support/greeting --var name=Ada",
      "prompts render answerer_prompt --vars examples/infos.json --var user_query=Hi",
      "prompts render greeting --variant b --ref production",
    ],
    globals: ALL,
  },
  validate: {
    examples: [
      "prompts validate",
      "prompts validate --staged                    # what the pre-commit hook runs",
      "prompts validate --format github --strict    # in CI",
    ],
    globals: ALL,
  },
  publish: {
    examples: [
      "prompts publish",
      'prompts publish --ref "$GITHUB_SHA" --out dist/prompts.json',
      "prompts publish --out - | gzip > prompts.json.gz",
    ],
    globals: ALL,
  },
  diff: {
    examples: [
      "prompts diff                                 # HEAD against the working tree",
      "prompts diff v1.1.0 v1.2.0 support/greeting",
      "prompts diff production main --stat          # what deploying main would change",
      "prompts diff v1.2.0 --exit-code --breaking",
    ],
    globals: ALL,
  },
  init: {
    examples: ["prompts init", "prompts -C services/agent init"],
    globals: ["-C <dir>", "--dir <path>"],
  },
  log: {
    examples: ["prompts log support/greeting", "prompts log support/greeting --ref release --json"],
    globals: ["-C <dir>", "--dir <path>", "--json", "--no-color"],
  },
  tag: {
    examples: [
      'prompts tag v1.2.0 -m "Shorter greeting"',
      "prompts tag v1.2.0 --force                   # move an existing tag",
      "prompts tag --list",
    ],
    globals: ALL,
  },
  label: {
    examples: [
      "prompts label production v1.2.0             # a deploy",
      "prompts label production staging            # promote what staging deploys",
      "prompts label --history production",
      "prompts label",
    ],
    globals: ALL,
  },
  serve: {
    examples: [
      "prompts serve",
      'prompts serve --ref production --port 8080 --token "$PROMPTS_TOKEN"',
      "prompts serve --host 0.0.0.0 --verbose",
    ],
    globals: ["-C <dir>", "--dir <path>"],
  },
  typegen: {
    examples: [
      "prompts typegen",
      "prompts typegen --out src/prompts.d.ts",
      "prompts typegen --check                      # in CI",
    ],
    globals: ALL,
  },
  import: {
    examples: [
      "prompts import dict prompts.json --dry-run            # what would be written",
      "prompts import dict prompts.json --syntax jinja",
      "prompts import langfuse export.json                   # versions → commits, labels → labels",
      "prompts import langfuse --url https://cloud.langfuse.com --public-key pk-… --secret-key sk-…",
      "prompts import prompty prompts/ --into prompts/imported",
    ],
    globals: ["-C <dir>", "--dir <path>", "--json", "--no-color"],
  },
  promote: {
    examples: ["prompts promote greeting b --dry-run", "prompts promote greeting b"],
    globals: ALL,
  },
  stats: {
    examples: [
      "prompts stats",
      "prompts stats greeting --by variant",
      "prompts stats greeting --since 2026-11-01 --from http://localhost:7411",
    ],
    globals: ["-C <dir>", "--dir <path>", "--json", "--no-color"],
  },
  hook: {
    examples: ["prompts hook install", "prompts hook uninstall"],
    globals: ["-C <dir>"],
  },
  "hook install": {
    examples: ["prompts hook install", "prompts -C path/to/repo hook install"],
    globals: ["-C <dir>"],
  },
  "hook uninstall": {
    examples: ["prompts hook uninstall", "prompts -C path/to/repo hook uninstall"],
    globals: ["-C <dir>"],
  },
};

/**
 * Gives every subcommand of `program` its examples and global options in `--help`, and makes a
 * usage error point, on its one line, at that subcommand's help rather than at the program's.
 */
export function addCommandHelp(program: Command): void {
  const visit = (command: Command, path: string) => {
    command.configureOutput({ outputError: (text, write) => write(usageLine(text, path)) });
    const help = HELP[path];
    if (help) command.addHelpText("after", formatHelp(help));
    for (const sub of command.commands) visit(sub, `${path} ${sub.name()}`);
  };
  for (const command of program.commands) visit(command, command.name());
}

/**
 * Commander's usage error as one line that points at the help to read:
 * `✗ missing required argument 'name' (run: prompts render --help)`.
 */
export function usageLine(text: string, path?: string): string {
  const command = path === undefined ? "prompts" : `prompts ${path}`;
  const said = text
    .replace(/^error: /, "")
    .trim()
    .replace(/\s*\n\s*/g, " ");
  return `✗ ${said} (run: ${command} --help)\n`;
}

function formatHelp({ examples, globals }: CommandHelp): string {
  return [
    "",
    "Examples:",
    ...examples.map((line) => `  $ ${line}`),
    "",
    `Global options it honours: ${globals.join(", ")} (see: prompts --help)`,
  ].join("\n");
}
