import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { PromptsError } from "../errors.js";
import { ParseCache, textKey } from "./parse-cache.js";

/** The file at the repository root that configures gitprompts. */
export const CONFIG_FILE = "prompts.config.yaml";

/** What `prompts.config.yaml` may set. */
export interface PromptsConfig {
  /** The prompt directory, relative to the root. Default `prompts`. */
  dir: string;
  /** Where `prompts publish` writes the bundle. Default `dist/prompts.json`. */
  bundle: string;
}

const DEFAULT_CONFIG: PromptsConfig = { dir: "prompts", bundle: "dist/prompts.json" };
const CONFIG_KEYS = Object.keys(DEFAULT_CONFIG);

/**
 * The repository root for a working directory: the nearest directory, going up, that holds
 * `prompts.config.yaml` or `.git`; the directory itself when there is none.
 */
export function findRoot(cwd: string): string {
  const start = resolve(cwd);
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, CONFIG_FILE)) || existsSync(join(dir, ".git"))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

/** Reads `prompts.config.yaml` at the root, if there is one. */
export async function readConfig(root: string, cacheEnabled = true): Promise<PromptsConfig> {
  let text: string;
  try {
    // Synchronous: one promise-based read is a round trip through the thread pool, and starts
    // it, for a file that is usually not there.
    text = readFileSync(join(root, CONFIG_FILE), "utf8");
  } catch {
    return { ...DEFAULT_CONFIG };
  }
  // Cached like a prompt file: a warm command never loads the YAML parser. A cache that does
  // not write entries yet is left to the load that follows, which starts it (parse-cache.ts).
  const opened = cacheEnabled ? ParseCache.open(root) : undefined;
  const cache = opened?.writesEntries ? opened : undefined;
  const key = textKey("config", text);
  let value = cache?.get(key) as Partial<PromptsConfig> | undefined;
  if (value === undefined) {
    value = await parseConfig(text);
    cache?.set(key, value);
    cache?.save();
  }
  return { ...DEFAULT_CONFIG, ...value };
}

async function parseConfig(text: string): Promise<Partial<PromptsConfig>> {
  const { parseDocument, LineCounter } = await import("yaml");
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const fail = (offset: number, message: string): never => {
    const { line, col } = lineCounter.linePos(offset);
    throw new PromptsError("E_INVALID_INPUT", `${CONFIG_FILE}:${line}:${col}: ${message}`);
  };
  const [error] = doc.errors;
  if (error) fail(error.pos[0], `YAML: ${error.message.split("\n")[0]}`);
  const value: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(0, "must be a mapping of settings (dir, bundle)");
  }
  const config: Partial<PromptsConfig> = {};
  for (const [key, setting] of Object.entries(value)) {
    if (!CONFIG_KEYS.includes(key))
      fail(0, `unknown setting "${key}"; allowed: ${CONFIG_KEYS.join(", ")}`);
    if (typeof setting !== "string" || setting.trim() === "") fail(0, `"${key}" must be a path`);
    config[key as keyof PromptsConfig] = setting as string;
  }
  return config;
}
