import { isPlainObject } from "../core/json.js";
import { refProblem } from "../core/ref-name.js";
import { PromptsError } from "../errors.js";
import { labelHistory, listLabels, resolvePromptRef } from "../git/labels.js";
import { assertGitRepository } from "../git/objects.js";
import { listRefs } from "../git/refs.js";
import { diffPrompts, UnknownRefError } from "../store/prompt-diff.js";
import { promptHistory } from "../store/prompt-history.js";
import { decodeURIComponentSafe, HttpError, sendJson } from "./http.js";
import type { Exchange, RouteContext } from "./routes.js";

/**
 * The read-only routes over the repository's history, for the web page and scripts alike:
 * `/v1/history/NAME`, `/v1/diff`, `/v1/labels`, `/v1/refs`. Each answers what the matching
 * `--json` command prints, from the same store function. None changes a file or a ref.
 */
export async function gitRoute(context: RouteContext, exchange: Exchange): Promise<boolean> {
  const { path } = exchange;
  if (path.startsWith("/v1/history/")) await history(context, exchange);
  else if (path === "/v1/diff") await diff(context, exchange);
  else if (path === "/v1/labels") await labels(context, exchange);
  else if (path === "/v1/refs") await refs(context, exchange);
  else return false;
  return true;
}

/** A ref from the query, checked as a ref name before git sees it; undefined when absent or empty. */
function refParameter(query: URLSearchParams, parameter: string): string | undefined {
  const value = query.get(parameter);
  if (value === null || value === "") return undefined;
  const problem = refProblem(value);
  if (problem !== undefined)
    throw new HttpError(400, "invalid_request", `${parameter}: ${problem}`);
  return value;
}

async function requireRepository(root: string): Promise<void> {
  try {
    await assertGitRepository(root, "this route");
  } catch {
    throw new HttpError(
      409,
      "not_a_repository",
      "the served folder is not a git repository: history, diffs, labels and refs need git (run: git init)",
    );
  }
}

/** What a failure of git or the store means to the client; anything else is rethrown. */
function asHttpError(error: unknown): never {
  if (error instanceof PromptsError) {
    if (error.code === "E_PROMPT_NOT_FOUND")
      throw new HttpError(404, "prompt_not_found", error.message);
    throw new HttpError(400, "invalid_request", error.message);
  }
  throw error;
}

/** `GET /v1/history/NAME[?ref=REF]`: what `prompts log NAME --json` prints. */
async function history({ root, dir }: RouteContext, { path, query, response, allow }: Exchange) {
  allow("GET");
  const name = decodeURIComponentSafe(path.slice("/v1/history/".length));
  const ref = refParameter(query(), "ref");
  await requireRepository(root);
  let start: string | undefined;
  if (ref !== undefined) {
    try {
      start = await resolvePromptRef(root, ref);
    } catch {
      throw new HttpError(404, "ref_not_found", `ref: no ref ${JSON.stringify(ref)}`);
    }
  }
  try {
    // Started at the commit already found: the ref is not looked up again.
    const versions = await promptHistory(name, {
      root,
      ...(dir === undefined ? {} : { dir }),
      ...(start ? { ref: start } : {}),
    });
    sendJson(response, 200, { name, versions });
  } catch (error) {
    asHttpError(error);
  }
}

/** `GET /v1/diff?from=&to=&name=&vars=`: what `prompts diff [FROM [TO]] [NAME…] --json` prints. */
async function diff({ root, dir }: RouteContext, { query, response, allow }: Exchange) {
  allow("GET");
  const from = refParameter(query(), "from");
  const to = refParameter(query(), "to");
  const names = query()
    .getAll("name")
    .filter((name) => name !== "");
  const variables = variablesParameter(query().get("vars"));
  await requireRepository(root);
  // As the CLI reads `FROM [TO] -- NAME…`: refs before the names, never taken for names.
  const refs =
    from === undefined ? (to === undefined ? [] : ["HEAD", to]) : [from, ...(to ? [to] : [])];
  let result;
  try {
    result = await diffPrompts(
      { root, cwd: root, ...(dir === undefined ? {} : { dir }) },
      { args: [...refs, ...names], literal: names.length, ...(variables ? { variables } : {}) },
    );
  } catch (error) {
    if (error instanceof UnknownRefError)
      throw new HttpError(
        404,
        "ref_not_found",
        `${error.side}: no ref ${JSON.stringify(error.ref)}`,
      );
    asHttpError(error);
  }
  const missing = result.unmatched.find((name) => !name.invalid);
  if (missing) throw new HttpError(404, "prompt_not_found", `name: ${missing.message}`);
  sendJson(response, 200, result.report);
}

/** `vars`: URL-encoded JSON of prompt name → variables, as the CLI's `--vars` file. */
function variablesParameter(
  text: string | null,
): Map<string, Readonly<Record<string, unknown>>> | undefined {
  if (text === null || text === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(
      400,
      "invalid_request",
      'vars: must be JSON, e.g. {"greeting":{"name":"Ada"}}',
    );
  }
  if (!isPlainObject(value))
    throw new HttpError(400, "invalid_request", "vars: must map prompt names to their variables");
  const byPrompt = new Map<string, Readonly<Record<string, unknown>>>();
  for (const [name, variables] of Object.entries(value)) {
    if (!isPlainObject(variables))
      throw new HttpError(
        400,
        "invalid_request",
        `vars: "${name}" must map variable names to values`,
      );
    // No prototype: a variable named __proto__ must stay an unknown variable.
    byPrompt.set(name, Object.assign(Object.create(null) as Record<string, unknown>, variables));
  }
  return byPrompt;
}

/** `GET /v1/labels`: each label as `prompts label --json`, with its moves, newest first. */
async function labels({ root }: RouteContext, { response, allow }: Exchange) {
  allow("GET");
  await requireRepository(root);
  const current = await listLabels(root);
  const withHistory = await Promise.all(
    current.map(async (label) => ({ ...label, history: await labelHistory(root, label.label) })),
  );
  sendJson(response, 200, { labels: withHistory });
}

/** `GET /v1/refs`: HEAD, branches, tags and labels. */
async function refs({ root }: RouteContext, { response, allow }: Exchange) {
  allow("GET");
  await requireRepository(root);
  sendJson(response, 200, await listRefs(root));
}
