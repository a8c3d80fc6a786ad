import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Issue } from "../src/core/types.js";
import type { LoadResult } from "../src/store/load.js";
import { loadPrompts } from "../src/store/load.js";
import { cli, type FileTree, tempDir } from "./helpers.js";

const GREETING = "variables:\n  name: string\ntemplate: Hello {{name}}\n";

async function load(files: FileTree): Promise<LoadResult> {
  return loadPrompts({ root: tempDir(files), cache: false });
}

function issuesOf(result: LoadResult, file: string): Issue[] {
  return result.issues.filter((issue) => issue.file === file);
}

/** `levels` levels of `fanOut` aliases each: "billion laughs" (9 × 9 → 9⁹ ≈ 387 million). */
function aliasBomb(indent: string, levels = 9, fanOut = 9): string {
  let text = `${indent}l0: &l0 [lol]\n`;
  for (let level = 1; level <= levels; level++) {
    const refs = Array.from({ length: fanOut }, () => `*l${level - 1}`).join(", ");
    text += `${indent}l${level}: &l${level} [${refs}]\n`;
  }
  return text;
}

describe("hostile prompt files each get one clear issue", () => {
  it.each([
    {
      what: "an empty file",
      text: "",
      issue: { line: 1, col: 1, code: "empty-file", message: "the file is empty" },
    },
    {
      what: "a file of comments only",
      text: "# TODO: write this prompt\n# later\n",
      issue: { line: 1, col: 1, code: "empty-file", message: "the file is empty" },
    },
    {
      what: "a YAML list at the top",
      text: "- template: Hi\n- template: Bye\n",
      issue: {
        line: 1,
        col: 1,
        code: "not-a-mapping",
        message: "must be a mapping (key: value), found a list",
      },
    },
    {
      what: "a scalar at the top",
      text: "Just write me a poem.\n",
      issue: {
        line: 1,
        col: 1,
        code: "not-a-mapping",
        message: "must be a mapping (key: value), found a string",
      },
    },
    {
      what: "two YAML documents",
      text: "template: one\n---\ntemplate: two\n",
      issue: {
        line: 2,
        col: 1,
        code: "multiple-documents",
        message: "a second YAML document starts here (`---`); a prompt file holds one prompt",
      },
    },
    {
      what: "a duplicate key",
      text: "template: one\ndescription: x\ntemplate: two\n",
      issue: { line: 3, col: 1, code: "yaml-syntax", message: "Map keys must be unique" },
    },
    {
      what: "a key that is not a string",
      text: "template: Hi\n1: x\n",
      issue: { line: 2, col: 1, code: "bad-key", message: "keys must be strings, found a number" },
    },
  ])("$what", async ({ text, issue }) => {
    const result = await load({ "prompts/odd.yaml": text, "prompts/fine.yaml": "template: Hi\n" });
    expect(result.issues).toEqual([
      expect.objectContaining({
        file: "prompts/odd.yaml",
        line: issue.line,
        col: issue.col,
        code: issue.code,
        severity: "error",
        message: expect.stringContaining(issue.message),
      }),
    ]);
    expect([...result.prompts.keys()]).toEqual(["fine"]);
  });

  it("loads a file with a UTF-8 byte-order mark, with the same version as without", async () => {
    const result = await load({
      "prompts/bom.yaml": `\ufeff${GREETING}`,
      "prompts/plain.yaml": GREETING,
    });
    expect(result.issues).toEqual([]);
    const bom = result.prompts.get("bom");
    expect(bom?.template).toBe("Hello {{name}}");
    expect(bom?.version).toBe(result.prompts.get("plain")?.version);
  });

  it("loads a file with CRLF line ends, with the same version as with LF", async () => {
    const lf = "variables:\n  name: string\ntemplate: |\n  Hello {{name}}\n  Bye\n";
    const result = await load({
      "prompts/crlf.yaml": lf.replaceAll("\n", "\r\n"),
      "prompts/lf.yaml": lf,
    });
    expect(result.issues).toEqual([]);
    const crlf = result.prompts.get("crlf");
    expect(crlf?.template).toBe("Hello {{name}}\nBye\n");
    expect(crlf?.version).toBe(result.prompts.get("lf")?.version);
  });

  it("reports bytes that are not UTF-8 (Latin-1 café) with their line and column", async () => {
    const latin1 = Buffer.concat([
      Buffer.from("description: menu\ntemplate: |\n  caf"),
      Buffer.from([0xe9]),
      Buffer.from("\n"),
    ]);
    const result = await load({ "prompts/latin1.yaml": latin1 });
    expect(result.issues).toEqual([
      expect.objectContaining({
        file: "prompts/latin1.yaml",
        line: 3,
        col: 6,
        code: "not-utf8",
        severity: "error",
        message: expect.stringContaining("not valid UTF-8 (byte 0xe9)"),
      }),
    ]);
    expect(result.prompts.size).toBe(0);
  });

  it("reads a file that holds U+FFFD itself, or a BOM, as its text, through the cache cold and warm", async () => {
    const root = tempDir({
      "prompts/replacement.yaml":
        "variables:\n  lost: string\ntemplate: \ufffd stands for {{lost}}\n",
      "prompts/bom.yaml": "\ufefftemplate: Hi\n",
    });
    const fresh = await loadPrompts({ root, cache: false });
    expect(fresh.issues).toEqual([]);
    expect(fresh.prompts.get("replacement")?.template).toBe("\ufffd stands for {{lost}}");
    expect(fresh.prompts.get("bom")?.template).toBe("Hi");
    for (let run = 0; run < 3; run++) expect(await loadPrompts({ root })).toEqual(fresh);
  });

  it.each([
    { where: "in metadata", text: `template: Hi\nmetadata:\n${aliasBomb("  ")}` },
    { where: "at the top level", text: `${aliasBomb("")}template: Hi\n` },
    {
      where: "expanded through model",
      text: `template: Hi\nmetadata:\n${aliasBomb("  ")}model: *l9\n`,
    },
    { where: "as a whole list document", text: aliasBomb("").replace(/^l\d+: /gm, "- ") },
  ])("refuses a YAML alias bomb $where quickly", async ({ text }) => {
    await load({ "prompts/warm.yaml": "template: Hi\n" });
    const started = performance.now();
    const result = await load({ "prompts/bomb.yaml": text });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(500);
    expect(result.prompts.size).toBe(0);
    expect(issuesOf(result, "prompts/bomb.yaml").length).toBeGreaterThan(0);
    expect(result.issues.every((issue) => issue.severity === "error")).toBe(true);
  });

  it("names the alias bomb for what it is when it sits in metadata", async () => {
    const result = await load({
      "prompts/bomb.yaml": `template: Hi\nmetadata:\n${aliasBomb("  ")}`,
    });
    expect(result.issues).toEqual([
      expect.objectContaining({
        file: "prompts/bomb.yaml",
        line: 3,
        col: 3,
        code: "yaml-aliases",
        path: "metadata",
        message: expect.stringContaining("`metadata` cannot be read"),
      }),
    ]);
  });

  it("reports absurdly deep nesting as a YAML error instead of overflowing the stack", async () => {
    const depth = 20_000;
    const result = await load({
      "prompts/deep.yaml": `template: Hi\nmetadata: ${"[".repeat(depth)}${"]".repeat(depth)}\n`,
      "prompts/fine.yaml": "template: Hi\n",
    });
    expect(result.issues).toEqual([
      expect.objectContaining({
        file: "prompts/deep.yaml",
        code: "yaml-syntax",
        severity: "error",
        message: expect.stringMatching(/^YAML/),
      }),
    ]);
    expect([...result.prompts.keys()]).toEqual(["fine"]);
  });

  it("refuses a file over 1 MiB without parsing it", async () => {
    const big = `template: |\n${"  filler line\n".repeat(80_000)}`;
    expect(Buffer.byteLength(big)).toBeGreaterThan(1024 * 1024);
    const result = await load({ "prompts/big.yaml": big, "prompts/fine.yaml": "template: Hi\n" });
    expect(result.issues).toEqual([
      expect.objectContaining({
        file: "prompts/big.yaml",
        code: "too-large",
        severity: "error",
        message: expect.stringContaining("over the 1048576-byte limit"),
      }),
    ]);
    expect([...result.prompts.keys()]).toEqual(["fine"]);
  });

  it("loads a file of exactly 1 MiB", async () => {
    const head = "template: |\n  ";
    const text = `${head}${"x".repeat(1024 * 1024 - head.length - 1)}\n`;
    expect(Buffer.byteLength(text)).toBe(1024 * 1024);
    const result = await load({ "prompts/edge.yaml": text });
    expect(result.issues).toEqual([]);
    expect(result.prompts.has("edge")).toBe(true);
  });

  it("refuses a symlink to a file outside the repository", async () => {
    const outside = tempDir({ "secret.yaml": "template: top secret\n" });
    const root = tempDir({ "prompts/fine.yaml": "template: Hi\n" });
    symlinkSync(join(outside, "secret.yaml"), join(root, "prompts", "leak.yaml"));
    const result = await loadPrompts({ root, cache: false });
    expect(result.issues).toEqual([
      expect.objectContaining({
        file: "prompts/leak.yaml",
        code: "symlink-outside",
        severity: "error",
        message: expect.stringContaining("outside the repository"),
      }),
    ]);
    expect([...result.prompts.keys()]).toEqual(["fine"]);
  });

  it("follows a symlink to a file inside the repository", async () => {
    const root = tempDir({
      "prompts/real.yaml": "template: Real body\n",
      "shared/library.yaml": "template: Library body\n",
    });
    symlinkSync("real.yaml", join(root, "prompts", "alias.yaml"));
    symlinkSync(join("..", "shared", "library.yaml"), join(root, "prompts", "library.yaml"));
    const result = await loadPrompts({ root, cache: false });
    expect(result.issues).toEqual([]);
    expect([...result.prompts.keys()]).toEqual(["alias", "library", "real"]);
    expect(result.prompts.get("alias")?.template).toBe("Real body");
    expect(result.prompts.get("alias")?.file).toBe("prompts/alias.yaml");
    expect(result.prompts.get("alias")?.version).toBe(result.prompts.get("real")?.version);
    expect(result.prompts.get("library")?.template).toBe("Library body");
  });

  it("reports a symlinked folder outside the repository in validate and list", async () => {
    const outside = tempDir({ "shared/secret.yaml": "template: top secret\n" });
    const root = tempDir({ "prompts/shared.yaml": "template: Hi\n" });
    symlinkSync(join(outside, "shared"), join(root, "prompts", "shared"));
    const message = `"prompts/shared" is a symlink to ${realpathSync(join(outside, "shared"))}, a folder outside the repository`;

    const validate = await cli(root, "validate");
    expect(validate.code).toBe(1);
    expect(validate.stdout + validate.stderr).toContain(
      `prompts/shared:1:1: error: ${message}, whose prompts are not read; prompts must live in the repository [symlink-outside]`,
    );
    // The folder is reported on its own: the prompt "shared" beside it is no duplicate.
    expect(validate.stdout + validate.stderr).not.toContain("duplicate");

    const list = await cli(root, "list");
    expect(list.code).toBe(1);
    expect(list.stdout).toMatch(/^shared /m);
    expect(list.stdout).not.toContain("secret");
    expect(list.stderr).toContain(message);
  });

  it("reports a prompt folder that is itself a symlink outside the repository", async () => {
    const outside = tempDir({ "secret.yaml": "template: top secret\n" });
    const root = tempDir({ "prompts.config.yaml": "dir: linked\n" });
    symlinkSync(outside, join(root, "linked"));
    const result = await loadPrompts({ root, cache: false });
    expect(result.issues).toEqual([
      expect.objectContaining({
        file: "linked",
        code: "symlink-outside",
        severity: "error",
        message: expect.stringContaining("a folder outside the repository"),
      }),
    ]);
    expect(result.prompts.size).toBe(0);
  });

  it("reports a dangling symlink", async () => {
    const root = tempDir({ "prompts/fine.yaml": "template: Hi\n" });
    symlinkSync("gone.yaml", join(root, "prompts", "dangling.yaml"));
    const result = await loadPrompts({ root, cache: false });
    expect(result.issues).toEqual([
      expect.objectContaining({
        file: "prompts/dangling.yaml",
        code: "broken-symlink",
        severity: "error",
        message: expect.stringContaining("symlink to nothing"),
      }),
    ]);
    expect([...result.prompts.keys()]).toEqual(["fine"]);
  });

  it("reports a directory named like a prompt file, and does not enter it", async () => {
    const root = tempDir({
      "prompts/odd.yaml/inner.yaml": "template: Inside\n",
      "prompts/fine.yaml": "template: Hi\n",
    });
    const result = await loadPrompts({ root, cache: false });
    expect(result.issues).toEqual([
      expect.objectContaining({
        file: "prompts/odd.yaml",
        code: "directory",
        severity: "error",
        message: expect.stringContaining("is a directory, though named like a prompt file"),
      }),
    ]);
    expect([...result.prompts.keys()]).toEqual(["fine"]);
  });

  it("ignores hidden files and folders", async () => {
    const result = await load({
      "prompts/.draft.yaml": "this: [is not even valid\n",
      "prompts/.wip/secret.yaml": "template: {{undeclared}}\n",
      "prompts/fine.yaml": "template: Hi\n",
    });
    expect(result.issues).toEqual([]);
    expect(result.fileCount).toBe(1);
    expect([...result.prompts.keys()]).toEqual(["fine"]);
  });

  it("reports every hostile file at once in one tree, and still loads the good one", async () => {
    const root = tempDir({
      "prompts/empty.yaml": "",
      "prompts/list.yaml": "- a\n",
      "prompts/latin1.yaml": Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]),
      "prompts/dir.yaml/x.yaml": "template: x\n",
      "prompts/good.yaml": GREETING,
    });
    mkdirSync(join(root, "prompts", "nested"));
    writeFileSync(join(root, "prompts", "nested", "deep.yml"), "template: Deep\n");
    symlinkSync("nowhere.yaml", join(root, "prompts", "dangling.yaml"));
    const result = await loadPrompts({ root, cache: false });
    expect(result.issues.map((issue) => [issue.file, issue.code])).toEqual([
      ["prompts/dangling.yaml", "broken-symlink"],
      ["prompts/dir.yaml", "directory"],
      ["prompts/empty.yaml", "empty-file"],
      ["prompts/latin1.yaml", "not-utf8"],
      ["prompts/list.yaml", "not-a-mapping"],
    ]);
    expect([...result.prompts.keys()]).toEqual(["good", "nested/deep"]);
  });
});
