// A unified line diff as the API gives it (hunks of " ", "-", "+" lines), drawn as `prompts diff`
// prints it: a run of removed lines followed by as many added ones is marked word by word, so
// the edit inside a long line stands out. The word diff is the same function the CLI uses.
// Deep import: the package index would bring every diff algorithm into the page.
import { diffWordsWithSpace } from "diff/lib/diff/word.js";
import type { ComponentChildren } from "preact";
import type { DiffHunk } from "../../../src/core/diff.js";

/** One line of the drawn diff. */
interface DrawnLine {
  kind: "context" | "add" | "del" | "note";
  /** Line numbers at FROM and TO (none for the side that does not have the line). */
  old: number | null;
  new: number | null;
  content: ComponentChildren;
}

/** The lines of one hunk, with line numbers and the word marks of paired changes. */
function drawHunk(hunk: DiffHunk): DrawnLine[] {
  const out: DrawnLine[] = [];
  let oldLine = hunk.oldStart;
  let newLine = hunk.newStart;
  const lines = hunk.lines;
  for (let i = 0; i < lines.length;) {
    const line = lines[i] as string;
    if (line.startsWith("\\")) {
      out.push({ kind: "note", old: null, new: null, content: line });
      i++;
      continue;
    }
    if (!line.startsWith("-") && !line.startsWith("+")) {
      out.push({ kind: "context", old: oldLine++, new: newLine++, content: line.slice(1) });
      i++;
      continue;
    }
    let removedEnd = i;
    while (lines[removedEnd]?.startsWith("-")) removedEnd++;
    let addedEnd = removedEnd;
    while (lines[addedEnd]?.startsWith("+")) addedEnd++;
    const removed = lines.slice(i, removedEnd).map((text) => text.slice(1));
    const added = lines.slice(removedEnd, addedEnd).map((text) => text.slice(1));
    const paired = removed.length > 0 && removed.length === added.length;
    const removedContent: ComponentChildren[] = [...removed];
    const addedContent: ComponentChildren[] = [...added];
    if (paired) {
      removed.forEach((before, k) => {
        const [old, current] = wordMarks(before, added[k] as string);
        removedContent[k] = old;
        addedContent[k] = current;
      });
    }
    for (const content of removedContent)
      out.push({ kind: "del", old: oldLine++, new: null, content });
    for (const content of addedContent)
      out.push({ kind: "add", old: null, new: newLine++, content });
    i = Math.max(addedEnd, i + 1);
  }
  return out;
}

/** A removed and an added line with the words that differ marked. */
function wordMarks(before: string, after: string): [ComponentChildren[], ComponentChildren[]] {
  const old: ComponentChildren[] = [];
  const current: ComponentChildren[] = [];
  diffWordsWithSpace(before, after).forEach((part, index) => {
    if (part.removed)
      old.push(
        <del key={index} class="word">
          {part.value}
        </del>,
      );
    else if (part.added)
      current.push(
        <ins key={index} class="word">
          {part.value}
        </ins>,
      );
    else {
      old.push(part.value);
      current.push(part.value);
    }
  });
  return [old, current];
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
            {drawHunk(hunk).map((line, row) => (
              <tr key={row} class={line.kind}>
                <td class="ln">{line.old ?? ""}</td>
                <td class="ln">{line.new ?? ""}</td>
                <td class="sign">{SIGN[line.kind]}</td>
                <td class="code">{line.content}</td>
              </tr>
            ))}
          </tbody>
        ))}
      </table>
    </div>
  );
}
