import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import type { ImportCandidate, ImportRow, Syntax } from "../../core/import/convert.js";
import { readDict } from "../../core/import/dict.js";
import { readDotprompt } from "../../core/import/dotprompt.js";
import { readLangfuseExport, readLangfuseVersions } from "../../core/import/langfuse.js";
import { readOpenAi } from "../../core/import/openai.js";
import { type ImportPlan, planImport, planLabels } from "../../core/import/plan.js";
import { readPromptLayer } from "../../core/import/promptlayer.js";
import { readPrompty } from "../../core/import/prompty.js";
import type { SourceFile } from "../../core/import/source-file.js";
import { PromptsError, isSystemError, systemErrorText, usageError } from "../../errors.js";
import { locatePromptDir } from "../../store/load.js";
import type { CommandContext } from "../io.js";
import type { ImportCliOptions } from "../program.js";
import { loadOptionsOf } from "../io.js";
import { formatTable, plural, writeJson } from "../output.js";

/** The formats `prompts import` reads. */
const IMPORT_FORMATS = [
  "dict",
  "langfuse",
  "promptlayer",
  "openai",
  "prompty",
  "dotprompt",
] as const;
type ImportFormat = (typeof IMPORT_FORMATS)[number];

const SYNTAXES: readonly Syntax[] = ["fstring", "mustache", "jinja", "handlebars"];
const EXTENSIONS: Partial<Record<ImportFormat, string>> = {
  prompty: ".prompty",
  dotprompt: ".prompt",
};

/** What `prompts import --json` prints. */
export interface ImportReport {
  rows: ImportRow[];
  /** Files written (or, with --dry-run, that would be), relative to the working directory. */
  files: string[];
  /** Commits of imported history. */
  commits: number;
  labels: { label: string; ref: string }[];
  dryRun: boolean;
  /** Set when a history could not be written as such (the target is in no git repository). */
  note?: string;
}

/**
 * `prompts import FORMAT PATH…`: converts prompts from another tool, exactly or not at all, and
 * writes them (a Langfuse history as commits and labels). Exit 1 when anything was refused.
 */
export async function importCommand(
  context: CommandContext,
  format: string,
  paths: readonly string[],
  options: ImportCliOptions,
): Promise<number> {
  if (!(IMPORT_FORMATS as readonly string[]).includes(format)) {
    throw usageError(`unknown format "${format}" (choose: ${IMPORT_FORMATS.join(", ")})`);
  }
  const syntax = (options.syntax ?? "fstring") as Syntax;
  if (!SYNTAXES.includes(syntax)) {
    throw usageError(`unknown --syntax "${options.syntax}" (choose: ${SYNTAXES.join(", ")})`);
  }
  const candidates = await readCandidates(context, format as ImportFormat, paths, syntax, options);
  const { cwd } = context.io;
  const target = options.into
    ? { root: undefined, dir: resolve(cwd, options.into) }
    : await locatePromptDir(loadOptionsOf(context)).then(({ root, dir }) => ({
        root,
        dir: join(root, dir),
      }));
  const existing = await readExisting(target.dir);
  const plan = planImport(candidates, { existing, force: options.force ?? false });
  const pathOf = (name: string) => join(target.dir, `${name}.yaml`);
  const labels = planLabels(plan.commits);
  const report: ImportReport = {
    rows: plan.rows,
    files: [...plan.files.keys()].map((name) => relative(cwd, pathOf(name)) || pathOf(name)),
    commits: plan.commits.length,
    labels: labels.map(({ label, ref }) => ({ label, ref })),
    dryRun: options.dryRun ?? false,
  };
  if (!options.dryRun) await writePlan(plan, labels, target.dir, pathOf, report);
  printReport(context, report);
  return plan.rows.some((row) => row.status === "refused") ? 1 : 0;
}

async function readCandidates(
  context: CommandContext,
  format: ImportFormat,
  paths: readonly string[],
  syntax: Syntax,
  options: ImportCliOptions,
): Promise<ImportCandidate[]> {
  if (
    format === "langfuse" &&
    (options.url ?? context.io.env.LANGFUSE_HOST) &&
    paths.length === 0
  ) {
    const url = options.url ?? context.io.env.LANGFUSE_HOST ?? "";
    const publicKey = options.publicKey ?? context.io.env.LANGFUSE_PUBLIC_KEY;
    const secretKey = options.secretKey ?? context.io.env.LANGFUSE_SECRET_KEY;
    if (!publicKey || !secretKey) {
      throw usageError(
        "--url needs --public-key and --secret-key (or LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY)",
      );
    }
    const { fetchLangfuseVersions } = await import("../../store/langfuse-api.js");
    const versions = await fetchLangfuseVersions({ url, publicKey, secretKey });
    if (versions.length === 0) {
      throw new PromptsError("E_INVALID_INPUT", `${url}: the Langfuse project has no prompts`);
    }
    return readLangfuseVersions(versions, url);
  }
  if (paths.length === 0)
    throw usageError(`prompts import ${format} needs a PATH (a file to import)`);
  const candidates: ImportCandidate[] = [];
  for (const path of paths) {
    for (const { file, folder } of await sourceFiles(context.io.cwd, path, EXTENSIONS[format])) {
      const read = readSource(format, file, syntax);
      for (const candidate of read) {
        if (folder) candidate.name = `${folder}/${candidate.name}`;
        candidates.push(candidate);
      }
    }
  }
  return candidates;
}

function readSource(format: ImportFormat, file: SourceFile, syntax: Syntax): ImportCandidate[] {
  switch (format) {
    case "dict":
      return readDict(file, syntax);
    case "langfuse":
      return readLangfuseExport(file);
    case "promptlayer":
      return readPromptLayer(file);
    case "openai":
      return readOpenAi(file);
    case "prompty":
      return readPrompty(file);
    case "dotprompt":
      return readDotprompt(file);
  }
}

/** The files of a PATH: the file itself, or a folder's files of the format (folders kept in names). */
async function sourceFiles(
  cwd: string,
  path: string,
  extension: string | undefined,
): Promise<{ file: SourceFile; folder?: string }[]> {
  const absolute = resolve(cwd, path);
  const info = await stat(absolute).catch((error: unknown) => {
    throw new PromptsError(
      "E_INVALID_INPUT",
      `${path}: ${isSystemError(error) ? systemErrorText(error) : String(error)}`,
    );
  });
  if (!info.isDirectory()) return [{ file: { path, text: await readText(absolute, path) } }];
  if (!extension)
    throw new PromptsError("E_INVALID_INPUT", `${path}: is a folder; name the export file`);
  const names = (await readdir(absolute, { recursive: true }))
    .filter((name) => name.endsWith(extension))
    .sort();
  if (names.length === 0) {
    throw new PromptsError("E_INVALID_INPUT", `${path}: holds no ${extension} files`);
  }
  return Promise.all(
    names.map(async (name) => {
      const rel = name.split("\\").join("/");
      const folder = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : undefined;
      const shown = join(path, rel);
      const file = { path: shown, text: await readText(join(absolute, rel), shown) };
      return folder ? { file, folder } : { file };
    }),
  );
}

async function readText(absolute: string, shown: string): Promise<string> {
  try {
    return await readFile(absolute, "utf8");
  } catch (error) {
    throw new PromptsError(
      "E_INVALID_INPUT",
      `${shown}: ${isSystemError(error) ? systemErrorText(error) : String(error)}`,
    );
  }
}

/** The prompts already in the target folder, by name. */
async function readExisting(dir: string): Promise<Map<string, string>> {
  const existing = new Map<string, string>();
  const names = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  for (const name of names) {
    if (!/\.ya?ml$/.test(name)) continue;
    const text = await readFile(join(dir, name), "utf8").catch(() => undefined);
    if (text !== undefined)
      existing.set(
        name
          .split("\\")
          .join("/")
          .replace(/\.ya?ml$/, ""),
        text,
      );
  }
  return existing;
}

async function writePlan(
  plan: ImportPlan,
  labels: ReturnType<typeof planLabels>,
  dir: string,
  pathOf: (name: string) => string,
  report: ImportReport,
): Promise<void> {
  const histories = plan.commits.length > 0 ? await gitRootOf(dir) : undefined;
  if (histories) {
    const { writeHistory } = await import("../../git/fast-import.js");
    const rel = (name: string) => relative(histories, pathOf(name)).split("\\").join("/");
    const historyNames = new Set(plan.commits.map((commit) => commit.name));
    await writeHistory(
      histories,
      plan.commits.map((commit) => ({
        path: rel(commit.name),
        text: commit.text,
        message: commit.message,
        ...(commit.date ? { date: commit.date } : {}),
        ...(commit.author ? { author: commit.author } : {}),
      })),
      labels.map((label) => ({
        label: label.label,
        target: label.target,
        ref: `langfuse ${label.ref}`,
        overrides: new Map([...label.overrides].map(([name, text]) => [rel(name), text])),
      })),
    );
    for (const [name, text] of plan.files) {
      if (!historyNames.has(name)) await writePromptFile(pathOf(name), text);
    }
    return;
  }
  if (plan.commits.length > 0) {
    report.commits = 0;
    report.labels = [];
    report.note = `${dir} is in no git repository: wrote the newest version of each prompt, without history or labels (run git init first to keep them)`;
  }
  const folders = new Set<string>();
  for (const [name, text] of plan.files) {
    const path = pathOf(name);
    if (!folders.has(dirname(path))) {
      await mkdir(dirname(path), { recursive: true });
      folders.add(dirname(path));
    }
    await writePromptFile(path, text);
  }
}

async function writePromptFile(path: string, text: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  } catch (error) {
    throw new PromptsError(
      "E_IO",
      `cannot write ${path}: ${isSystemError(error) ? systemErrorText(error) : String(error)}`,
    );
  }
}

/** The root of the git work tree holding `dir`, or undefined when there is none. */
async function gitRootOf(dir: string): Promise<string | undefined> {
  const { runGit } = await import("../../git/objects.js");
  let probe = dir;
  while (!(await stat(probe).catch(() => undefined))) probe = dirname(probe);
  try {
    return (await runGit(probe, ["rev-parse", "--show-toplevel"])).trim();
  } catch {
    return undefined;
  }
}

function printReport(context: CommandContext, report: ImportReport): void {
  if (context.global.json) {
    writeJson(context, report);
    return;
  }
  const { stdout } = context.io;
  const rows = report.rows.map((row) => [
    row.status,
    row.name,
    row.location ?? row.source,
    row.status === "refused" ? (row.reason ?? "") : row.changes.join("; "),
  ]);
  stdout.write(`${formatTable([["STATUS", "NAME", "SOURCE", "DETAILS"], ...rows])}\n`);
  const count = (status: ImportRow["status"]) =>
    report.rows.filter((row) => row.status === status).length;
  const verb = report.dryRun ? "would write" : "wrote";
  const history =
    report.commits > 0
      ? `, ${plural(report.commits, "commit")}${report.labels.length > 0 ? `, ${plural(report.labels.length, "label")} (${report.labels.map((label) => label.label).join(", ")})` : ""}`
      : "";
  stdout.write(
    `${count("imported")} imported as is, ${count("converted")} converted, ${count("refused")} refused; ${verb} ${plural(report.files.length, "file")}${history}\n`,
  );
  if (report.note) stdout.write(`note: ${report.note}\n`);
  if (report.dryRun) for (const file of report.files) stdout.write(`  ${file}\n`);
}
