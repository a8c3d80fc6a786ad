import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { type EngineCase, renderConverted, renderWithEngines } from "./import-engines.js";
import { cli, tempDir } from "./helpers.js";

const FIXTURES = join(import.meta.dirname, "fixtures", "import");
const samples = JSON.parse(readFileSync(join(FIXTURES, "samples.json"), "utf8")) as Record<
  string,
  Record<string, unknown>[]
>;
const fixture = (path: string) => readFileSync(join(FIXTURES, path), "utf8");
const json = (path: string) => JSON.parse(fixture(path)) as Record<string, unknown>;
const Handlebars = createRequire(import.meta.url)("handlebars") as typeof import("handlebars");

type Rendered = { text?: string; messages?: { role: string; content: string }[] };

/**
 * How the source tool renders each imported prompt: the engine cases to run, and how their
 * outputs make the rendered prompt. Chat prompts are one case per message, except where the
 * tool renders the whole file and then splits it (Prompty, dotprompt).
 */
interface SourceRender {
  cases: (vars: Record<string, unknown>) => EngineCase[];
  assemble: (outputs: string[]) => Rendered;
}

const text = (engine: EngineCase["engine"], template: string): SourceRender => ({
  cases: (vars) => [{ engine, template, vars }],
  assemble: ([out = ""]) => ({ text: out }),
});
const chat = (
  engine: EngineCase["engine"],
  messages: { role: string; content: string }[],
): SourceRender => ({
  cases: (vars) => messages.map((message) => ({ engine, template: message.content, vars })),
  assemble: (outputs) => ({
    messages: messages.map((message, i) => ({ role: message.role, content: outputs[i] ?? "" })),
  }),
});

/** Prompty renders the body with Jinja, then splits it at role lines and strips each message. */
function prompty(file: string): SourceRender {
  const body = fixture(file).replace(/^---\n[\s\S]*?\n---\n/, "");
  return {
    cases: (vars) => [{ engine: "jinja", template: body, vars }],
    assemble: ([out = ""]) => {
      const parts = out.split(/^[ \t]*(system|user|assistant)[ \t]*:[ \t]*$/m);
      const messages = [];
      for (let i = 1; i < parts.length; i += 2)
        messages.push({ role: parts[i] ?? "", content: (parts[i + 1] ?? "").trim() });
      return { messages };
    },
  };
}

/** Dotprompt renders the body with Handlebars (its role helper leaves a marker), then splits it. */
function dotprompt(file: string, partials: Record<string, string>): SourceRender {
  const body = fixture(file).replace(/^---\n[\s\S]*?\n---\n/, "");
  return {
    cases: (vars) => [{ engine: "handlebars", template: body, vars, partials, helpers: { role } }],
    assemble: ([out = ""]) => {
      const parts = out.split(/<<<role:(\w+)>>>/);
      const messages = [];
      for (let i = 1; i < parts.length; i += 2) {
        if ((parts[i + 1] ?? "").trim() !== "")
          messages.push({ role: parts[i] ?? "", content: parts[i + 1] ?? "" });
      }
      return { messages };
    },
  };
}
const role = (name: string) => new Handlebars.SafeString(`<<<role:${name}>>>`);

const dict = json("dict/prompts.json") as Record<
  string,
  string | { messages: { role: string; content: string }[] }
>;
const jinjaDict = (await import("yaml")).parse(fixture("dict/jinja.yaml")) as Record<
  string,
  string
>;
const poet = json("promptlayer/chat-fstring.json") as {
  prompt_template: { messages: { role: string; content: { text: string }[] }[] };
};
const product = json("promptlayer/completion-jinja.json") as {
  prompt_template: { content: { text: string }[] };
};
const openai = json("openai/stored-prompt.json") as {
  instructions: string;
  messages: { content: string | { text: string }[] }[];
};
const langfuse = JSON.parse(fixture("langfuse/export.json")) as { prompt: string }[];
const tone = "Be kind and precise.";

/** Each imported fixture prompt and how its own tool renders it. */
const sources: Record<string, { run: string[]; render: SourceRender }> = {
  answerer: {
    run: ["dict", "dict/prompts.json"],
    render: text("fstring", dict.answerer as string),
  },
  "Support-Bot": {
    run: ["dict", "dict/prompts.json"],
    render: text("fstring", dict["Support Bot"] as string),
  },
  "support-bot-2": {
    run: ["dict", "dict/prompts.json"],
    render: text("fstring", dict["support-bot"] as string),
  },
  summarizer: {
    run: ["dict", "dict/prompts.json"],
    render: chat(
      "fstring",
      (dict.summarizer as { messages: { role: string; content: string }[] }).messages,
    ),
  },
  "jsx/snippet": {
    run: ["dict", "dict/prompts.json"],
    render: text("fstring", dict["jsx/snippet"] as string),
  },
  triage: {
    run: ["dict", "--syntax", "jinja", "dict/jinja.yaml"],
    render: text("jinja", jinjaDict.triage ?? ""),
  },
  "ai-poet": {
    run: ["promptlayer", "promptlayer/chat-fstring.json"],
    render: chat(
      "fstring",
      poet.prompt_template.messages.map((m) => ({
        role: m.role,
        content: m.content.map((part) => part.text).join(""),
      })),
    ),
  },
  "product-description": {
    run: ["promptlayer", "promptlayer/completion-jinja.json"],
    render: text("jinja", product.prompt_template.content[0]?.text ?? ""),
  },
  pmpt_68b0c29740048196bd3a6e6ac3c4d0e20ed9a13f0d15bf5e: {
    run: ["openai", "openai/stored-prompt.json"],
    render: chat("variables", [
      { role: "system", content: openai.instructions },
      { role: "system", content: "Never promise refunds." },
      { role: "user", content: "{{question}}" },
    ]),
  },
  "Basic-Prompt": {
    run: ["prompty", "prompty/basic.prompty"],
    render: prompty("prompty/basic.prompty"),
  },
  "shopping-assistant": {
    run: ["prompty", "prompty/v2.prompty"],
    render: prompty("prompty/v2.prompty"),
  },
  greeting: {
    run: ["dotprompt", "dotprompt/greeting.prompt", "dotprompt/_style.prompt"],
    render: dotprompt("dotprompt/greeting.prompt", { style: fixture("dotprompt/_style.prompt") }),
  },
  assistant: {
    run: ["dotprompt", "humanloop/assistant.prompt"],
    render: chat("variables", [
      {
        role: "system",
        content: "You are a friendly assistant for {{ company }}.\nKeep answers short.",
      },
      { role: "user", content: "{{ question }}" },
    ]),
  },
  "movie-critic": {
    run: ["langfuse", "langfuse/export.json"],
    render: text("variables", langfuse.at(-1)?.prompt ?? ""),
  },
  style: {
    run: ["dotprompt", "dotprompt/greeting.prompt", "dotprompt/_style.prompt"],
    render: text("handlebars", fixture("dotprompt/_style.prompt")),
  },
  "shared/tone": {
    run: ["langfuse", "langfuse/chat-and-refs.json"],
    render: text("variables", tone),
  },
  "support/chat": {
    run: ["langfuse", "langfuse/chat-and-refs.json"],
    render: chat("variables", [
      { role: "system", content: `You help {{customer}}.\n${tone}` },
      { role: "user", content: "{{question}}" },
    ]),
  },
};

describe("every imported fixture renders as its own tool renders it", async () => {
  const imported = new Map<string, Record<string, string>>();
  for (const run of new Set(Object.values(sources).map((source) => source.run.join(" ")))) {
    const [format = "", ...rest] = run.split(" ");
    const dir = tempDir();
    const args = rest.map((arg) =>
      arg.startsWith("-") || !arg.includes("/") ? arg : join(FIXTURES, arg),
    );
    await cli(dir, "import", format, ...args, "--into", "out");
    const files: Record<string, string> = {};
    const walk = (folder: string, prefix: string) => {
      for (const entry of readdirSync(join(dir, "out", folder), { withFileTypes: true })) {
        const rel = prefix + entry.name;
        if (entry.isDirectory()) walk(join(folder, entry.name), `${rel}/`);
        else
          files[rel.replace(/\.yaml$/, "")] = readFileSync(
            join(dir, "out", folder, entry.name),
            "utf8",
          );
      }
    };
    walk("", "");
    imported.set(run, files);
  }
  const plan = Object.entries(sources).flatMap(([name, source]) =>
    (samples[name] ?? []).map((vars) => ({ name, source, vars, cases: source.render.cases(vars) })),
  );
  const outputs = renderWithEngines(plan.flatMap((entry) => entry.cases));
  let next = 0;
  for (const entry of plan) {
    const results = entry.cases.map(() => outputs[next++]);
    it(`${entry.name} with ${JSON.stringify(entry.vars)}`, () => {
      for (const result of results) expect(result?.error).toBeUndefined();
      const files = imported.get(entry.source.run.join(" ")) ?? {};
      expect(Object.keys(files)).toContain(entry.name);
      const want = entry.source.render.assemble(results.map((result) => result?.text ?? ""));
      expect(renderConverted(files, entry.name, entry.vars)).toEqual(want);
    });
  }
  it("every imported prompt is proved, and every proof is of an imported prompt", () => {
    const written = new Set<string>();
    for (const [run, files] of imported)
      for (const name of Object.keys(files)) written.add(`${run} ${name}`);
    const proved = new Set(
      Object.entries(sources).map(([name, source]) => `${source.run.join(" ")} ${name}`),
    );
    expect([...written].sort()).toEqual([...proved].sort());
    expect(Object.keys(samples).sort()).toEqual(Object.keys(sources).sort());
  });
});
