// Builds the web page of `prompts serve` (web/) into dist/web, which the server holds in memory
// and serves at `/` (the page) and `/ui/` (its assets). The page needs no network but the server.
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

/** The budget for all of the page's JavaScript, gzipped. */
const MAX_SCRIPT_GZIP_BYTES = 150 * 1024;

/** Fails the build when the page's JavaScript, gzipped, is over budget; prints the figure. */
function scriptBudget(): Plugin {
  return {
    name: "gitprompts-script-budget",
    apply: "build",
    generateBundle(_options, bundle) {
      let gzipped = 0;
      for (const file of Object.values(bundle)) {
        if (file.type === "chunk") gzipped += gzipSync(file.code, { level: 9 }).length;
      }
      const line = `web page JavaScript: ${(gzipped / 1024).toFixed(1)} KB gzipped (budget ${MAX_SCRIPT_GZIP_BYTES / 1024} KB)`;
      if (gzipped > MAX_SCRIPT_GZIP_BYTES) this.error(line);
      this.info(line);
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/ui/",
  // Preact's JSX runtime, without Babel.
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    // No inline script or data: URL may be needed: the page runs under a strict CSP.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    target: "es2022",
    rollupOptions: {
      // A Node module reaching the page (through an import of ../src that is not pure) would be
      // an empty stub at run time: refuse it at build time.
      onwarn(warning, warn) {
        if (/externalized for browser compatibility/.test(warning.message))
          throw new Error(`the page imports a Node module: ${warning.message}`);
        warn(warning);
      },
    },
  },
  plugins: [scriptBudget()],
  server: {
    // `npx vite web` while a `prompts serve --port 7411` runs: the page with live reload.
    proxy: { "/v1": "http://127.0.0.1:7411", "/healthz": "http://127.0.0.1:7411" },
  },
});
