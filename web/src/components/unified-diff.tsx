// A unified line diff as the API gives it (hunks of " ", "-", "+" lines), drawn from the same
// rows `prompts diff` prints (core/hunk-rows.ts): paired changed lines have their words marked.
import type { ComponentChildren } from "preact";
import type { DiffHunk } from "../../../src/core/diff.js";
import { hunkRows, type HunkRow } from "../../../src/core/hunk-rows.js";

/** A row's text, with the words that differ from its paired line marked. */
function content(row: HunkRow): ComponentChildren {
  if (row.words === undefined) return row.text;
  const Mark = row.kind === "del" ? "del" : "ins";
  return row.words.map((part, index) =>
    part.changed ? (
      <Mark key={index} class="word">
        {part.value}
      </Mark>
    ) : (
      part.value
    ),
  );
}

const SIGN = { context: " ", add: "+", del: "-", note: "" } as const;

/** The hunks of one body, or of the rendered text, as a table of numbered lines. */
export function UnifiedDiff({ hunks, label }: { hunks: readonly DiffHunk[]; label: string }) {
  return (
    <div class="udiff-scroll">
      <table class="udiff" aria-label={label}>
        {hunks.map((hunk, index) => (
          <tbody key={index}>
            <tr class="hunk">
              <td colSpan={4}>
                @@ -{hunk.oldStart},{hunk.oldLines} +{hunk.newStart},{hunk.newLines} @@
              </td>
            </tr>
            {hunkRows(hunk).map((row, number) => (
              <tr key={number} class={row.kind}>
                <td class="ln">{row.old ?? ""}</td>
                <td class="ln">{row.new ?? ""}</td>
                <td class="sign">{SIGN[row.kind]}</td>
                <td class="code">{content(row)}</td>
              </tr>
            ))}
          </tbody>
        ))}
      </table>
    </div>
  );
}
