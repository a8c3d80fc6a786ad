// `npm run bench`: the speed goals of gitprompts, measured as ratios against their floors
// (these machines are noisy, so absolute times say less than ratios taken in one run).
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Mustache from "mustache";
import { loadPrompts, renderPrompt } from "../dist/index.js";
import { generatePromptTree } from "./generate.js";
import { webPageBench } from "./web-page.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "bin", "prompts.js");
/** What answerer_prompt is rendered with in the in-process benchmarks. */
const ANSWERER_VARIABLES = {
  infos: [
    "RAG retrieves documents first.",
    "They are given to the model as context.",
    "It reduces hallucinations.",
  ],
  user_query: "What is RAG?",
};
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (ms) => (ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`);

function timeSpawn(args, cwd = ROOT, env = process.env, command = process.execPath) {
  const start = performance.now();
  const result = spawnSync(command, args, {
    cwd,
    env,
    stdio: ["ignore", "ignore", "pipe"],
    encoding: "utf8",
  });
  const elapsed = performance.now() - start;
  if (result.status !== 0) throw new Error(`${args.join(" ")} failed: ${result.stderr}`);
  return elapsed;
}

async function renderThroughput() {
  const { prompts } = await loadPrompts({ root: ROOT, cache: false });
  const prompt = prompts.get("answerer_prompt");
  const variables = ANSWERER_VARIABLES;
  const iterations = 200_000;
  const measure = (fn) => {
    for (let i = 0; i < 20_000; i++) fn();
    const start = performance.now();
    for (let i = 0; i < iterations; i++) fn();
    return (performance.now() - start) / iterations;
  };
  const rounds = [];
  for (let round = 0; round < 5; round++) {
    const bare = measure(() => Mustache.render(prompt.template, variables));
    const ours = measure(() => renderPrompt(prompts, "answerer_prompt", variables));
    rounds.push({ bare, ours });
  }
  const bare = median(rounds.map((r) => r.bare));
  const ours = median(rounds.map((r) => r.ours));
  console.log("render throughput (answerer_prompt, in process)");
  console.log(`  bare Mustache.render   ${(1000 / bare).toFixed(0)} renders/s`);
  console.log(`  gitprompts renderPrompt ${(1000 / ours).toFixed(0)} renders/s`);
  console.log(`  overhead: ${((ours / bare - 1) * 100).toFixed(1)}% (goal: at most 25%)`);
}

function coldStart() {
  const render = [
    BIN,
    "render",
    "answerer_prompt",
    "--var",
    "user_query=What is RAG?",
    "--vars",
    "examples/infos.json",
  ];
  timeSpawn(render); // fills the parse cache, as any earlier command would
  const runs = 25;
  const node = [];
  const ours = [];
  for (let i = 0; i < runs; i++) {
    node.push(timeSpawn(["-e", ""]));
    ours.push(timeSpawn(render));
  }
  const noCache = [];
  for (let i = 0; i < 10; i++) noCache.push(timeSpawn([...render, "--no-cache"]));
  const floor = median(node);
  console.log(`cold start (median of ${runs}, alternating)`);
  console.log(`  node -e ''                      ${fmt(floor)}`);
  console.log(
    `  prompts render answerer_prompt  ${fmt(median(ours))}  ${(median(ours) / floor).toFixed(2)}x (goal: at most 2.0x)`,
  );
  console.log(
    `  same with --no-cache            ${fmt(median(noCache))}  ${(median(noCache) / floor).toFixed(2)}x`,
  );
}

/** The size of a folder in bytes (0 when there is none). */
function folderBytes(path) {
  try {
    return Number(execFileSync("du", ["-sb", path], { encoding: "utf8" }).split("\t")[0]);
  } catch {
    return 0;
  }
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * `prompts validate` on generated trees: a first run (no .prompts/, as in CI) against the
 * library-only floor (bench/floor.js: read, `yaml` parse, Mustache parse and hash of every
 * file) and against --no-cache, and a warm run against a bare `node -e ''`.
 */
function validateTrees() {
  const base = mkdtempSync(join(tmpdir(), "gitprompts-bench-"));
  try {
    console.log("prompts validate on generated trees (median of 5)");
    const bareNode = median(Array.from({ length: 7 }, () => timeSpawn(["-e", ""])));
    console.log(`  bare node -e ''  ${fmt(bareNode)}`);
    for (const count of [500, 1_000, 10_000]) {
      const root = join(base, String(count));
      generatePromptTree(root, count);
      const args = [BIN, "-C", root, "validate"];
      const runs = count === 10_000 ? 3 : 5;
      const times = (run) => median(Array.from({ length: runs }, run));
      const floor = times(() =>
        timeSpawn([join(ROOT, "bench", "floor.js"), join(root, "prompts")]),
      );
      const noCache = times(() => timeSpawn([...args, "--no-cache"]));
      const cold = times(() => {
        rmSync(join(root, ".prompts"), { recursive: true, force: true });
        return timeSpawn(args);
      });
      const started = folderBytes(join(root, ".prompts"));
      // The first run only starts the cache; the second fills it.
      const filling = timeSpawn(args);
      const cache = folderBytes(join(root, ".prompts"));
      const warm = times(() => timeSpawn(args));
      console.log(
        `  ${String(count).padStart(6)} prompts: floor ${fmt(floor)}; first run ${fmt(cold)} = ${(cold / floor).toFixed(2)}x the floor (goal: within 1.15x), ${(cold / noCache).toFixed(2)}x --no-cache ${fmt(noCache)} (goal: within 1.05x); second run ${fmt(filling)} = ${(filling / noCache).toFixed(2)}x --no-cache; warm ${fmt(warm)} = ${(warm / bareNode).toFixed(1)}x node${count === 500 ? " (goal: within 3x)" : ""}; .prompts/ ${mb(started)} after the first run, ${mb(cache)} after the second`,
      );
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

/**
 * Repositories of 500 and 10,000 prompts tagged v1, then v2 with 10% of them changed: `list
 * --ref v1` and `diff v1 v2 --stat`, warm and on a first run, against a bare `node -e ''`.
 */
function historyBench() {
  const base = mkdtempSync(join(tmpdir(), "gitprompts-bench-git-"));
  try {
    const bareNode = median(Array.from({ length: 7 }, () => timeSpawn(["-e", ""])));
    console.log("git refs on generated repositories, v1 → v2 with 10% changed (median of 5)");
    console.log(`  bare node -e ''  ${fmt(bareNode)}`);
    for (const count of [500, 10_000]) {
      const repo = join(base, String(count));
      generatePromptTree(repo, count);
      const env = {
        ...process.env,
        GIT_AUTHOR_NAME: "bench",
        GIT_AUTHOR_EMAIL: "bench@example.test",
        GIT_COMMITTER_NAME: "bench",
        GIT_COMMITTER_EMAIL: "bench@example.test",
      };
      const git = (...args) => execFileSync("git", args, { cwd: repo, env, stdio: "ignore" });
      git("init", "-q", "-b", "main");
      git("add", "-A");
      git("-c", "gc.auto=0", "commit", "-qm", "v1");
      git("tag", "v1");
      for (let i = 0; i < count; i += 10) {
        const file = join(repo, "prompts", `team${i % 50}`, `area${i % 7}`, `prompt_${i}.yaml`);
        writeFileSync(
          file,
          readFileSync(file, "utf8").replace(
            "Answer in a {{tone}} tone",
            "Answer briefly, in a {{tone}} tone",
          ),
        );
      }
      git("-c", "gc.auto=0", "commit", "-qam", "v2");
      git("tag", "v2");
      git("gc", "-q");
      for (const [label, args] of [
        ["list --ref v1", [BIN, "list", "--ref", "v1"]],
        ["diff v1 v2 --stat", [BIN, "diff", "v1", "v2", "--stat"]],
      ]) {
        const cold = median(
          Array.from({ length: 3 }, () => {
            rmSync(join(repo, ".prompts"), { recursive: true, force: true });
            return timeSpawn(args, repo);
          }),
        );
        const filling = timeSpawn(args, repo);
        const cache = folderBytes(join(repo, ".prompts"));
        const warm = median(Array.from({ length: 5 }, () => timeSpawn(args, repo)));
        console.log(
          `  ${String(count).padStart(6)} prompts, ${label.padEnd(18)} warm ${fmt(warm)} = ${(warm / bareNode).toFixed(1)}x node${count === 500 ? " (goal: within 5x)" : ""}; first run ${fmt(cold)}, second (fills the cache) ${fmt(filling)}; .prompts/ after it ${mb(cache)}`,
        );
      }
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

/** Starts `prompts serve --port 0` in `root`; resolves with its URL and process. */
function startServe(root, extra = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "serve", "--port", "0", ...extra], {
      cwd: root,
      stdio: ["ignore", "pipe", "ignore"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const url = /at (http:\/\/\S+)/.exec(out)?.[1];
      if (url) resolve({ url, child });
    });
    child.on("exit", (code) => reject(new Error(`serve exited with ${code}`)));
  });
}

function stop(child) {
  return new Promise((resolve) => {
    child.once("exit", resolve);
    child.kill("SIGTERM");
  });
}

function runLoad(url, seconds, concurrency, etag) {
  const args = [join(ROOT, "bench", "load.js"), url, String(seconds), String(concurrency)];
  if (etag) args.push(etag);
  return JSON.parse(execFileSync(process.execPath, args, { encoding: "utf8" }));
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Reads an SSE stream, calling `onEvent(name, data)` per frame. */
async function readEvents(url, onEvent, signal) {
  const response = await fetch(`${url}/v1/events`, { signal });
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event && data) onEvent(event, JSON.parse(data));
      }
    }
  } catch {
    // aborted
  }
}

/**
 * prompts serve: GET /v1/bundle against a bare node:http server with the same bytes and
 * headers (same load generator, same concurrency, in one run); edit-to-event latency with
 * 1,000 and 10,000 prompts; usage ingest; resident memory with 10,000 prompts.
 */
async function serveBench() {
  const base = mkdtempSync(join(tmpdir(), "gitprompts-bench-serve-"));
  const children = [];
  try {
    const small = join(base, "small");
    execFileSync("mkdir", ["-p", small]);
    execFileSync("cp", ["-r", join(ROOT, "prompts"), small]);
    const ours = await startServe(small);
    children.push(ours.child);
    const bundleFile = join(base, "bundle.json");
    // A connection of its own (no pool): fetch would keep it idle past the server's keep-alive.
    const { etag, body } = await new Promise((resolve, reject) => {
      http
        .get(`${ours.url}/v1/bundle`, { agent: false }, (response) => {
          const chunks = [];
          response.on("data", (chunk) => chunks.push(chunk));
          response.on("end", () =>
            resolve({ etag: response.headers.etag, body: Buffer.concat(chunks) }),
          );
        })
        .on("error", reject);
    });
    writeFileSync(bundleFile, body);
    const bare = spawn(process.execPath, [join(ROOT, "bench", "bare-server.js"), bundleFile], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    children.push(bare);
    const bareUrl = await new Promise((resolve) =>
      bare.stdout.once("data", (chunk) => resolve(String(chunk).trim())),
    );
    console.log(
      "prompts serve: GET /v1/bundle, 2 s a round, 32 connections, load from a separate process",
    );
    for (const [label, tag] of [
      ["200", undefined],
      ["304", etag],
    ]) {
      // Alternating rounds, each server going first in turn, the median of each: this
      // machine's speed drifts within a minute.
      const floors = [];
      const mine = [];
      for (let round = 0; round < 5; round++) {
        const bareRound = () => floors.push(runLoad(`${bareUrl}/`, 2, 32, tag).perSecond);
        const ourRound = () => mine.push(runLoad(`${ours.url}/v1/bundle`, 2, 32, tag).perSecond);
        if (round % 2 === 0) {
          bareRound();
          ourRound();
        } else {
          ourRound();
          bareRound();
        }
      }
      const floor = median(floors);
      const served = median(mine);
      console.log(
        `  ${label}: bare node:http ${floor.toFixed(0)} req/s, prompts serve ${served.toFixed(0)} req/s → ${(served / floor).toFixed(2)}x (median of 5 alternating rounds; goal: at least 0.85x)`,
      );
    }

    // Usage ingest: batched posts, as the client library sends them.
    const batch = 200;
    const concurrency = 8;
    const deadline = performance.now() + 3000;
    let acked = 0;
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const events = Array.from({ length: batch }, () => ({
            type: "outcome",
            id: `bench-${next++}`,
            usage_id: "u",
            score: 1,
          }));
          const response = await fetch(`${ours.url}/v1/usage`, {
            method: "POST",
            body: JSON.stringify(events),
            headers: { "content-type": "application/json" },
          });
          if (response.status === 202) acked += (await response.json()).accepted;
        }
      }),
    );
    const perSecond = acked / ((performance.now() - start) / 1000);
    const lines = readFileSync(join(small, ".prompts", "usage", "events.jsonl"), "utf8")
      .trim()
      .split("\n").length;
    console.log(
      `  usage ingest: ${perSecond.toFixed(0)} events/s acknowledged (batches of ${batch}, ${concurrency} at a time); ${acked} acked, ${lines} in the file (goal: at least 20,000/s, all present)`,
    );
    await stop(ours.child);
    await stop(bare);

    for (const count of [1_000, 10_000]) {
      const root = join(base, `tree${count}`);
      generatePromptTree(root, count);
      const starting = performance.now();
      const server = await startServe(root);
      const startup = performance.now() - starting;
      children.push(server.child);
      const controller = new AbortController();
      const waiting = new Map();
      void readEvents(
        server.url,
        (event, data) => {
          if (event !== "bundle") return;
          for (const name of data.changed) waiting.get(name)?.(performance.now());
        },
        controller.signal,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      const latencies = [];
      for (let i = 0; i < 40; i++) {
        const n = i * 7;
        const name = `team${n % 50}/area${n % 7}/prompt_${n}`;
        const file = join(root, "prompts", `${name}.yaml`);
        const text = readFileSync(file, "utf8").replace(
          /generated prompt number \d+/i,
          `edited ${i}`,
        );
        const seen = new Promise((resolve) => waiting.set(name, resolve));
        const wrote = performance.now();
        writeFileSync(file, text);
        const at = await Promise.race([
          seen,
          new Promise((resolve) => setTimeout(() => resolve(Number.NaN), 5000)),
        ]);
        waiting.delete(name);
        latencies.push(at - wrote);
      }
      controller.abort();
      const sorted = latencies.filter(Number.isFinite).sort((a, b) => a - b);
      const p = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
      const goal = count === 1_000 ? 100 : 200;
      console.log(`  start-up with ${count} prompts, no .prompts/ yet: ${fmt(startup)}`);
      console.log(
        `  edit → SSE event, ${count} prompts: p50 ${fmt(p(0.5))}, p95 ${fmt(p(0.95))} over ${sorted.length} edits (goal: p95 under ${goal} ms); serve RSS ${rssMb(server.child.pid).toFixed(0)} MB${count === 10_000 ? " (goal: under 200 MB)" : ""}`,
      );
      await stop(server.child);
    }
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(base, { recursive: true, force: true });
  }
}

/**
 * The client library: cached render throughput against a bare Mustache.render of the same
 * template, what usage logging adds to one render, and edit-to-swap latency with `watch`
 * (file saved → the client's `update` event) through `prompts serve`.
 */
async function clientBench() {
  const { PromptClient } = await import("../dist/index.js");
  const base = mkdtempSync(join(tmpdir(), "gitprompts-bench-client-"));
  const children = [];
  try {
    const bundleFile = join(base, "bundle.json");
    timeSpawn([BIN, "-C", ROOT, "publish", "--out", bundleFile, "--no-cache"]);
    const variables = ANSWERER_VARIABLES;
    const quiet = new PromptClient({ source: bundleFile, usage: false, refreshMs: 0 });
    await quiet.ready();
    let delivered = 0;
    const logging = new PromptClient({
      source: bundleFile,
      refreshMs: 0,
      usage: async (events) => {
        delivered += events.length;
      },
    });
    await logging.ready();
    const template = quiet.get("answerer_prompt").template;
    // Chunks of 1,000 with a turn of the event loop between, as an application would give
    // the queue a chance to send.
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const perCall = async (fn) => {
      for (let i = 0; i < 20_000; i++) fn();
      await tick();
      let spent = 0;
      for (let chunk = 0; chunk < 200; chunk++) {
        const start = performance.now();
        for (let i = 0; i < 1_000; i++) fn();
        spent += performance.now() - start;
        await tick();
      }
      return (spent / 200_000) * 1000;
    };
    const rounds = [];
    for (let round = 0; round < 5; round++) {
      rounds.push({
        bare: await perCall(() => Mustache.render(template, variables)),
        quiet: await perCall(() => quiet.render("answerer_prompt", variables)),
        logging: await perCall(() => logging.render("answerer_prompt", variables)),
      });
    }
    await logging.close();
    const bare = median(rounds.map((r) => r.bare));
    const cached = median(rounds.map((r) => r.quiet));
    const logged = median(rounds.map((r) => r.logging));
    console.log("client library (in process)");
    console.log(
      `  cached render ${cached.toFixed(2)} µs vs bare Mustache.render ${bare.toFixed(2)} µs → ${(bare / cached).toFixed(2)}x throughput (goal: at least 0.8x)`,
    );
    console.log(
      `  usage logging adds ${(logged - cached).toFixed(2)} µs per render (goal: under 2 µs); ${delivered} events delivered`,
    );

    const root = join(base, "tree");
    execFileSync("mkdir", ["-p", root]);
    execFileSync("cp", ["-r", join(ROOT, "prompts"), root]);
    const server = await startServe(root);
    children.push(server.child);
    const client = new PromptClient({
      source: server.url,
      watch: true,
      refreshMs: 0,
      usage: false,
    });
    await client.ready();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const file = join(root, "prompts", "answerer_prompt.yaml");
    const original = readFileSync(file, "utf8");
    const latencies = [];
    for (let i = 0; i < 30; i++) {
      const seen = new Promise((resolve) => {
        const listener = () => {
          client.off("update", listener);
          resolve(performance.now());
        };
        client.on("update", listener);
      });
      const wrote = performance.now();
      writeFileSync(file, original.replace("intelligent assistant", `intelligent assistant ${i}`));
      const at = await Promise.race([
        seen,
        new Promise((resolve) => setTimeout(() => resolve(Number.NaN), 3000)),
      ]);
      latencies.push(at - wrote);
    }
    await client.close();
    const sorted = latencies.filter(Number.isFinite).sort((a, b) => a - b);
    const p = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    console.log(
      `  edit → client update (watch, through prompts serve): p50 ${fmt(p(0.5))}, p95 ${fmt(p(0.95))} over ${sorted.length} edits (goal: p95 under 150 ms)`,
    );
    await stop(server.child);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(base, { recursive: true, force: true });
  }
}

/**
 * prompts stats over 100,000 and 1,000,000 events (usages and outcomes, half each), by variant
 * with the always-valid and the fixed method and the split checked against real prompt files:
 * time, and peak resident memory. The sample-ratio check keeps each distinct unit once, so its
 * memory grows with the units, not the events: measured with every usage a unit of its own
 * (500,000 units at 1M events, the worst case) and with 50,000 users who come back; the rest
 * must not grow with the number of events (the store is streamed).
 */
function statsBench() {
  const base = mkdtempSync(join(tmpdir(), "gitprompts-bench-stats-"));
  try {
    console.log("prompts stats over generated usage stores");
    // Units: every usage its own (the worst case), or 50,000 users coming back 10 times.
    for (const [events, users] of [
      [100_000, Infinity],
      [1_000_000, Infinity],
      [1_000_000, 50_000],
    ]) {
      const root = join(base, `${events}-${users}`);
      execFileSync("mkdir", ["-p", join(root, ".prompts", "usage"), join(root, "prompts")]);
      for (let p = 0; p < 20; p++) {
        writeFileSync(
          join(root, "prompts", `p${p}.yaml`),
          `description: Bench prompt ${p}.\ntemplate: Answer {{q}}\nvariables: { q: string }\nvariants:\n  concise:\n    weight: 30\n    template: Briefly, {{q}}\n`,
        );
      }
      const listed = JSON.parse(
        execFileSync(process.execPath, [BIN, "-C", root, "--json", "list"], { encoding: "utf8" }),
      );
      const versions = new Map(listed.prompts.map((prompt) => [prompt.name, prompt.version]));
      const lines = [];
      for (let i = 0; i < events / 2; i++) {
        // 30% concise, as the prompts declare; i / 20 keeps the split exact within each prompt,
        // and a returning user (i mod 50,000) keeps their prompt and variant.
        const variant = Math.floor(i / 20) % 10 < 3 ? "concise" : "default";
        const id = `u${i}`;
        lines.push(
          JSON.stringify({
            type: "usage",
            id,
            ts: "2026-11-01T00:00:00.000Z",
            name: `p${i % 20}`,
            version: versions.get(`p${i % 20}`),
            variant,
            unit: `user-${i % users}`,
            input: { q: "x" },
          }),
        );
        lines.push(
          JSON.stringify({
            type: "outcome",
            id: `o${i}`,
            ts: "2026-11-01T00:00:01.000Z",
            usage_id: id,
            score: (i % 10) / 10,
            success: i % 4 !== 0,
            latency_ms: 100 + (i % 900),
            tokens: { input: 300, output: 120 },
            cost: 0.001,
          }),
        );
      }
      writeFileSync(join(root, ".prompts", "usage", "events.jsonl"), `${lines.join("\n")}\n`);
      lines.length = 0;
      for (const method of ["always-valid", "fixed"]) {
        const result = spawnSync(
          "/usr/bin/time",
          [
            "-f",
            "%e %M",
            process.execPath,
            BIN,
            "-C",
            root,
            "stats",
            "--by",
            "variant",
            "--method",
            method,
          ],
          { encoding: "utf8" },
        );
        const [seconds, kb] = (result.stderr.trim().split("\n").pop() ?? "0 0")
          .split(" ")
          .map(Number);
        const split = /^split: .*$/m.exec(result.stdout)?.[0] ?? "no split line";
        console.log(
          `  ${String(events).padStart(9)} events, ${String(Math.min(users, events / 2)).padStart(7)} units, ${method.padEnd(12)}: ${seconds.toFixed(2)} s, peak RSS ${(kb / 1024).toFixed(0)} MB (goal: 1,000,000 under 5 s, memory not growing with the events)`,
        );
        if (method === "always-valid") console.log(`    first prompt's ${split}`);
      }
      rmSync(root, { recursive: true, force: true });
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

/** The Python client's goals, measured by its own bench in the test environment (.venv). */
function pythonBench() {
  const python = join(ROOT, ".venv", "bin", "python");
  const setup = spawnSync("bash", [join(ROOT, "scripts", "setup-python.sh")], { stdio: "inherit" });
  if (setup.status !== 0) throw new Error("cannot set up .venv for the Python bench");
  const result = spawnSync(python, [join(ROOT, "bench", "client_bench.py")], { stdio: "inherit" });
  if (result.status !== 0) throw new Error(`bench/client_bench.py failed (${result.status})`);
}

/**
 * `prompts import`: 10,000 dict prompts (goal: under 5 s) and a Langfuse export of 1,000
 * versions into history (goal: under 30 s), each against a floor measured in the same run:
 * writing the same number of files with plain Node, and `git fast-import` of as many commits.
 */
function importBench() {
  const base = mkdtempSync(join(tmpdir(), "gitprompts-bench-import-"));
  try {
    const dict = {};
    for (let i = 0; i < 10_000; i++) {
      dict[`team${i % 20}/prompt_${i}`] =
        i % 3 === 0
          ? `Answer {user_query} for {customer.name} using {{"format": "json"}}.`
          : `You are assistant ${i}. Question: {question}`;
    }
    writeFileSync(join(base, "dict.json"), JSON.stringify(dict));
    const versions = [];
    for (let p = 0; p < 100; p++) {
      for (let v = 1; v <= 10; v++) {
        versions.push({
          name: `agents/agent_${p}`,
          version: v,
          type: p % 2 ? "text" : "chat",
          prompt:
            p % 2
              ? `Agent ${p} v${v}: help {{user}} with {{task}}.`
              : [
                  { role: "system", content: `Agent ${p} v${v}.` },
                  { role: "user", content: "{{question}}" },
                ],
          config: { model: "gpt-4o", temperature: 0.1 * (v % 5) },
          labels: v === 7 ? ["production"] : v === 10 ? ["staging", "latest"] : [],
          tags: [],
          commitMessage: `agent ${p} v${v}`,
          createdAt: new Date(Date.UTC(2026, 0, 1) + (v * 100 + p) * 60_000).toISOString(),
        });
      }
    }
    writeFileSync(join(base, "langfuse.json"), JSON.stringify(versions));

    const dictDir = join(base, "dict-out");
    const dictTime = timeImport(["import", "dict", join(base, "dict.json"), "--into", dictDir]);
    const floorScript = `const fs=require("fs"),p=require("path");const d=JSON.parse(fs.readFileSync(${JSON.stringify(join(base, "dict.json"))},"utf8"));for(const[k,v]of Object.entries(d)){const f=p.join(${JSON.stringify(join(base, "floor-out"))},k+".yaml");fs.mkdirSync(p.dirname(f),{recursive:true});fs.writeFileSync(f,"template: "+JSON.stringify(v)+"\\n")}`;
    const dictFloor = timeSpawn(["-e", floorScript]);

    const repo = join(base, "repo");
    execFileSync("git", ["init", "-q", "-b", "main", repo]);
    execFileSync("git", ["-C", repo, "commit", "-q", "--allow-empty", "-m", "start"]);
    const langfuseTime = timeImport(["import", "langfuse", join(base, "langfuse.json")], repo);
    const floorRepo = join(base, "floor-repo");
    execFileSync("git", ["init", "-q", floorRepo]);
    let stream = "";
    for (let i = 0; i < versions.length; i++) {
      const text = `v${i}\n`;
      stream += `commit refs/heads/main\ncommitter A <a@b> ${1_700_000_000 + i} +0000\ndata 1\nx\nM 100644 inline f${i % 100}.yaml\ndata ${text.length}\n${text}\n`;
    }
    const start = performance.now();
    spawnSync("git", ["fast-import", "--quiet"], { cwd: floorRepo, input: stream });
    const gitFloor = performance.now() - start;
    const commits = execFileSync("git", ["-C", repo, "rev-list", "--count", "HEAD"], {
      encoding: "utf8",
    }).trim();

    console.log("prompts import");
    console.log(`  plain Node writing 10,000 files          ${fmt(dictFloor)}`);
    console.log(
      `  import dict, 10,000 prompts              ${fmt(dictTime)}  ${(dictTime / dictFloor).toFixed(2)}x (goal: under 5 s)`,
    );
    console.log(`  git fast-import of 1,000 commits         ${fmt(gitFloor)}`);
    console.log(
      `  import langfuse, 1,000 versions → ${commits - 1} commits  ${fmt(langfuseTime)}  ${(langfuseTime / gitFloor).toFixed(2)}x (goal: under 30 s)`,
    );
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

/** Times one `prompts import`, which exits 0 (nothing refused) for the generated sources. */
function timeImport(args, cwd = ROOT) {
  return timeSpawn([BIN, ...args], cwd);
}

// `npm run bench -- history` runs one section; no argument runs them all.
const sections = {
  stats: statsBench,
  serve: serveBench,
  client: clientBench,
  render: renderThroughput,
  start: coldStart,
  validate: validateTrees,
  history: historyBench,
  python: pythonBench,
  import: importBench,
  web: () => webPageBench({ root: ROOT, bin: BIN }),
};
const chosen = process.argv.slice(2);
for (const [name, run] of Object.entries(sections)) {
  if (chosen.length === 0 || chosen.includes(name)) await run();
}
