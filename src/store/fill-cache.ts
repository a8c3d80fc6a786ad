import { loadSources } from "./load.js";

// Loads a tree so that its parse results are saved to the cache; see fillCacheInChild in
// parse-pool.ts. Arguments: the repository root and the prompt directory.
const [root, dir] = process.argv.slice(2);
if (root !== undefined && dir !== undefined) await loadSources({ root, dir });
