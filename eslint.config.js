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
    const rules = ARCHITECTURE.filter((r) =>
      r.inside ? r.inside.some((d) => within(d, area)) : !r.outside.some((d) => within(d, area)),
    );
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
  ...architectureRules(),
);
