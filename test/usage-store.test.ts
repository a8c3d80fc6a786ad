import { appendFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PromptEvent } from "../src/core/usage.js";
import { UsageLog } from "../src/server/usage-log.js";
import { readUsageEvents, USAGE_DIR } from "../src/store/usage-store.js";
import { tempDir } from "./helpers.js";

const usage = (i: number): PromptEvent => ({
  type: "usage",
  id: `u${i}`,
  ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  name: "greeting",
  version: "aaaaaaaaaaaa",
  variant: "default",
});

async function readAll(root: string) {
  const events: PromptEvent[] = [];
  const report = await readUsageEvents(root, (event) => events.push(event));
  return { events, report };
}

describe("the usage store", () => {
  it("rotates the log by size and reads every file back in order", async () => {
    const root = tempDir();
    const log = UsageLog.forRoot(root, { maxBytes: 1_000 });
    for (let i = 0; i < 60; i++) await log.append([JSON.stringify(usage(i))]);
    await log.close();
    const files = readdirSync(join(root, USAGE_DIR));
    expect(files.filter((name) => name.startsWith("events-")).length).toBeGreaterThan(2);
    const { events, report } = await readAll(root);
    expect(events.map((event) => event.id)).toEqual(Array.from({ length: 60 }, (_, i) => `u${i}`));
    expect(report).toMatchObject({ events: 60, skipped: 0, warnings: [] });
    expect(report.files).toBe(files.length);
  });

  it("skips a torn last line with a warning, never an error", async () => {
    const root = tempDir();
    const log = UsageLog.forRoot(root);
    await log.append([JSON.stringify(usage(1)), JSON.stringify(usage(2))]);
    await log.close();
    appendFileSync(join(root, USAGE_DIR, "events.jsonl"), '{"type":"usage","id":"u3","na');
    const { events, report } = await readAll(root);
    expect(events.map((event) => event.id)).toEqual(["u1", "u2"]);
    expect(report.skipped).toBe(1);
    expect(report.warnings).toEqual([
      expect.stringMatching(/events\.jsonl:3: the last line is torn/),
    ]);
  });

  it("skips lines that are not events, naming them, and goes on", async () => {
    const root = tempDir({
      [`${USAGE_DIR}/events.jsonl`]: `${JSON.stringify(usage(1))}\nnot json\n{"type":"other"}\n${JSON.stringify(usage(2))}\n`,
    });
    const { events, report } = await readAll(root);
    expect(events.map((event) => event.id)).toEqual(["u1", "u2"]);
    expect(report.skipped).toBe(2);
    expect(report.warnings).toEqual([
      expect.stringMatching(/events\.jsonl:2: not a JSON event/),
      expect.stringMatching(/events\.jsonl:3: not a usage or outcome event/),
    ]);
  });

  it("skips JSON lines that are not valid events, naming the field, and keeps the rest", async () => {
    const noVersion: Record<string, unknown> = { ...usage(2) };
    delete noVersion.version;
    const root = tempDir({
      [`${USAGE_DIR}/events.jsonl`]: [
        JSON.stringify(usage(1)),
        JSON.stringify(noVersion),
        JSON.stringify({ ...usage(3), name: 1 }),
        JSON.stringify({
          type: "outcome",
          id: "o1",
          ts: "2026-01-01T00:00:00Z",
          usage_id: "u1",
          score: "high",
        }),
        JSON.stringify({ type: "outcome", id: "o2", ts: "2026-01-01T00:00:00Z" }),
        JSON.stringify({ ...usage(4), variant: undefined }),
        "",
      ].join("\n"),
    });
    const { events, report } = await readAll(root);
    expect(events.map((event) => event.id)).toEqual(["u1", "u4"]);
    expect(events[1]).toMatchObject({ variant: "default" });
    expect(report.skipped).toBe(4);
    expect(report.warnings).toEqual([
      `${USAGE_DIR}/events.jsonl:2: not a valid usage event (version: required); skipped`,
      `${USAGE_DIR}/events.jsonl:3: not a valid usage event (name: must be a non-empty string, got 1); skipped`,
      `${USAGE_DIR}/events.jsonl:4: not a valid outcome event (score: must be a number, got "high"); skipped`,
      `${USAGE_DIR}/events.jsonl:5: not a valid outcome event (usage_id: required); skipped`,
    ]);
  });

  it("reads nothing, without error, where no event was ever logged", async () => {
    expect((await readAll(tempDir())).report).toEqual({
      files: 0,
      events: 0,
      skipped: 0,
      warnings: [],
    });
  });
});
