import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // A browser page on a loaded 2-core CI machine can take seconds to show what a test waits
    // for: expect.poll waits up to 15 s (it still returns as soon as the page shows it).
    expect: { poll: { timeout: 15_000 } },
  },
});
