import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, expect } from "vitest";
import { run } from "../src/cli/main.js";
import { type BundleSource, bundleEnvelope } from "../src/core/bundle.js";

/** The repository of gitprompts itself. */
export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The built binary (`npm test` builds before running the tests). */
export const BIN = join(PROJECT_ROOT, "bin", "prompts.js");

/**
 * A bundle's text around these members of its prompts object (`"name":{…}`, valid prompts or
 * not) with the hash they give: a hand-made bundle, as `parseBundle` may be handed one.
 */
export function bundleTextOf(members: readonly string[], source: BundleSource): string {
  const prompts = `{${members.join(",")}}`;
  const { head, tail } = bundleEnvelope(createHash("sha256").update(prompts).digest("hex"), source);
  return `${head}${prompts}${tail}`;
}

/** Files to write: path → text or bytes. */
export type FileTree = Record<string, string | Uint8Array>;

const created: string[] = [];
afterEach(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes files into a directory (creating folders). */
export function writeFiles(root: string, files: FileTree): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
}

/** A fresh temp directory holding `files`, removed after the test. */
export function tempDir(files: FileTree = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "gitprompts-test-"));
  created.push(dir);
  writeFiles(dir, files);
  return dir;
}

/** Runs git in `cwd` and returns its stdout; throws with git's stderr on failure. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** A commit to make in {@link gitRepo}: files to write (null deletes), a message and tags. */
export interface CommitSpec {
  files: Record<string, string | Uint8Array | null>;
  message?: string;
  tags?: string[];
}

/**
 * A real git repository in a temp dir: `git init`, then one commit per entry (with tags).
 * Identity comes from the test setup's environment.
 */
export function gitRepo(commits: CommitSpec[] = []): string {
  const dir = tempDir();
  git(dir, "init", "-q", "-b", "main");
  commits.forEach((commit, index) => {
    for (const [path, content] of Object.entries(commit.files)) {
      if (content === null) rmSync(join(dir, path), { force: true });
      else writeFiles(dir, { [path]: content });
    }
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "--allow-empty", "-m", commit.message ?? `commit ${index + 1}`);
    for (const tag of commit.tags ?? []) git(dir, "tag", "-a", tag, "-m", tag);
  });
  return dir;
}

/** What a CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A line of a stack trace: an error the CLI knows never prints one. */
export const STACK_LINE = /^ {4}at /m;

/** Fails unless the run exited with `code`, printed nothing, and said one `✗` line with each fragment. */
export function expectOneLineError(result: CliResult, code: number, ...fragments: string[]): void {
  expect(result.code).toBe(code);
  expect(result.stdout).toBe("");
  expect(result.stderr).toMatch(/^✗ [^\n]+\n$/);
  expect(result.stderr).not.toMatch(STACK_LINE);
  for (const fragment of fragments) expect(result.stderr).toContain(fragment);
}

/** Runs the CLI in-process in `cwd`. */
export async function cli(cwd: string, ...argv: string[]): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await run(argv, {
    cwd,
    env: { ...process.env, NO_COLOR: "1" },
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
  });
  return { code, stdout, stderr };
}

/** Runs the built `bin/prompts.js` as a separate process. */
export function runBin(cwd: string, argv: string[], env: Record<string, string> = {}): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...argv], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Polls `probe` until it returns something other than undefined or false, and returns that;
 * fails after `timeoutMs`, with the last error the probe threw, if any.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 8000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error instanceof Error ? error : new Error(String(error));
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What {@link rawRequest} got back: the body as bytes and as text. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

/**
 * One request on its own connection, sent exactly as written: fetch would normalise `..` in
 * the path and set the Host header itself.
 */
export function rawRequest(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawAnswer> {
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
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body,
            text: body.toString("utf8"),
          });
        });
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(options.body);
  });
}
