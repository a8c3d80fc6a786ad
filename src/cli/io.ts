import { findRoot } from "../store/config.js";

/** A stream the CLI writes to. */
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** Everything a command may touch of its process: tests pass their own. */
export interface CliIO {
  cwd: string;
  stdout: OutputStream;
  stderr: OutputStream;
  env: Readonly<Record<string, string | undefined>>;
}

/** The options every command accepts (README: Commands). */
export interface GlobalOptions {
  /** `-C`: the repository root. */
  C?: string;
  dir?: string;
  json?: boolean;
  color: boolean;
  cache: boolean;
}

/** What a command gets: the process's I/O and the global options. */
export interface CommandContext {
  io: CliIO;
  global: GlobalOptions;
}

/** Load options from the global options: `-C` is the root as given, otherwise it is searched from cwd. */
export function loadOptionsOf(context: CommandContext): {
  root?: string;
  cwd: string;
  dir?: string;
  cache: boolean;
} {
  const { C, dir, cache } = context.global;
  const options: { root?: string; cwd: string; dir?: string; cache: boolean } = {
    cwd: context.io.cwd,
    cache,
  };
  if (C !== undefined) options.root = resolvePath(context.io.cwd, C);
  if (dir !== undefined) options.dir = dir;
  return options;
}

function resolvePath(cwd: string, path: string): string {
  return path.startsWith("/") ? path : `${cwd.replace(/\/+$/, "")}/${path}`;
}

/** The repository root a command works in: `-C` as given, else searched upwards from cwd. */
export function rootOf(context: CommandContext): string {
  const { root, cwd } = loadOptionsOf(context);
  return root ?? findRoot(cwd);
}
