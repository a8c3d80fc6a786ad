import { checkPromptName } from "../core/names.js";
import type { ParsedPromptFile } from "../core/parse.js";
import { type PromptSource, validatePrompts } from "../core/validate.js";
import { PromptsError } from "../errors.js";
import { type CommitChanges, commitsTouching, firstTagsContaining } from "../git/log.js";
import { assertGitRepository, readObjects, workTreePrefix } from "../git/objects.js";
import { resolvePromptRef } from "../git/labels.js";
import { findRoot, readConfig } from "./config.js";
import { decodePromptFile } from "./files.js";
import { parsePromptFiles } from "./load.js";
import { ParseCache } from "./parse-cache.js";

/** One version of a prompt in history: from the commit that made it until the next entry. */
export interface PromptHistoryEntry {
  /** The version hash, or null when the prompt was deleted or invalid at that commit. */
  version: string | null;
  state: "valid" | "invalid" | "deleted";
  commit: string;
  date: string;
  author: string;
  subject: string;
  /** The prompt file at that commit, relative to the root. */
  file: string;
  /** The first tag that contains the commit, if any. */
  tag: string | null;
}

/** Options of {@link promptHistory}. */
export interface HistoryOptions {
  cwd?: string;
  root?: string;
  dir?: string;
  /** Where history starts (default HEAD). */
  ref?: string;
}

/** Rounds of reading partials that include partials, at most. */
const MAX_PARTIAL_DEPTH = 8;

/**
 * The distinct versions of one prompt through history, newest first. It follows renames, and
 * counts edits of the partials the prompt includes (they change its version too). All of it
 * costs a handful of git processes: one `git log` and a few `git cat-file --batch`.
 */
export async function promptHistory(
  name: string,
  options: HistoryOptions = {},
): Promise<PromptHistoryEntry[]> {
  // Over 80 lines on purpose: steps in order (renames, partials, parse, states) that share the walk's maps.
  const root = options.root ?? findRoot(options.cwd ?? process.cwd());
  await assertGitRepository(root, "prompts log");
  if (checkPromptName(name) !== undefined) {
    throw new PromptsError("E_PROMPT_NOT_FOUND", `"${name}" is not a prompt name`);
  }
  const dir = options.dir ?? (await readConfig(root)).dir;
  const top = await workTreePrefix(root);
  const base = `${top}${dir.replace(/\/+$/, "")}/`;
  const start = await resolvePromptRef(root, options.ref ?? "HEAD");
  const commits = await commitsTouching(root, start, base);

  const candidates = (prompt: string) => [`${base}${prompt}.yaml`, `${base}${prompt}.yml`];
  const { pathAt, touched } = followRenames(commits, candidates(name));
  if (touched.size === 0) {
    throw new PromptsError(
      "E_PROMPT_NOT_FOUND",
      `prompt "${name}" has no history in ${dir}/ (run: prompts list)`,
    );
  }

  // The partials it includes, at any time, and the commits that touched them.
  const relevant = commits.filter((commit) => touched.has(commit.sha));
  const promptTexts = await readTexts(
    root,
    relevant.flatMap((commit) =>
      (pathAt.get(commit.sha) ?? []).map((path) => `${commit.sha}:${path}`),
    ),
  );
  // Each distinct text is parsed once, through the parse cache, as any load parses files.
  const cache = ParseCache.open(root);
  const parsedTexts = new Map<string, ParsedPromptFile>();
  const parseAll = async (texts: Map<string, string>) => {
    const fresh = [...new Set(texts.values())].filter((text) => !parsedTexts.has(text));
    const files = fresh.map((text) => ({ name, file: "", text }));
    const sources = await parsePromptFiles({ root, cache }, files);
    fresh.forEach((text, index) =>
      parsedTexts.set(text, sources[index]?.parsed as ParsedPromptFile),
    );
  };
  await parseAll(promptTexts);
  const partialNames = new Set<string>();
  let frontier = [...promptTexts.values()];
  let partialTexts = new Map<string, string>();
  for (let depth = 0; depth < MAX_PARTIAL_DEPTH && frontier.length > 0; depth++) {
    const found = new Set<string>();
    for (const text of frontier) {
      for (const ref of parsedTexts.get(text)?.partialRefs ?? []) {
        if (!partialNames.has(ref.name) && checkPromptName(ref.name) === undefined)
          found.add(ref.name);
      }
    }
    for (const partial of found) partialNames.add(partial);
    if (found.size === 0) break;
    const partialPaths = new Set([...partialNames].flatMap(candidates));
    for (const commit of commits) {
      if (commit.changes.some((change) => partialPaths.has(change.path))) touched.add(commit.sha);
    }
    const wanted = commits.filter((commit) => touched.has(commit.sha));
    partialTexts = await readTexts(
      root,
      wanted.flatMap((commit) => [...partialPaths].map((path) => `${commit.sha}:${path}`)),
    );
    await parseAll(partialTexts);
    frontier = [...partialTexts.values()];
  }
  const allPromptTexts =
    touched.size === relevant.length
      ? promptTexts
      : await readTexts(
          root,
          commits
            .filter((commit) => touched.has(commit.sha))
            .flatMap((commit) =>
              (pathAt.get(commit.sha) ?? []).map((path) => `${commit.sha}:${path}`),
            ),
        );
  await parseAll(allPromptTexts);
  cache.save();

  // The state of the prompt at each commit that could have changed it, oldest first.
  const states = commits
    .filter((commit) => touched.has(commit.sha))
    .reverse()
    .map((commit) => {
      const sources: PromptSource[] = [];
      let file: string | undefined;
      for (const path of pathAt.get(commit.sha) ?? []) {
        const text = allPromptTexts.get(`${commit.sha}:${path}`);
        if (text === undefined) continue;
        file = path.slice(top.length);
        sources.push({ name, file, parsed: parsedTexts.get(text) as ParsedPromptFile });
      }
      for (const partial of partialNames) {
        for (const path of candidates(partial)) {
          const text = partialTexts.get(`${commit.sha}:${path}`);
          if (text !== undefined)
            sources.push({
              name: partial,
              file: path.slice(top.length),
              parsed: parsedTexts.get(text) as ParsedPromptFile,
            });
        }
      }
      if (file === undefined)
        return {
          commit,
          state: "deleted" as const,
          version: null,
          file: (pathAt.get(commit.sha)?.[0] ?? "").slice(top.length),
        };
      const prompt = validatePrompts(sources).prompts.get(name);
      return {
        commit,
        state: prompt ? ("valid" as const) : ("invalid" as const),
        version: prompt?.version ?? null,
        file,
      };
    });

  const distinct = states.filter((state, index) => {
    const before = states[index - 1];
    return before === undefined
      ? state.state !== "deleted"
      : before.state !== state.state || before.version !== state.version;
  });
  const tags = await firstTagsContaining(
    root,
    distinct.map((state) => state.commit.sha),
  );
  return distinct.reverse().map(({ commit, state, version, file }) => ({
    version,
    state,
    commit: commit.sha,
    date: commit.date,
    author: commit.author,
    subject: commit.subject,
    file,
    tag: tags.get(commit.sha) ?? null,
  }));
}

/** Reads `<commit>:<path>` specs as text with one git process; absent ones are left out. */
async function readTexts(root: string, specs: readonly string[]): Promise<Map<string, string>> {
  const objects = await readObjects(root, specs);
  const texts = new Map<string, string>();
  for (const [spec, bytes] of objects) {
    if (bytes === undefined) continue;
    // A file that is not text still existed: it shows as invalid, not as deleted.
    const decoded = decodePromptFile(bytes);
    texts.set(spec, "text" in decoded ? decoded.text : "");
  }
  return texts;
}

/**
 * Walks commits from newest to oldest, following a prompt's file back through renames: the
 * paths it may have at each commit, and the commits that touched it.
 */
function followRenames(
  commits: readonly CommitChanges[],
  latest: readonly string[],
): { pathAt: Map<string, string[]>; touched: Set<string> } {
  let paths = new Set(latest);
  const pathAt = new Map<string, string[]>();
  const touched = new Set<string>();
  for (const commit of commits) {
    pathAt.set(commit.sha, [...paths]);
    const next = new Set(paths);
    for (const change of commit.changes) {
      if (paths.has(change.path)) touched.add(commit.sha);
      if (change.status === "renamed" && paths.has(change.path) && change.from) {
        next.delete(change.path);
        next.add(change.from);
      }
    }
    paths = next;
  }
  return { pathAt, touched };
}
