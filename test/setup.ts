import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Hermetic git and output: no system or user git config, a fixed identity, no colours.
const home = mkdtempSync(join(tmpdir(), "gitprompts-home-"));
mkdirSync(home, { recursive: true });
Object.assign(process.env, {
  HOME: home,
  XDG_CONFIG_HOME: home,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: join(home, ".gitconfig-none"),
  GIT_AUTHOR_NAME: "Test Author",
  GIT_AUTHOR_EMAIL: "author@example.test",
  GIT_COMMITTER_NAME: "Test Committer",
  GIT_COMMITTER_EMAIL: "committer@example.test",
  NO_COLOR: "1",
});
delete process.env.FORCE_COLOR;
delete process.env.DEBUG;
