import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    // tsconfig.check.json is the one program that holds src and test (tsconfig.json holds src only).
    languageOptions: { parserOptions: { project: "./tsconfig.check.json", tsconfigRootDir: import.meta.dirname } },
  },
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", URL: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // noUncheckedIndexedAccess is on: `x[i]!` is how the code says an index is known to be in range.
      "@typescript-eslint/no-non-null-assertion": "off",
      // Counts, sizes and milliseconds in messages read fine as `${n}`.
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      // `() => f()` callbacks and `return resolve(x)` early exits in void functions are idiomatic and unambiguous.
      "@typescript-eslint/no-confusing-void-expression": ["error", { ignoreArrowShorthand: true, ignoreVoidReturningFunctions: true }],
      // An `async` that never awaits still turns a throw into a rejection: the Store over synchronous better-sqlite3,
      // the clients and the routes rely on that, so removing it would change behaviour.
      "@typescript-eslint/require-await": "off",
      // @types/node types isTTY as boolean, but it is undefined off a terminal: Boolean(x.isTTY) is deliberate.
      "@typescript-eslint/no-unnecessary-type-conversion": "off",
      // Handing a caught `unknown` on as a rejection keeps it as it was, as a rethrow does.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingUnknown: true }],
    },
  },
  {
    // Tests assert on untyped JSON (API bodies, the CLI's --json, audit details) with expect(), which is the check;
    // vitest's asymmetric matchers (expect.any, expect.stringMatching) are typed `any` as well.
    files: ["**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
    },
  },
  {
    // Plain JavaScript (bench, scripts, test data) is outside the TypeScript program.
    files: ["**/*.mjs", "**/*.cjs", "**/*.js"],
    ...tseslint.configs.disableTypeChecked,
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
