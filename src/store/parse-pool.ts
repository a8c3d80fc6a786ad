import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import type { ParsedPromptFile } from "../core/parse.js";

/** Below this many files, starting workers costs more than it saves. */
export const PARALLEL_THRESHOLD = 2_000;
const MAX_WORKERS = 8;
/** Fewer cores than this parse faster on the calling thread alone (measured on two). */
const MIN_CORES = 4;
const WORKER_URL = new URL("./parse-worker.js", import.meta.url);
const FILL_CACHE_URL = new URL("./fill-cache.js", import.meta.url);

/**
 * Parses prompt files, on every core when there are many: YAML parsing is most of the cost of
 * loading a large tree, and it is pure CPU work.
 */
export async function parsePromptTexts(texts: readonly string[]): Promise<ParsedPromptFile[]> {
  const workers = parsesOnThisThread()
    ? 0
    : Math.min(
        MAX_WORKERS,
        availableParallelism(),
        Math.floor((2 * texts.length) / PARALLEL_THRESHOLD),
      );
  // Run from TypeScript sources (as in tests), there is no compiled worker to start.
  if (workers < 2 || !existsSync(fileURLToPath(WORKER_URL))) {
    const { parsePromptSource } = await import("../core/parse.js");
    return texts.map((text) => parsePromptSource(text));
  }
  const size = Math.ceil(texts.length / workers);
  const shares = Array.from({ length: workers }, (_, index) =>
    texts.slice(index * size, (index + 1) * size),
  );
  // Loaded here: start-up of a command that parses a handful of files must not pay for threads.
  const { Worker } = await import("node:worker_threads");
  const results = await Promise.all(shares.map((share) => parseInWorker(Worker, share)));
  return results.flat();
}

/**
 * True when files are parsed on the calling thread, whatever their number: a loader can then
 * parse each as it is read. Parsing allocates heavily, and two threads (or processes) of it on
 * two cores each ran at about half speed: with worker start-up and the copy of results back,
 * 10,000 files took longer on two workers than on one thread (1.0 s against 0.75 s).
 */
export function parsesOnThisThread(): boolean {
  return availableParallelism() < MIN_CORES;
}

function parseInWorker(
  Worker: typeof import("node:worker_threads").Worker,
  texts: string[],
): Promise<ParsedPromptFile[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL);
    worker.once("message", (parsed: ParsedPromptFile[]) => {
      resolve(parsed);
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (code !== 0) reject(new Error(`the parse worker stopped with code ${code}`));
    });
    worker.postMessage(texts);
  });
}

/**
 * Loads a tree in a child process, which parses what the cache lacks (on every core) and saves
 * it to the cache; false if that could not be done. Threads would do it as fast, but what they
 * took stays in this process's resident memory after they end — tens of megabytes for a large
 * tree, which a long-running server would carry for good.
 */
export async function fillCacheInChild(root: string, dir: string): Promise<boolean> {
  const script = fileURLToPath(FILL_CACHE_URL);
  // Run from TypeScript sources (as in tests), there is no compiled script to start.
  if (!existsSync(script)) return false;
  const { spawn } = await import("node:child_process");
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, root, dir], { stdio: "ignore" });
    child.once("error", () => resolve(false));
    child.once("exit", (code) => resolve(code === 0));
  });
}
