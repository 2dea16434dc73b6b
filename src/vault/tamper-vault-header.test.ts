/**
 * Hand edits of the vault header (its id, format, times, listing MAC): the vault no longer
 * unlocks, or no longer lists.
 * The fixture: tamper.test-helpers.ts.
 */
import { describe, expect, it } from "vitest";
import { byIdentity, byPassphrase, copyOf, outcome, sql, unlock, useTemplates } from "./tamper.test-helpers.js";

useTemplates();

describe("hand edits of the vault header", () => {
  const edits: { column: string; set: string }[] = [
    { column: "vault_id", set: "randomblob(16)" },
    { column: "format", set: "3" },
    { column: "created_at", set: "created_at + 1" },
    { column: "mac", set: "randomblob(32)" },
  ];

  it.each(edits)("refuses to unlock after vault.$column is edited, with the identity and with the passphrase", async ({ column, set }) => {
    const file = copyOf();
    sql(file, (db) => db.prepare(`UPDATE vault SET ${column} = ${set}`).run());
    expect(await outcome(unlock(file, byIdentity()))).toBe("INTEGRITY");
    expect(await outcome(unlock(file, byPassphrase()))).toBe("INTEGRITY");
  });

  it.each(["randomblob(32)", "NULL"])("refuses to list after vault.listing_mac is set to %s", async (set) => {
    const file = copyOf();
    sql(file, (db) => db.prepare(`UPDATE vault SET listing_mac = ${set}`).run());
    const vault = await unlock(file);
    expect(await outcome(vault.listSecrets())).toBe("INTEGRITY");
    expect(await outcome(vault.exportAll())).toBe("INTEGRITY");
    expect((await vault.verify()).problems.length).toBeGreaterThan(0);
  });
});
