// Diff: how the prompts differ between two refs, labels or the working tree — what `prompts
// diff` shows, from `GET /v1/diff`. The form writes the URL, so a comparison is a link. The first
// prompts are shown open; past them each is a collapsed <details> drawn only when opened, so a
// thousand changed prompts stay quick.
import { useEffect, useRef, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { namePath, useApi } from "../api.js";
import { DiffForm, diffQueryOf, diffSearch } from "../components/diff-form.js";
import { FileProblems } from "../components/file-problems.js";
import {
  displayName,
  lineCounts,
  PromptDiffBody,
  sideName,
  StatusBadge,
  versionsOf,
} from "../components/prompt-diff.js";
import { ErrorNote, Loading } from "../components/status.js";
import { live } from "../live.js";
import { useStore } from "../store.js";
import type { DiffReport, Issue, PromptDiff } from "../types.js";

/** Prompts shown open; the rest are collapsed. */
const OPEN_PROMPTS = 20;

function Summary({ report }: { report: DiffReport }) {
  const { summary } = report;
  const counts: [string, number, string][] = [
    ["added", summary.added, "good"],
    ["removed", summary.removed, "bad"],
    ["renamed", summary.renamed, ""],
    ["changed", summary.changed, ""],
    ["formatting only", summary.formatting, ""],
    ["invalid", summary.invalid, "bad"],
    ["unchanged", summary.unchanged, ""],
    ["breaking", summary.breaking, "bad"],
  ];
  return (
    <div class="diff-summary" role="status">
      <p>
        <strong>{sideName(report.from)}</strong> → <strong>{sideName(report.to)}</strong>
        {report.different ? "" : ": no prompt changes"}
      </p>
      <ul class="summary-counts">
        {counts
          .filter(
            ([label, count]) =>
              count > 0 || ["added", "removed", "changed", "breaking"].includes(label),
          )
          .map(([label, count, tone]) => (
            <li key={label} class={count > 0 ? tone : "zero"}>
              <span class="n">{count}</span> {label}
            </li>
          ))}
      </ul>
    </div>
  );
}

function SideIssues({ title, issues }: { title: string; issues: Issue[] }) {
  return (
    <FileProblems
      heading={`${title}: ${issues.length} file problem${issues.length === 1 ? "" : "s"}`}
      issues={issues}
    />
  );
}

function PromptHeading({ entry }: { entry: PromptDiff }) {
  const { added, removed } = lineCounts(entry);
  const linkable = entry.to !== null;
  return (
    <>
      <StatusBadge entry={entry} />{" "}
      {linkable ? (
        <a href={`/prompts/${namePath(entry.to?.name ?? entry.name)}`}>{displayName(entry)}</a>
      ) : (
        <span>{displayName(entry)}</span>
      )}{" "}
      <code class="versions">{versionsOf(entry)}</code>
      {entry.bodies.length > 0 && (
        <span class="counts">
          <span class="plus">+{added}</span> <span class="minus">−{removed}</span>
        </span>
      )}
      {entry.breaking.length > 0 && <span class="tag error">breaking</span>}
    </>
  );
}

/** The anchor of a prompt's part of the page: the overview links to it. */
function anchorOf(entry: PromptDiff): string {
  return `p-${entry.name}`;
}

/** A prompt past the first ones: its heading, and its body once opened (or linked to). */
function CollapsedPrompt(props: { entry: PromptDiff; report: DiffReport; varsGiven: boolean }) {
  const [open, setOpen] = useState(false);
  const details = useRef<HTMLDetailsElement>(null);
  const anchor = anchorOf(props.entry);
  useEffect(() => {
    // Opened when the overview's link (or a pasted URL) names it.
    const openIfNamed = () => {
      if (decodeURIComponent(location.hash.slice(1)) === anchor && details.current) {
        details.current.open = true;
        details.current.scrollIntoView();
      }
    };
    openIfNamed();
    window.addEventListener("hashchange", openIfNamed);
    return () => window.removeEventListener("hashchange", openIfNamed);
  }, [anchor]);
  return (
    <details
      ref={details}
      class="prompt-diff"
      id={anchor}
      onToggle={(event) => setOpen(event.currentTarget.open)}
    >
      <summary>
        <PromptHeading entry={props.entry} />
      </summary>
      {open && <PromptDiffBody {...props} />}
    </details>
  );
}

/** One line per prompt, as `prompts diff --stat`: a way to the one that matters among many. */
function Overview({ prompts }: { prompts: PromptDiff[] }) {
  return (
    <details class="diff-overview" open={prompts.length <= OPEN_PROMPTS}>
      <summary>
        {prompts.length} prompt{prompts.length === 1 ? "" : "s"} differ
      </summary>
      <div class="table-scroll">
        <table class="diff-stat">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Prompt</th>
              <th scope="col">Version</th>
              <th scope="col" class="num">
                Lines
              </th>
              <th scope="col" class="num">
                Fields
              </th>
              <th scope="col">Breaking</th>
            </tr>
          </thead>
          <tbody>
            {prompts.map((entry) => {
              const { added, removed } = lineCounts(entry);
              return (
                <tr key={entry.name}>
                  <td>
                    <StatusBadge entry={entry} />
                  </td>
                  <th scope="row">
                    <a href={`#${anchorOf(entry)}`}>{displayName(entry)}</a>
                  </th>
                  <td>
                    <code class="versions">{versionsOf(entry)}</code>
                  </td>
                  <td class="num counts">
                    {entry.bodies.length > 0 && (
                      <>
                        <span class="plus">+{added}</span> <span class="minus">−{removed}</span>
                      </>
                    )}
                  </td>
                  <td class="num">{entry.fields.length || ""}</td>
                  <td class="error">{entry.breaking.length > 0 ? entry.breaking.length : ""}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </details>
  );
}

function Report({ report, varsGiven }: { report: DiffReport; varsGiven: boolean }) {
  const [first, rest] = [report.prompts.slice(0, OPEN_PROMPTS), report.prompts.slice(OPEN_PROMPTS)];
  return (
    <>
      <Summary report={report} />
      <SideIssues title={`FROM (${sideName(report.from)})`} issues={report.issues.from} />
      <SideIssues title={`TO (${sideName(report.to)})`} issues={report.issues.to} />
      {report.prompts.length > 1 && <Overview prompts={report.prompts} />}
      {first.map((entry) => (
        <section key={entry.name} class="prompt-diff" id={anchorOf(entry)}>
          <h3>
            <PromptHeading entry={entry} />
          </h3>
          <PromptDiffBody entry={entry} report={report} varsGiven={varsGiven} />
        </section>
      ))}
      {rest.length > 0 && (
        <>
          <p class="muted">
            {rest.length} more prompt{rest.length === 1 ? "" : "s"}, collapsed: open one to see it.
          </p>
          {rest.map((entry) => (
            <CollapsedPrompt key={entry.name} entry={entry} report={report} varsGiven={varsGiven} />
          ))}
        </>
      )}
    </>
  );
}

export function DiffPage() {
  const { url } = useLocation();
  const search = url.includes("?") ? url.slice(url.indexOf("?")) : "";
  const query = diffQueryOf(search);
  const state = useStore(live);
  // The working tree moves with edits on disk: follow them when it is a side.
  const followsEdits = query.to === "";
  const loaded = useApi<DiffReport>(
    `/v1/diff${diffSearch(query)}`,
    followsEdits ? state.hash : null,
  );
  return (
    <section aria-labelledby="diff-title" class="diff-page">
      <h1 id="diff-title">Diff</h1>
      <DiffForm key={search} query={query} />
      {loaded.state === "error" && <ErrorNote error={loaded.error} />}
      {loaded.state === "loading" && !loaded.data && <Loading what="the diff" />}
      {loaded.data && loaded.state !== "error" && (
        <Report report={loaded.data} varsGiven={query.vars !== ""} />
      )}
    </section>
  );
}
