// How one prompt differs, with the facts `prompts diff` prints: status, versions, breaking
// changes first, field changes, the body's line diffs with changed words marked, the prompts that
// include it, and the rendered difference when variables were given.
import { Fragment } from "preact";
import { namePath } from "../api.js";
import type { BodyDiff, DiffReport, FieldChange, PromptDiff } from "../types.js";
import { STATUS_LETTER } from "../../../src/core/diff-status.js";
import { UnifiedDiff } from "./unified-diff.js";

/** A side in words: its ref (with the commit when the ref is a name), or the working tree. */
export function sideName(side: DiffReport["from"]): string {
  if (side.ref === null) return "working tree";
  return side.commit && side.commit !== side.ref && !side.commit.startsWith(side.ref)
    ? `${side.ref} (${side.commit.slice(0, 7)})`
    : side.ref.slice(0, 12);
}

/** `a → b`, or one version when both sides have the same. */
export function versionsOf(entry: PromptDiff): string {
  const before = entry.from?.version ?? "none";
  const after = entry.to?.version ?? "none";
  return before === after ? before : `${before} → ${after}`;
}

export function displayName(entry: PromptDiff): string {
  return entry.status === "renamed" && entry.from && entry.to
    ? `${entry.from.name} → ${entry.to.name}`
    : entry.name;
}

/** Lines added and removed over all of a prompt's bodies. */
export function lineCounts(entry: PromptDiff): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const body of entry.bodies) {
    added += body.added;
    removed += body.removed;
  }
  return { added, removed };
}

export function StatusBadge({ entry }: { entry: PromptDiff }) {
  return (
    <span class={`status status-${entry.status}`} title={entry.status}>
      <span aria-hidden="true">{STATUS_LETTER[entry.status]}</span>
      <span class="status-word">{entry.status}</span>
    </span>
  );
}

/** A field's value in full: the page has room for what the terminal shortens. */
function FieldValue({ value }: { value: FieldChange["from"] }) {
  if (value === undefined) return <span class="muted">—</span>;
  if (typeof value === "string")
    return value.includes("\n") ? <pre class="value">{value}</pre> : <code>{value}</code>;
  // An object (a variable's spec, a variant) reads better as its keys than as one line of JSON.
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return <code>{"{}"}</code>;
    return (
      <dl class="value">
        {entries.map(([key, inner]) => (
          <div key={key}>
            <dt>{key}</dt>
            <dd>
              <FieldValue value={inner} />
            </dd>
          </div>
        ))}
      </dl>
    );
  }
  return <code>{JSON.stringify(value)}</code>;
}

function FieldChanges({ fields }: { fields: FieldChange[] }) {
  if (fields.length === 0) return null;
  return (
    <div class="table-scroll">
      <table class="fields stack">
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Change</th>
            <th scope="col">From</th>
            <th scope="col">To</th>
          </tr>
        </thead>
        <tbody>
          {fields.map((field) => (
            <tr key={field.path}>
              <th scope="row">
                <code>{field.path}</code>
              </th>
              <td data-label="Change">{field.change}</td>
              <td data-label="From">
                <FieldValue value={field.from} />
              </td>
              <td data-label="To">
                <FieldValue value={field.to} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function PromptLinks({ names }: { names: string[] }) {
  return (
    <>
      {names.map((name, index) => (
        <Fragment key={name}>
          {index > 0 && ", "}
          <a href={`/prompts/${namePath(name)}`}>{name}</a>
        </Fragment>
      ))}
    </>
  );
}

/** A render error without its `cannot render "name": ` lead, which the line already says. */
function renderProblem(message: string): string {
  return message.replace(/^cannot render "[^"]*": /, "");
}

function RenderedDifference({ entry, report }: { entry: PromptDiff; report: DiffReport }) {
  const rendered = entry.rendered;
  if (!rendered) return null;
  const errors = [
    rendered.fromError === undefined
      ? ""
      : `cannot render at ${sideName(report.from)}: ${renderProblem(rendered.fromError)}`,
    rendered.toError === undefined
      ? ""
      : `cannot render at ${sideName(report.to)}: ${renderProblem(rendered.toError)}`,
  ].filter((error) => error !== "");
  return (
    <div class="rendered">
      <h4>
        Rendered with the variables given
        {errors.length === 0 && rendered.hunks.length > 0 && (
          <span class="counts">
            <span class="plus">+{rendered.added}</span>{" "}
            <span class="minus">−{rendered.removed}</span>
          </span>
        )}
      </h4>
      {errors.map((error) => (
        <p key={error} class="error">
          {error}
        </p>
      ))}
      {errors.length === 0 &&
        (rendered.hunks.length === 0 ? (
          <p class="muted">Same text on both sides.</p>
        ) : (
          <UnifiedDiff
            hunks={rendered.hunks}
            label={`rendered text of ${entry.name}, ${sideName(report.from)} → ${sideName(report.to)}`}
          />
        ))}
    </div>
  );
}

/** The line diff of one body (the template, a message, a variant's), with its counts. */
function BodyDifference({ name, body }: { name: string; body: BodyDiff }) {
  return (
    <div class="body-diff">
      <h4>
        <code>{body.path}</code>
        {body.role && <span class="role">{body.role}</span>}
        <span class="counts">
          <span class="plus">+{body.added}</span> <span class="minus">−{body.removed}</span>
        </span>
      </h4>
      <UnifiedDiff hunks={body.hunks} label={`${name} ${body.path}`} />
    </div>
  );
}

/** Everything about one prompt's difference, below its heading. */
export function PromptDiffBody({
  entry,
  report,
  varsGiven,
}: {
  entry: PromptDiff;
  report: DiffReport;
  varsGiven: boolean;
}) {
  if (entry.status === "formatting")
    return <p class="muted">Formatting only: same version {versionsOf(entry)}.</p>;
  if (entry.status === "invalid") {
    const side = entry.invalidAt === "from" ? "FROM" : "TO";
    return <p class="error">Invalid at {side} (see that side's file errors); not compared.</p>;
  }
  const compared =
    (entry.status === "changed" || entry.status === "renamed") &&
    entry.from?.version !== entry.to?.version;
  return (
    <div class="prompt-diff-body">
      {entry.breaking.length > 0 && (
        <ul class="breaking" aria-label="Breaking changes">
          {entry.breaking.map((change, index) => (
            <li key={index}>
              <strong>breaking:</strong> {change.message}
            </li>
          ))}
        </ul>
      )}
      {entry.status === "added" && <p class="muted">New prompt at TO.</p>}
      {entry.status === "removed" && <p class="muted">Gone at TO.</p>}
      {entry.viaPartials.length > 0 && (
        <p>
          Partial{entry.viaPartials.length === 1 ? "" : "s"} changed:{" "}
          <PromptLinks names={entry.viaPartials} />
        </p>
      )}
      <FieldChanges fields={entry.fields} />
      {entry.includedBy.length > 0 && (
        <p class="included-by">
          Included by: <PromptLinks names={entry.includedBy} /> (they change too)
        </p>
      )}
      {entry.bodies.map((body) => (
        <BodyDifference key={body.path} name={entry.name} body={body} />
      ))}
      <RenderedDifference entry={entry} report={report} />
      {varsGiven && compared && !entry.rendered && (
        <p class="muted">Rendered: no variables given for this prompt.</p>
      )}
    </div>
  );
}
