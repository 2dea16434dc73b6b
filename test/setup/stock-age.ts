import { hasStockAge, INSTALL_STOCK_AGE, STOCK_AGE } from "../../src/crypto/stock-age.test-helpers.js";

/** Says once, before any test, that the tests needing the stock `age` tool will be skipped. */
export default function stockAgeNotice(): void {
  if (!hasStockAge) {
    process.stderr.write(`authy tests: the stock age tool is not installed; the tests marked ${STOCK_AGE} are skipped (${INSTALL_STOCK_AGE})\n`);
  }
}
