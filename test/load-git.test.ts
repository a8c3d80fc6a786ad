import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PromptsError } from "../src/errors.js";
import type { LoadOptions } from "../src/store/load.js";
import { loadPrompts, loadPromptsByName } from "../src/store/load.js";
import { cli, git, gitRepo, tempDir } from "./helpers.js";

const OLD = "variables:\n  name: string\ntemplate: Hello {{name}}\n";
const NEW = "variables:\n  name: string\ntemplate: Good evening {{name}}\n";
const BROKEN = "variables:\n  name: strng\ntemplate: Hello {{name}}\n";

async function loadError(load: () => Promise<unknown>): Promise<PromptsError> {
  try {
    await load();
  } catch (error) {
    return error as PromptsError;
  }
  throw new Error("expected the load to fail");
}

/** v1 holds OLD; the next commit (main) holds NEW; the working tree has an uncommitted edit. */
function historyRepo(): string {
  const root = gitRepo([
    {
      files: { "prompts/greet.yaml": OLD, "prompts/shared/sig.yaml": "template: Regards\n" },
      tags: ["v1"],
    },
    { files: { "prompts/greet.yaml": NEW, "prompts/added.yaml": "template: Added later\n" } },
  ]);
  writeFileSync(join(root, "prompts", "greet.yaml"), "template: Working tree only\n");
  return root;
}

describe("loading prompts from git", () => {
  it("reads a tag's content and version while the working tree holds newer ones", async () => {
    const root = historyRepo();
    const atTag = await loadPrompts({ root, ref: "v1", cache: false });
    const worktree = await loadPrompts({ root, cache: false });
    const fresh = await loadPrompts({ root: tempDir({ "prompts/greet.yaml": OLD }), cache: false });

    expect(atTag.issues).toEqual([]);
    expect([...atTag.prompts.keys()]).toEqual(["greet", "shared/sig"]);
    expect(atTag.prompts.get("greet")?.template).toBe("Hello {{name}}");
    expect(atTag.prompts.get("greet")?.file).toBe("prompts/greet.yaml");
    // The version depends on content only: the same as the same file anywhere else.
    expect(atTag.prompts.get("greet")?.version).toBe(fresh.prompts.get("greet")?.version);
    expect(atTag.commit).toBe(git(root, "rev-parse", "v1^{commit}").trim());

    expect(worktree.prompts.get("greet")?.template).toBe("Working tree only");
    expect(worktree.prompts.get("greet")?.version).not.toBe(atTag.prompts.get("greet")?.version);
    expect(worktree.commit).toBeUndefined();
  });

  it.each([
    { how: "a branch", ref: () => "main", template: "Good evening {{name}}" },
    { how: "HEAD~1", ref: () => "HEAD~1", template: "Hello {{name}}" },
    {
      how: "a full commit id",
      ref: (root: string) => git(root, "rev-parse", "v1").trim(),
      template: "Hello {{name}}",
    },
    {
      how: "a short commit id",
      ref: (root: string) => git(root, "rev-parse", "--short", "HEAD").trim(),
      template: "Good evening {{name}}",
    },
  ])("reads at $how", async ({ ref, template }) => {
    const root = historyRepo();
    const result = await loadPrompts({ root, ref: ref(root), cache: false });
    expect(result.prompts.get("greet")?.template).toBe(template);
  });

  it("does not touch the working tree or write a cache when cache is off", async () => {
    const root = historyRepo();
    const status = git(root, "status", "--porcelain", "--ignored");
    await loadPrompts({ root, ref: "v1", cache: false });
    await loadPrompts({ root, staged: true, cache: false });
    expect(git(root, "status", "--porcelain", "--ignored")).toBe(status);
  });

  it("reads the index with staged: a staged valid file broken afterwards in the working tree is valid", async () => {
    const root = gitRepo([{ files: { "prompts/greet.yaml": OLD } }]);
    writeFileSync(join(root, "prompts", "greet.yaml"), NEW);
    git(root, "add", "prompts/greet.yaml");
    writeFileSync(join(root, "prompts", "greet.yaml"), BROKEN);

    const staged = await loadPrompts({ root, staged: true, cache: false });
    expect(staged.issues).toEqual([]);
    expect(staged.prompts.get("greet")?.template).toBe("Good evening {{name}}");
    expect(staged.commit).toBeUndefined();

    const worktree = await loadPrompts({ root, cache: false });
    expect(worktree.prompts.has("greet")).toBe(false);
    expect(worktree.issues.map((issue) => issue.code)).toEqual(["bad-variable-type"]);
  });

  it("reads the index with staged: a staged broken file fixed only in the working tree is invalid", async () => {
    const root = gitRepo();
    writeFileSync(join(root, "README.md"), "x\n");
    git(root, "add", "README.md");
    const prompts = join(root, "prompts");
    mkdirSync(prompts);
    writeFileSync(join(prompts, "greet.yaml"), BROKEN);
    git(root, "add", "prompts/greet.yaml");
    writeFileSync(join(prompts, "greet.yaml"), OLD);

    const staged = await loadPrompts({ root, staged: true, cache: false });
    expect(staged.prompts.has("greet")).toBe(false);
    expect(staged.issues).toEqual([
      expect.objectContaining({
        file: "prompts/greet.yaml",
        line: 2,
        col: 9,
        code: "bad-variable-type",
        message: expect.stringContaining('did you mean "string"'),
      }),
    ]);

    const worktree = await loadPrompts({ root, cache: false });
    expect(worktree.issues).toEqual([]);
    expect(worktree.prompts.has("greet")).toBe(true);
  });

  it("sees staged additions and deletions", async () => {
    const root = gitRepo([
      {
        files: { "prompts/keep.yaml": "template: Keep\n", "prompts/drop.yaml": "template: Drop\n" },
      },
    ]);
    git(root, "rm", "-q", "prompts/drop.yaml");
    writeFileSync(join(root, "prompts", "new.yaml"), "template: New\n");
    git(root, "add", "prompts/new.yaml");
    writeFileSync(join(root, "prompts", "untracked.yaml"), "template: Untracked\n");

    const staged = await loadPrompts({ root, staged: true, cache: false });
    expect([...staged.prompts.keys()]).toEqual(["keep", "new"]);
  });

  it.each<{ how: string; options: Omit<LoadOptions, "root"> }>([
    { how: "loadPrompts", options: { ref: "no-such-tag" } },
    { how: "loadPrompts with a ref that looks like an option", options: { ref: "--all" } },
  ])("refuses an unknown ref with E_GIT naming it ($how)", async ({ options }) => {
    const root = historyRepo();
    const error = await loadError(() => loadPrompts({ root, ...options, cache: false }));
    expect(error.code).toBe("E_GIT");
    expect(error.message).toContain(`"${options.ref}"`);
  });

  it("refuses an unknown ref with E_GIT naming it (loadPromptsByName)", async () => {
    const root = historyRepo();
    const error = await loadError(() =>
      loadPromptsByName(["greet"], { root, ref: "v9.9.9", cache: false }),
    );
    expect(error.code).toBe("E_GIT");
    expect(error.message).toContain('"v9.9.9"');
  });

  it.each<{ how: string; options: Omit<LoadOptions, "root"> }>([
    { how: "ref", options: { ref: "HEAD" } },
    { how: "staged", options: { staged: true } },
  ])("refuses $how outside a git repository with E_GIT", async ({ options }) => {
    const root = tempDir({ "prompts/greet.yaml": OLD });
    const error = await loadError(() => loadPrompts({ root, ...options, cache: false }));
    expect(error.code).toBe("E_GIT");
    expect(error.message).toContain("not a git repository");
    expect(error.message).toContain(root);
  });

  it("shares parse results between a commit and a working tree holding the same bytes", async () => {
    const files = {
      "prompts/greet.yaml": OLD,
      // Git's id of the bytes, as the cache's key, must match for any bytes: a BOM, CRLF, UTF-8.
      "prompts/crlf.yaml": "\ufeffdescription: Grüße\r\ntemplate: Hallo\r\n",
    };
    const root = gitRepo([{ files }]);
    const pack = join(root, ".prompts", "cache", "parse.log");
    expect((await cli(root, "list", "--ref", "HEAD")).code).toBe(0); // starts the cache
    expect((await cli(root, "list", "--ref", "HEAD")).code).toBe(0); // fills it
    const filledFromGit = readFileSync(pack);
    expect(filledFromGit.toString()).toContain("Grüße");
    // Nothing new to parse, so the pack is not written again.
    expect((await cli(root, "validate")).code).toBe(0);
    expect(readFileSync(pack).equals(filledFromGit)).toBe(true);
    writeFileSync(join(root, "prompts", "greet.yaml"), NEW);
    expect((await cli(root, "validate")).code).toBe(0);
    expect(readFileSync(pack).toString()).toContain("Good evening");
  });

  it("keeps what a diff parsed on both sides in the parse cache", async () => {
    const root = historyRepo();
    const packPath = join(root, ".prompts", "cache", "parse.log");
    const first = await cli(root, "diff", "v1", "main", "--stat");
    expect(first.code).toBe(0);
    // Two sides loaded, yet one first run: it only starts the cache.
    expect(readFileSync(packPath, "utf8").split("\n").filter(Boolean)).toHaveLength(1);
    expect(await cli(root, "diff", "v1", "main", "--stat")).toEqual(first); // fills it
    const pack = readFileSync(packPath, "utf8");
    expect(pack).toContain("Hello {{name}}");
    expect(pack).toContain("Good evening {{name}}");
    expect(pack).toContain("Added later");
  });

  it("answers list, diff and validate at a ref from the parse cache exactly as from a fresh read, and ignores a damaged cache", async () => {
    const root = gitRepo([
      {
        files: {
          "prompts/greet.yaml": OLD,
          "prompts/shared/sig.yaml": "description: Sign-off.\ntemplate: Regards\n",
          "prompts/mail.yaml":
            "variables:\n  name: string\ntemplate: 'Hi {{name}}. {{> shared/sig}}'\n",
          "prompts/broken.yaml": BROKEN,
        },
        tags: ["v1"],
      },
      {
        files: {
          "prompts/greet.yaml": NEW,
          "prompts/shared/sig.yaml": "description: Sign-off.\ntemplate: Best\n",
        },
        tags: ["v2"],
      },
    ]);
    const commands = [
      ["list", "--ref", "v1", "--json"],
      ["diff", "v1", "v2", "--json"],
      ["diff", "v1", "v2", "--stat"],
      ["diff", "v1", "v2"],
      ["validate", "--ref", "v2"],
      ["list", "--ref", "v2"],
    ];
    const answers = async (...extra: string[]) =>
      Promise.all(commands.map((argv) => cli(root, ...argv, ...extra)));
    const fresh = await answers("--no-cache");
    expect(fresh[0]?.code).toBe(1); // broken.yaml
    expect(fresh[1]?.stdout).toContain('"includedBy": [\n');
    const cache = join(root, ".prompts", "cache", "parse.log");
    expect(existsSync(cache)).toBe(false);

    expect(await answers()).toEqual(fresh); // starts the cache
    expect(existsSync(cache)).toBe(true);
    expect(await answers()).toEqual(fresh); // fills it
    expect(await answers()).toEqual(fresh); // reads it

    writeFileSync(cache, readFileSync(cache).subarray(0, 200));
    expect(await answers()).toEqual(fresh);
  });

  it("does not read a parse cache another build of gitprompts wrote", async () => {
    const root = gitRepo([
      { files: { "prompts/bye.yaml": "template: Bye\n", "prompts/greet.yaml": OLD }, tags: ["v1"] },
      { files: { "prompts/greet.yaml": NEW }, tags: ["v2"] },
    ]);
    const commands = [
      ["diff", "v1", "v2", "--json"],
      ["diff", "v1", "v2", "--stat"],
    ];
    const answers = async (...extra: string[]) =>
      Promise.all(commands.map((argv) => cli(root, ...argv, ...extra)));
    const fresh = await answers("--no-cache");
    expect(await answers()).toEqual(fresh); // starts the cache
    expect(await answers()).toEqual(fresh); // fills it
    const cache = join(root, ".prompts", "cache", "parse.log");
    const original = readFileSync(cache, "utf8");
    // A cache that reads otherwise, which a reader shows.
    const altered = original.replace(/Good evening/g, "Good morning");
    writeFileSync(cache, altered);
    expect(await answers()).not.toEqual(fresh);
    // The same entries, said to be of another build: ignored, and the files parsed afresh.
    writeFileSync(cache, altered.replace(/^[^\n]*/, "gitprompts-parse-cache-3 0"));
    expect(await answers()).toEqual(fresh);
  });

  it("refuses ref and staged together", async () => {
    const root = historyRepo();
    const error = await loadError(() =>
      loadPrompts({ root, ref: "v1", staged: true, cache: false }),
    );
    expect(error.code).toBe("E_USAGE");
  });

  describe("loadPromptsByName", () => {
    it("reads one prompt at a ref", async () => {
      const root = historyRepo();
      const result = await loadPromptsByName(["greet"], { root, ref: "v1", cache: false });
      const full = await loadPrompts({ root, ref: "v1", cache: false });
      expect(result.issues).toEqual([]);
      expect([...result.prompts.keys()]).toEqual(["greet"]);
      expect(result.prompts.get("greet")?.template).toBe("Hello {{name}}");
      expect(result.prompts.get("greet")?.version).toBe(full.prompts.get("greet")?.version);
      expect(result.commit).toBe(full.commit);
    });

    it("reads the partials a prompt includes at that ref, not the working tree's", async () => {
      const root = gitRepo([
        {
          files: {
            "prompts/main.yaml": "template: 'Body. {{> shared/sig}}'\n",
            "prompts/shared/sig.yaml": "template: Old regards\n",
            "prompts/other.yaml": "template: Other\n",
          },
          tags: ["v1"],
        },
      ]);
      writeFileSync(join(root, "prompts", "shared", "sig.yaml"), "template: New regards\n");
      const atTag = await loadPromptsByName(["main"], { root, ref: "v1", cache: false });
      expect([...atTag.prompts.keys()]).toEqual(["main", "shared/sig"]);
      expect(atTag.prompts.get("shared/sig")?.template).toBe("Old regards");
      const worktree = await loadPromptsByName(["main"], { root, cache: false });
      expect(worktree.prompts.get("shared/sig")?.template).toBe("New regards");
      expect(worktree.prompts.get("main")?.version).not.toBe(atTag.prompts.get("main")?.version);
    });

    it("says a prompt added after the ref is not found there, suggesting the closest", async () => {
      const root = historyRepo();
      const error = await loadError(() =>
        loadPromptsByName(["added"], { root, ref: "v1", cache: false }),
      );
      expect(error.code).toBe("E_PROMPT_NOT_FOUND");
      expect(error.message).toContain('prompt "added" not found');
      expect(error.message).toContain('at ref "v1"');
      const later = await loadPromptsByName(["added"], { root, ref: "main", cache: false });
      expect(later.prompts.get("added")?.template).toBe("Added later");
    });

    it("reads the index with staged", async () => {
      const root = gitRepo([{ files: { "prompts/greet.yaml": OLD } }]);
      writeFileSync(join(root, "prompts", "greet.yaml"), NEW);
      const staged = await loadPromptsByName(["greet"], { root, staged: true, cache: false });
      expect(staged.prompts.get("greet")?.template).toBe("Hello {{name}}");
    });
  });
});
