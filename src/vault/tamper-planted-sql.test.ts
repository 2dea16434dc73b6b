/**
 * SQL planted in the vault file (triggers that would run inside authy's own transactions): the
 * vault refuses to open.
 * The fixture: tamper.test-helpers.ts.
 */
import { describe, expect, it } from "vitest";
import { copyOf, outcome, sql, unlock, useTemplates } from "./tamper.test-helpers.js";

useTemplates();

describe("SQL planted in the vault file", () => {
  it.each([
    ["drops each new audit entry", "CREATE TRIGGER hide AFTER INSERT ON audit BEGIN DELETE FROM audit WHERE seq = NEW.seq; END"],
    [
      "rewrites each new version",
      "CREATE TRIGGER swap AFTER INSERT ON secret_versions BEGIN UPDATE secret_versions SET actor = 'x' WHERE path = NEW.path; END",
    ],
  ])("refuses a vault holding a trigger that %s", async (_what, trigger) => {
    // A trigger runs inside authy's own transactions: one that deletes every audit entry as it
    // is written leaves a chain that verifies, and no checkpoint can catch what never existed.
    const file = copyOf();
    sql(file, (db) => db.exec(trigger));
    expect(await outcome((async () => unlock(file))())).toBe("INTEGRITY");
  });
});
