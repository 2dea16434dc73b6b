/**
 * Hand edits of a stored version (its ciphertext, data key, number or attributes): the value
 * is refused, never returned altered.
 * The fixture: tamper.test-helpers.ts.
 */
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { randomBytes } from "../crypto/index.js";
import { A1, A2, B1, copyOf, flipBit, outcome, sql, unlock, useTemplates } from "./tamper.test-helpers.js";

useTemplates();

describe("hand edits of a stored version", () => {
  const edits: { column: string; set: string }[] = [
    { column: "type", set: "'ssh_key'" },
    { column: "tier", set: "'critical'" },
    { column: "sealed", set: "randomblob(length(sealed))" },
    { column: "wrapped_dek", set: "randomblob(length(wrapped_dek))" },
    { column: "created_at", set: "created_at + 1" },
    { column: "actor", set: "'agent:mallory'" },
    { column: "version", set: "3" },
  ];

  it.each(edits)("refuses the current version of prod/A after secret_versions.$column is edited", async ({ column, set }) => {
    const file = copyOf();
    sql(file, (db) => expect(db.prepare(`UPDATE secret_versions SET ${column} = ${set} WHERE path = 'prod/A' AND version = 2`).run().changes).toBe(1));
    const vault = await unlock(file);
    expect(await outcome(vault.getSecret("prod/A"))).toBe("INTEGRITY");
    expect(await outcome(vault.exportEnv("prod"))).toBe("INTEGRITY");
    expect(await outcome(vault.exportAll())).toBe("INTEGRITY");
    expect((await vault.verify()).problems.length).toBeGreaterThan(0);
    // The untouched older version still opens, and only as itself.
    expect(Buffer.from((await vault.getSecret("prod/A", { version: 1 })).value).toString()).toBe(A1);
  });

  it.each(edits.filter((e) => e.column !== "version"))(
    "refuses an older version of prod/A after secret_versions.$column is edited",
    async ({ column, set }) => {
      const file = copyOf();
      sql(file, (db) => db.prepare(`UPDATE secret_versions SET ${column} = ${set} WHERE path = 'prod/A' AND version = 1`).run());
      const vault = await unlock(file);
      expect(await outcome(vault.getSecret("prod/A", { version: 1 }))).toBe("INTEGRITY");
      expect(await outcome(vault.rollback("prod/A", 1))).toBe("INTEGRITY");
      expect(Buffer.from((await vault.getSecret("prod/A")).value).toString()).toBe(A2);
    },
  );

  it("refuses versions renumbered by hand (v1 and v2 of prod/A swapped)", async () => {
    const file = copyOf();
    sql(file, (db) => {
      db.prepare("UPDATE secret_versions SET version = 99 WHERE path = 'prod/A' AND version = 1").run();
      db.prepare("UPDATE secret_versions SET version = 1 WHERE path = 'prod/A' AND version = 2").run();
      db.prepare("UPDATE secret_versions SET version = 2 WHERE path = 'prod/A' AND version = 99").run();
    });
    const vault = await unlock(file);
    expect(await outcome(vault.getSecret("prod/A"))).toBe("INTEGRITY");
    expect(await outcome(vault.getSecret("prod/A", { version: 1 }))).toBe("INTEGRITY");
  });

  async function sweep(column: "sealed" | "wrapped_dek"): Promise<number> {
    const file = copyOf();
    const vault = await unlock(file);
    const db = new Database(file);
    try {
      const original = db.prepare(`SELECT ${column} FROM secret_versions WHERE path = 'prod/B' AND version = 1`).pluck().get() as Buffer;
      const variants: Buffer[] = [];
      for (let i = 0; i < original.length; i++) variants.push(flipBit(original, i));
      // Truncated at every length, and with garbage appended.
      for (let n = 0; n < original.length; n++) variants.push(original.subarray(0, n));
      variants.push(Buffer.concat([original, Buffer.from([0])]), Buffer.concat([original, randomBytes(16)]));
      const update = db.prepare(`UPDATE secret_versions SET ${column} = ? WHERE path = 'prod/B' AND version = 1`);
      const seen = new Map<string, number>();
      for (const variant of variants) {
        update.run(variant);
        const o = await outcome(vault.getSecret("prod/B"));
        seen.set(o, (seen.get(o) ?? 0) + 1);
      }
      update.run(original);
      expect(Object.fromEntries(seen)).toEqual({ INTEGRITY: variants.length });
      expect(Buffer.from((await vault.getSecret("prod/B")).value).toString()).toBe(B1);
      return variants.length;
    } finally {
      db.close();
    }
  }

  it("refuses every one-bit flip, truncation and extension of a sealed value", async () => {
    expect(await sweep("sealed")).toBeGreaterThan(100);
  });

  it("refuses every one-bit flip, truncation and extension of a wrapped data key", async () => {
    expect(await sweep("wrapped_dek")).toBeGreaterThan(100);
  });
});
