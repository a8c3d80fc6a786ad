import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type PromptServer, type ServeOptions } from "../src/server/app.js";
import { cli, expectOneLineError, tempDir } from "./helpers.js";
import { GREETING } from "./sample-prompts.js";

const PROMPTS = { "prompts/greeting.yaml": GREETING };
const USAGE_LOG = join(".prompts", "usage", "events.jsonl");
interface ErrorJson {
  error: { code: string; message: string };
}

const servers: PromptServer[] = [];
// Registered after helpers' own afterEach, so it runs first: servers close before their dirs go.
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(root: string, options: ServeOptions = {}) {
  const logs: string[] = [];
  const server = await createServer({ root, port: 0, log: (line) => logs.push(line), ...options });
  servers.push(server);
  return { url: server.url, port: Number(new URL(server.url).port), logs };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request on its own connection, with the headers exactly as given (Host included). */
function exchange(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const { hostname: host, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host,
        port,
        path,
        method: options.method ?? "GET",
        headers: options.headers ?? {},
        agent: false,
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text }),
        );
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(options.body);
  });
}

const errorOf = (answer: Answer) => (JSON.parse(answer.text) as ErrorJson).error;

describe("stats dates and event times are strict ISO 8601", () => {
  it("/v1/stats names the query parameter of a date that is not one, and reads the zone of one that is", async () => {
    const { url } = await serve(tempDir(PROMPTS));
    for (const [query, field] of [
      ["since=2024-02-30", "since"],
      ["since=1", "since"],
      ["since=yesterday", "since"],
      ["until=2024-13-01", "until"],
      ["until=2024-05-01T12:00:00", "until"],
      ["since=2023-02-29", "since"],
    ] as const) {
      const answer = await exchange(url, `/v1/stats?${query}`);
      expect({ query, status: answer.status }).toEqual({ query, status: 400 });
      const error = errorOf(answer);
      expect(error.code).toBe("invalid_request");
      expect(error.message).toMatch(new RegExp(`^${field}: must be an ISO 8601 date`));
      expect(error.message).not.toContain("--");
    }
    const logged = await exchange(url, "/v1/usage", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        type: "usage",
        name: "greeting",
        version: "v1",
        ts: "2024-05-01T12:00:00Z",
      }),
    });
    expect(logged.status).toBe(202);
    // The usage at 12:00 UTC, against ranges given as days and as times in other zones.
    for (const [query, usages] of [
      ["since=2024-02-29", 1],
      ["since=2024-05-01", 1],
      ["since=2024-05-02", 0],
      ["since=2024-05-01T13:30%2B02:00", 1],
      ["since=2024-05-01T12:00:00.001Z", 0],
      ["until=2024-05-01T13:30:00.123%2B02:00", 0],
      ["until=2024-05-01T08:00-04:00", 1],
    ] as const) {
      const answer = await exchange(url, `/v1/stats?${query}`);
      expect({ query, status: answer.status }).toEqual({ query, status: 200 });
      const report = JSON.parse(answer.text) as { prompts: { groups: { usages: number }[] }[] };
      const counted = report.prompts[0]?.groups[0]?.usages ?? 0;
      expect({ query, usages: counted }).toEqual({ query, usages });
    }
  });

  it("`prompts stats --since` keeps naming --since", async () => {
    const root = tempDir(PROMPTS);
    expectOneLineError(
      await cli(root, "stats", "--since", "2024-02-30"),
      2,
      "--since takes a date in ISO 8601",
      'got "2024-02-30"',
    );
    expectOneLineError(
      await cli(root, "stats", "--until", "1"),
      2,
      "--until takes a date in ISO 8601",
    );
  });

  it("an event's ts that is not a calendar ISO 8601 date is 400 naming event.ts", async () => {
    const root = tempDir(PROMPTS);
    const { url } = await serve(root);
    const post = (ts: string) =>
      exchange(url, "/v1/usage", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          type: "usage",
          id: randomUUID(),
          name: "greeting",
          version: "v",
          ts,
        }),
      });
    for (const ts of ["2024-02-30T00:00:00Z", "1", "2024-05-01T12:00:00", "May 1, 2024"]) {
      const answer = await post(ts);
      expect({ ts, status: answer.status }).toEqual({ ts, status: 400 });
      expect(errorOf(answer).message).toMatch(/^event\.ts: must be an ISO 8601 date/);
    }
    const good = await post("2024-05-01T12:00:00.5+02:00");
    expect(good.status).toBe(202);
    expect(readFileSync(join(root, USAGE_LOG), "utf8")).toContain(
      '"ts":"2024-05-01T12:00:00.5+02:00"',
    );
  });
});
