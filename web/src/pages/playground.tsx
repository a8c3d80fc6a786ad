// Playground: fill a prompt's variables, choose a variant or a unit, and see what the model will
// get, rendered by the server without logging usage (`log: false`). The variant or unit is in
// the URL; the values typed are not (they may be private). "Copy as" gives the same call as
// curl, Python and TypeScript.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { api, ApiError, namePath, useApi } from "../api.js";
import {
  curlSnippet,
  pythonSnippet,
  type RenderCall,
  typescriptSnippet,
} from "../components/call-snippets.js";
import { CopyButton } from "../components/copy-button.js";
import { ErrorNote, Loading } from "../components/status.js";
import {
  type FieldValue,
  initialValue,
  parseField,
  VariableField,
} from "../components/variable-field.js";
import { live } from "../live.js";
import { useStore } from "../store.js";
import { storedToken } from "../token.js";
import type { PromptDetail, RenderAnswer, VariableSpec } from "../types.js";

/** The select's value for "chosen by a unit, as the server chooses". */
const BY_UNIT = "\u0000unit";
const RENDER_DELAY_MS = 150;

/** A declared variable, and the partial declaring it when it is not the prompt itself. */
interface Declared {
  name: string;
  spec: VariableSpec;
  from: string | null;
}

/** The prompt's own variables, then those its partials declare and it does not. */
function usePromptVariables(detail: PromptDetail | undefined, refreshKey: unknown): Declared[] {
  const [partials, setPartials] = useState<PromptDetail[]>([]);
  const partialNames = detail?.partials.join("\n") ?? "";
  useEffect(() => {
    if (partialNames === "") {
      setPartials([]);
      return;
    }
    const abort = new AbortController();
    Promise.all(
      partialNames
        .split("\n")
        .map((name) =>
          api<PromptDetail>(`/v1/prompts/${namePath(name)}`, { signal: abort.signal }),
        ),
    ).then(setPartials, () => {
      // A partial that cannot be read leaves its variables out; the render names any missing.
    });
    return () => abort.abort();
  }, [partialNames, refreshKey]);
  return useMemo(() => {
    if (!detail) return [];
    const declared: Declared[] = Object.entries(detail.variables).map(([name, spec]) => ({
      name,
      spec,
      from: null,
    }));
    const seen = new Set(declared.map((one) => one.name));
    for (const partial of partials) {
      for (const [name, spec] of Object.entries(partial.variables)) {
        if (seen.has(name)) continue;
        seen.add(name);
        declared.push({ name, spec, from: partial.name });
      }
    }
    return declared;
  }, [detail, partials]);
}

export function PlaygroundPage({ name }: { name: string }) {
  const state = useStore(live);
  const { query } = useLocation();
  const detail = useApi<PromptDetail>(`/v1/prompts/${namePath(name)}`, state.hash);
  const declared = usePromptVariables(detail.data, state.hash);
  const [values, setValues] = useState<Record<string, FieldValue>>({});
  const unitMode = query.unit !== undefined;
  const unit = query.unit ?? "";
  const variant = unitMode ? undefined : (query.variant ?? "default");

  const fields = declared.map((one) => {
    const raw = values[one.name] ?? initialValue(one.spec);
    return { ...one, raw, parsed: parseField(one.name, one.spec, raw) };
  });
  const variables: Record<string, unknown> = {};
  for (const field of fields)
    if ("value" in field.parsed) variables[field.name] = field.parsed.value;
  const fieldErrors = fields.flatMap((field) => (field.parsed.error ? [field.parsed.error] : []));
  const call: RenderCall = {
    origin: location.origin,
    name,
    variables,
    ...(unitMode ? (unit === "" ? {} : { unit }) : { variant }),
    token: storedToken() !== null,
  };
  const rendered = useRender(
    call,
    detail.data !== undefined && fieldErrors.length === 0,
    state.hash,
  );

  if (!detail.data)
    return detail.state === "error" ? <ErrorNote error={detail.error} /> : <Loading what={name} />;
  const variants = ["default", ...(detail.data.variant_order ?? Object.keys(detail.data.variants))];
  const uniqueVariants = [...new Set(variants)];
  return (
    <section aria-labelledby="playground-title" class="playground">
      <h1 id="playground-title">
        Playground: <a href={`/prompts/${namePath(name)}`}>{name}</a>
      </h1>
      <p class="muted">
        Rendered by the server as your application would get it, without logging usage. What you
        type stays in this tab.
      </p>
      <div class="playground-grid">
        <form class="playground-inputs" onSubmit={(event) => event.preventDefault()}>
          <h2>Inputs</h2>
          <VariantChoice
            variants={uniqueVariants}
            variant={variant}
            unit={unitMode ? unit : null}
          />
          {fields.length === 0 && <p class="muted">This prompt declares no variables.</p>}
          {fields.map((field) => (
            <VariableField
              key={field.name}
              name={field.name}
              spec={field.spec}
              value={field.raw}
              error={field.parsed.error}
              from={field.from}
              onChange={(value) => setValues((previous) => ({ ...previous, [field.name]: value }))}
            />
          ))}
        </form>
        <div class="playground-output">
          <h2>What the model gets</h2>
          {fieldErrors.length > 0 ? (
            <p class="error" role="alert">
              Fix {fieldErrors.length === 1 ? "the field" : "the fields"} marked above to render.
            </p>
          ) : (
            <RenderedOutput rendered={rendered} />
          )}
          <CopyAs call={call} />
        </div>
      </div>
    </section>
  );
}

/**
 * The variant: one forced (`?variant=`), or chosen by a unit as the server chooses
 * (`?unit=`, sticky: the same unit always gets the same arm). Kept in the URL.
 */
function VariantChoice({
  variants,
  variant,
  unit,
}: {
  variants: string[];
  variant: string | undefined;
  /** Null unless the variant is chosen by a unit. */
  unit: string | null;
}) {
  const { path, route } = useLocation();
  const byUnit = (text: string) => route(`${path}?unit=${encodeURIComponent(text)}`, true);
  return (
    <div class="variant-choice">
      <label>
        Variant
        <select
          value={unit !== null ? BY_UNIT : variant}
          onChange={(event) => {
            const value = event.currentTarget.value;
            if (value === BY_UNIT) byUnit(unit ?? "");
            else route(`${path}?variant=${encodeURIComponent(value)}`, true);
          }}
        >
          {variants.map((one) => (
            <option key={one} value={one}>
              {one}
            </option>
          ))}
          {variants.length > 1 && <option value={BY_UNIT}>chosen by unit…</option>}
        </select>
      </label>
      {unit !== null && (
        <label>
          Unit (a user or session id: the same unit always gets the same variant)
          <input
            value={unit}
            autoComplete="off"
            onInput={(event) => byUnit(event.currentTarget.value)}
          />
        </label>
      )}
    </div>
  );
}

type Rendered =
  | { state: "waiting" }
  | { state: "ok"; answer: RenderAnswer }
  | { state: "error"; error: Error; answer?: RenderAnswer };

/** Renders as the inputs change: debounced, and each new request aborts the one before. */
function useRender(call: RenderCall, ready: boolean, refreshKey: unknown): Rendered {
  const [rendered, setRendered] = useState<Rendered>({ state: "waiting" });
  const body = JSON.stringify({
    variables: call.variables,
    ...(call.variant === undefined ? {} : { variant: call.variant }),
    ...(call.unit === undefined ? {} : { unit: call.unit }),
    log: false,
  });
  useEffect(() => {
    if (!ready) return;
    const abort = new AbortController();
    const timer = setTimeout(() => {
      api<RenderAnswer>(`/v1/prompts/${namePath(call.name)}/render`, {
        method: "POST",
        body: JSON.parse(body) as unknown,
        signal: abort.signal,
      }).then(
        (answer) => setRendered({ state: "ok", answer }),
        (error: unknown) => {
          if (abort.signal.aborted) return;
          setRendered((previous) => ({
            state: "error",
            error: error instanceof Error ? error : new Error(String(error)),
            ...(previous.state === "waiting" || !previous.answer
              ? {}
              : { answer: previous.answer }),
          }));
        },
      );
    }, RENDER_DELAY_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [call.name, body, ready, refreshKey]);
  return rendered;
}

function RenderedOutput({ rendered }: { rendered: Rendered }) {
  if (rendered.state === "waiting") return <Loading what="the rendered prompt" />;
  if (rendered.state === "error") {
    const error = rendered.error;
    return (
      <p class="error render-error" role="alert">
        {error instanceof ApiError && error.code === "invalid_variables"
          ? error.message
          : error instanceof ApiError
            ? `${error.message} (${error.status} ${error.code})`
            : error.message}
      </p>
    );
  }
  const { answer } = rendered;
  return (
    <div class="rendered" aria-live="polite">
      <dl class="render-facts">
        <dt>Version</dt>
        <dd class="mono">{answer.version}</dd>
        <dt>Variant</dt>
        <dd class="mono">{answer.variant}</dd>
        <dt>Model</dt>
        <dd class="mono">{JSON.stringify(answer.model)}</dd>
      </dl>
      {answer.messages ? (
        <ol class="messages">
          {answer.messages.map((message, index) => (
            <li key={index} class={`message role-${message.role}`}>
              <span class="role">{message.role}</span>
              <pre>{message.content}</pre>
            </li>
          ))}
        </ol>
      ) : (
        <pre class="rendered-text">{answer.text}</pre>
      )}
    </div>
  );
}

const SNIPPETS = {
  curl: { label: "curl", make: curlSnippet },
  python: { label: "Python", make: pythonSnippet },
  typescript: { label: "TypeScript", make: typescriptSnippet },
} as const;

function CopyAs({ call }: { call: RenderCall }) {
  const [chosen, setChosen] = useState<keyof typeof SNIPPETS>("curl");
  const shown = useRef<HTMLPreElement>(null);
  const text = SNIPPETS[chosen].make(call);
  return (
    <section class="copy-as" aria-labelledby="copy-as-title">
      <h2 id="copy-as-title">Copy as</h2>
      <div class="segmented" role="group" aria-label="Language">
        {Object.entries(SNIPPETS).map(([key, snippet]) => (
          <button
            key={key}
            type="button"
            aria-pressed={chosen === key}
            onClick={() => setChosen(key as keyof typeof SNIPPETS)}
          >
            {snippet.label}
          </button>
        ))}
      </div>
      <div class="snippet">
        <pre ref={shown} class="code" data-language={chosen}>
          <code>{text}</code>
        </pre>
        <CopyButton text={text} shown={shown} label={`Copy as ${SNIPPETS[chosen].label}`} />
      </div>
      <p class="muted">An application's call: unlike this page, it logs a usage event.</p>
    </section>
  );
}
