import { parentPort } from "node:worker_threads";
import { parsePromptSource } from "../core/parse.js";

// Parses a share of a large tree on another core; see parse-pool.ts.
parentPort?.on("message", (texts: string[]) => {
  parentPort?.postMessage(texts.map((text) => parsePromptSource(text)));
});
