// The live state of what the server serves, from its event stream (`/v1/events`): the bundle's
// hash (pages re-fetch when it changes) and, while an edit left the tree invalid, the errors.
// EventSource cannot send a bearer token, so the stream is read with fetch and parsed by
// eventsource-parser.
import { createParser } from "eventsource-parser";
import type { Issue } from "../../src/core/types.js";
import { authHeaders, ensureToken } from "./api.js";
import { createStore } from "./store.js";

export interface LiveState {
  /** The served bundle's hash; null until the stream is open. */
  hash: string | null;
  /** Prompts changed by the last reload. */
  changed: string[];
  /** While the tree on disk is invalid: why, and what is served instead (the last good bundle). */
  invalid: { message: string; errors: Issue[] } | null;
  /** False while the stream is down (the server stopped, the network went away). */
  connected: boolean;
}

export const live = createStore<LiveState>({
  hash: null,
  changed: [],
  invalid: null,
  connected: false,
});

const RETRY_MS = 1000;
const MAX_RETRY_MS = 15_000;

/** Opens the stream and keeps it open, reconnecting with a growing delay. */
export function startLive(): void {
  void (async () => {
    let delay = RETRY_MS;
    for (;;) {
      try {
        // The first request settles the token (a 401 asks for it) before the stream needs it.
        await ensureToken();
        await readStream(() => (delay = RETRY_MS));
      } catch {
        // Down: shown in the header; try again.
      }
      live.set({ ...live.get(), connected: false });
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  })();
}

async function readStream(onOpen: () => void): Promise<void> {
  const response = await fetch("/v1/events", {
    headers: { accept: "text/event-stream", ...authHeaders() },
    credentials: "omit",
    cache: "no-store",
  });
  if (!response.ok || !response.body) throw new Error(`events: HTTP ${response.status}`);
  onOpen();
  live.set({ ...live.get(), connected: true });
  const parser = createParser({
    onEvent(event) {
      const data = JSON.parse(event.data) as Record<string, unknown>;
      if (event.event === "bundle") {
        live.set({
          ...live.get(),
          hash: String(data.hash),
          changed: Array.isArray(data.changed) ? (data.changed as string[]) : [],
          // A reload that produced a bundle found the whole tree valid.
          invalid: null,
        });
      } else if (event.event === "invalid") {
        live.set({
          ...live.get(),
          invalid: {
            message: typeof data.message === "string" ? data.message : "invalid prompts",
            errors: (data.errors as Issue[] | undefined) ?? [],
          },
        });
      }
    },
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    parser.feed(value);
  }
}
