// The Diff page's form: FROM and TO (any ref, label, sha or `HEAD~1`; TO empty is the working
// tree), an optional prompt, and for one prompt the variables to render both sides with.
// Submitting navigates to the diff's own URL, so every comparison is a link.
import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { queryString, useApi } from "../api.js";
import type { PromptList, RefListing, VariableSpec } from "../types.js";

/** What the diff page's URL asks for. */
export interface DiffQuery {
  from: string;
  to: string;
  names: string[];
  /** `vars` as in the URL: JSON of prompt name → variables. */
  vars: string;
}

export function diffQueryOf(search: string): DiffQuery {
  const query = new URLSearchParams(search);
  return {
    from: query.get("from") ?? "",
    to: query.get("to") ?? "",
    names: query.getAll("name").filter((name) => name !== ""),
    vars: query.get("vars") ?? "",
  };
}

/** The page's URL (and the API's query) for a comparison. */
export function diffSearch(query: DiffQuery): string {
  return queryString({ from: query.from, to: query.to, name: query.names, vars: query.vars });
}

/** True for one prompt's name, not a glob or a list: variables are given per prompt. */
function onePrompt(name: string): boolean {
  return name.trim() !== "" && !/[*?\s]/.test(name.trim());
}

/** The variables of `name` in a `vars` JSON, pretty-printed for the textarea. */
function variablesText(vars: string, name: string): string {
  if (vars === "") return "";
  try {
    const parsed = JSON.parse(vars) as Record<string, unknown>;
    const own = parsed[name];
    return own === undefined ? vars : JSON.stringify(own, null, 2);
  } catch {
    return vars;
  }
}

/** A value of each declared variable to start from: its default, or an empty one of its type. */
function variablesSkeleton(variables: Record<string, VariableSpec>): string {
  const EMPTY = { string: "", number: 0, boolean: false, array: [], object: {} } as const;
  const skeleton = Object.fromEntries(
    Object.entries(variables).map(([name, spec]) => [name, spec.default ?? EMPTY[spec.type]]),
  );
  return JSON.stringify(skeleton, null, 2);
}

function RefOptions({ id, refs }: { id: string; refs: RefListing | undefined }) {
  return (
    <datalist id={id}>
      <option value="HEAD">HEAD{refs?.head.branch ? ` (${refs.head.branch})` : ""}</option>
      {refs?.branches.map((ref) => (
        <option key={`b:${ref.name}`} value={ref.name}>
          branch · {ref.subject}
        </option>
      ))}
      {refs?.tags.map((ref) => (
        <option key={`t:${ref.name}`} value={ref.name}>
          tag · {ref.subject}
        </option>
      ))}
      {refs?.labels.map((ref) => (
        <option key={`l:${ref.name}`} value={ref.name}>
          label · {ref.commit.slice(0, 7)}
        </option>
      ))}
    </datalist>
  );
}

/** The `vars` of the URL for one prompt's variables typed as JSON, or why they are not usable. */
function varsOf(name: string, text: string): { vars: string } | { problem: string } {
  if (!onePrompt(name) || text.trim() === "") return { vars: "" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { problem: `Variables: not JSON (${(error as Error).message})` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    return { problem: 'Variables: must be a JSON object, e.g. {"user_query": "hello"}' };
  return { vars: JSON.stringify({ [name.trim()]: parsed }) };
}

/** A side's field: free text, with the repository's refs offered. */
function RefField(props: {
  label: string;
  name: string;
  value: string;
  placeholder: string;
  onInput: (value: string) => void;
}) {
  return (
    <label>
      {props.label}
      <input
        name={props.name}
        list="diff-refs"
        value={props.value}
        placeholder={props.placeholder}
        autoComplete="off"
        spellcheck={false}
        onInput={(event) => props.onInput(event.currentTarget.value)}
      />
    </label>
  );
}

/** The variables of the one prompt chosen, as JSON, and a button to start from its declaration. */
function VariablesField(props: {
  name: string;
  value: string;
  declared: Record<string, VariableSpec> | undefined;
  onInput: (value: string) => void;
}) {
  return (
    <>
      <label class="vars">
        Variables for {props.name} (JSON, optional: shows the rendered difference)
        <textarea
          name="vars"
          value={props.value}
          rows={4}
          spellcheck={false}
          placeholder='{"user_query": "What changed in v2?"}'
          onInput={(event) => props.onInput(event.currentTarget.value)}
        />
      </label>
      {props.declared && (
        <button
          type="button"
          onClick={() => props.onInput(variablesSkeleton(props.declared ?? {}))}
        >
          Fill in its variables
        </button>
      )}
    </>
  );
}

/**
 * The comparison to show: From, To, prompt names and variables; submitting navigates to its URL.
 * Over 80 lines on purpose: one form, whose fields share their state and one submit.
 */
export function DiffForm({ query }: { query: DiffQuery }) {
  const { route } = useLocation();
  const refs = useApi<RefListing>("/v1/refs");
  // The prompts' names (to pick from) and variables (to fill in): asked for once a prompt is
  // named or its field is focused, not on every visit of the page.
  const [wantPrompts, setWantPrompts] = useState(query.names.length > 0);
  const prompts = useApi<PromptList>(wantPrompts ? "/v1/prompts" : null);
  const [from, setFrom] = useState(query.from);
  const [to, setTo] = useState(query.to);
  const [name, setName] = useState(query.names.join(" "));
  const [variables, setVariables] = useState(
    query.names.length === 1 ? variablesText(query.vars, query.names[0] as string) : "",
  );
  const [problem, setProblem] = useState<string | null>(null);
  const declared = onePrompt(name)
    ? prompts.data?.prompts.find((prompt) => prompt.name === name.trim())?.variables
    : undefined;

  const submit = (event: Event) => {
    event.preventDefault();
    const checked = varsOf(name, variables);
    if ("problem" in checked) {
      setProblem(checked.problem);
      return;
    }
    setProblem(null);
    const names = name.split(/\s+/).filter(Boolean);
    route(`/diff${diffSearch({ from: from.trim(), to: to.trim(), names, vars: checked.vars })}`);
  };

  return (
    <form class="diff-form" onSubmit={submit}>
      <div class="row">
        <RefField label="From" name="from" value={from} placeholder="HEAD" onInput={setFrom} />
        <RefField label="To" name="to" value={to} placeholder="working tree" onInput={setTo} />
        <label>
          Prompt
          <input
            name="name"
            value={name}
            placeholder="all prompts"
            list="diff-prompts"
            autoComplete="off"
            spellcheck={false}
            onFocus={() => setWantPrompts(true)}
            onInput={(event) => setName(event.currentTarget.value)}
          />
        </label>
        <button
          type="button"
          aria-label="Swap sides"
          title={
            to.trim() === "" ? "The working tree can only be To" : "Compare the other way round"
          }
          disabled={to.trim() === ""}
          onClick={() => {
            setFrom(to);
            setTo(from.trim() === "" ? "HEAD" : from);
          }}
        >
          ⇄ Swap
        </button>
        <button type="submit" class="primary">
          Compare
        </button>
      </div>
      <RefOptions id="diff-refs" refs={refs.data} />
      <datalist id="diff-prompts">
        {prompts.data?.prompts.map((prompt) => (
          <option key={prompt.name} value={prompt.name} />
        ))}
      </datalist>
      <p class="hint muted">
        A branch, tag, label, commit or <code>HEAD~1</code>; To left empty is the working tree.
        Prompt takes names, folders and globs (<code>agents/*</code>), separated by spaces.
      </p>
      {onePrompt(name) && (
        <VariablesField
          name={name.trim()}
          value={variables}
          declared={declared}
          onInput={setVariables}
        />
      )}
      {problem && (
        <p class="error" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}
