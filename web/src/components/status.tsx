// How a page says it is waiting, or that a request failed.
import { ApiError } from "../api.js";

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status" aria-busy="true">
      Loading {what}…
    </p>
  );
}

export function ErrorNote({ error }: { error: Error }) {
  return (
    <p class="error" role="alert">
      {error instanceof ApiError
        ? `${error.message} (${error.status} ${error.code})`
        : error.message}
    </p>
  );
}
