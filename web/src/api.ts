// Every request of the page goes through here: to the server it came from, under /v1, with the
// token when there is one. A 401 asks the user for the token, then the request is sent again.
import { useEffect, useState } from "preact/hooks";
import { createStore } from "./store.js";
import { storedToken, storeToken } from "./token.js";

/** An error answer of the API: `{error: {code, message}}` with its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Set while the server wants a token: the page shows the token form, whose answer resolves the
 * waiting requests (see {@link provideToken}).
 */
export const tokenWanted = createStore<{ rejected: boolean } | null>(null);
let tokenArrived: Promise<void> | null = null;
let resolveToken: (() => void) | null = null;

/** The token form's answer: kept for this tab, and every waiting request is sent again. */
export function provideToken(token: string): void {
  storeToken(token);
  tokenWanted.set(null);
  resolveToken?.();
  tokenArrived = null;
  resolveToken = null;
}

function waitForToken(rejected: boolean): Promise<void> {
  if (!tokenArrived) {
    tokenArrived = new Promise((resolve) => (resolveToken = resolve));
  }
  tokenWanted.set({ rejected });
  return tokenArrived;
}

/** Headers of every API request: the bearer token once known. */
export function authHeaders(): Record<string, string> {
  const token = storedToken();
  return token === null ? {} : { authorization: `Bearer ${token}` };
}

/**
 * Resolves once the server accepts the page's token (at once when it needs none): asks with a
 * HEAD of the bundle, which costs the server nothing to answer.
 */
export async function ensureToken(): Promise<void> {
  for (;;) {
    const hadToken = storedToken() !== null;
    const response = await fetch("/v1/bundle", {
      method: "HEAD",
      headers: authHeaders(),
      credentials: "omit",
      cache: "no-store",
    });
    if (response.status !== 401) return;
    await waitForToken(hadToken);
  }
}

/**
 * A JSON request to the API (`path` starts with `/v1/`). Resolves to the parsed answer; rejects
 * with an {@link ApiError} for an error answer, after asking for the token on a 401.
 */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  for (;;) {
    const hadToken = storedToken() !== null;
    const response = await fetch(path, {
      method: init.method ?? "GET",
      headers: {
        accept: "application/json",
        ...authHeaders(),
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      ...(init.signal === undefined ? {} : { signal: init.signal }),
      credentials: "omit",
      cache: "no-store",
    });
    if (response.status === 401) {
      await waitForToken(hadToken);
      continue;
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text === "" ? null : JSON.parse(text);
    } catch {
      throw new ApiError(
        response.status,
        "bad_answer",
        `the server answered ${response.status} with something that is not JSON`,
      );
    }
    if (!response.ok) {
      const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
      throw new ApiError(
        response.status,
        error?.code ?? "http_error",
        error?.message ?? `HTTP ${response.status}`,
      );
    }
    return body as T;
  }
}

/** What {@link useApi} gives a component. */
export type Loaded<T> =
  | { state: "loading"; data?: T }
  | { state: "ok"; data: T }
  | { state: "error"; error: ApiError | Error; data?: T };

/**
 * The answer of a GET, fetched when `path` changes or when `refreshKey` does (pass the live
 * hash to follow edits); the last answer stays shown while the next one loads. `null` fetches
 * nothing.
 */
export function useApi<T>(path: string | null, refreshKey: unknown = null): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: "loading" });
  useEffect(() => {
    if (path === null) return;
    const abort = new AbortController();
    setLoaded((previous) => ({
      state: "loading",
      ...(previous.data === undefined ? {} : { data: previous.data }),
    }));
    api<T>(path, { signal: abort.signal }).then(
      (data) => setLoaded({ state: "ok", data }),
      (error: unknown) => {
        if (abort.signal.aborted) return;
        setLoaded((previous) => ({
          state: "error",
          error: error instanceof Error ? error : new Error(String(error)),
          ...(previous.data === undefined ? {} : { data: previous.data }),
        }));
      },
    );
    return () => abort.abort();
  }, [path, refreshKey]);
  return loaded;
}

/** A query string from the given parameters, leaving out empty ones; `""` when none. */
export function queryString(
  parameters: Record<string, string | readonly string[] | undefined | null>,
): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(parameters)) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of typeof value === "string" ? [value] : value) query.append(key, one);
  }
  const text = query.toString();
  return text === "" ? "" : `?${text}`;
}

/** A prompt name in a URL path: each `/`-separated part encoded, the slashes kept. */
export function namePath(name: string): string {
  return name.split("/").map(encodeURIComponent).join("/");
}
