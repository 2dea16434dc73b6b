import { spawnSync } from "node:child_process";
import { describe } from "vitest";

/**
 * The stock `age` tool (FiloSottile/age, Debian's `age` package), which the interop tests run
 * to prove that key slots and exports open with it. On a machine without it those tests are
 * skipped (test/setup/stock-age.ts says so in one line), and nothing else depends on it;
 * .ci/run installs it and fails if any test marked with STOCK_AGE was skipped.
 */
export const hasStockAge = ["age", "age-keygen"].every((tool) => spawnSync(tool, ["--version"], { stdio: "ignore" }).status === 0);

/** In the title of every test that needs the stock tool: .ci/run looks for it among skipped tests. */
export const STOCK_AGE = "[stock age]";

export const INSTALL_STOCK_AGE = "apt-get install age";

/** A describe block of tests that run the stock tool, skipped where it is not installed. */
export function describeStockAge(title: string, body: () => void): void {
  describe.skipIf(!hasStockAge)(`${title} ${STOCK_AGE}`, body);
}
