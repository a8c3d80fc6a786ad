import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type PromptServer } from "../src/server/app.js";
import { cli, git, gitRepo, tempDir, waitUntil, writeFiles } from "./helpers.js";
import { ANSWERER, GREETING, PLANNER } from "./sample-prompts.js";

const servers: PromptServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const TOKEN = "s3cret-token";
const AUTH = { authorization: `Bearer ${TOKEN}` };

async function serve(root: string): Promise<string> {
  const server = await createServer({ root, port: 0, token: TOKEN, log: () => {} });
  servers.push(server);
  return server.url;
}

async function getJson<T = Record<string, unknown>>(url: string, init: RequestInit = {}) {
  const response = await fetch(url, { ...init, headers: { ...AUTH, ...init.headers } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

async function expectError(url: string, status: number, code: string, message?: RegExp) {
  const { status: actual, body } = await getJson<{ error: { code: string; message: string } }>(url);
  expect({ url, status: actual, code: body.error?.code }).toEqual({ url, status, code });
  expect(Object.keys(body)).toEqual(["error"]);
  if (message) expect(body.error.message).toMatch(message);
}

/** The CLI's `--json` output for the same repository. */
async function cliJson(root: string, ...argv: string[]): Promise<unknown> {
  const result = await cli(root, "--json", ...argv);
  expect({ argv, code: result.code, stderr: result.stderr }).toEqual({ argv, code: 0, stderr: "" });
  return JSON.parse(result.stdout);
}

const SIGNATURE = `template: "-- the team"\n`;
const SIGNED = GREETING.replace("Hello {{name}}!", "Hello {{name}}! {{> shared/signature}}");

/**
 * A repository with history: four commits (a partial edited, a prompt renamed text → chat),
 * annotated tags v1 and v2 and a lightweight one, a label moved twice, usage over three days.
 */
function historyRepo(): string {
  const root = gitRepo([
    {
      files: {
        "prompts/greeting.yaml": SIGNED,
        "prompts/shared/signature.yaml": SIGNATURE,
        "prompts/answerer.yaml": ANSWERER,
      },
      message: "first prompts",
      tags: ["v1"],
    },
    {
      files: { "prompts/shared/signature.yaml": `template: "-- the whole team"\n` },
      message: "longer signature",
    },
    {
      files: { "prompts/planner.yaml": PLANNER },
      message: "add the planner",
      tags: ["v2"],
    },
    {
      files: { "prompts/greeting.yaml": SIGNED.replace("Hello", "Hi") },
      message: "say hi",
    },
  ]);
  git(root, "tag", "light");
  git(root, "branch", "feature", "v1");
  return root;
}

async function labelled(root: string): Promise<void> {
  for (const ref of ["v1", "v2"]) {
    const moved = await cli(root, "label", "production", ref);
    expect(moved.code).toBe(0);
  }
  expect((await cli(root, "label", "staging", "HEAD")).code).toBe(0);
}

function usageLines(events: object[]): string {
  return events.map((event) => JSON.stringify(event)).join("\n") + "\n";
}

describe("GET /v1/history/:name", () => {
  it("answers what prompts log NAME --json prints, from HEAD or a ref", async () => {
    const root = historyRepo();
    const url = await serve(root);
    const { status, body } = await getJson(`${url}/v1/history/greeting`);
    expect(status).toBe(200);
    expect(body).toEqual(await cliJson(root, "log", "greeting"));
    // Three versions: the partial's edit counts, the tag is the first containing each.
    expect((body.versions as { subject: string }[]).map((v) => v.subject)).toEqual([
      "say hi",
      "longer signature",
      "first prompts",
    ]);
    const atV2 = await getJson(`${url}/v1/history/greeting?ref=v2`);
    expect(atV2.body).toEqual(await cliJson(root, "log", "greeting", "--ref", "v2"));
    expect((atV2.body.versions as unknown[]).length).toBe(2);
    const sha = git(root, "rev-parse", "HEAD~1").trim();
    for (const ref of ["HEAD~1", sha, "v2", "feature"]) {
      const { status: refStatus } = await getJson(`${url}/v1/history/greeting?ref=${ref}`);
      expect({ ref, status: refStatus }).toEqual({ ref, status: 200 });
    }
  });

  it("404 for a prompt with no history or an unknown ref, 400 for a ref git could misread", async () => {
    const root = historyRepo();
    const url = await serve(root);
    await expectError(`${url}/v1/history/nope`, 404, "prompt_not_found", /nope/);
    await expectError(
      `${url}/v1/history/greeting?ref=v9`,
      404,
      "ref_not_found",
      /^ref: no ref "v9"$/,
    );
    const refused = ["--output=/tmp/x", "-x", "a..b", "a:b", "a b", "a\nb", "a\u0000b", "a@{1}"];
    for (const ref of [...refused, "a*", "a?", "a[b", "a\\b", "x".repeat(257)]) {
      await expectError(
        `${url}/v1/history/greeting?ref=${encodeURIComponent(ref)}`,
        400,
        "invalid_request",
        /^ref: /,
      );
    }
  });

  it("409 not_a_repository when the served folder is no git repository", async () => {
    const root = tempDir({ "prompts/greeting.yaml": GREETING });
    const url = await serve(root);
    for (const route of ["history/greeting", "diff", "labels", "refs"]) {
      await expectError(`${url}/v1/${route}`, 409, "not_a_repository", /not a git repository/);
    }
  });
});

describe("GET /v1/diff", () => {
  it("answers what prompts diff [FROM [TO]] [NAME…] --json prints", async () => {
    const root = historyRepo();
    writeFiles(root, { "prompts/answerer.yaml": ANSWERER.replace("Facts:", "Known facts:") });
    const url = await serve(root);
    // Defaults: HEAD against the working tree.
    const working = await getJson(`${url}/v1/diff`);
    expect(working.status).toBe(200);
    expect(working.body).toEqual(await cliJson(root, "diff"));
    expect(working.body).toMatchObject({ to: { ref: null, commit: null }, different: true });
    const between = await getJson(`${url}/v1/diff?from=v1&to=v2`);
    expect(between.body).toEqual(await cliJson(root, "diff", "v1", "v2"));
    const named = await getJson(`${url}/v1/diff?from=v1&to=HEAD&name=greeting&name=plan*`);
    expect(named.body).toEqual(await cliJson(root, "diff", "v1", "HEAD", "greeting", "plan*"));
    expect((named.body.prompts as { name: string }[]).map((p) => p.name).sort()).toEqual([
      "greeting",
      "planner",
    ]);
  });

  it("renders with vars as the CLI's --vars file does", async () => {
    const root = historyRepo();
    const vars = { greeting: { name: "Ada" } };
    writeFiles(root, { "vars.json": JSON.stringify(vars) });
    const url = await serve(root);
    const query = encodeURIComponent(JSON.stringify(vars));
    const { status, body } = await getJson(`${url}/v1/diff?from=v1&to=HEAD&vars=${query}`);
    expect(status).toBe(200);
    expect(body).toEqual(await cliJson(root, "diff", "v1", "HEAD", "--vars", "vars.json"));
    expect(JSON.stringify(body)).toContain("Hi Ada!");
    await expectError(`${url}/v1/diff?vars=%7Bnope`, 400, "invalid_request", /^vars: /);
    await expectError(`${url}/v1/diff?vars=%5B%5D`, 400, "invalid_request", /^vars: /);
  });

  it("404 names the parameter of an unknown ref; 400 for a ref that is an option, writing nothing", async () => {
    const root = historyRepo();
    const url = await serve(root);
    await expectError(`${url}/v1/diff?from=v9`, 404, "ref_not_found", /^from: no ref "v9"$/);
    await expectError(`${url}/v1/diff?from=v1&to=v9`, 404, "ref_not_found", /^to: no ref "v9"$/);
    await expectError(`${url}/v1/diff?name=nope`, 404, "prompt_not_found", /nope/);
    const out = join(tempDir(), "x");
    for (const parameter of ["from", "to"]) {
      await expectError(
        `${url}/v1/diff?${parameter}=${encodeURIComponent(`--output=${out}`)}`,
        400,
        "invalid_request",
        new RegExp(`^${parameter}: `),
      );
    }
    expect(existsSync(out)).toBe(false);
  });
});

describe("GET /v1/labels and /v1/refs", () => {
  it("labels: each as prompts label --json, with its moves as label --history", async () => {
    const root = historyRepo();
    await labelled(root);
    const url = await serve(root);
    const { status, body } = await getJson<{ labels: Record<string, unknown>[] }>(
      `${url}/v1/labels`,
    );
    expect(status).toBe(200);
    const listed = (await cliJson(root, "label")) as { labels: Record<string, unknown>[] };
    expect(body.labels.map(({ history: _, ...label }) => label)).toEqual(listed.labels);
    const production = body.labels.find((label) => label.label === "production");
    expect(production?.history).toEqual(
      ((await cliJson(root, "label", "--history", "production")) as { moves: unknown }).moves,
    );
    expect((production?.history as { ref: string }[]).map((move) => move.ref)).toEqual([
      "v2",
      "v1",
    ]);
    // A label works as a ref elsewhere.
    expect((await getJson(`${url}/v1/diff?from=production&to=staging`)).status).toBe(200);
  });

  it("labels: [] when there are none", async () => {
    const url = await serve(historyRepo());
    expect((await getJson(`${url}/v1/labels`)).body).toEqual({ labels: [] });
  });

  it("refs: HEAD, branches by name, tags newest first with their commit, labels by name", async () => {
    const root = historyRepo();
    await labelled(root);
    const url = await serve(root);
    const { status, body } = await getJson(`${url}/v1/refs`);
    expect(status).toBe(200);
    const sha = (rev: string) => git(root, "rev-parse", `${rev}^{commit}`).trim();
    const subject = (rev: string) => git(root, "log", "-1", "--format=%s", rev).trim();
    const date = (rev: string) => git(root, "log", "-1", "--format=%cI", rev).trim();
    expect(body).toEqual({
      head: { branch: "main", commit: sha("HEAD") },
      branches: ["feature", "main"].map((name) => ({
        name,
        commit: sha(name),
        date: date(name),
        subject: subject(name),
      })),
      tags: expect.any(Array),
      labels: [
        { name: "production", commit: sha("v2") },
        { name: "staging", commit: sha("HEAD") },
      ],
    });
    const tags = body.tags as { name: string; commit: string; subject: string; date: string }[];
    expect(new Set(tags.map((tag) => tag.name))).toEqual(new Set(["v1", "v2", "light"]));
    for (const tag of tags) {
      expect(tag).toEqual({
        name: tag.name,
        commit: sha(tag.name),
        date: date(tag.name),
        subject: subject(tag.name),
      });
    }
    const dates = tags.map((tag) => Date.parse(tag.date));
    expect([...dates].sort((a, b) => b - a)).toEqual(dates);
    git(root, "checkout", "-q", "--detach", "v1");
    expect((await getJson(`${url}/v1/refs`)).body.head).toEqual({
      branch: null,
      commit: sha("v1"),
    });
  });

  it("no route changes files or refs", async () => {
    const root = historyRepo();
    await labelled(root);
    const refsBefore = git(root, "for-each-ref");
    const url = await serve(root);
    for (const route of ["history/greeting", "diff?from=v1", "labels", "refs", "stats?series=day"])
      expect((await getJson(`${url}/v1/${route}`)).status).toBe(200);
    expect(git(root, "for-each-ref")).toBe(refsBefore);
    expect(git(root, "status", "--porcelain", "--untracked-files=no")).toBe("");
  });

  it("every new route needs the token", async () => {
    const url = await serve(historyRepo());
    for (const route of ["history/greeting", "diff", "labels", "refs", "stats?series=day"]) {
      const response = await fetch(`${url}/v1/${route}`);
      expect({ route, status: response.status }).toEqual({ route, status: 401 });
    }
  });
});

describe("GET /v1/stats?series=day", () => {
  const usage = (id: string, ts: string, version = "v-one") => ({
    type: "usage",
    id,
    ts,
    name: "greeting",
    version,
    variant: "default",
  });
  const outcome = (usageId: string, ts: string, fields: object) => ({
    type: "outcome",
    id: `o-${usageId}`,
    usage_id: usageId,
    ts,
    ...fields,
  });

  function statsRepo(): string {
    const root = historyRepo();
    writeFiles(root, {
      ".prompts/usage/events.jsonl": usageLines([
        usage("u1", "2026-03-01T10:00:00Z"),
        usage("u2", "2026-03-01T23:59:59Z"),
        // Its outcome comes first, and on the next day: it counts on its usage's day.
        outcome("u3", "2026-03-04T00:00:01Z", { success: false, score: 0.2 }),
        usage("u3", "2026-03-03T08:00:00Z"),
        outcome("u1", "2026-03-02T00:00:00Z", { success: true, score: 1 }),
        outcome("u2", "2026-03-02T00:00:00Z", { success: true, score: 0.5 }),
        usage("u4", "2026-03-02T12:00:00Z", "v-two"),
      ]),
    });
    return root;
  }

  it("gives each group one point per UTC day, zero-filled, over the prompt's usage days", async () => {
    const root = statsRepo();
    const url = await serve(root);
    const { status, body } = await getJson<{
      prompts: { groups: { key: string; series: unknown[] }[] }[];
    }>(`${url}/v1/stats?series=day`);
    expect(status).toBe(200);
    expect(body).toEqual(await cliJson(root, "stats", "--series", "day"));
    const groups = body.prompts[0]?.groups ?? [];
    expect(groups.map((group) => group.key)).toEqual(["v-one", "v-two"]);
    expect(groups[0]?.series).toEqual([
      { date: "2026-03-01", usages: 2, outcomes: 2, successes: 2, failures: 0, score_mean: 0.75 },
      { date: "2026-03-02", usages: 0, outcomes: 0, successes: 0, failures: 0, score_mean: null },
      { date: "2026-03-03", usages: 1, outcomes: 1, successes: 0, failures: 1, score_mean: 0.2 },
    ]);
    expect(groups[1]?.series).toEqual([
      { date: "2026-03-01", usages: 0, outcomes: 0, successes: 0, failures: 0, score_mean: null },
      { date: "2026-03-02", usages: 1, outcomes: 0, successes: 0, failures: 0, score_mean: null },
      { date: "2026-03-03", usages: 0, outcomes: 0, successes: 0, failures: 0, score_mean: null },
    ]);
  });

  it("without series the answer is byte for byte as before; a bad series or span is 400", async () => {
    const root = statsRepo();
    const url = await serve(root);
    const plain = await (await fetch(`${url}/v1/stats`, { headers: AUTH })).text();
    expect(plain).not.toContain("series");
    expect(JSON.parse(plain)).toEqual(await cliJson(root, "stats"));
    await expectError(
      `${url}/v1/stats?series=week`,
      400,
      "invalid_request",
      /^series: must be day/,
    );
    writeFiles(root, {
      ".prompts/usage/events.jsonl": usageLines([
        usage("a", "2010-01-01T00:00:00Z"),
        usage("b", "2026-01-01T00:00:00Z"),
      ]),
    });
    await expectError(`${url}/v1/stats?series=day`, 400, "invalid_request", /since and until/);
    const narrowed = await getJson(`${url}/v1/stats?series=day&since=2025-01-01`);
    expect(narrowed.status).toBe(200);
  });
});

describe("the render and list changes the page needs", () => {
  it('render with "log": false answers usage_id null and logs nothing; log must be a boolean', async () => {
    const root = historyRepo();
    const url = await serve(root);
    const render = (body: object, headers: Record<string, string> = {}) =>
      getJson(`${url}/v1/prompts/greeting/render`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    const tried = await render({ variables: { name: "Ada" }, log: false });
    expect(tried.status).toBe(200);
    expect(tried.body).toMatchObject({ text: "Hi Ada! -- the whole team\n", usage_id: null });
    expect(tried.body).not.toHaveProperty("warning");
    expect(existsSync(join(root, ".prompts", "usage", "events.jsonl"))).toBe(false);
    const logged = await render({ variables: { name: "Ada" } });
    expect(logged.body.usage_id).toEqual(expect.any(String));
    const bad = await render({ variables: { name: "Ada" }, log: "no" });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      error: { code: "invalid_request", message: "log: must be a boolean" },
    });
    // A page on another origin can post a form (text/plain) without asking: it is refused.
    const form = await fetch(`${url}/v1/prompts/greeting/render`, {
      method: "POST",
      headers: { ...AUTH, "content-type": "text/plain" },
      body: JSON.stringify({ variables: { name: "Ada" } }),
    });
    expect(form.status).toBe(415);
  });

  it("the list carries the working tree's issues, warnings included, and [] when clean", async () => {
    const root = historyRepo();
    const url = await serve(root);
    const clean = await getJson<{ issues: unknown[] }>(`${url}/v1/prompts`);
    expect(clean.body.issues).toEqual([]);
    writeFiles(root, { "prompts/broken.yaml": "template: [unclosed\n" });
    const issues = await waitUntil("the broken file's issue", async () => {
      const { body } = await getJson<{ issues: { file: string; severity: string }[] }>(
        `${url}/v1/prompts`,
      );
      return body.issues.length > 0 && body.issues;
    });
    expect(issues).toEqual([
      expect.objectContaining({ file: "prompts/broken.yaml", severity: "error" }),
    ]);

    // A valid tree can still warn: the warning is listed while its prompt is served.
    rmSync(join(root, "prompts", "broken.yaml"));
    writeFiles(root, { "prompts/unused.yaml": "variables:\n  tone: string\ntemplate: Hi.\n" });
    const warnings = await waitUntil("the unused variable's warning", async () => {
      const { body } = await getJson<{
        prompts: { name: string }[];
        issues: { file: string; severity: string; code: string }[];
      }>(`${url}/v1/prompts`);
      return body.prompts.some((prompt) => prompt.name === "unused") && body.issues;
    });
    expect(warnings).toEqual([
      expect.objectContaining({
        file: "prompts/unused.yaml",
        severity: "warning",
        code: "unused-variable",
      }),
    ]);
  });
});
