// The render call of the Playground's current inputs, as code to paste: curl against this
// server, the Python client, the TypeScript client. Each is exactly the call for those inputs.
import { namePath } from "../api.js";

/** What the call asks for. */
export interface RenderCall {
  /** This server's origin, e.g. `http://127.0.0.1:7411`. */
  origin: string;
  name: string;
  variables: Record<string, unknown>;
  variant?: string;
  unit?: string;
  /** The server wants a token: the snippets read it from PROMPTS_TOKEN, never embed it. */
  token: boolean;
}

/** A shell word in single quotes. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `curl` of `POST /v1/prompts/NAME/render`: what an application's call sends. */
export function curlSnippet(call: RenderCall): string {
  const body = {
    variables: call.variables,
    ...(call.variant === undefined ? {} : { variant: call.variant }),
    ...(call.unit === undefined ? {} : { unit: call.unit }),
  };
  const lines = [
    `curl -sS -X POST ${shellQuote(`${call.origin}/v1/prompts/${namePath(call.name)}/render`)}`,
    `  -H 'content-type: application/json'`,
    ...(call.token ? [`  -H "authorization: Bearer $PROMPTS_TOKEN"`] : []),
    `  -d ${shellQuote(JSON.stringify(body))}`,
  ];
  return lines.join(" \\\n");
}

/** A Python literal of a JSON value. */
function python(value: unknown, indent = ""): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number" || typeof value === "string") return JSON.stringify(value);
  const inner = `${indent}    `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((item) => `${inner}${python(item, inner)},`).join("\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([key, item]) => `${inner}${JSON.stringify(key)}: ${python(item, inner)},`).join("\n")}\n${indent}}`;
}

/** The call with `gitprompts.PromptClient` (python/). */
export function pythonSnippet(call: RenderCall): string {
  const choice =
    call.variant !== undefined
      ? `, variant=${JSON.stringify(call.variant)}`
      : call.unit !== undefined
        ? `, unit=${JSON.stringify(call.unit)}`
        : "";
  return [
    ...(call.token ? ["import os", ""] : []),
    "from gitprompts import PromptClient",
    "",
    `prompts = PromptClient(${JSON.stringify(call.origin)}${call.token ? ', token=os.environ["PROMPTS_TOKEN"]' : ""})`,
    "prompts.ready()",
    `r = prompts.render(${JSON.stringify(call.name)}, ${python(call.variables)}${choice})`,
    "print(r.text if r.text is not None else r.messages)",
  ].join("\n");
}

/** The call with `PromptClient` from the `gitprompts` package. */
export function typescriptSnippet(call: RenderCall): string {
  const options =
    call.variant !== undefined
      ? `, { variant: ${JSON.stringify(call.variant)} }`
      : call.unit !== undefined
        ? `, { unit: ${JSON.stringify(call.unit)} }`
        : "";
  return [
    'import { PromptClient } from "gitprompts";',
    "",
    `const prompts = new PromptClient({ source: ${JSON.stringify(call.origin)}${call.token ? ", token: process.env.PROMPTS_TOKEN" : ""} });`,
    "await prompts.ready();",
    `const r = prompts.render(${JSON.stringify(call.name)}, ${JSON.stringify(call.variables, null, 2)}${options});`,
    "console.log(r.text ?? r.messages);",
    "await prompts.close();",
  ].join("\n");
}
