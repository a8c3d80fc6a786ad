import { ownValue } from "./json.js";
import { checkPromptName } from "./names.js";
import type { ParsedPromptFile } from "./parse.js";
import { didYouMean } from "./suggest.js";
import type { Issue, Prompt, PromptSpec } from "./types.js";
import { mergeVariables } from "./variables.js";
import { promptVersion } from "./version.js";

/** One prompt file, parsed on its own, ready to be checked against the others. */
export interface PromptSource {
  /** The prompt name; one that ends in `/` is a folder that was not entered (its issue says why). */
  name: string;
  /** Path relative to the repository root, `/`-separated. */
  file: string;
  parsed: ParsedPromptFile;
}

/** The valid prompts, by name in sorted order, and every issue found, sorted by place. */
export interface ValidationResult {
  prompts: Map<string, Prompt>;
  issues: Issue[];
}

interface Candidate {
  source: PromptSource;
  spec: PromptSpec;
  /** Set once a cross-file error makes the prompt unusable. */
  broken: boolean;
}

/**
 * Checks prompts against each other: names, partials (missing, cyclic, of the wrong kind),
 * variables used but not declared, declared but unused; then computes versions.
 * `knownNames` lists every prompt name that exists (valid or not), to tell a missing partial
 * from an invalid one; it defaults to the names of `sources`.
 */
export function validatePrompts(
  sources: readonly PromptSource[],
  knownNames: ReadonlySet<string> = new Set(sources.map((source) => source.name)),
): ValidationResult {
  // Over 80 lines on purpose: passes over all files in order, sharing the candidates and their issues.
  const issues: Issue[] = [];
  const place = (source: PromptSource, at: { line: number; col: number; path: string }) => ({
    file: source.file,
    line: at.line,
    col: at.col,
    path: at.path,
  });
  const fileIssue = (
    source: PromptSource,
    at: { line: number; col: number; path: string },
    code: string,
    message: string,
    severity: Issue["severity"] = "error",
  ) => issues.push({ ...place(source, at), code, message, severity });

  const byName = new Map<string, PromptSource[]>();
  for (const source of sources) {
    for (const issue of source.parsed.issues) issues.push({ file: source.file, ...issue });
    // A folder that was not entered has its issue, and is no prompt to check names against.
    if (source.name.endsWith("/")) continue;
    const list = byName.get(source.name);
    if (list) list.push(source);
    else byName.set(source.name, [source]);
  }

  const candidates = new Map<string, Candidate>();
  for (const [name, list] of byName) {
    const first = list[0];
    if (!first) continue;
    if (list.length > 1) {
      const files = list.map((source) => source.file).join(" and ");
      for (const source of list) {
        fileIssue(
          source,
          { line: 1, col: 1, path: "" },
          "duplicate-name",
          `two files map to the prompt "${name}": ${files}; keep one`,
        );
      }
      continue;
    }
    const nameProblem = checkPromptName(name);
    if (nameProblem) {
      fileIssue(
        first,
        { line: 1, col: 1, path: "" },
        "bad-name",
        `${nameProblem}; rename the file`,
      );
      continue;
    }
    if (first.parsed.spec) {
      candidates.set(name, { source: first, spec: first.parsed.spec, broken: !first.parsed.valid });
    }
  }

  checkPartialTargets(candidates, knownNames, fileIssue);
  const closures = computeClosures(candidates, fileIssue);
  markBrokenIncluders(candidates, fileIssue);

  // Every candidate, even one already broken, so that all of a file's problems show at once.
  for (const [name, candidate] of candidates) {
    const partials = [...(closures.get(name) ?? [])];
    const errors = checkVariables(
      candidate,
      partials.map((partial) => candidates.get(partial) as Candidate),
      fileIssue,
    );
    if (errors > 0) candidate.broken = true;
  }
  markBrokenIncluders(candidates, fileIssue);

  const prompts = new Map<string, Prompt>();
  for (const name of [...candidates.keys()].sort()) {
    const candidate = candidates.get(name);
    if (!candidate || candidate.broken) continue;
    const partials = [...(closures.get(name) ?? [])].sort();
    const partialSpecs: Record<string, PromptSpec> = {};
    for (const partial of partials)
      partialSpecs[partial] = (candidates.get(partial) as Candidate).spec;
    const { ownVersion } = candidate.source.parsed;
    const prompt: Prompt = {
      name,
      file: candidate.source.file,
      version:
        partials.length === 0 && ownVersion !== undefined
          ? ownVersion
          : promptVersion(candidate.spec, partialSpecs),
      partials,
      ...candidate.spec,
    };
    prompts.set(name, prompt);
  }
  issues.sort(compareIssues);
  return { prompts, issues };
}

type ReportIssue = (
  source: PromptSource,
  at: { line: number; col: number; path: string },
  code: string,
  message: string,
  severity?: Issue["severity"],
) => void;

function checkPartialTargets(
  candidates: Map<string, Candidate>,
  knownNames: ReadonlySet<string>,
  report: ReportIssue,
): void {
  for (const candidate of candidates.values()) {
    for (const ref of candidate.source.parsed.partialRefs) {
      const target = candidates.get(ref.name);
      if (!target) {
        const message = knownNames.has(ref.name)
          ? `includes "${ref.name}", which is not valid (see its errors)`
          : `partial "${ref.name}" not found: no prompt has that name${didYouMean(ref.name, knownNames)}`;
        report(
          candidate.source,
          ref,
          knownNames.has(ref.name) ? "broken-partial" : "missing-partial",
          message,
        );
        candidate.broken = true;
        continue;
      }
      const problem = partialMismatch(candidate.spec, target.spec, ref.name);
      if (problem) {
        report(candidate.source, ref, "bad-partial", problem);
        candidate.broken = true;
      }
    }
  }
}

function partialMismatch(
  includer: PromptSpec,
  partial: PromptSpec,
  name: string,
): string | undefined {
  if (partial.template === undefined) {
    return `partial "${name}" is a chat prompt; only a text prompt (\`template\`) can be included`;
  }
  if (partial.raw) return `partial "${name}" is raw text; a partial must be a Mustache template`;
  const tags = (spec: PromptSpec) => (spec.delimiters ?? ["{{", "}}"]).join(" ");
  if (tags(includer) !== tags(partial)) {
    return `partial "${name}" uses delimiters ${tags(partial)} but this prompt uses ${tags(includer)}; they must match`;
  }
  return undefined;
}

/** Every prompt's transitive partials; a cycle is an error on the reference that closes it. */
function computeClosures(
  candidates: Map<string, Candidate>,
  report: ReportIssue,
): Map<string, Set<string>> {
  const closures = new Map<string, Set<string>>();
  const visiting: string[] = [];
  const visit = (name: string): Set<string> => {
    const done = closures.get(name);
    if (done) return done;
    const candidate = candidates.get(name);
    const closure = new Set<string>();
    if (!candidate) return closure;
    visiting.push(name);
    for (const ref of candidate.source.parsed.partialRefs) {
      if (!candidates.has(ref.name)) continue;
      const cycleStart = visiting.indexOf(ref.name);
      if (cycleStart !== -1) {
        const cycle = [...visiting.slice(cycleStart), ref.name].join(" → ");
        report(
          candidate.source,
          ref,
          "partial-cycle",
          `partials include each other in a cycle: ${cycle}`,
        );
        candidate.broken = true;
        continue;
      }
      closure.add(ref.name);
      for (const inner of visit(ref.name)) closure.add(inner);
    }
    visiting.pop();
    closures.set(name, closure);
    return closure;
  };
  for (const name of candidates.keys()) visit(name);
  return closures;
}

/** A prompt that includes a broken one is broken too: report it where it includes it. */
function markBrokenIncluders(candidates: Map<string, Candidate>, report: ReportIssue): void {
  let changed = true;
  while (changed) {
    changed = false;
    for (const candidate of candidates.values()) {
      if (candidate.broken) continue;
      const ref = candidate.source.parsed.partialRefs.find(
        (partial) => candidates.get(partial.name)?.broken,
      );
      if (ref) {
        report(candidate.source, ref, "broken-partial", `includes "${ref.name}", which has errors`);
        candidate.broken = true;
        changed = true;
      }
    }
  }
}

/** Checks the variables a prompt uses and declares; returns how many errors it found. */
function checkVariables(
  candidate: Candidate,
  partials: readonly Candidate[],
  report: ReportIssue,
): number {
  const { source, spec } = candidate;
  const declared = mergeVariables(
    spec.variables,
    partials.map((partial) => partial.spec),
  );
  const used = new Set<string>();
  let errors = 0;
  for (const use of source.parsed.uses) {
    used.add(use.name);
    const scoped = use.sections.some((section) => {
      const type = ownValue(declared, section.split(".")[0] ?? section)?.type;
      // Inside a section over a list or an object, names are fields of its items, not variables.
      return type === undefined || type === "array" || type === "object";
    });
    // A declaration with an error of its own was reported already: do not call it missing too.
    if (
      scoped ||
      Object.hasOwn(declared, use.name) ||
      Object.hasOwn(source.parsed.declarations, use.name)
    )
      continue;
    const hint = use.literalLike
      ? `; if ${use.tag} is literal text, set \`raw: true\` or choose other \`delimiters\``
      : "; declare it under `variables`";
    report(
      source,
      use,
      "undeclared-variable",
      `variable "${use.name}" is used but not declared${didYouMean(use.name, Object.keys(declared))}${hint}`,
    );
    errors++;
  }
  for (const partial of partials) for (const use of partial.source.parsed.uses) used.add(use.name);
  // In a file with errors, "unused" is mostly an echo of them (a misspelt use or body key, a
  // template that does not parse): warn only once the file is otherwise sound.
  if (candidate.broken || errors > 0) return errors;
  for (const name of Object.keys(spec.variables)) {
    if (used.has(name)) continue;
    // Teams coming from Python's str.format write `{name}`: point at it, not at the declaration.
    const single = source.parsed.singleBraces?.find((use) => use.name === name);
    if (single) {
      report(
        source,
        single,
        "unused-variable",
        `variable "${name}" is declared but no template uses it: did you mean {{${name}}}? Mustache leaves ${single.tag} as it is`,
        "warning",
      );
      continue;
    }
    const at = ownValue(source.parsed.declarations, name) ?? { line: 1, col: 1 };
    report(
      source,
      { ...at, path: `variables.${name}` },
      "unused-variable",
      `variable "${name}" is declared but no template uses it`,
      "warning",
    );
  }
  return errors;
}

function compareIssues(a: Issue, b: Issue): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.col - b.col;
}
