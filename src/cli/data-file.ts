import { readFile } from "node:fs/promises";
import { isPlainObject } from "../core/json.js";
import { PromptsError } from "../errors.js";

/**
 * Reads a JSON (`.json`) or YAML file that must hold a mapping, as `--vars` takes. `shape` says
 * what the mapping should hold, for the error when it is something else.
 */
export async function readMappingFile(
  path: string,
  shape: string,
): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new PromptsError("E_INVALID_INPUT", `cannot read the --vars file ${path}: ${reason}`);
  }
  const json = /\.json$/i.test(path);
  let value: unknown;
  try {
    // The YAML parser is loaded only for a YAML file.
    value = json ? JSON.parse(text) : (await import("yaml")).parse(text, { maxAliasCount: 100 });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new PromptsError(
      "E_INVALID_INPUT",
      `${path}: not valid ${json ? "JSON" : "YAML"}: ${reason}`,
    );
  }
  if (!isPlainObject(value))
    throw new PromptsError("E_INVALID_INPUT", `${path}: must hold ${shape}`);
  return value;
}
