// `npm test`: every check and both test suites, TypeScript and Python, then one closing line
// that adds them up. Arguments after `npm test --` go to vitest (e.g. a test file to run).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const reports = mkdtempSync(join(tmpdir(), "gitprompts-test-"));
const python = join(root, ".venv", "bin", "python");
const hasPythonClient = existsSync(join(root, "python", "pyproject.toml"));

/** Runs one step with its output shown; false when it failed. */
function step(title, command, args) {
  process.stdout.write(`\n▶ ${title}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (result.error) throw result.error;
  return result.status === 0;
}

const totals = { passed: 0, failed: 0, skipped: 0 };
let ok = true;
try {
  const checks = [
    ["build", "npm", ["run", "--silent", "build"]],
    ["type-check", "npx", ["tsc", "-p", "tsconfig.json", "--noEmit"]],
    ["type-check the web page", "npx", ["tsc", "-p", "web/tsconfig.json"]],
    ["lint", "npm", ["run", "--silent", "lint"]],
    ["Python environment (.venv)", "bash", ["scripts/setup-python.sh"]],
  ];
  if (hasPythonClient)
    checks.push(["mypy --strict", python, ["-m", "mypy", "--strict", "python/src"]]);
  for (const [title, command, args] of checks) {
    if (!step(title, command, args)) {
      ok = false;
      break;
    }
  }
  if (ok) {
    const vitestReport = join(reports, "vitest.json");
    const extra = process.argv.slice(2);
    ok =
      step("TypeScript tests (vitest)", "npx", [
        "vitest",
        "run",
        "--reporter=default",
        "--reporter=json",
        `--outputFile.json=${vitestReport}`,
        ...extra,
      ]) && ok;
    if (existsSync(vitestReport)) {
      const r = JSON.parse(readFileSync(vitestReport, "utf8"));
      totals.passed += r.numPassedTests;
      totals.failed += r.numFailedTests;
      totals.skipped += r.numPendingTests + r.numTodoTests;
    } else ok = false;

    if (hasPythonClient && extra.length === 0) {
      const junit = join(reports, "pytest.xml");
      ok =
        step("Python tests (pytest)", python, [
          "-m",
          "pytest",
          "-q",
          "python/tests",
          `--junitxml=${junit}`,
        ]) && ok;
      if (existsSync(junit)) {
        const suite = /<testsuite\b[^>]*>/.exec(readFileSync(junit, "utf8"))?.[0] ?? "";
        const count = (name) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(suite)?.[1] ?? 0);
        const failed = count("failures") + count("errors");
        totals.failed += failed;
        totals.skipped += count("skipped");
        totals.passed += count("tests") - failed - count("skipped");
      } else ok = false;
    }
  }
} finally {
  rmSync(reports, { recursive: true, force: true });
}
// One plain closing line that any reader of CI logs understands.
console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = ok && totals.failed === 0 ? 0 : 1;
