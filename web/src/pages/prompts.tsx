// Prompts: every prompt served, searchable and filtered; the filters are in the URL. Fluid at
// 10,000 prompts: filtering is a pass over precomputed lowercase text, and only the first rows
// of the result are drawn until more are asked for.
import { useMemo, useState } from "preact/hooks";
import { namePath, useApi } from "../api.js";
import { live } from "../live.js";
import { useStore } from "../store.js";
import type { Issue, PromptList, PromptSummary } from "../types.js";
import { ErrorNote, Loading } from "../components/status.js";
import { issueLine } from "../components/file-problems.js";

const PAGE_ROWS = 200;

interface Filters {
  q: string;
  folder: string;
  kind: "" | "text" | "chat";
  variants: boolean;
  invalid: boolean;
}

/** One row: a served prompt, or a file that is invalid and has never been served. */
interface Row {
  name: string;
  prompt: PromptSummary | null;
  file: string;
  folder: string;
  errors: Issue[];
  /** Name, description and variable names, lowercased: what search looks in. */
  text: string;
}

function filtersFromUrl(): Filters {
  const query = new URLSearchParams(location.search);
  const kind = query.get("kind");
  return {
    q: query.get("q") ?? "",
    folder: query.get("folder") ?? "",
    kind: kind === "text" || kind === "chat" ? kind : "",
    variants: query.get("variants") === "1",
    invalid: query.get("invalid") === "1",
  };
}

/** Keeps the filters in the address bar (shareable) without a navigation per keystroke. */
function writeFiltersToUrl(filters: Filters): void {
  const query = new URLSearchParams();
  if (filters.q) query.set("q", filters.q);
  if (filters.folder) query.set("folder", filters.folder);
  if (filters.kind) query.set("kind", filters.kind);
  if (filters.variants) query.set("variants", "1");
  if (filters.invalid) query.set("invalid", "1");
  const search = query.toString();
  history.replaceState(history.state, "", `${location.pathname}${search ? `?${search}` : ""}`);
}

function folderOf(name: string): string {
  const slash = name.lastIndexOf("/");
  return slash === -1 ? "" : name.slice(0, slash);
}

function rowsOf(list: PromptList): Row[] {
  const errorsByFile = new Map<string, Issue[]>();
  for (const issue of list.issues) {
    if (issue.severity !== "error") continue;
    const errors = errorsByFile.get(issue.file) ?? [];
    errors.push(issue);
    errorsByFile.set(issue.file, errors);
  }
  const rows: Row[] = list.prompts.map((prompt) => {
    const errors = errorsByFile.get(prompt.file) ?? [];
    errorsByFile.delete(prompt.file);
    return {
      name: prompt.name,
      prompt,
      file: prompt.file,
      folder: folderOf(prompt.name),
      errors,
      text: `${prompt.name}\n${prompt.description ?? ""}\n${Object.keys(prompt.variables).join(" ")}`.toLowerCase(),
    };
  });
  // Files that are invalid and were never served still belong in the list.
  for (const [file, errors] of errorsByFile) {
    rows.push({
      name: file,
      prompt: null,
      file,
      folder: folderOf(file),
      errors,
      text: file.toLowerCase(),
    });
  }
  return rows;
}

function matches(row: Row, filters: Filters, words: string[]): boolean {
  if (
    filters.folder &&
    row.folder !== filters.folder &&
    !row.folder.startsWith(`${filters.folder}/`)
  )
    return false;
  if (filters.kind && row.prompt?.kind !== filters.kind) return false;
  if (filters.variants && (!row.prompt || Object.keys(row.prompt.variants).length < 2))
    return false;
  if (filters.invalid && row.errors.length === 0) return false;
  return words.every((word) => row.text.includes(word));
}

export function PromptsPage() {
  const state = useStore(live);
  const list = useApi<PromptList>("/v1/prompts", `${state.hash}|${state.invalid?.message ?? ""}`);
  const [filters, setFilters] = useState(filtersFromUrl);
  const [shown, setShown] = useState(PAGE_ROWS);
  const rows = useMemo(() => (list.data ? rowsOf(list.data) : []), [list.data]);
  const folders = useMemo(
    () => [...new Set(rows.map((row) => row.folder).filter((folder) => folder !== ""))].sort(),
    [rows],
  );
  const found = useMemo(() => {
    const words = filters.q.toLowerCase().split(/\s+/).filter(Boolean);
    return rows.filter((row) => matches(row, filters, words));
  }, [rows, filters]);

  const update = (change: Partial<Filters>) => {
    const next = { ...filters, ...change };
    setFilters(next);
    setShown(PAGE_ROWS);
    writeFiltersToUrl(next);
  };

  if (!list.data)
    return list.state === "error" ? <ErrorNote error={list.error} /> : <Loading what="prompts" />;
  return (
    <section aria-labelledby="prompts-title">
      <h1 id="prompts-title">Prompts</h1>
      {list.state === "error" && <ErrorNote error={list.error} />}
      <FilterForm filters={filters} folders={folders} update={update} />
      <p class="count" role="status">
        {found.length === rows.length
          ? `${rows.length} prompts`
          : `${found.length} of ${rows.length} prompts`}
      </p>
      <div class="table-scroll">
        <table class="prompts stack">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col">Version</th>
              <th scope="col">Variables</th>
              <th scope="col">Variants</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {found.slice(0, shown).map((row) => (
              <PromptRow key={row.name} row={row} />
            ))}
          </tbody>
        </table>
      </div>
      {found.length > shown && (
        <button type="button" class="more" onClick={() => setShown(shown + PAGE_ROWS)}>
          Show {Math.min(PAGE_ROWS, found.length - shown)} more of {found.length - shown}
        </button>
      )}
    </section>
  );
}

/** Search and the filters; each change is applied at once (and kept in the URL by `update`). */
function FilterForm({
  filters,
  folders,
  update,
}: {
  filters: Filters;
  folders: string[];
  update: (change: Partial<Filters>) => void;
}) {
  return (
    <form class="filters" role="search" onSubmit={(event) => event.preventDefault()}>
      <label>
        Search
        <input
          type="search"
          value={filters.q}
          placeholder="name, description, variable"
          onInput={(event) => update({ q: event.currentTarget.value })}
        />
      </label>
      <label>
        Folder
        <select
          value={filters.folder}
          onChange={(event) => update({ folder: event.currentTarget.value })}
        >
          <option value="">all</option>
          {folders.map((folder) => (
            <option key={folder} value={folder}>
              {folder}
            </option>
          ))}
        </select>
      </label>
      <label>
        Kind
        <select
          value={filters.kind}
          onChange={(event) => update({ kind: event.currentTarget.value as Filters["kind"] })}
        >
          <option value="">all</option>
          <option value="text">text</option>
          <option value="chat">chat</option>
        </select>
      </label>
      <label class="check">
        <input
          type="checkbox"
          checked={filters.variants}
          onChange={(event) => update({ variants: event.currentTarget.checked })}
        />
        has variants
      </label>
      <label class="check">
        <input
          type="checkbox"
          checked={filters.invalid}
          onChange={(event) => update({ invalid: event.currentTarget.checked })}
        />
        invalid
      </label>
    </form>
  );
}

function PromptRow({ row }: { row: Row }) {
  const { prompt, errors } = row;
  const variants = prompt ? Object.entries(prompt.variants) : [];
  return (
    <tr class={errors.length > 0 ? "invalid" : undefined}>
      <th scope="row">
        {prompt ? (
          <a href={`/prompts/${namePath(row.name)}`}>{row.name}</a>
        ) : (
          <span>{row.file}</span>
        )}
        {errors.length > 0 && (
          <span class="tag error" title={errors.map(issueLine).join("\n")}>
            invalid
          </span>
        )}
      </th>
      <td data-label="Kind">{prompt?.kind ?? ""}</td>
      <td data-label="Version">
        <code>{prompt?.version ?? ""}</code>
      </td>
      <td data-label="Variables">{prompt ? Object.keys(prompt.variables).join(", ") : ""}</td>
      <td data-label="Variants">
        {variants.length > 1
          ? variants.map(([name, weight]) => `${name} ${weight}%`).join(", ")
          : ""}
      </td>
      <td>
        {prompt?.description ??
          (errors[0] ? `${errors[0].line}:${errors[0].col}: ${errors[0].message}` : "")}
      </td>
    </tr>
  );
}
