/**
 * Hand edits of a secret's metadata row (type, tier, path, expiry, MAC …) and rows inserted or
 * deleted by hand: every one fails closed (INTEGRITY), in reads and in the listing.
 * The fixture: tamper.test-helpers.ts.
 */
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { B1, C1, copyOf, flipBit, LISTING_SQL, outcome, sql, unlock, useTemplates, utf8, writableColumns } from "./tamper.test-helpers.js";

useTemplates();

describe("hand edits of a secret's metadata row", () => {
  // Columns in the authenticated listing, edited with the row's listing line to match, also
  // make `list` fail; the rest only the row MAC sees.
  const edits: { column: string; set: string; inListing: boolean }[] = [
    { column: "type", set: "'ssh_key'", inListing: true },
    { column: "tier", set: "'critical'", inListing: true },
    { column: "description", set: "'edited by hand'", inListing: false },
    { column: "tags", set: `'["edited"]'`, inListing: false },
    { column: "expires_at", set: "NULL", inListing: true },
    { column: "current_version", set: "1", inListing: true },
    { column: "deleted_at", set: "updated_at", inListing: true },
    { column: "created_at", set: "created_at - 1", inListing: false },
    { column: "updated_at", set: "updated_at + 1", inListing: true },
    { column: "namespace", set: "'staging'", inListing: false },
    { column: "mac", set: "randomblob(32)", inListing: false },
  ];

  it.each(edits)("refuses prod/A after secrets.$column is edited", async ({ column, set, inListing }) => {
    const file = copyOf();
    sql(file, (db) => {
      expect(db.prepare(`UPDATE secrets SET ${column} = ${set} WHERE path = 'prod/A'`).run().changes).toBe(1);
      if (inListing) db.prepare(`UPDATE secrets SET listing = ${LISTING_SQL} WHERE path = 'prod/A'`).run();
    });
    const vault = await unlock(file);
    expect(await outcome(vault.getSecret("prod/A"))).toBe("INTEGRITY");
    expect(await outcome(vault.getSecret("prod/A", { version: 1 }))).toBe("INTEGRITY");
    expect(await outcome(vault.describeSecret("prod/A"))).toBe("INTEGRITY");
    expect(await outcome(vault.history("prod/A"))).toBe("INTEGRITY");
    expect(await outcome(vault.exportEnv("prod"))).toBe("INTEGRITY");
    expect(await outcome(vault.exportAll())).toBe("INTEGRITY");
    expect(await outcome(vault.setSecret("prod/A", utf8("new")))).toBe("INTEGRITY");
    expect(await outcome(vault.deleteSecret("prod/A"))).toBe("INTEGRITY");
    if (inListing) expect(await outcome(vault.listSecrets())).toBe("INTEGRITY");
    expect((await vault.verify()).problems.length).toBeGreaterThan(0);
    // Fails closed for that secret only: the others still open. (An edit of the MAC, or a row
    // moved to another namespace, fails the state digest of its bucket, a 64th of a namespace,
    // which none of the others share: see stateShard.)
    expect(Buffer.from((await vault.getSecret("prod/B")).value).toString()).toBe(B1);
    expect(Buffer.from((await vault.getSecret("staging/C")).value).toString()).toBe(C1);
  });

  it("refuses a secret renamed by hand (path edited), under either name", async () => {
    const file = copyOf();
    sql(file, (db) => db.prepare("UPDATE secrets SET path = 'prod/Z' WHERE path = 'prod/A'").run());
    const vault = await unlock(file);
    expect(await outcome(vault.getSecret("prod/Z"))).toBe("INTEGRITY");
    // The namespace no longer matches its state digest: the old name is refused, not just missing.
    expect(await outcome(vault.getSecret("prod/A"))).toBe("INTEGRITY");
    expect(await outcome(vault.listSecrets())).toBe("INTEGRITY");
  });

  it("refuses every one-bit flip of every byte of the row (a sweep over every column)", async () => {
    const file = copyOf();
    const vault = await unlock(file);
    const db = new Database(file);
    try {
      const original = db.prepare("SELECT * FROM secrets WHERE path = 'prod/B'").get() as Record<string, unknown>;
      let variants = 0;
      for (const column of writableColumns(db, "secrets")) {
        const value = original[column];
        const forms: unknown[] = [];
        if (typeof value === "string") {
          const raw = utf8(value);
          for (let i = 0; i < raw.length; i++) forms.push(flipBit(raw, i));
        } else if (typeof value === "number") {
          for (let bit = 0; bit < 48; bit++) forms.push(Number(BigInt(value) ^ (1n << BigInt(bit))));
        } else if (value instanceof Uint8Array) {
          for (let i = 0; i < value.length; i++) forms.push(flipBit(value, i));
        } else if (value === null) {
          forms.push(0, 1, Date.now());
        }
        const cast = typeof value === "string" ? "CAST(? AS TEXT)" : "?";
        for (const form of forms) {
          db.prepare(`UPDATE secrets SET ${column} = ${cast} WHERE path = 'prod/B'`).run(form);
          variants++;
          // A flipped path renames the row: the namespace's state digest no longer matches. A
          // flipped listing line is the listing MAC's to catch; the row itself is intact.
          if (column === "listing") expect(`${column}: ${await outcome(vault.listSecrets())}`).toBe(`${column}: INTEGRITY`);
          else expect(`${column}: ${await outcome(vault.getSecret("prod/B"))}`).toBe(`${column}: INTEGRITY`);
          if (column === "path") {
            db.prepare("UPDATE secrets SET path = 'prod/B' WHERE path = CAST(? AS TEXT)").run(form);
          } else {
            db.prepare(`UPDATE secrets SET ${column} = ? WHERE path = 'prod/B'`).run(value);
          }
        }
      }
      expect(variants).toBeGreaterThan(200);
      expect(Buffer.from((await vault.getSecret("prod/B")).value).toString()).toBe(B1);
    } finally {
      db.close();
    }
  });

  it("refuses a secrets row inserted by hand: the listing no longer matches", async () => {
    const file = copyOf();
    sql(file, (db) =>
      db
        .prepare(
          "INSERT INTO secrets SELECT 'prod/FORGED', namespace, type, tier, description, tags, expires_at, current_version, deleted_at, created_at, updated_at, mac, listing FROM secrets WHERE path = 'prod/B'",
        )
        .run(),
    );
    const vault = await unlock(file);
    expect(await outcome(vault.listSecrets())).toBe("INTEGRITY");
    expect(await outcome(vault.listSecrets({ namespace: "staging" }))).toBe("INTEGRITY");
    expect(await outcome(vault.getSecret("prod/FORGED"))).toBe("INTEGRITY");
    expect(await outcome(vault.exportAll())).toBe("INTEGRITY");
  });

  it("refuses a secrets row deleted by hand: the listing no longer matches", async () => {
    const file = copyOf();
    sql(file, (db) => db.prepare("DELETE FROM secrets WHERE path = 'prod/B'").run());
    const vault = await unlock(file);
    expect(await outcome(vault.listSecrets())).toBe("INTEGRITY");
    expect(await outcome(vault.exportAll())).toBe("INTEGRITY");
    expect((await vault.verify()).problems.length).toBeGreaterThan(0);
  });

  it("refuses the owner's next write after a row was inserted or deleted by hand, so it is never laundered into the listing", async () => {
    for (const edit of [
      "INSERT INTO secrets SELECT 'prod/FORGED', namespace, type, tier, description, tags, expires_at, current_version, deleted_at, created_at, updated_at, mac, listing FROM secrets WHERE path = 'prod/B'",
      "DELETE FROM secrets WHERE path = 'prod/B'",
    ]) {
      const file = copyOf();
      sql(file, (db) => db.prepare(edit).run());
      const vault = await unlock(file);
      expect(await outcome(vault.setSecret("staging/NEW", Buffer.from("value")))).toBe("INTEGRITY");
      expect(await outcome(vault.importEnv([{ key: "K", value: "v" }], { namespace: "other" }))).toBe("INTEGRITY");
      expect(await outcome(vault.listSecrets())).toBe("INTEGRITY");
    }
  });
});
