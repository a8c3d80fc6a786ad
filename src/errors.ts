import { isAbsolute, relative } from "node:path";
import { getSystemErrorMap } from "node:util";

/** Exit status of the `prompts` command: 1 for bad prompts or inputs, 2 for bad usage. */
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;
/** Exit status of an unexpected failure: a bug in gitprompts (sysexits' EX_SOFTWARE). */
export const EXIT_BUG = 70;

/** Stable machine-readable codes of the errors gitprompts throws. */
export type PromptsErrorCode =
  "E_PROMPT_NOT_FOUND" | "E_INVALID_PROMPT" | "E_INVALID_INPUT" | "E_GIT" | "E_IO" | "E_USAGE";

/**
 * An error the user can act on. The message is one line that names the thing at fault and,
 * where there is one, the next step; `details` are further lines (one per problem).
 */
export class PromptsError extends Error {
  override readonly name = "PromptsError";
  readonly code: PromptsErrorCode;
  readonly exitCode: number;
  readonly details: readonly string[];

  constructor(
    code: PromptsErrorCode,
    message: string,
    options: { details?: readonly string[]; exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = options.exitCode ?? (code === "E_USAGE" ? EXIT_USAGE : EXIT_INVALID);
    this.details = options.details ?? [];
  }
}

/** Wrong use of the command line (exit 2). */
export function usageError(message: string): PromptsError {
  return new PromptsError("E_USAGE", message);
}

/**
 * A Node system error: what the operating system refused (ENOSPC, EROFS, EACCES…), with the
 * call and the path it was about when Node knows them.
 */
export interface SystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
}

/** True for an error that carries an errno name such as `ENOSPC` (not Node's `ERR_*` codes). */
export function isSystemError(error: unknown): error is SystemError {
  if (!(error instanceof Error) || error instanceof PromptsError) return false;
  const { code } = error as { code?: unknown };
  return typeof code === "string" && /^E[A-Z0-9]+$/.test(code);
}

/** Descriptions where libuv's own are unclear (or missing) for someone reading a one-line error. */
const SYSTEM_ERROR_TEXT: Readonly<Record<string, string>> = {
  EISDIR: "it is a folder",
  ENOTDIR: "a part of the path is not a folder",
  EDQUOT: "disk quota exceeded",
  ENOTFOUND: "no such host",
  ENFILE: "too many open files in the system",
};

/** What the call was doing, as a verb for "cannot … PATH". */
const SYSCALL_VERB: Readonly<Record<string, string>> = {
  open: "open",
  read: "read",
  write: "write",
  writev: "write",
  fsync: "write",
  fdatasync: "write",
  ftruncate: "write",
  copyfile: "copy",
  close: "close",
  mkdir: "create the folder",
  mkdtemp: "create a folder in",
  rename: "rename",
  unlink: "remove",
  rmdir: "remove",
  rm: "remove",
  scandir: "read the folder",
  opendir: "read the folder",
  stat: "read",
  lstat: "read",
  fstat: "read",
  access: "read",
  realpath: "read",
  readlink: "read the link",
  symlink: "create the link",
  link: "create the link",
  chmod: "change",
  watch: "watch",
  listen: "listen on",
  bind: "listen on",
  getaddrinfo: "look up",
  spawn: "run",
};

let uvMessages: Map<string, string> | undefined;

/** What a system error code means, in words (`no space left on device`), when known. */
export function systemErrorMeaning(error: SystemError): string | undefined {
  if (error.code === "ENOSPC" && error.syscall === "watch")
    return "the system's limit of file watchers is reached (raise fs.inotify.max_user_watches)";
  uvMessages ??= new Map(getSystemErrorMap().values());
  return SYSTEM_ERROR_TEXT[error.code] ?? uvMessages.get(error.code);
}

/** What a system error code means, with the code: `no space left on device (ENOSPC)`. */
export function systemErrorText(error: SystemError): string {
  const meaning = systemErrorMeaning(error);
  return meaning === undefined ? error.code : `${meaning} (${error.code})`;
}

/**
 * One line saying what the system refused and about which path:
 * `cannot write dist/prompts.json: no space left on device (ENOSPC)`. Paths are shown relative
 * to `base` when they are inside it.
 */
export function describeSystemError(error: SystemError, base?: string): string {
  const shown = (path: string) => {
    if (base === undefined) return path;
    const rel = relative(base, path);
    return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? path : rel;
  };
  const verb = error.syscall === undefined ? undefined : verbOf(error.syscall, error.code);
  const target =
    error.path === undefined
      ? undefined
      : error.dest === undefined
        ? shown(error.path)
        : `${shown(error.path)} to ${shown(error.dest)}`;
  const what = systemErrorText(error);
  if (verb !== undefined && target !== undefined) return `cannot ${verb} ${target}: ${what}`;
  if (verb !== undefined) return `${error.syscall} failed: ${what}`;
  return target === undefined ? what : `${target}: ${what}`;
}

/** The verb of a call; an `open` that a full or read-only disk refuses was one for writing. */
function verbOf(syscall: string, code: string): string {
  if (syscall === "open" && ["EROFS", "ENOSPC", "EDQUOT", "ETXTBSY"].includes(code)) return "write";
  if (syscall === "open" && code === "EEXIST") return "create";
  return SYSCALL_VERB[syscall] ?? syscall;
}
