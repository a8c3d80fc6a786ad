import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parsePromptSource } from "../src/core/parse.js";
import { renderPrompt } from "../src/core/render.js";
import { validatePrompts } from "../src/core/validate.js";

const root = join(import.meta.dirname, "..");
const python = join(root, ".venv", "bin", "python");
const Handlebars = createRequire(import.meta.url)("handlebars") as typeof import("handlebars");

/** A template rendered by the engine it comes from. */
export interface EngineCase {
  engine: "fstring" | "jinja" | "variables" | "handlebars";
  template: string;
  vars: Record<string, unknown>;
  /** Handlebars partials by name. */
  partials?: Record<string, string>;
  /** Handlebars helpers by name (dotprompt's `role`). */
  helpers?: Record<string, Handlebars.HelperDelegate>;
}

/**
 * The source engines' output for every case: Python's str.format and jinja2 in one Python
 * process, Handlebars (with noEscape, as dotprompt renders) in this one. Fails, never skips,
 * when the Python environment is missing.
 */
export function renderWithEngines(
  cases: readonly EngineCase[],
): { text?: string; error?: string }[] {
  const pythonCases = cases.filter((entry) => entry.engine !== "handlebars");
  let pythonResults: { text?: string; error?: string }[] = [];
  if (pythonCases.length > 0) {
    if (!existsSync(python)) {
      throw new Error(`${python} is missing: run bash scripts/setup-python.sh (npm test does)`);
    }
    const result = spawnSync(python, [join(root, "test", "engines", "render.py")], {
      input: JSON.stringify(pythonCases),
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
    if (result.status !== 0) throw new Error(`render.py failed: ${result.stderr}`);
    pythonResults = JSON.parse(result.stdout) as typeof pythonResults;
  }
  let next = 0;
  return cases.map((entry) => {
    if (entry.engine !== "handlebars") return pythonResults[next++] ?? { error: "no result" };
    try {
      const env = Handlebars.create();
      for (const [name, text] of Object.entries(entry.partials ?? {})) {
        env.registerPartial(name, text);
      }
      for (const [name, helper] of Object.entries(entry.helpers ?? {})) {
        env.registerHelper(name, helper);
      }
      return { text: env.compile(entry.template, { noEscape: true, strict: false })(entry.vars) };
    } catch (error) {
      return { error: String(error) };
    }
  });
}

/** Renders prompt files (name → YAML) as gitprompts does; throws when one is invalid. */
export function renderConverted(
  files: Record<string, string>,
  name: string,
  vars: Record<string, unknown>,
): { text?: string; messages?: { role: string; content: string }[] } {
  const sources = Object.entries(files).map(([prompt, text]) => ({
    name: prompt,
    file: `prompts/${prompt}.yaml`,
    parsed: parsePromptSource(text),
  }));
  const { prompts, issues } = validatePrompts(sources);
  const errors = issues.filter((issue) => issue.severity === "error");
  if (errors.length > 0) {
    throw new Error(
      errors.map((issue) => `${issue.file}:${issue.line}: ${issue.message}`).join("\n"),
    );
  }
  const result = renderPrompt(prompts, name, vars);
  return result.messages ? { messages: result.messages } : { text: result.text ?? "" };
}
