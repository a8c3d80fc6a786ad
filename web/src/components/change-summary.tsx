// What a diff between two refs changes, in short: counts by status, the breaking changes with
// their messages, and each prompt's version from → to. The Diff page shows the whole of it.
import { namePath } from "../api.js";
import type { DiffReport } from "../types.js";

const STATUSES = ["added", "removed", "renamed", "changed", "formatting", "invalid"] as const;

/** `3 changed, 1 added; 2 unchanged`: the summary in one line. */
function countsLine(diff: DiffReport): string {
  const parts = STATUSES.filter((status) => diff.summary[status] > 0).map(
    (status) => `${diff.summary[status]} ${status}`,
  );
  const changed = parts.length === 0 ? "no prompt changes" : parts.join(", ");
  return `${changed}; ${diff.summary.unchanged} unchanged`;
}

export function ChangeSummary({ diff }: { diff: DiffReport }) {
  return (
    <div class="change-summary">
      <p>
        {countsLine(diff)}
        {diff.breaking && <span class="tag error">{diff.summary.breaking} breaking</span>}
      </p>
      {diff.prompts.length > 0 && (
        <div class="table-scroll">
          <table class="stack">
            <thead>
              <tr>
                <th scope="col">Prompt</th>
                <th scope="col">Change</th>
                <th scope="col">Version</th>
                <th scope="col">Breaks callers</th>
              </tr>
            </thead>
            <tbody>
              {diff.prompts.map((prompt) => (
                <tr key={prompt.name} class={prompt.breaking.length > 0 ? "breaking" : undefined}>
                  <th scope="row">
                    <a href={`/prompts/${namePath(prompt.name)}`}>{prompt.name}</a>
                  </th>
                  <td data-label="Change">{prompt.status}</td>
                  <td class="mono" data-label="Version">
                    {prompt.from?.version ?? "—"} → {prompt.to?.version ?? "—"}
                  </td>
                  <td data-label="Breaks callers">
                    {prompt.breaking.length === 0 ? (
                      <span class="muted">no</span>
                    ) : (
                      <ul class="breaking-list">
                        {prompt.breaking.map((change) => (
                          <li key={change.code + change.message}>
                            <strong>breaking:</strong> {change.message}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
