// Compares what two builds of gitprompts print and serve, byte for byte: every CLI command with
// its main options and the main HTTP answers, over the shipped prompts and generated corpora of
// 1,000 and 10,000 prompts, each run on a first run (no .prompts/) and warm.
//
//   node bench/compare-builds.js OLD_CHECKOUT NEW_CHECKOUT [--sizes 1000,10000]
//
// A checkout is a folder with bin/prompts.js and a built dist/. Exit 0 when all is identical.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generatePromptTree } from "./generate.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const [oldArg, newArg, ...rest] = process.argv.slice(2);
if (!oldArg || !newArg) {
  console.error(
    "usage: node bench/compare-builds.js OLD_CHECKOUT NEW_CHECKOUT [--sizes 1000,10000]",
  );
  process.exit(2);
}
const sizesAt = rest.indexOf("--sizes");
const SIZES = sizesAt === -1 ? [1_000, 10_000] : rest[sizesAt + 1].split(",").map(Number);
const BUILDS = { old: resolve(oldArg, "bin/prompts.js"), new: resolve(newArg, "bin/prompts.js") };
const ENV = {
  ...process.env,
  NO_COLOR: "1",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "bench",
  GIT_AUTHOR_EMAIL: "bench@example.test",
  GIT_COMMITTER_NAME: "bench",
  GIT_COMMITTER_EMAIL: "bench@example.test",
  GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
};

const git = (repo, ...args) => execFileSync("git", args, { cwd: repo, env: ENV, stdio: "pipe" });

/** Edits a file's text in place. */
function edit(path, change) {
  writeFileSync(path, change(readFileSync(path, "utf8")));
}

/**
 * A generated tree made more like a real one: every third prompt a chat prompt, every fifth
 * including a partial, a few with two variants.
 */
function realisticTree(root, count) {
  generatePromptTree(root, count);
  mkdirSync(join(root, "prompts", "shared"), { recursive: true });
  writeFileSync(
    join(root, "prompts", "shared", "rules.yaml"),
    "description: Shared rules.\nvariables:\n  tone: { type: string, required: false, default: neutral }\ntemplate: |\n  Be {{tone}}. Cite the facts you use.\n",
  );
  for (let i = 0; i < count; i++) {
    const file = join(root, "prompts", `team${i % 50}`, `area${i % 7}`, `prompt_${i}.yaml`);
    if (i % 3 === 1) {
      edit(file, (text) =>
        text.replace(
          /^template: \|\n[\s\S]*$/m,
          `messages:
  - role: system
    content: You are assistant ${i}. Answer in a {{tone}} tone using only these facts.
  - role: user
    content: |
      Facts:
      {{#infos}}
      - {{.}}
      {{/infos}}
      Question: {{user_query}}
variants:
  concise:
    weight: 30
    messages:
      - role: user
        content: "Answer in at most two sentences: {{user_query}} Facts: {{#infos}}{{.}}; {{/infos}}"
`,
        ),
      );
    } else if (i % 5 === 0) {
      edit(file, (text) =>
        text.replace("User's question:", "{{> shared/rules}}\n  User's question:"),
      );
    }
    if (i % 11 === 0 && i % 3 !== 1) {
      edit(
        file,
        (text) => `${text}  formal:\n    weight: 10\n    template: "Formally: {{user_query}}"\n`,
      );
    }
  }
}

/** A git repository at `repo`: v1 as made, v2 with changes of every kind, checked out. */
function makeRepository(repo, fill) {
  fill(repo);
  git(repo, "init", "-q", "-b", "main");
  git(repo, "add", "-A");
  git(repo, "-c", "gc.auto=0", "commit", "-qm", "v1");
  git(repo, "tag", "v1");
}

function versionTwoOfGenerated(repo, count) {
  for (let i = 0; i < count; i += 10) {
    const file = join(repo, "prompts", `team${i % 50}`, `area${i % 7}`, `prompt_${i}.yaml`);
    edit(file, (text) =>
      text
        .replace("Answer in a {{tone}} tone", "Answer briefly, in a {{tone}} tone")
        .replace("Facts: {{#infos}}", "Facts ({{tone}}): {{#infos}}"),
    );
  }
  edit(join(repo, "prompts", "team3", "area3", "prompt_3.yaml"), (text) =>
    text.replace("  user_query: string\n", "  user_query: string\n  extra: number\n"),
  );
  edit(join(repo, "prompts", "shared", "rules.yaml"), (text) =>
    text.replace("Cite the facts", "Always cite the facts"),
  );
  git(repo, "mv", "prompts/team4/area4/prompt_4.yaml", "prompts/team4/area4/renamed_4.yaml");
  rmSync(join(repo, "prompts", "team6", "area6", "prompt_6.yaml"));
  writeFileSync(
    join(repo, "prompts", "team1", "new_prompt.yaml"),
    "description: Added in v2.\nvariables:\n  name: string\ntemplate: Hello {{name}}\n",
  );
  // Formatting only: the version stays.
  edit(join(repo, "prompts", "team7", "area0", "prompt_7.yaml"), (text) => `# a comment\n${text}`);
}

function versionTwoOfShipped(repo) {
  edit(join(repo, "prompts", "caller.yaml"), (text) =>
    text.replace("Decide the single next action", "Decide the one next action"),
  );
  edit(join(repo, "prompts", "shared", "tool_rules.yaml"), (text) => `${text}\n`);
  writeFileSync(
    join(repo, "prompts", "greeting.yaml"),
    "variables:\n  name: string\ntemplate: Hello {{name}}\n",
  );
}

function commitVersionTwo(repo) {
  git(repo, "add", "-A");
  git(repo, "-c", "gc.auto=0", "commit", "-qm", "v2");
  git(repo, "tag", "v2");
}

/** The commands run on a corpus; `name` is a prompt that exists at v1, v2 and in the work tree. */
function commands(name, varsFile) {
  return [
    ["list"],
    ["--json", "list"],
    ["list", "--ref", "v1"],
    ["--json", "list", "--ref", "v2"],
    ["render", name, "--vars", varsFile],
    ["--json", "render", name, "--vars", varsFile, "--variant", "default"],
    ["render", name, "--vars", varsFile, "--ref", "v1"],
    ["render", "no/such_prompt"],
    ["validate"],
    ["validate", "--format", "json"],
    ["validate", "--format", "github"],
    ["validate", "--ref", "v1"],
    ["validate", "--staged"],
    ["diff", "v1", "v2"],
    ["diff", "v1", "v2", "--stat"],
    ["--json", "diff", "v1", "v2"],
    ["diff", "v1"],
    ["diff", "--stat"],
    ["log", name],
    ["publish", "--out", "-"],
    ["publish", "--ref", "v1", "--out", "-"],
    ["typegen", "--out", "-"],
    ["stats"],
  ];
}

function run(build, repo, args) {
  const result = spawnSync(process.execPath, [BUILDS[build], ...args], {
    cwd: repo,
    env: ENV,
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let differences = 0;
let compared = 0;

function compare(label, a, b) {
  compared++;
  if (process.env.VERBOSE) {
    const first = (text) => JSON.stringify(String(text).split("\n")[0].slice(0, 70));
    console.log(`  ${label}: exit ${a.status}, ${first(a.stdout)} ${first(a.stderr)}`);
  }
  for (const key of ["status", "stdout", "stderr"]) {
    if (a[key] !== b[key]) {
      differences++;
      const at = [...String(a[key])].findIndex((char, i) => char !== String(b[key])[i]);
      console.log(`  ✗ ${label}: ${key} differs (at ${at})`);
      console.log(
        `      old: ${JSON.stringify(String(a[key]).slice(Math.max(0, at - 60), at + 120))}`,
      );
      console.log(
        `      new: ${JSON.stringify(String(b[key]).slice(Math.max(0, at - 60), at + 120))}`,
      );
    }
  }
}

/**
 * Runs every command twice with each build, from no .prompts/: the first command's runs start
 * and fill the parse cache, every later command reads it.
 */
function compareCommands(repo, state, name, varsFile) {
  const outputs = {};
  for (const build of ["old", "new"]) {
    rmSync(join(repo, ".prompts"), { recursive: true, force: true });
    outputs[build] = commands(name, varsFile).flatMap((args) => [
      run(build, repo, args),
      run(build, repo, args),
    ]);
  }
  rmSync(join(repo, ".prompts"), { recursive: true, force: true });
  commands(name, varsFile).forEach((args, index) => {
    for (const [offset, when] of [
      [0, "cold"],
      [1, "warm"],
    ]) {
      const at = 2 * index + offset;
      compare(`${state}: prompts ${args.join(" ")} (${when})`, outputs.old[at], outputs.new[at]);
    }
  });
}

/** Starts `prompts serve --port 0`; resolves with its URL and process. */
function startServe(build, repo) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BUILDS[build], "serve", "--port", "0"], {
      cwd: repo,
      env: ENV,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 120_000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolvePromise({ url: match[0], child });
      }
    });
    let err = "";
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolvePromise({ failure: { status: code, stdout: out, stderr: err } });
    });
  });
}

async function httpAnswers(build, repo, name, variables) {
  const { url, child, failure } = await startServe(build, repo);
  if (failure) return [failure];
  try {
    const answers = [];
    const get = async (path, init) => {
      const response = await fetch(`${url}${path}`, init);
      let body = await response.text();
      const masked = body
        .replace(/"usage_id":"[0-9a-f-]{36}"/g, '"usage_id":"<id>"')
        .replace(/"(uptime_s|uptime|started_at|pid|loaded_at|time|ts)":[^,}]+/g, '"$1":"<masked>"');
      body = masked;
      const headers = ["content-type", "etag", "cache-control"].map(
        (header) => `${header}: ${response.headers.get(header)}`,
      );
      answers.push({
        status: response.status,
        stdout: `${headers.join("\n")}\n${body}`,
        stderr: "",
      });
    };
    await get("/v1/bundle");
    await get("/v1/prompts");
    await get(`/v1/prompts/${name}`);
    await get("/v1/prompts/no/such_prompt");
    const post = (body) => ({
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    await get(`/v1/prompts/${name}/render`, post({ variables, unit: "user-1" }));
    await get(`/v1/prompts/${name}/render`, post({ variables: {} }));
    await get("/healthz");
    return answers;
  } finally {
    child.kill();
  }
}

async function compareHttp(repo, state, name, variables) {
  const answers = {};
  for (const build of ["old", "new"]) {
    rmSync(join(repo, ".prompts"), { recursive: true, force: true });
    answers[build] = await httpAnswers(build, repo, name, variables);
  }
  const paths = [
    "bundle",
    "prompts",
    "prompt",
    "missing prompt",
    "render",
    "bad render",
    "healthz",
  ];
  if (answers.old.length !== answers.new.length) {
    compare(`${state}: serve`, answers.old[0], answers.new[0]);
    return;
  }
  answers.old.forEach((answer, index) =>
    compare(`${state}: HTTP ${paths[index] ?? "serve"}`, answer, answers.new[index]),
  );
}

async function compareCorpus(label, repo, name, variables) {
  const varsFile = join(repo, "..", "vars.json");
  writeFileSync(varsFile, JSON.stringify(variables));
  console.log(`${label}`);
  compareCommands(repo, `${label}, clean work tree`, name, varsFile);
  await compareHttp(repo, `${label}, clean work tree`, name, variables);
  // An invalid file and an edit in the work tree, one of them staged.
  writeFileSync(join(repo, "prompts", "broken.yaml"), "template: {{unclosed\nvariables: [1\n");
  writeFileSync(join(repo, "prompts", "typo.yaml"), "templat: Hello {{name}}\n");
  git(repo, "add", "prompts/typo.yaml");
  compareCommands(repo, `${label}, invalid files`, name, varsFile);
  await compareHttp(repo, `${label}, invalid files`, name, variables);
}

const base = mkdtempSync(join(tmpdir(), "gitprompts-compare-"));
try {
  {
    const repo = join(base, "shipped", "repo");
    makeRepository(repo, (root) => {
      cpSync(join(HERE, "..", "prompts"), join(root, "prompts"), { recursive: true });
      cpSync(join(HERE, "..", "schema"), join(root, "schema"), { recursive: true });
    });
    versionTwoOfShipped(repo);
    commitVersionTwo(repo);
    await compareCorpus("shipped prompts", repo, "caller", {
      tools: [{ name: "search", description: "web search" }],
      user_query: "Hi",
    });
  }
  for (const count of SIZES) {
    const repo = join(base, String(count), "repo");
    makeRepository(repo, (root) => realisticTree(root, count));
    versionTwoOfGenerated(repo, count);
    commitVersionTwo(repo);
    await compareCorpus(`${count} prompts`, repo, "team5/area5/prompt_5", {
      infos: ["a fact"],
      user_query: "Hi",
    });
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
console.log(
  differences === 0
    ? `identical: ${compared} outputs compared`
    : `${differences} differences in ${compared} outputs compared`,
);
process.exit(differences === 0 ? 0 : 1);
