import { type ParsedPromptFile, parsePromptSource } from "../parse.js";
import { validatePrompts, type PromptSource } from "../validate.js";
import { convertCandidate, type ImportCandidate, type ImportRow, sanitizeName } from "./convert.js";

/** One version of one prompt to commit, oldest first (Langfuse history). */
export interface PlannedCommit {
  name: string;
  text: string;
  version: number;
  /** ISO 8601, or undefined to commit now. */
  date?: string;
  message: string;
  author?: string;
  labels: string[];
}

/** What an import would write: files by prompt name, the commits of a history, the report. */
export interface ImportPlan {
  /** Final text of every prompt to write, by name. */
  files: Map<string, string>;
  /** Versions to commit in order; empty unless the source keeps history. */
  commits: PlannedCommit[];
  rows: ImportRow[];
}

/** Options of {@link planImport}. */
export interface PlanOptions {
  /** Prompts already in the target directory: name → file text. */
  existing: ReadonlyMap<string, string>;
  /** Replace existing prompts of the same name. */
  force: boolean;
}

/**
 * Plans an import: names (sanitised, collisions renamed), conversions (exact or refused), and a
 * final check that every prompt to write passes validation together with those already there
 * (a prompt that does not is refused, never written).
 */
export function planImport(
  candidates: readonly ImportCandidate[],
  options: PlanOptions,
): ImportPlan {
  const rows: ImportRow[] = [];
  const files = new Map<string, string>();
  const commits: PlannedCommit[] = [];
  const names = assignNames(candidates, options);
  const latest = new Map<string, { version: number; row: ImportRow }>();
  const parsed = new Map<string, ParsedPromptFile>();
  for (const [index, candidate] of candidates.entries()) {
    const name = names[index] as string | { refused: string };
    if (typeof name !== "string") {
      rows.push({
        source: candidate.source,
        name: sanitizeName(candidate.name),
        status: "refused",
        changes: [],
        reason: name.refused,
      });
      continue;
    }
    const converted = convertCandidate(candidate, name);
    rows.push(converted.row);
    if (!converted.ok) continue;
    const history = candidate.history;
    if (!history) {
      files.set(name, converted.text);
      parsed.set(name, converted.parsed);
      continue;
    }
    commits.push({
      name,
      text: converted.text,
      version: history.version,
      message: history.message,
      labels: history.labels,
      ...(history.date ? { date: history.date } : {}),
      ...(history.author ? { author: history.author } : {}),
    });
    const newest = latest.get(name);
    if (!newest || newest.version < history.version) {
      latest.set(name, { version: history.version, row: converted.row });
      files.set(name, converted.text);
      parsed.set(name, converted.parsed);
    }
  }
  commits.sort(
    (a, b) => dateOrder(a.date, b.date) || (a.name === b.name ? a.version - b.version : 0),
  );
  refuseInvalid(files, parsed, rows, commits, options.existing);
  return { files, commits, rows };
}

function dateOrder(a: string | undefined, b: string | undefined): number {
  const left = a ? Date.parse(a) : Number.POSITIVE_INFINITY;
  const right = b ? Date.parse(b) : Number.POSITIVE_INFINITY;
  if (left === right || (Number.isNaN(left) && Number.isNaN(right))) return 0;
  return left < right ? -1 : 1;
}

/**
 * A valid, distinct name for each candidate: versions of one source prompt share a name; two
 * source prompts that sanitise to one name (or differ only in case, which some file systems
 * do not tell apart) are told apart with `-2`, `-3`; an existing prompt is kept unless --force.
 */
function assignNames(
  candidates: readonly ImportCandidate[],
  { existing, force }: PlanOptions,
): (string | { refused: string })[] {
  const bySource = new Map<string, string>();
  const taken = new Set<string>();
  return candidates.map((candidate) => {
    const known = bySource.get(candidate.name);
    if (known !== undefined) return known;
    const base = sanitizeName(candidate.name);
    let name = base;
    for (let suffix = 2; taken.has(name.toLowerCase()); suffix++) name = `${base}-${suffix}`;
    if (name !== base) {
      (candidate.changes ??= []).push(`"${base}" is taken by another prompt of this import`);
    }
    taken.add(name.toLowerCase());
    bySource.set(candidate.name, name);
    if (existing.has(name) && !force) {
      return { refused: `prompt "${name}" exists already; run again with --force to replace it` };
    }
    return name;
  });
}

/** Refuses, until none is left, every prompt to write that fails validation with the others. */
function refuseInvalid(
  files: Map<string, string>,
  parsed: ReadonlyMap<string, ParsedPromptFile>,
  rows: ImportRow[],
  commits: PlannedCommit[],
  existing: ReadonlyMap<string, string>,
): void {
  for (;;) {
    const sources: PromptSource[] = [];
    for (const [name, text] of existing) {
      if (!files.has(name)) sources.push(promptSource(name, parsePromptSource(text)));
    }
    for (const [name, text] of files) {
      sources.push(promptSource(name, parsed.get(name) ?? parsePromptSource(text)));
    }
    const { issues } = validatePrompts(sources);
    const failing = new Map<string, string>();
    for (const issue of issues) {
      const name = issue.file.replace(/\.yaml$/, "");
      if (issue.severity === "error" && files.has(name) && !failing.has(name)) {
        failing.set(name, issue.message);
      }
    }
    if (failing.size === 0) return;
    for (const [name, message] of failing) {
      files.delete(name);
      for (let index = commits.length - 1; index >= 0; index--) {
        if (commits[index]?.name === name) commits.splice(index, 1);
      }
      for (const row of rows) {
        if (row.name === name && row.status !== "refused") {
          row.status = "refused";
          row.reason = `it would not pass prompts validate: ${message}`;
        }
      }
    }
  }
}

function promptSource(name: string, parsed: ParsedPromptFile): PromptSource {
  return { name, file: `${name}.yaml`, parsed };
}

/** A source label as gitprompts will hold it: the commit it deploys. */
export interface PlannedLabel {
  label: string;
  /** Index into the plan's commits. */
  target: number;
  /**
   * Prompts the label names at another version than the one current at `target` (name → text):
   * the label then deploys a commit on top of `target` that holds them at those versions.
   */
  overrides: Map<string, string>;
  /** What it pointed at in the source: `a@3, b@5`. */
  ref: string;
}

/**
 * The labels of a history. A gitprompts label deploys one commit; a source label names one
 * version per prompt. The label points at the commit of the newest version it names when
 * every other prompt it names is at its labelled version there; otherwise at a deployment
 * commit on top of that one that puts them at their labelled versions. Either way, reading the
 * label serves exactly what the source served under it.
 */
export function planLabels(commits: readonly PlannedCommit[]): PlannedLabel[] {
  const byLabel = new Map<string, number[]>();
  commits.forEach((commit, index) => {
    for (const label of commit.labels) {
      const list = byLabel.get(label) ?? [];
      // A label names one version per prompt: a later one of the same prompt replaces it.
      const same = list.findIndex((at) => commits[at]?.name === commit.name);
      if (same !== -1) list.splice(same, 1);
      list.push(index);
      byLabel.set(label, list);
    }
  });
  return [...byLabel]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([label, indexes]) => {
      const target = Math.max(...indexes);
      const current = new Map<string, number>();
      for (let index = 0; index <= target; index++) {
        const commit = commits[index];
        if (commit) current.set(commit.name, index);
      }
      const overrides = new Map<string, string>();
      for (const index of indexes) {
        const commit = commits[index];
        if (commit && current.get(commit.name) !== index) overrides.set(commit.name, commit.text);
      }
      const ref = indexes
        .map((index) => `${commits[index]?.name}@${commits[index]?.version}`)
        .join(", ");
      return { label, target, overrides, ref };
    });
}
