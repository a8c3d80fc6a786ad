// History: a prompt's versions through commits, as `prompts log` prints them, newest first; each
// row links to its diff with the version before it, the newest also to the working tree.
import { namePath, queryString, useApi } from "../api.js";
import { ErrorNote, Loading } from "../components/status.js";
import { live } from "../live.js";
import { useStore } from "../store.js";
import type { PromptHistory, PromptHistoryEntry } from "../types.js";

/** `/diff?from=…&to=…&name=…`: the diff a row links to. */
function diffHref(name: string, from: string, to: string): string {
  return `/diff${queryString({ from, to, name })}`;
}

function StateTag({ entry }: { entry: PromptHistoryEntry }) {
  if (entry.state === "valid") return null;
  return (
    <span class={`tag ${entry.state === "invalid" ? "error" : ""}`}>
      {entry.state === "invalid" ? "invalid" : "deleted"}
    </span>
  );
}

export function HistoryPage({ name }: { name: string }) {
  const state = useStore(live);
  const loaded = useApi<PromptHistory>(`/v1/history/${namePath(name)}`, state.hash);
  if (!loaded.data)
    return loaded.state === "error" ? (
      <section>
        <h1>History of {name}</h1>
        <ErrorNote error={loaded.error} />
        <p>
          <a href="/prompts">See every prompt</a>.
        </p>
      </section>
    ) : (
      <Loading what={`the history of ${name}`} />
    );
  const versions = loaded.data.versions;
  return (
    <section aria-labelledby="history-title">
      <h1 id="history-title">
        History of <a href={`/prompts/${namePath(name)}`}>{name}</a>
      </h1>
      {loaded.state === "error" && <ErrorNote error={loaded.error} />}
      <p class="count">
        {versions.length} version{versions.length === 1 ? "" : "s"}, newest first.
      </p>
      <div class="table-scroll">
        <table class="history stack">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Commit</th>
              <th scope="col">Date</th>
              <th scope="col">Author</th>
              <th scope="col">Subject</th>
              <th scope="col">Tag</th>
              <th scope="col">Diff</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((entry, index) => (
              <HistoryRow
                key={entry.commit}
                name={name}
                entry={entry}
                previous={versions[index + 1]}
                newest={index === 0}
              />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** One version: its commit, and links to its diff with the version before (and the tree). */
function HistoryRow(props: {
  name: string;
  entry: PromptHistoryEntry;
  previous: PromptHistoryEntry | undefined;
  newest: boolean;
}) {
  const { name, entry, previous } = props;
  return (
    <tr class={entry.state === "valid" ? undefined : entry.state}>
      <th scope="row">
        <code>{entry.version ?? "—"}</code>
        <StateTag entry={entry} />
      </th>
      <td data-label="Commit">
        <code title={entry.commit}>{entry.commit.slice(0, 7)}</code>
      </td>
      <td data-label="Date">
        <time dateTime={entry.date} title={entry.date}>
          {entry.date.slice(0, 10)}
        </time>
      </td>
      <td data-label="Author">{entry.author}</td>
      <td data-label="Subject">{entry.subject}</td>
      <td data-label="Tag">{entry.tag ?? ""}</td>
      <td class="links">
        {previous ? (
          <a
            href={diffHref(name, previous.commit, entry.commit)}
            title={`diff ${previous.commit.slice(0, 7)}..${entry.commit.slice(0, 7)}`}
          >
            vs previous
          </a>
        ) : (
          <span class="muted">first version</span>
        )}
        {props.newest && (
          <a href={`/diff${queryString({ from: entry.commit, name })}`}>vs working tree</a>
        )}
      </td>
    </tr>
  );
}
