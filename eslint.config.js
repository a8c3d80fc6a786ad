// Lint with type information: no-floating-promises and friends matter in server and watcher code.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", ".venv/", "python/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": [
        "error",
        { fixStyle: "inline-type-imports", disallowTypeAnnotations: false },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // expect.any / expect.stringContaining are typed `any` by design.
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
    },
  },
  {
    files: ["**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      // Node's globals, for the benchmark scripts (TypeScript checks the rest).
      globals: Object.fromEntries(
        [
          "AbortController",
          "Buffer",
          "clearInterval",
          "clearTimeout",
          "console",
          "fetch",
          "performance",
          "process",
          "setImmediate",
          "setInterval",
          "setTimeout",
          "TextDecoder",
          "URL",
        ].map((name) => [name, "readonly"]),
      ),
    },
  },
);
