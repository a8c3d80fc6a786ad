import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPrompts, parsePromptFiles } from "../src/store/load.js";
import { ParseCache } from "../src/store/parse-cache.js";
import { tempDir } from "./helpers.js";

const prompt = (i: number, greeting = "Hello") =>
  `description: Prompt number ${i}.\nvariables:\n  name: string\ntemplate: ${greeting} {{name}} from ${i}\n`;

/** The cache file's lines: its header, then one entry per line, oldest first. */
function cacheLines(root: string): string[] {
  return readFileSync(join(root, ".prompts", "cache", "parse.log"), "utf8").split("\n");
}

describe("the parse cache's bound", () => {
  it("rewrites a cache file grown past its cap to its newest entries, and answers stay the same", async () => {
    const files = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`prompts/p${i}.yaml`, prompt(i)]),
    );
    const root = tempDir(files);
    const fresh = await loadPrompts({ root, cache: false });
    expect(fresh.prompts.size).toBe(30);

    expect(await loadPrompts({ root })).toEqual(fresh); // starts the cache
    expect(await loadPrompts({ root })).toEqual(fresh); // fills it, unbounded here
    const cachePath = join(root, ".prompts", "cache", "parse.log");
    const full = statSync(cachePath).size;
    const [header, ...entries] = cacheLines(root);
    expect(entries.filter(Boolean)).toHaveLength(30);

    // One edited file parsed through a cache capped at the current size: the append passes the
    // cap, so the file keeps only the newest entries, within half of it.
    const edited = prompt(0, "Good evening");
    writeFileSync(join(root, "prompts", "p0.yaml"), edited);
    const cache = ParseCache.open(root, { maxBytes: full });
    await parsePromptFiles({ root, cache }, [
      { name: "p0", file: "prompts/p0.yaml", text: edited },
    ]);
    cache.save();

    expect(statSync(cachePath).size).toBeLessThanOrEqual(full / 2 + header!.length + 1);
    const [keptHeader, ...kept] = cacheLines(root);
    expect(keptHeader).toBe(header);
    const keptEntries = kept.filter(Boolean);
    const newest = keptEntries.at(-1);
    expect(newest).toContain("Good evening");
    // What stays is the newest run of whole entries, oldest first.
    expect(keptEntries.length).toBeGreaterThan(1);
    expect(keptEntries.length).toBeLessThan(30);
    const written = [...entries.filter(Boolean), newest];
    expect(keptEntries).toEqual(written.slice(-keptEntries.length));

    // Entries dropped by the bound are parsed again; nothing a load answers changes.
    const afterEdit = await loadPrompts({ root, cache: false });
    expect(afterEdit.prompts.get("p0")?.template).toBe("Good evening {{name}} from 0");
    expect(await loadPrompts({ root })).toEqual(afterEdit);
    expect(await loadPrompts({ root })).toEqual(afterEdit);
  });
});
