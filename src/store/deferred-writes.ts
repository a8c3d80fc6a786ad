/**
 * Cache writes put off to the end of a command that loads several trees: a diff writes the
 * parse pack once, with the entries of both its sides, rather than once after each. Outside
 * such a command (a library caller, the server), nothing is put off.
 */
let running = 0;
const pending = new Set<() => void>();

/**
 * Runs `work`; the writes put off meanwhile are done when it ends, or when the last of those
 * running alongside it ends (tests run commands side by side in one process).
 */
export async function withDeferredWrites<T>(work: () => Promise<T>): Promise<T> {
  running++;
  try {
    return await work();
  } finally {
    running--;
    if (running === 0) {
      for (const write of pending) {
        pending.delete(write);
        write();
      }
    }
  }
}

/** Does `write` when the work in {@link withDeferredWrites} ends, or now outside it; the same function once. */
export function writeWhenDone(write: () => void): void {
  if (running === 0) write();
  else pending.add(write);
}
