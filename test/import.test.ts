import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, expectOneLineError, git, gitRepo, tempDir } from "./helpers.js";

const FIXTURES = join(import.meta.dirname, "fixtures", "import");
const fixture = (path: string) => join(FIXTURES, path);
const read = (dir: string, path: string) => readFileSync(join(dir, path), "utf8");

describe("prompts import dict", () => {
  it("writes what converts, refuses the rest with the place, and exits 1", async () => {
    const dir = tempDir();
    const result = await cli(
      dir,
      "import",
      "dict",
      fixture("dict/prompts.json"),
      "--into",
      "prompts",
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^STATUS +NAME +SOURCE +DETAILS$/m);
    expect(result.stdout).toMatch(
      /refused +money +\S+prompts\.json#money:1 +\{amount:>10\.2f\}: a format spec/,
    );
    expect(result.stdout).toMatch(/refused +debug +\S+#debug:1 +\{value!r\}: a conversion/);
    expect(result.stdout).toMatch(
      /refused +positional +\S+#positional:1 +\{0\}: a positional field/,
    );
    expect(result.stdout).toMatch(/converted +Support-Bot .*renamed from "Support Bot"/);
    expect(result.stdout).toMatch(
      /converted +support-bot-2 .*renamed from "support-bot".*"support-bot" is taken/,
    );
    expect(result.stdout).toMatch(/converted +jsx\/snippet .*delimiters <% %>/);
    expect(result.stdout).toContain("0 imported as is, 5 converted, 3 refused; wrote 5 files");
    expect(read(dir, "prompts/answerer.yaml")).toContain("Question: {{user_query}}");
    expect(existsSync(join(dir, "prompts/money.yaml"))).toBe(false);
    const validate = await cli(dir, "validate");
    expect(validate.code).toBe(0);
    const render = await cli(
      dir,
      "render",
      "Support-Bot",
      "--vars",
      fixture("dict/support-vars.json"),
    );
    expect(render.stdout).toBe("Hello Ada, how can we help?\n");
  });

  it("--dry-run writes nothing and prints what it would write", async () => {
    const dir = tempDir();
    const result = await cli(
      dir,
      "import",
      "dict",
      fixture("dict/prompts.json"),
      "--into",
      "prompts",
      "--dry-run",
    );
    expect(result.stdout).toContain("would write 5 files");
    expect(result.stdout).toContain(`  ${join("prompts", "answerer.yaml")}\n`);
    expect(existsSync(join(dir, "prompts"))).toBe(false);
  });

  it("--json reports every row", async () => {
    const dir = tempDir();
    const result = await cli(
      dir,
      "--json",
      "import",
      "dict",
      "--syntax",
      "jinja",
      fixture("dict/jinja.yaml"),
      "--into",
      "p",
    );
    const report = JSON.parse(result.stdout) as {
      rows: { name: string; status: string; reason?: string; location?: string }[];
    };
    expect(result.code).toBe(1);
    expect(report.rows.map((row) => [row.name, row.status])).toEqual([
      ["triage", "converted"],
      ["shout", "refused"],
      ["looping", "refused"],
      ["unbalanced", "refused"],
    ]);
    expect(report.rows[1]).toMatchObject({
      reason: "a filter in {{ name | upper }}",
      location: `${fixture("dict/jinja.yaml")}#shout:1`,
    });
  });

  it("keeps an existing prompt unless --force", async () => {
    const dir = tempDir({ "p/answerer.yaml": "template: mine\n" });
    const kept = await cli(dir, "import", "dict", fixture("dict/prompts.json"), "--into", "p");
    expect(kept.stdout).toMatch(/refused +answerer .*exists already; run again with --force/);
    expect(read(dir, "p/answerer.yaml")).toBe("template: mine\n");
    await cli(dir, "import", "dict", fixture("dict/prompts.json"), "--into", "p", "--force");
    expect(read(dir, "p/answerer.yaml")).toContain("{{user_query}}");
  });

  it("never writes a prompt that would not validate", async () => {
    const dir = tempDir({
      "in.json": JSON.stringify({ a: "Hi {{> missing}}", b: "Hello {{name}}" }),
    });
    const result = await cli(
      dir,
      "import",
      "dict",
      "--syntax",
      "handlebars",
      "in.json",
      "--into",
      "p",
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/refused +a .*would not pass prompts validate: .*missing/);
    expect(readdirSync(join(dir, "p"))).toEqual(["b.yaml"]);
  });
});

describe("bad input is one line naming the file and the field", () => {
  it.each([
    ["dict", "bad.json", "{ nope", "bad.json: not JSON"],
    ["dict", "list.json", "[1, 2]", "list.json: must be a mapping of prompt name"],
    [
      "dict",
      "shape.json",
      '{"a": {"model": "x"}}',
      "shape.json: a: needs exactly one of template or messages",
    ],
    ["langfuse", "empty.json", "[]", "empty.json: holds no prompt versions (an empty export)"],
    [
      "langfuse",
      "noname.json",
      '[{"version": 1, "prompt": "x"}]',
      "noname.json: [0].name: is missing",
    ],
    ["promptlayer", "pl.json", '{"prompt_name": "x"}', "pl.json: prompt_template: is missing"],
  ])("%s %s", async (format, file, text, message) => {
    const dir = tempDir({ [file]: text });
    expectOneLineError(await cli(dir, "import", format, file, "--into", "p"), 1, message);
  });

  it("an unknown format is a usage error", async () => {
    expectOneLineError(
      await cli(tempDir(), "import", "csv", "x.csv"),
      2,
      'unknown format "csv"',
      "dict, langfuse",
    );
  });

  it("a missing file names it", async () => {
    expectOneLineError(await cli(tempDir(), "import", "dict", "nowhere.json"), 1, "nowhere.json");
  });
});

describe("prompts import prompty and dotprompt", () => {
  it("reads Prompty v1 and v2, refuses a filter and a message ending in a block", async () => {
    const dir = tempDir();
    const result = await cli(dir, "import", "prompty", fixture("prompty"), "--into", "p");
    expect(result.stdout).toMatch(/converted +Basic-Prompt /);
    expect(result.stdout).toMatch(/converted +shopping-assistant /);
    expect(result.stdout).toMatch(
      /refused +filtered +\S+filters\.prompty:\d+ +message 1: a filter/,
    );
    expect(result.stdout).toMatch(/refused +ends-with-loop .*starts or ends with a block/);
    expect(read(dir, "p/shopping-assistant.yaml")).toContain(
      "customer:\n    type: string\n    required: false\n    default: friend",
    );
  });

  it("tells dotprompt from Humanloop files and says which it saw", async () => {
    const dir = tempDir();
    const result = await cli(
      dir,
      "import",
      "dotprompt",
      fixture("dotprompt"),
      fixture("humanloop/assistant.prompt"),
      "--into",
      "p",
    );
    expect(result.stdout).toMatch(/converted +style .*read as a dotprompt partial/);
    expect(result.stdout).toMatch(/converted +greeting .*read as dotprompt/);
    expect(result.stdout).toMatch(
      /refused +agents\/helper +\S+helper\.prompt:\d+ +the helper \{\{uppercase …\}\}/,
    );
    expect(result.stdout).toMatch(/converted +assistant .*read as a Humanloop \.prompt/);
    expect(read(dir, "p/greeting.yaml")).toContain("{{>style}}");
  });
});

describe("prompts import langfuse", () => {
  it("writes every version as a dated commit and every label as a gitprompts label", async () => {
    const dir = gitRepo([{ files: { "README.md": "hi\n" }, message: "start" }]);
    const result = await cli(dir, "import", "langfuse", fixture("langfuse/export.json"));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "wrote 1 file, 5 commits, 3 labels (production, staging, tenant-1)",
    );
    const log = git(dir, "log", "--format=%ad|%an|%s", "--date=short").trim().split("\n");
    expect(log).toEqual([
      "2026-01-05|carol|no spoilers",
      "2026-01-04|bob|be brief",
      "2026-01-03|bob|ask for a rating",
      "2026-01-02|alice|import movie-critic version 2",
      "2026-01-01|alice|first draft",
      expect.stringMatching(/\|start$/),
    ]);
    expect(git(dir, "status", "--porcelain")).toBe("");
    const render = (ref: string) =>
      cli(
        dir,
        "render",
        "movie-critic",
        "--ref",
        ref,
        "--var",
        "criticLevel=harsh",
        "--var",
        "movie=Alien",
      );
    expect((await render("production")).stdout).toBe(
      "As a harsh movie critic, rate Alien from 1 to 10.\n",
    );
    expect((await render("staging")).stdout).toBe(
      "As a harsh movie critic, rate Alien from 1 to 10. Be brief; no spoilers.\n",
    );
    expect((await render("tenant-1")).stdout).toBe("As a harsh movie critic, do you like Alien?\n");
    const history = await cli(dir, "label", "--history", "production");
    expect(history.stdout).toContain("langfuse movie-critic@3");
    expect(read(dir, "prompts/movie-critic.yaml")).toContain("name: gpt-4o-mini");
  });

  it("deploys a label naming prompts at versions no one commit holds", async () => {
    const dir = gitRepo([{ files: { "README.md": "hi\n" } }]);
    await cli(
      dir,
      "import",
      "langfuse",
      fixture("langfuse/export.json"),
      fixture("langfuse/chat-and-refs.json"),
    );
    const critic = await cli(
      dir,
      "render",
      "movie-critic",
      "--ref",
      "production",
      "--var",
      "criticLevel=a",
      "--var",
      "movie=b",
    );
    expect(critic.stdout).toBe("As a a movie critic, rate b from 1 to 10.\n");
    const chat = await cli(
      dir,
      "render",
      "support/chat",
      "--ref",
      "production",
      "--var",
      "customer=Ann",
      "--var",
      "question=q",
    );
    expect(chat.stdout).toBe("[system]\nYou help Ann.\nBe kind and precise.\n\n[user]\nq\n");
  });

  it("outside a git repository writes the newest versions and says history was left out", async () => {
    const dir = tempDir();
    const result = await cli(
      dir,
      "import",
      "langfuse",
      fixture("langfuse/export.json"),
      "--into",
      "p",
    );
    expect(result.stdout).toContain("wrote 1 file\nnote: ");
    expect(result.stdout).toContain("without history or labels (run git init first to keep them)");
    expect(read(dir, "p/movie-critic.yaml")).toContain("no spoilers");
  });

  it("--dry-run writes no commit and no label", async () => {
    const dir = gitRepo([{ files: { "README.md": "hi\n" } }]);
    const result = await cli(
      dir,
      "import",
      "langfuse",
      fixture("langfuse/export.json"),
      "--dry-run",
    );
    expect(result.stdout).toContain("would write 1 file, 5 commits, 3 labels");
    expect(git(dir, "rev-list", "--count", "--all").trim()).toBe("1");
    expect(existsSync(join(dir, "prompts"))).toBe(false);
  });

  it("refuses to write history over uncommitted changes", async () => {
    const dir = gitRepo([{ files: { "README.md": "hi\n" } }]);
    git(dir, "rm", "-q", "--cached", "README.md");
    expectOneLineError(
      await cli(dir, "import", "langfuse", fixture("langfuse/export.json")),
      1,
      "uncommitted changes",
    );
  });

  describe("from the public API", () => {
    let server: Server | undefined;
    afterEach(
      () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
    );

    async function fakeLangfuse(): Promise<{ url: string; requests: string[] }> {
      const versions = JSON.parse(readFileSync(fixture("langfuse/export.json"), "utf8")) as {
        version: number;
      }[];
      const requests: string[] = [];
      server = createServer((request, response) => {
        requests.push(request.url ?? "");
        const auth = `Basic ${Buffer.from("pk-lf-1:sk-lf-1").toString("base64")}`;
        if (request.headers.authorization !== auth) {
          response.writeHead(401).end('{"message":"unauthorized"}');
          return;
        }
        const url = new URL(request.url ?? "/", "http://localhost");
        response.setHeader("content-type", "application/json");
        if (url.pathname === "/api/public/v2/prompts") {
          const page = Number(url.searchParams.get("page"));
          const data =
            page === 1
              ? [{ name: "movie-critic", versions: [1, 2, 3] }]
              : [{ name: "movie-critic", versions: [4, 5] }];
          response.end(JSON.stringify({ data, meta: { page, totalPages: 2 } }));
          return;
        }
        const version = Number(url.searchParams.get("version"));
        response.end(JSON.stringify(versions.find((entry) => entry.version === version)));
      });
      await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
      return { url: `http://127.0.0.1:${(server?.address() as AddressInfo).port}`, requests };
    }

    it("reads every page and every version with the project's keys", async () => {
      const { url, requests } = await fakeLangfuse();
      const dir = gitRepo([{ files: { "README.md": "hi\n" } }]);
      const result = await cli(
        dir,
        "import",
        "langfuse",
        "--url",
        url,
        "--public-key",
        "pk-lf-1",
        "--secret-key",
        "sk-lf-1",
      );
      expect(result.stdout).toContain("5 commits, 3 labels");
      expect(requests.filter((path) => path.includes("version=")).length).toBe(5);
      expect(git(dir, "log", "-1", "--format=%s").trim()).toBe("no spoilers");
    });

    it("says so in one line when the keys are refused", async () => {
      const { url } = await fakeLangfuse();
      const result = await cli(
        tempDir(),
        "import",
        "langfuse",
        "--url",
        url,
        "--public-key",
        "x",
        "--secret-key",
        "y",
      );
      expectOneLineError(result, 1, "Langfuse refused the keys (HTTP 401)");
    });
  });
});
