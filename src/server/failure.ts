import { describeSystemError, isSystemError } from "../errors.js";

/** Errors that pass once the machine has room again: a client may retry later (503). */
const UNAVAILABLE = new Set([
  "ENOSPC",
  "EDQUOT",
  "EROFS",
  "EIO",
  "EMFILE",
  "ENFILE",
  "EAGAIN",
  "EBUSY",
]);

/** How the server answers a system error: status, code and a message naming what failed. */
export interface SystemFailure {
  status: number;
  code: "unavailable" | "system_error";
  message: string;
}

/**
 * The answer to a request that failed on a system error (paths shown from `root`), or
 * undefined when the error is something else: a bug.
 */
export function systemFailure(error: unknown, root: string): SystemFailure | undefined {
  if (!isSystemError(error)) return undefined;
  const message = describeSystemError(error, root);
  return UNAVAILABLE.has(error.code)
    ? { status: 503, code: "unavailable", message }
    : { status: 500, code: "system_error", message };
}
