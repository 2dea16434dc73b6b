/**
 * Hand edits of a key slot: a slot that no longer opens is LOCKED, one that opens but was
 * changed is INTEGRITY; never unlocked with it.
 * The fixture: tamper.test-helpers.ts.
 */
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { byIdentity, byPassphrase, copyOf, flipBit, openStore, outcome, sql, unlock, useTemplates } from "./tamper.test-helpers.js";

useTemplates();

describe("hand edits of a key slot", () => {
  const edits: { column: string; set: string }[] = [
    // Appended, so the slot keeps its place in the slots' state text (ordered by id): the row's
    // own MAC has to catch this edit. A new id that sorted elsewhere would change the state
    // digest and refuse even the passphrase slot, like the MAC edit below.
    { column: "id", set: "id || '_forged'" },
    { column: "label", set: "'mallory'" },
    { column: "created_at", set: "created_at + 1" },
    { column: "mac", set: "randomblob(32)" },
  ];

  it.each([...edits, { column: "recipient", set: "'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq'" }])(
    "refuses the identity slot after key_slots.$column is edited",
    async ({ column, set }) => {
      const file = copyOf();
      sql(file, (db) => expect(db.prepare(`UPDATE key_slots SET ${column} = ${set} WHERE kind = 'x25519'`).run().changes).toBe(1));
      expect(await outcome(unlock(file, byIdentity()))).toBe("INTEGRITY");
      if (column === "mac") {
        // A slot's MAC is what the slots' state digest holds: the key slots no longer match the
        // vault state, so even the intact passphrase slot is refused (fresh rows, fail closed).
        expect(await outcome(unlock(file, byPassphrase()))).toBe("INTEGRITY");
        return;
      }
      // The passphrase slot is intact and still opens, but the edited slot shows up at once.
      const vault = await unlock(file, byPassphrase());
      expect(await outcome(vault.listKeys())).toBe("INTEGRITY");
      expect((await vault.verify()).problems.join("\n")).toMatch(/key slot/);
    },
  );

  it.each(edits)("refuses the passphrase slot after key_slots.$column is edited", async ({ column, set }) => {
    const file = copyOf();
    sql(file, (db) => db.prepare(`UPDATE key_slots SET ${column} = ${set} WHERE kind = 'passphrase'`).run());
    expect(await outcome(unlock(file, byPassphrase()))).toBe("INTEGRITY");
  });

  it("treats a slot whose kind was edited as a slot that no longer opens (LOCKED), and flags it once unlocked", async () => {
    // Without the vault key nothing can tell an edited kind from a missing slot: LOCKED, like a wrong key.
    const file = copyOf();
    sql(file, (db) => db.prepare("UPDATE key_slots SET kind = 'passphrase' WHERE kind = 'x25519'").run());
    expect(await outcome(unlock(file, byIdentity()))).toBe("LOCKED");
    const vault = await unlock(file, byPassphrase());
    expect(await outcome(vault.listKeys())).toBe("INTEGRITY");
    expect((await vault.verify()).problems.length).toBeGreaterThan(0);

    const file2 = copyOf();
    sql(file2, (db) => db.prepare("UPDATE key_slots SET kind = 'x25519' WHERE kind = 'passphrase'").run());
    expect(await outcome(unlock(file2, byPassphrase()))).toBe("LOCKED");
  });

  it("refuses every one-bit flip of every byte of an identity slot (LOCKED or INTEGRITY, never unlocked)", async () => {
    const file = copyOf();
    const store = openStore(file);
    const db = new Database(file);
    try {
      const { id, slot } = db.prepare("SELECT id, slot FROM key_slots WHERE kind = 'x25519'").get() as { id: string; slot: Buffer };
      const update = db.prepare("UPDATE key_slots SET slot = ? WHERE id = ?");
      const seen = new Map<string, number>();
      for (let i = 0; i < slot.length; i++) {
        update.run(flipBit(slot, i), id);
        const o = await outcome(unlock(file, byIdentity(), store));
        seen.set(o, (seen.get(o) ?? 0) + 1);
      }
      for (let n = 0; n < slot.length; n += 7) {
        update.run(slot.subarray(0, n), id);
        const o = await outcome(unlock(file, byIdentity(), store));
        seen.set(o, (seen.get(o) ?? 0) + 1);
      }
      expect([...seen.keys()].filter((o) => o !== "LOCKED" && o !== "INTEGRITY")).toEqual([]);
      expect((seen.get("INTEGRITY") ?? 0) + (seen.get("LOCKED") ?? 0)).toBeGreaterThan(slot.length);
      update.run(slot, id);
      expect(await outcome(unlock(file, byIdentity(), store))).toBe("resolved");
    } finally {
      db.close();
    }
  });

  it("refuses one-bit flips across a passphrase slot (header, work factor, stanza, MAC, payload)", async () => {
    // Every variant that gets as far as scrypt costs a real scrypt, so the header lines that the
    // parser checks are swept whole and the rest sampled.
    const file = copyOf();
    const store = openStore(file);
    const db = new Database(file);
    try {
      const { id, slot } = db.prepare("SELECT id, slot FROM key_slots WHERE kind = 'passphrase'").get() as { id: string; slot: Buffer };
      const firstLines = slot.indexOf(0x0a, slot.indexOf(0x0a) + 1);
      const stanzaLine = slot.subarray(0, firstLines).toString("latin1");
      const salt = stanzaLine.indexOf("scrypt ") + "scrypt ".length;
      const bodyStart = firstLines + 1;
      const macLine = slot.indexOf("--- ");
      const payload = slot.indexOf(0x0a, macLine) + 1;
      const positions = new Set<number>();
      for (let i = 0; i <= firstLines; i++) if (i < salt || i > salt + 21) positions.add(i);
      for (const i of [salt, salt + 21, bodyStart, bodyStart + 20, macLine, macLine + 4, macLine + 40, payload, payload + 20, slot.length - 1])
        positions.add(i);
      const update = db.prepare("UPDATE key_slots SET slot = ? WHERE id = ?");
      const seen = new Map<string, number>();
      for (const i of positions) {
        update.run(flipBit(slot, i), id);
        const o = await outcome(unlock(file, byPassphrase(), store));
        seen.set(o, (seen.get(o) ?? 0) + 1);
      }
      expect([...seen.keys()].filter((o) => o !== "LOCKED" && o !== "INTEGRITY")).toEqual([]);
      update.run(slot, id);
      expect(await outcome(unlock(file, byPassphrase(), store))).toBe("resolved");
    } finally {
      db.close();
    }
  });
});
