import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLE_FORMAT, parseBundle } from "../src/core/bundle.js";
import { canonicalJson } from "../src/core/json.js";
import { cli, expectOneLineError, git, gitRepo, runBin, tempDir, writeFiles } from "./helpers.js";

const GREETING = `description: Greets someone by name.
variables:
  name: string
template: |
  Hello {{name}}!
`;

const PLANNER = `model: { name: model-two }
variables:
  user_query: string
messages:
  - role: system
    content: Plan.
  - role: user
    content: "{{user_query}}"
`;

const RULES = "template: Be brief.\n";
const CALLER = "template: |\n  Rules:\n  {{> shared/rules}}\n";

const PROMPTS = {
  "prompts/greeting.yaml": GREETING,
  "prompts/planner.yaml": PLANNER,
  "prompts/shared/rules.yaml": RULES,
  "prompts/caller.yaml": CALLER,
};

/** An unknown key on line 3. */
const BROKEN = "description: A typo.\ntemplate: Hi\ntemplat: Hi again\n";

const SUMMARY =
  /^published dist\/prompts\.json: 4 prompts, hash [0-9a-f]{12}…, \d+(\.\d)? (B|KiB)\n$/;

function read(path: string): string {
  return readFileSync(path, "utf8");
}

function bundleAt(path: string) {
  return parseBundle(read(path), path);
}

describe("prompts publish", () => {
  it("writes dist/prompts.json under the root, a bundle whose hash matches its prompts", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "publish");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(SUMMARY);
    const text = read(join(dir, "dist/prompts.json"));
    const bundle = parseBundle(text);
    expect(bundle.format).toBe(BUNDLE_FORMAT);
    expect(Object.keys(bundle.prompts).sort()).toEqual([
      "caller",
      "greeting",
      "planner",
      "shared/rules",
    ]);
    expect(bundle.hash).toBe(
      createHash("sha256").update(canonicalJson(bundle.prompts)).digest("hex"),
    );
    expect(result.stdout).toContain(`hash ${bundle.hash.slice(0, 12)}…`);
    expect(bundle.prompts.caller).toMatchObject({ partials: ["shared/rules"], model: {} });
    expect(bundle.prompts.greeting).toMatchObject({
      description: "Greets someone by name.",
      template: "Hello {{name}}!\n",
      variables: { name: { type: "string", required: true } },
      variants: {},
    });
    // Versions are the ones `list` shows.
    const listed = JSON.parse((await cli(dir, "list", "--json")).stdout) as {
      prompts: { name: string; version: string }[];
    };
    for (const { name, version } of listed.prompts)
      expect(bundle.prompts[name]?.version).toBe(version);
  });

  it("writes where `bundle:` of prompts.config.yaml says, relative to the root, from a subfolder", async () => {
    const dir = tempDir({ ...PROMPTS, "prompts.config.yaml": "bundle: public/v1/bundle.json\n" });
    const result = await cli(join(dir, "prompts", "shared"), "publish");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^published \/.*\/public\/v1\/bundle\.json: 4 prompts/);
    expect(bundleAt(join(dir, "public/v1/bundle.json")).prompts).toHaveProperty("greeting");
    expect(existsSync(join(dir, "dist"))).toBe(false);
  });

  it("--out writes elsewhere, relative to the working directory, creating folders", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "publish", "--out", "build/deep/p.json");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^published build\/deep\/p\.json: 4 prompts/);
    expect(bundleAt(join(dir, "build/deep/p.json")).prompts).toHaveProperty("planner");
    expect(existsSync(join(dir, "dist"))).toBe(false);
  });

  it("refuses a `bundle:` setting that leaves the repository", async () => {
    const dir = tempDir({ ...PROMPTS, "prompts.config.yaml": "bundle: ../elsewhere.json\n" });
    const result = await cli(dir, "publish");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      '✗ prompts.config.yaml: bundle "../elsewhere.json" must be a file inside the repository (or pass --out)\n',
    );
  });

  it("--json prints {out, prompts, hash, bytes, source}", async () => {
    const dir = tempDir(PROMPTS);
    const result = await cli(dir, "publish", "--json");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    const path = join(dir, "dist/prompts.json");
    expect(report).toEqual({
      out: "dist/prompts.json",
      prompts: 4,
      hash: bundleAt(path).hash,
      bytes: statSync(path).size,
      source: { commit: null, ref: null, dirty: false },
    });
  });

  it("gives the same bytes on a second run, leaving no temp file behind", async () => {
    const dir = gitRepo([{ files: PROMPTS }]);
    expect((await cli(dir, "publish")).code).toBe(0);
    const first = readFileSync(join(dir, "dist/prompts.json"));
    expect((await cli(dir, "publish")).code).toBe(0);
    expect(readFileSync(join(dir, "dist/prompts.json")).equals(first)).toBe(true);
    expect(readdirSync(join(dir, "dist"))).toEqual(["prompts.json"]);
  });

  it("gives the same bytes in two clones of one commit, and no path of either", async () => {
    const origin = gitRepo([{ files: PROMPTS }]);
    const head = git(origin, "rev-parse", "HEAD").trim();
    const texts: string[] = [];
    for (const name of ["one", "two"]) {
      const clone = join(tempDir(), name);
      git(origin, "clone", "-q", origin, clone);
      const result = await cli(clone, "publish");
      expect(result).toMatchObject({ code: 0, stderr: "" });
      const text = read(join(clone, "dist/prompts.json"));
      expect(text).not.toContain(clone);
      texts.push(text);
    }
    expect(texts[1]).toBe(texts[0]);
    expect(parseBundle(texts[0] ?? "").source).toEqual({ commit: head, ref: null, dirty: false });
  });

  it("--ref publishes a tag's prompts straight from git, leaving the working tree alone", async () => {
    const dir = gitRepo([
      { files: PROMPTS, tags: ["v1"] },
      {
        files: {
          "prompts/greeting.yaml": GREETING.replace("Hello", "Hi"),
          "prompts/new.yaml": RULES,
        },
      },
    ]);
    const v1 = git(dir, "rev-parse", "v1^{commit}").trim();
    writeFiles(dir, { "prompts/greeting.yaml": GREETING.replace("Hello", "Hey") });
    const status = git(dir, "status", "--porcelain", "--", "prompts");

    const result = await cli(dir, "publish", "--ref", "v1", "--json");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const bundle = bundleAt(join(dir, "dist/prompts.json"));
    expect(bundle.source).toEqual({ commit: v1, ref: "v1", dirty: false });
    expect(JSON.parse(result.stdout)).toMatchObject({ prompts: 4, source: bundle.source });
    expect(bundle.prompts.greeting?.template).toBe("Hello {{name}}!\n");
    expect(bundle.prompts).not.toHaveProperty("new");

    expect(read(join(dir, "prompts/greeting.yaml"))).toContain("Hey {{name}}");
    expect(git(dir, "status", "--porcelain", "--", "prompts")).toBe(status);
    expect(git(dir, "rev-parse", "HEAD").trim()).not.toBe(v1);
  });

  it("--ref of an unknown ref fails with one line and writes nothing", async () => {
    const dir = gitRepo([{ files: PROMPTS }]);
    const result = await cli(dir, "publish", "--ref", "v9");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^✗ unknown git ref "v9"/);
    expect(existsSync(join(dir, "dist"))).toBe(false);
  });

  it("refuses invalid prompts: errors as file:line:col, exit 1, nothing written", async () => {
    const dir = tempDir({ ...PROMPTS, "prompts/broken.yaml": BROKEN });
    const result = await cli(dir, "publish");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^prompts\/broken\.yaml:3:1: error: unknown key "templat"/);
    expect(result.stderr).toContain(
      "✗ refusing to publish: the prompts have 1 error; nothing was written (run: prompts validate)\n",
    );
    expect(existsSync(join(dir, "dist"))).toBe(false);
  });

  it("leaves an existing bundle byte-identical when the prompts turn invalid", async () => {
    const dir = tempDir(PROMPTS);
    expect((await cli(dir, "publish")).code).toBe(0);
    const path = join(dir, "dist/prompts.json");
    const before = readFileSync(path);
    const mtime = statSync(path).mtimeMs;
    writeFiles(dir, { "prompts/greeting.yaml": BROKEN });
    const result = await cli(dir, "publish");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("prompts/greeting.yaml:3:1: error:");
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(statSync(path).mtimeMs).toBe(mtime);
    expect(readdirSync(join(dir, "dist"))).toEqual(["prompts.json"]);
  });

  it("refuses to publish an empty bundle", async () => {
    const dir = tempDir({ "prompts/README.md": "nothing here\n" });
    const result = await cli(dir, "publish");
    expect(result).toMatchObject({ code: 1, stdout: "" });
    expect(result.stderr).toBe("✗ refusing to publish an empty bundle: no prompts in prompts/\n");
    expect(existsSync(join(dir, "dist"))).toBe(false);
  });

  it("marks the bundle dirty while the prompt folder has uncommitted changes", async () => {
    const dir = gitRepo([{ files: PROMPTS }]);
    const source = async () => {
      expect((await cli(dir, "publish")).code).toBe(0);
      return bundleAt(join(dir, "dist/prompts.json")).source;
    };
    // dist/ is outside the prompt folder: publishing does not make the tree dirty.
    expect(await source()).toMatchObject({ dirty: false });
    writeFiles(dir, { "prompts/greeting.yaml": GREETING.replace("Hello", "Hey") });
    expect(await source()).toMatchObject({ dirty: true, ref: null });
    git(dir, "commit", "-qam", "Say hey");
    const head = git(dir, "rev-parse", "HEAD").trim();
    expect(await source()).toEqual({ commit: head, ref: null, dirty: false });
    writeFiles(dir, { "prompts/untracked.yaml": RULES });
    expect(await source()).toMatchObject({ dirty: true });
  });

  it("in a repository without commits: no commit, and dirty", async () => {
    const dir = gitRepo();
    writeFiles(dir, PROMPTS);
    expect((await cli(dir, "publish")).code).toBe(0);
    expect(bundleAt(join(dir, "dist/prompts.json")).source).toEqual({
      commit: null,
      ref: null,
      dirty: true,
    });
  });

  it("outside a git repository: commit null, not dirty", async () => {
    const dir = tempDir(PROMPTS);
    expect((await cli(dir, "publish")).code).toBe(0);
    expect(bundleAt(join(dir, "dist/prompts.json")).source).toEqual({
      commit: null,
      ref: null,
      dirty: false,
    });
  });

  it("a failed write leaves neither a temp file nor a changed target", async () => {
    const dir = tempDir(PROMPTS);
    mkdirSync(join(dir, "out/bundle.json"), { recursive: true });
    writeFileSync(join(dir, "out/keep.txt"), "kept");
    const result = await cli(dir, "publish", "--out", "out/bundle.json");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "✗ cannot write the bundle out/bundle.json: it is a folder (EISDIR)\n",
    );
    expect(readdirSync(join(dir, "out")).sort()).toEqual(["bundle.json", "keep.txt"]);
    expect(readdirSync(join(dir, "out/bundle.json"))).toEqual([]);
  });

  it("works from the built binary, byte for byte as in-process", async () => {
    const dir = tempDir(PROMPTS);
    const result = runBin(dir, ["publish", "--out", "bin.json"], { NO_COLOR: "1" });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^published bin\.json: 4 prompts/);
    expect((await cli(dir, "publish")).code).toBe(0);
    expect(read(join(dir, "bin.json"))).toBe(read(join(dir, "dist/prompts.json")));
  });
});

describe("prompts publish --out: where the bundle may go", () => {
  it("--out - writes the bundle's bytes to standard output and nothing else there", async () => {
    const dir = tempDir(PROMPTS);
    expect((await cli(dir, "publish", "--out", "file.json")).code).toBe(0);
    const result = await cli(dir, "publish", "--out", "-");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(read(join(dir, "file.json")));
    expect(result.stderr).toMatch(/^published to standard output: 4 prompts, hash /);
    expect(existsSync(join(dir, "dist"))).toBe(false);
    expect(existsSync(join(dir, "-"))).toBe(false);

    const bin = runBin(dir, ["publish", "--out", "-"], { NO_COLOR: "1" });
    expect(bin.code).toBe(0);
    expect(bin.stdout).toBe(read(join(dir, "file.json")));

    expectOneLineError(await cli(dir, "publish", "--out", "-", "--json"), 2, "--json and --out -");
  });

  it("a symlink is followed: its target is replaced by a new file, the link stays a link", async () => {
    const dir = tempDir({ ...PROMPTS, "store/real.json": "old bundle" });
    const real = join(dir, "store/real.json");
    symlinkSync("store/real.json", join(dir, "dist-link.json"));
    const before = statSync(real).ino;

    const result = await cli(dir, "publish", "--out", "dist-link.json");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^published dist-link\.json: 4 prompts/);
    expect(lstatSync(join(dir, "dist-link.json")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, "dist-link.json"))).toBe("store/real.json");
    expect(bundleAt(real).prompts).toHaveProperty("greeting");
    // A new file renamed into place, not the old one rewritten where a reader could see half.
    expect(statSync(real).ino).not.toBe(before);
    expect(readdirSync(join(dir, "store"))).toEqual(["real.json"]);
  });

  it("a symlink where the bundle goes by default is replaced, never followed out of the repository", async () => {
    const outside = tempDir({ "precious.txt": "keep me" });
    const dir = tempDir(PROMPTS);
    mkdirSync(join(dir, "dist"));
    symlinkSync(join(outside, "precious.txt"), join(dir, "dist/prompts.json"));
    expect((await cli(dir, "publish")).code).toBe(0);
    expect(read(join(outside, "precious.txt"))).toBe("keep me");
    expect(lstatSync(join(dir, "dist/prompts.json")).isFile()).toBe(true);
  });

  it("a symlink to a file not there yet creates that file", async () => {
    const dir = tempDir(PROMPTS);
    mkdirSync(join(dir, "store"));
    symlinkSync("store/new.json", join(dir, "link.json"));
    expect((await cli(dir, "publish", "--out", "link.json")).code).toBe(0);
    expect(lstatSync(join(dir, "link.json")).isSymbolicLink()).toBe(true);
    expect(bundleAt(join(dir, "store/new.json")).prompts).toHaveProperty("greeting");
  });

  it("refuses a FIFO without opening it, and leaves it in place", async () => {
    const dir = tempDir(PROMPTS);
    mkdirSync(join(dir, "dist"));
    execFileSync("mkfifo", [join(dir, "dist/x")]);
    expectOneLineError(
      await cli(dir, "publish", "--out", "dist/x"),
      1,
      "--out dist/x: is a FIFO, not a regular file",
      "--out -",
    );
    expect(statSync(join(dir, "dist/x")).isFIFO()).toBe(true);
    expect(readdirSync(join(dir, "dist"))).toEqual(["x"]);
  });

  it("refuses a device, also behind a symlink", async () => {
    const dir = tempDir(PROMPTS);
    // A null device of its own (we are root), so a failure could never replace /dev/null.
    execFileSync("mknod", [join(dir, "null"), "c", "1", "3"]);
    symlinkSync("null", join(dir, "to-null"));
    for (const out of ["null", "to-null"]) {
      expectOneLineError(
        await cli(dir, "publish", "--out", out),
        1,
        `--out ${out}: is a device, not a regular file`,
      );
    }
    expect(statSync(join(dir, "null")).isCharacterDevice()).toBe(true);
  });

  it("refuses a socket", async () => {
    const dir = tempDir(PROMPTS);
    const server = createServer();
    await new Promise<void>((done) => server.listen(join(dir, "sock"), done));
    try {
      expectOneLineError(
        await cli(dir, "publish", "--out", "sock"),
        1,
        "--out sock: is a socket, not a regular file",
      );
      expect(statSync(join(dir, "sock")).isSocket()).toBe(true);
    } finally {
      await new Promise((done) => server.close(done));
    }
  });
});
