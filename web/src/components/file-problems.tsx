// Problems of prompt files, each placed as the CLI places them: `file:line:col: message`.
import type { ComponentChildren } from "preact";
import type { Issue } from "../types.js";

/** One problem on one line. */
export function issueLine(issue: Issue): string {
  return `${issue.file}:${issue.line}:${issue.col}: ${issue.message}`;
}

/** A heading, then the problems one per line; nothing when there are none. */
export function FileProblems({
  heading,
  issues,
  alert = false,
}: {
  heading: ComponentChildren;
  issues: readonly Issue[];
  /** Announced at once by screen readers: for problems that appear while the page is open. */
  alert?: boolean;
}) {
  if (issues.length === 0) return null;
  return (
    <div class="file-errors" role={alert ? "alert" : undefined}>
      <strong>{heading}</strong>
      <ul>
        {issues.map((issue, index) => (
          <li key={index} class={issue.severity}>
            <code>{issueLine(issue)}</code>
          </li>
        ))}
      </ul>
    </div>
  );
}
