import type { FileIssue } from "../core/types.js";

/** The largest prompt file read: anything bigger is surely not a prompt, and is refused unread. */
export const MAX_PROMPT_FILE_BYTES = 1024 * 1024;

/**
 * One prompt file as read from the working tree or from git: its text, or why it has none.
 */
export interface PromptFileText {
  name: string;
  /** Path relative to the repository root, `/`-separated. */
  file: string;
  text?: string;
  /**
   * What the parse cache knows the text by: git's id of the file's bytes as a blob. Git gives
   * it for a file read from git; a file read from disk gets the same id (`blobId`), and shares
   * the cache with the same file in a commit.
   */
  key?: string;
  problem?: FileIssue;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes a prompt file, or describes where its bytes stop being UTF-8. */
export function decodePromptFile(bytes: Uint8Array): { text: string } | { problem: FileIssue } {
  if (bytes.length > MAX_PROMPT_FILE_BYTES) {
    return fileProblem(
      "too-large",
      `the file is ${bytes.length} bytes, over the ${MAX_PROMPT_FILE_BYTES}-byte limit for a prompt file`,
    );
  }
  try {
    return { text: utf8.decode(bytes) };
  } catch {
    const { offset, line, col } = firstInvalidUtf8(bytes);
    const byte = bytes[offset]?.toString(16).padStart(2, "0") ?? "??";
    return {
      problem: {
        ...fileProblem("not-utf8", `the file is not valid UTF-8 (byte 0x${byte}); save it as UTF-8`)
          .problem,
        line,
        col,
      },
    };
  }
}

/** A problem with a whole file, placed at its start. */
export function fileProblem(code: string, message: string): { problem: FileIssue } {
  return { problem: { line: 1, col: 1, path: "", code, message, severity: "error" } };
}

/** Where the bytes stop being UTF-8: the byte's offset, and its line and column (in bytes). */
export function firstInvalidUtf8(bytes: Uint8Array): { offset: number; line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i] as number;
    const length =
      byte < 0x80
        ? 1
        : byte >= 0xc2 && byte < 0xe0
          ? 2
          : byte >= 0xe0 && byte < 0xf0
            ? 3
            : byte >= 0xf0 && byte < 0xf5
              ? 4
              : 0;
    const valid =
      length > 0 &&
      i + length <= bytes.length &&
      Array.from({ length: length - 1 }, (_, k) => bytes[i + 1 + k] as number).every(
        (next) => (next & 0xc0) === 0x80,
      );
    if (!valid) break;
    if (byte === 10) {
      line++;
      lineStart = i + 1;
    }
    i += length;
  }
  // Columns count bytes here; close enough to find the spot in an editor.
  return { offset: i, line, col: i - lineStart + 1 };
}
