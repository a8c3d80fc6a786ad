import { type Command, CommanderError } from "./commander.js";
import {
  describeSystemError,
  EXIT_BUG,
  EXIT_INVALID,
  EXIT_USAGE,
  isSystemError,
  PromptsError,
} from "../errors.js";
import type { CliIO } from "./io.js";
import { createProgram } from "./program.js";

/**
 * Runs the `prompts` command line with the given arguments (without `node` and the script) and
 * returns the exit status. It never exits the process, so tests call it in-process.
 */
export async function run(argv: readonly string[], io: Partial<CliIO> = {}): Promise<number> {
  const fullIO: CliIO = {
    cwd: io.cwd ?? process.cwd(),
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
  };
  let status = 0;
  const program = createProgram(fullIO, (code) => {
    status = Math.max(status, code);
  });
  // The subcommand that runs, for a usage error of its own to point at its help.
  let running: string | undefined;
  program.hook("preAction", (_program, action) => {
    const names: string[] = [];
    for (let command: Command | null = action; command?.parent; command = command.parent)
      names.unshift(command.name());
    running = names.join(" ");
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return status;
  } catch (error) {
    return reportError(error, fullIO, running);
  }
}

function reportError(error: unknown, io: CliIO, command: string | undefined): number {
  if (error instanceof CommanderError) {
    // Commander has printed its message already; help and version end successfully.
    return error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (error instanceof PromptsError) {
    // A usage error of a command's own points at its help, as commander's own usage errors do,
    // on the same line so that it stays one.
    const help =
      error.exitCode === EXIT_USAGE && command !== undefined && !error.message.includes("--help")
        ? ` (run: prompts ${command} --help)`
        : "";
    io.stderr.write(`✗ ${error.message}${help}\n`);
    for (const line of error.details.length > 1 ? error.details : [])
      io.stderr.write(`  - ${line}\n`);
    if (io.env.DEBUG) io.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  // The disk is full, the folder read-only, a file not ours: the user's to fix, not a bug.
  if (isSystemError(error)) {
    io.stderr.write(`✗ ${describeSystemError(error, io.cwd)}\n`);
    if (io.env.DEBUG) io.stderr.write(`${error.stack}\n`);
    return EXIT_INVALID;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr.write(`✗ internal error in gitprompts (please report it): ${stack}\n`);
  return EXIT_BUG;
}

/** Entry point of the `prompts` binary: the only place that sets the process's exit status. */
export async function main(): Promise<void> {
  stopQuietlyWhenReaderLeaves(process.stdout);
  stopQuietlyWhenReaderLeaves(process.stderr);
  process.exitCode = await run(process.argv.slice(2));
}

/**
 * `prompts list | head -1`: once the reader has closed the pipe nobody can see more output, so
 * stop at once and quietly, as `git log | head -1` does, rather than die of an unhandled EPIPE
 * with a stack trace. Any other stream error is still a bug and crashes loudly.
 */
function stopQuietlyWhenReaderLeaves(stream: NodeJS.WriteStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
}
