import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", URL: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // CommonJS scripts (the bench's floor: a plain script starts faster than a module).
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly", module: "writable", __dirname: "readonly", __filename: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // The core sees Store and Clock interfaces only (DESIGN.md section 6).
    files: ["src/vault/**/*.ts"],
    ignores: ["src/vault/**/*.test.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        paths: [
          ...["better-sqlite3", "pg", "node:http", "node:child_process", "node:fs", "node:fs/promises", "fastify", "commander"].map((name) => ({
            name,
            message: "the core knows nothing of I/O, the CLI or a concrete store",
          })),
          ...["node:crypto", "crypto", "age-encryption"].map((name) => ({ name, message: "only src/crypto imports node:crypto and age-encryption" })),
        ],
        patterns: [{ group: ["../cli/*", "../store/sqlite/*", "../store/postgres/*"], message: "the core knows nothing of the CLI or a concrete store" }],
      }],
      "no-console": "error",
    },
  },
);
