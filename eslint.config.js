import js from "@eslint/js";
import tseslint from "typescript-eslint";

/*
 * The architecture (DESIGN.md section 6), checked rather than remembered: which part of src/
 * may import what. Each rule names the directories it holds in and what they may not import;
 * ESLint's flat config lets only one `no-restricted-imports` apply per file, so the rules are
 * folded into one setting per area (architectureRules below). Tests may import anything (they
 * attack the store and the crypto from outside). test/architecture.test.ts plants a violation
 * of each rule and expects lint to fail on it.
 */
const SOURCE_ONLY = ["**/*.test.ts", "**/*.test-helpers.ts", "**/conformance/**"];
/** A relative import that reaches into one of `dirs` of src/ (from any depth below src/). */
const into = (...dirs) => `^(\\.\\./)+(${dirs.join("|")})(/|$)`;
export const ARCHITECTURE = [
  {
    why: "only src/crypto imports node:crypto and age-encryption",
    outside: ["src/crypto"],
    paths: ["node:crypto", "crypto", "age-encryption"],
  },
  { why: "only src/store/sqlite imports better-sqlite3", outside: ["src/store/sqlite"], paths: ["better-sqlite3"] },
  { why: "only src/store/postgres imports pg", outside: ["src/store/postgres"], paths: ["pg", "pg-pool"] },
  {
    why: "the core knows nothing of I/O, HTTP, the CLI or the daemon",
    inside: ["src/vault"],
    paths: ["node:http", "node:child_process", "node:fs", "node:fs/promises", "fastify", "commander"],
    regex: into("cli", "daemon", "api", "store/sqlite", "store/postgres"),
  },
  { why: "the API knows nothing of the CLI or the daemon", inside: ["src/api"], regex: into("cli", "daemon") },
  { why: "src/run knows nothing of the vault, the store or the API", inside: ["src/run"], regex: into("vault", "store", "api") },
];

/** The areas each rule may differ in: every directory a rule names, and the rest of src/. */
function architectureRules() {
  const areas = [...new Set(ARCHITECTURE.flatMap((r) => [...(r.inside ?? []), ...(r.outside ?? [])]))];
  const within = (dir, area) => area === dir || area.startsWith(`${dir}/`);
  const ruleFor = (area) => {
    const rules = ARCHITECTURE.filter((r) => (r.inside ? r.inside.some((d) => within(d, area)) : !r.outside.some((d) => within(d, area))));
    return {
      paths: rules.flatMap((r) => (r.paths ?? []).map((name) => ({ name, message: r.why }))),
      patterns: rules.filter((r) => r.regex).map((r) => ({ regex: r.regex, message: r.why })),
    };
  };
  const nested = (area) => areas.filter((a) => a !== area && within(area, a)).map((a) => `${a}/**`);
  return [
    { files: ["src/**/*.ts"], ignores: [...SOURCE_ONLY, ...areas.map((a) => `${a}/**`)], rules: { "no-restricted-imports": ["error", ruleFor("src")] } },
    ...areas.map((area) => ({
      files: [`${area}/**/*.ts`],
      ignores: [...SOURCE_ONLY, ...nested(area)],
      rules: { "no-restricted-imports": ["error", ruleFor(area)], ...(area === "src/vault" ? { "no-console": "error" } : {}) },
    })),
  ];
}

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    // tsconfig.check.json is the one program that holds src and test (tsconfig.json holds src only).
    languageOptions: { parserOptions: { project: "./tsconfig.check.json", tsconfigRootDir: import.meta.dirname } },
  },
  {
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        URL: "readonly",
      },
    },
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
  ...architectureRules(),
);
