// A prompt: its header (version, kind, file, links to its history, playground, experiments and
// diff), its body with the Mustache tags highlighted, its variables, variants, model settings and
// partials. While an edit left its file invalid, the errors are shown above the version served.
import { ApiError, namePath, queryString, useApi } from "../api.js";
import { ErrorNote, Loading } from "../components/status.js";
import { FileProblems } from "../components/file-problems.js";
import { PromptBody } from "../components/template-body.js";
import { live } from "../live.js";
import { useStore } from "../store.js";
import type { Issue, PromptDetail, VariableSpec } from "../types.js";

/** A JSON value in a table cell: strings as they are, anything else as compact JSON. */
function shown(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The errors of the live invalid state that are about this prompt's file. */
function errorsOf(invalid: { errors: Issue[] } | null, file: (path: string) => boolean): Issue[] {
  return (invalid?.errors ?? []).filter((issue) => issue.severity === "error" && file(issue.file));
}

function FileErrors({ errors }: { errors: Issue[] }) {
  return (
    <FileProblems
      alert
      heading={`This prompt's file is invalid (${errors.length} error${errors.length === 1 ? "" : "s"}); the last good version is served and shown below.`}
      issues={errors}
    />
  );
}

export function PromptPage({ name }: { name: string }) {
  const state = useStore(live);
  const loaded = useApi<PromptDetail>(`/v1/prompts/${namePath(name)}`, state.hash);
  if (!loaded.data) {
    if (loaded.state !== "error") return <Loading what={name} />;
    if (loaded.error instanceof ApiError && loaded.error.status === 404) {
      // A prompt never served because its file is invalid: its errors say why.
      const errors = errorsOf(
        state.invalid,
        (file) => /\.ya?ml$/.test(file) && file.replace(/\.ya?ml$/, "").endsWith(`/${name}`),
      );
      return (
        <section>
          <h1>No prompt named {name}</h1>
          <FileErrors errors={errors} />
          <p>
            <a href="/prompts">See every prompt</a>.
          </p>
        </section>
      );
    }
    return <ErrorNote error={loaded.error} />;
  }
  const prompt = loaded.data;
  const errors = errorsOf(state.invalid, (file) => file === prompt.file);
  return (
    <section aria-labelledby="prompt-title" class="prompt-page">
      {loaded.state === "error" && <ErrorNote error={loaded.error} />}
      <FileErrors errors={errors} />
      <PromptHeader prompt={prompt} />
      <h2>Body</h2>
      <PromptBody
        template={prompt.template}
        messages={prompt.messages}
        delimiters={prompt.delimiters}
        raw={prompt.raw}
      />
      <VariablesTable variables={prompt.variables} />
      <Variants prompt={prompt} />
      <ModelTable model={prompt.model} />
      {prompt.partials.length > 0 && (
        <>
          <h2>Partials it includes</h2>
          <ul class="partials">
            {prompt.partials.map((partial) => (
              <li key={partial}>
                <a href={`/prompts/${namePath(partial)}`}>{partial}</a>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function PromptHeader({ prompt }: { prompt: PromptDetail }) {
  const path = namePath(prompt.name);
  return (
    <header class="prompt-head">
      <h1 id="prompt-title">{prompt.name}</h1>
      <dl class="facts">
        <div>
          <dt>Version</dt>
          <dd>
            <code>{prompt.version}</code>
          </dd>
        </div>
        <div>
          <dt>Kind</dt>
          <dd>{prompt.kind}</dd>
        </div>
        <div>
          <dt>File</dt>
          <dd>
            <code>{prompt.file}</code>
          </dd>
        </div>
        {prompt.raw && (
          <div>
            <dt>Body</dt>
            <dd>raw text, no Mustache</dd>
          </div>
        )}
        {prompt.delimiters && (
          <div>
            <dt>Delimiters</dt>
            <dd>
              <code>{prompt.delimiters.join(" ")}</code>
            </dd>
          </div>
        )}
      </dl>
      {prompt.description && <p class="description">{prompt.description}</p>}
      <nav class="prompt-links" aria-label={`About ${prompt.name}`}>
        <a href={`/history/${path}`}>History</a>
        <a href={`/playground/${path}`}>Playground</a>
        <a href={`/experiments/${path}`}>Experiments</a>
        <a href={`/diff${queryString({ name: prompt.name })}`}>Diff</a>
      </nav>
    </header>
  );
}

function VariablesTable({ variables }: { variables: Record<string, VariableSpec> }) {
  const entries = Object.entries(variables);
  return (
    <>
      <h2>Variables</h2>
      {entries.length === 0 ? (
        <p class="muted">None declared.</p>
      ) : (
        <div class="table-scroll">
          <table class="variables stack">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Required</th>
                <th scope="col">Default</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {entries.map(([variable, spec]) => (
                <tr key={variable}>
                  <th scope="row">
                    <code class="var-name">{variable}</code>
                  </th>
                  <td data-label="Type">{spec.type}</td>
                  <td data-label="Required">
                    {spec.required && spec.default === undefined ? "yes" : "no"}
                  </td>
                  <td data-label="Default">
                    {spec.default === undefined ? "" : <code>{shown(spec.default)}</code>}
                  </td>
                  <td data-label="Description">{spec.description ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function Variants({ prompt }: { prompt: PromptDetail }) {
  const names = prompt.variant_order ?? Object.keys(prompt.variants);
  if (names.length === 0) return null;
  const others = names.reduce((sum, variant) => sum + (prompt.variants[variant]?.weight ?? 0), 0);
  return (
    <>
      <h2>Variants</h2>
      <ul class="variants">
        <li>
          <h3>
            default <span class="weight">{100 - others}%</span>
          </h3>
          <p class="muted">The prompt's own body and model, above.</p>
        </li>
        {names.map((variant) => {
          const spec = prompt.variants[variant];
          if (!spec) return null;
          const own = spec.template !== undefined || spec.messages !== undefined;
          return (
            <li key={variant}>
              <h3>
                {variant} <span class="weight">{spec.weight}%</span>
              </h3>
              {spec.description && <p>{spec.description}</p>}
              {spec.model && Object.keys(spec.model).length > 0 && (
                <p>
                  Model override: <code>{JSON.stringify(spec.model)}</code>
                </p>
              )}
              {own ? (
                <PromptBody
                  template={spec.template}
                  messages={spec.messages}
                  delimiters={prompt.delimiters}
                  raw={prompt.raw}
                />
              ) : (
                <p class="muted">Same body as default.</p>
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}

function ModelTable({ model }: { model: Record<string, unknown> }) {
  const entries = Object.entries(model);
  return (
    <>
      <h2>Model</h2>
      {entries.length === 0 ? (
        <p class="muted">No model settings.</p>
      ) : (
        <div class="table-scroll">
          <table class="model">
            <tbody>
              {entries.map(([key, value]) => (
                <tr key={key}>
                  <th scope="row">{key}</th>
                  <td>
                    <code>{shown(value)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
