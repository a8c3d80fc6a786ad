import type { Server } from "node:http";
import { isSystemError, PromptsError, systemErrorMeaning } from "../errors.js";

/** What to try next, by the reason the address was refused. */
const NEXT_STEP: Readonly<Record<string, (host: string) => string>> = {
  EADDRINUSE: () => "try --port 0",
  EADDRNOTAVAIL: (host) => `${host} is not an address of this machine; try --host 127.0.0.1`,
  EACCES: () => "ports below 1024 need privileges; try a port above 1024",
  EPERM: () => "ports below 1024 need privileges; try a port above 1024",
  ENOTFOUND: () => "check --host",
  EAI_AGAIN: () => "check --host",
  EAFNOSUPPORT: () => "try --host 127.0.0.1",
};

/**
 * Binds `server` to `host:port`. An address that cannot be had (in use, not this machine's,
 * not allowed, a name that does not resolve) is one line naming it and what to try.
 */
export async function listen(server: Server, port: number, host: string): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    if (!isSystemError(error)) throw error;
    const shownHost = host.includes(":") ? `[${host}]` : host;
    const next = NEXT_STEP[error.code]?.(host) ?? error.code;
    const meaning = systemErrorMeaning(error) ?? error.code;
    throw new PromptsError("E_IO", `cannot listen on ${shownHost}:${port}: ${meaning} (${next})`, {
      cause: error,
    });
  }
}
