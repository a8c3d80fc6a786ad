// Environments: every label (production, staging…), where it points, since when and by whom,
// its moves, and what moving it to another ref would change. Read-only: the page shows the
// command that moves a label and never moves one. The label and ref chosen are in the URL.
import { useRef, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { queryString, useApi } from "../api.js";
import { ChangeSummary } from "../components/change-summary.js";
import { CopyButton } from "../components/copy-button.js";
import { ErrorNote, Loading } from "../components/status.js";
import { live } from "../live.js";
import { useStore } from "../store.js";
import type { LabelList, LabelMove, LabelWithHistory, DiffReport, RefListing } from "../types.js";

/** `2026-11-30 14:05`: a git date as its author wrote it, to the minute. */
function shortDate(iso: string): string {
  return iso.slice(0, 16).replace("T", " ");
}

function shortCommit(commit: string): string {
  return commit.slice(0, 7);
}

/** A shell word: quoted only when it must be. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9._/@^~:=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function EnvironmentsPage() {
  const { query, path, route } = useLocation();
  const state = useStore(live);
  const labels = useApi<LabelList>("/v1/labels", state.hash);
  const chosenLabel = query.label ?? "";
  const target = query.to ?? "";
  const choose = (change: { label?: string; to?: string }) =>
    route(`${path}${queryString({ label: chosenLabel, to: target, ...change })}`, true);

  if (!labels.data)
    return labels.state === "error" ? (
      <ErrorNote error={labels.error} />
    ) : (
      <Loading what="labels" />
    );
  const list = labels.data.labels;
  return (
    <section aria-labelledby="environments-title">
      <h1 id="environments-title">Environments</h1>
      {labels.state === "error" && <ErrorNote error={labels.error} />}
      {list.length === 0 ? (
        <p>
          No labels yet. Point one at a ref with <code>prompts label production v1</code>; clients
          then read the prompts with <code>--ref production</code>.
        </p>
      ) : (
        <>
          <div class="labels">
            {list.map((label) => (
              <LabelCard key={label.label} label={label} />
            ))}
          </div>
          <MovePreview
            labels={list}
            label={chosenLabel || (list[0]?.label ?? "")}
            target={target}
            onChoose={choose}
          />
        </>
      )}
    </section>
  );
}

function LabelCard({ label }: { label: LabelWithHistory }) {
  return (
    <article class="label-card" aria-labelledby={`label-${label.label}`}>
      <h2 id={`label-${label.label}`}>{label.label}</h2>
      <p class="label-now">
        at <strong class="mono">{label.ref}</strong>{" "}
        <span class="mono muted">({shortCommit(label.target)})</span> since{" "}
        <time dateTime={label.date}>{shortDate(label.date)}</time> by {label.author}
      </p>
      <p>
        <a href={`/environments${queryString({ label: label.label })}#move`}>
          What would moving it change?
        </a>
      </p>
      <MoveHistory moves={label.history} />
    </article>
  );
}

/** A label's moves, newest first; a move back to a target it had before is called a rollback. */
function MoveHistory({ moves }: { moves: LabelMove[] }) {
  return (
    <div class="table-scroll">
      <table class="moves stack">
        <caption>
          History ({moves.length} {moves.length === 1 ? "move" : "moves"}, newest first)
        </caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">To</th>
            <th scope="col">Commit</th>
            <th scope="col">By</th>
          </tr>
        </thead>
        <tbody>
          {moves.map((move, index) => {
            const older = moves.slice(index + 1);
            const rollback =
              index < moves.length - 1 &&
              older.some((earlier) => earlier.target === move.target) &&
              older[0]?.target !== move.target;
            return (
              <tr key={move.commit}>
                <td>
                  <time dateTime={move.date}>{shortDate(move.date)}</time>
                </td>
                <td data-label="To">
                  <span class="mono">{move.ref}</span>
                  {index === 0 && <span class="tag good">current</span>}
                  {rollback && <span class="tag error">rollback</span>}
                </td>
                <td class="mono" data-label="Commit">
                  {shortCommit(move.target)}
                </td>
                <td data-label="By">{move.author}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The labels, the one chosen, the ref to move it to, and how to choose another of either. */
interface MoveProps {
  labels: LabelWithHistory[];
  label: string;
  target: string;
  onChoose: (change: { label?: string; to?: string }) => void;
}

/** The ref picker and what moving the label there would change. */
function MovePreview({ labels, label, target, onChoose }: MoveProps) {
  const diffPath = label && target ? `/v1/diff${queryString({ from: label, to: target })}` : null;
  const diff = useApi<DiffReport>(diffPath);
  const command = `prompts label ${shellWord(label)} ${shellWord(target || "REF")}`;
  const commandShown = useRef<HTMLPreElement>(null);
  return (
    <section class="move-preview" id="move" aria-labelledby="move-title">
      <h2 id="move-title">What moving a label would change</h2>
      <MoveForm labels={labels} label={label} target={target} onChoose={onChoose} />
      {diffPath === null ? (
        <p class="muted">Choose a ref to see what moving {label} there would change.</p>
      ) : diff.state === "error" ? (
        <ErrorNote error={diff.error} />
      ) : !diff.data || diff.state === "loading" ? (
        <Loading what="the changes" />
      ) : (
        <>
          <p>
            Moving <strong>{label}</strong> to <strong class="mono">{target}</strong>:{" "}
            <a href={`/diff${queryString({ from: label, to: target })}`}>the full diff</a>
          </p>
          <ChangeSummary diff={diff.data} />
        </>
      )}
      <div class="command">
        <p>This page never moves a label. To move it, run:</p>
        <div class="snippet">
          <pre ref={commandShown}>
            <code>{command}</code>
          </pre>
          <CopyButton text={command} shown={commandShown} label="Copy the command" />
        </div>
      </div>
    </section>
  );
}

/** The label to move and the ref to move it to: a branch, tag, other label, or anything typed. */
function MoveForm({ labels, label, target, onChoose }: MoveProps) {
  const refs = useApi<RefListing>("/v1/refs");
  const [typed, setTyped] = useState(target);
  const [shownTarget, setShownTarget] = useState(target);
  if (shownTarget !== target) {
    // The URL changed (back button, a pasted link): the field follows it.
    setShownTarget(target);
    setTyped(target);
  }
  const options = refs.data
    ? [
        ...refs.data.branches.map((ref) => ({ name: ref.name, kind: "branch" })),
        ...refs.data.tags.map((ref) => ({ name: ref.name, kind: "tag" })),
        ...refs.data.labels
          .filter((other) => other.name !== label)
          .map((ref) => ({ name: ref.name, kind: "label" })),
      ]
    : [];
  return (
    <>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          onChoose({ to: typed.trim() });
        }}
      >
        <div class="field">
          {/* Named by its own label alone (not its options): for/id, not wrapped. */}
          <label for="move-label">Label</label>
          <select
            id="move-label"
            value={label}
            onChange={(event) => onChoose({ label: event.currentTarget.value })}
          >
            {labels.map((one) => (
              <option key={one.label} value={one.label}>
                {one.label}
              </option>
            ))}
          </select>
        </div>
        <label>
          Move to (branch, tag, label or commit)
          <input
            list="move-refs"
            value={typed}
            placeholder="main"
            autoComplete="off"
            spellcheck={false}
            onInput={(event) => setTyped(event.currentTarget.value)}
            onChange={(event) => onChoose({ to: event.currentTarget.value.trim() })}
          />
        </label>
        <datalist id="move-refs">
          {options.map((option) => (
            <option key={`${option.kind}:${option.name}`} value={option.name}>
              {option.kind}
            </option>
          ))}
        </datalist>
        <button type="submit">Compare</button>
      </form>
      {refs.state === "error" && <ErrorNote error={refs.error} />}
    </>
  );
}
