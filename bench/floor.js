// The library-only floor of `prompts validate`: node's start-up, then every prompt file read,
// parsed by the `yaml` library, its templates parsed by Mustache, and hashed. No checks, no
// output: what any tool that validates these files with these libraries must do at least.
//   node bench/floor.js PROMPT_DIR
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Mustache from "mustache";
import { parseDocument } from "yaml";

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? walk(join(dir, entry.name))
      : /\.ya?ml$/.test(entry.name)
        ? [join(dir, entry.name)]
        : [],
  );
}

const bodies = (value) =>
  typeof value === "string"
    ? [value]
    : Array.isArray(value)
      ? value.flatMap(bodies)
      : value && typeof value === "object"
        ? Object.values(value).flatMap(bodies)
        : [];

let count = 0;
for (const file of walk(process.argv[2])) {
  const text = readFileSync(file, "utf8");
  const value = parseDocument(text).toJS();
  for (const body of bodies([value?.template, value?.messages, value?.variants])) {
    Mustache.parse(body);
  }
  createHash("sha256").update(JSON.stringify(value)).digest("hex");
  count++;
}
if (count === 0) process.exitCode = 1;
