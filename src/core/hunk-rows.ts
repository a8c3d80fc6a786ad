// Deep import: the package index loads all nineteen of its modules.
import { diffWordsWithSpace } from "diff/lib/diff/word.js";
import type { DiffHunk } from "./diff.js";

/** A piece of a changed line: the words that differ from its pair are `changed`. */
export interface WordPart {
  value: string;
  changed: boolean;
}

/**
 * One line of a hunk as `prompts diff` and the web page draw it: its kind, its text without the
 * leading sign, its line numbers at FROM and TO (null where the side has none), and, for a
 * removed or added line paired with one of the other kind, its words marked.
 */
export interface HunkRow {
  kind: "context" | "del" | "add" | "note";
  text: string;
  old: number | null;
  new: number | null;
  words?: WordPart[];
}

/**
 * The rows of one hunk. A run of removed lines followed by as many added ones is paired line by
 * line and marked word by word, so that the edit inside a long line stands out.
 */
export function hunkRows(hunk: DiffHunk): HunkRow[] {
  const rows: HunkRow[] = [];
  let oldLine = hunk.oldStart;
  let newLine = hunk.newStart;
  const lines = hunk.lines;
  for (let i = 0; i < lines.length;) {
    const line = lines[i] as string;
    if (line.startsWith("\\")) {
      rows.push({ kind: "note", text: line, old: null, new: null });
      i++;
      continue;
    }
    if (!line.startsWith("-") && !line.startsWith("+")) {
      rows.push({ kind: "context", text: line.slice(1), old: oldLine++, new: newLine++ });
      i++;
      continue;
    }
    let removedEnd = i;
    while (lines[removedEnd]?.startsWith("-")) removedEnd++;
    let addedEnd = removedEnd;
    while (lines[addedEnd]?.startsWith("+")) addedEnd++;
    const removed = lines.slice(i, removedEnd).map((text) => text.slice(1));
    const added = lines.slice(removedEnd, addedEnd).map((text) => text.slice(1));
    const marks =
      removed.length > 0 && removed.length === added.length
        ? removed.map((before, k) => wordParts(before, added[k] as string))
        : undefined;
    removed.forEach((text, k) =>
      rows.push({ kind: "del", text, old: oldLine++, new: null, ...wordsOf(marks?.[k]?.[0]) }),
    );
    added.forEach((text, k) =>
      rows.push({ kind: "add", text, old: null, new: newLine++, ...wordsOf(marks?.[k]?.[1]) }),
    );
    i = Math.max(addedEnd, i + 1);
  }
  return rows;
}

function wordsOf(words: WordPart[] | undefined): { words?: WordPart[] } {
  return words === undefined ? {} : { words };
}

/** The words of a removed and an added line, each marked where it differs from the other. */
function wordParts(before: string, after: string): [WordPart[], WordPart[]] {
  const old: WordPart[] = [];
  const current: WordPart[] = [];
  for (const part of diffWordsWithSpace(before, after)) {
    if (part.removed) old.push({ value: part.value, changed: true });
    else if (part.added) current.push({ value: part.value, changed: true });
    else {
      old.push({ value: part.value, changed: false });
      current.push({ value: part.value, changed: false });
    }
  }
  return [old, current];
}
