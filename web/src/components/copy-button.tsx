// A button that copies a piece of text (a command, a snippet). Where the clipboard is refused
// (an insecure origin, a denied permission), it selects the text shown so the user can copy it.
import type { RefObject } from "preact";
import { useState } from "preact/hooks";

/** Selects the element's text, for the user to copy by hand. */
function selectText(element: HTMLElement): void {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection?.removeAllRanges();
  selection?.addRange(range);
}

/**
 * Copies `text`; `shown` is the element showing it, selected when the clipboard is refused.
 * `label` names what is copied for screen readers (`Copy the curl command`).
 */
export function CopyButton({
  text,
  shown,
  label,
}: {
  text: string;
  shown: RefObject<HTMLElement | null>;
  label: string;
}) {
  const [state, setState] = useState<"idle" | "copied" | "selected">("idle");
  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error("no clipboard");
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      if (shown.current) selectText(shown.current);
      setState("selected");
    }
  };
  return (
    <>
      <button type="button" class="copy" aria-label={label} onClick={() => void copy()}>
        {state === "copied" ? "Copied" : state === "selected" ? "Selected: press Ctrl+C" : "Copy"}
      </button>
      <span class="sr-only" role="status">
        {state === "copied" ? "Copied" : state === "selected" ? "Selected, press Ctrl+C" : ""}
      </span>
    </>
  );
}
