/**
 * A key slot replaced by one someone else made (the recipient is public; the passphrase may be
 * known): it opens, but its MAC under the vault key does not verify.
 * The fixture: tamper.test-helpers.ts.
 */
import { describe, expect, it } from "vitest";
import { randomBytes, wrapToRecipient, wrapWithPassphrase } from "../crypto/index.js";
import { sealSlot } from "./key-slots.js";
import { Keyring } from "./keyring.js";
import { byIdentity, byPassphrase, copyOf, outcome, PASSPHRASE, recipient, sql, unlock, useTemplates, WORK_FACTOR } from "./tamper.test-helpers.js";

useTemplates();

describe("a key slot replaced by one someone else made", () => {
  it("refuses an identity slot that wraps another key to the vault's own recipient", async () => {
    const file = copyOf();
    const forged = await wrapToRecipient(randomBytes(32), recipient);
    sql(file, (db) => db.prepare("UPDATE key_slots SET slot = ? WHERE kind = 'x25519'").run(Buffer.from(forged)));
    expect(await outcome(unlock(file, byIdentity()))).toBe("INTEGRITY");
  });

  it("refuses it even when the forger also MACs the slot with the key they chose", async () => {
    const file = copyOf();
    const fakeKey = randomBytes(32);
    const forgedSlot = await wrapToRecipient(fakeKey, recipient);
    sql(file, (db) => {
      const vaultId = new Uint8Array(db.prepare("SELECT vault_id FROM vault").pluck().get() as Buffer);
      const row = db.prepare("SELECT * FROM key_slots WHERE kind = 'x25519'").get() as Record<string, unknown>;
      const sealed = sealSlot(new Keyring(fakeKey, vaultId), {
        id: row.id as string,
        kind: "x25519",
        label: row.label as string,
        recipient,
        slot: forgedSlot,
        createdAt: row.created_at as number,
      });
      db.prepare("UPDATE key_slots SET slot = ?, mac = ? WHERE id = ?").run(Buffer.from(sealed.slot), Buffer.from(sealed.mac), sealed.id);
    });
    // The slot now verifies under the forged key, but the vault header does not.
    expect(await outcome(unlock(file, byIdentity()))).toBe("INTEGRITY");
  });

  it("refuses a passphrase slot rewrapped by someone who knows the passphrase but writes another vault key", async () => {
    const file = copyOf();
    const forged = await wrapWithPassphrase(randomBytes(32), PASSPHRASE, WORK_FACTOR);
    sql(file, (db) => db.prepare("UPDATE key_slots SET slot = ? WHERE kind = 'passphrase'").run(Buffer.from(forged)));
    expect(await outcome(unlock(file, byPassphrase()))).toBe("INTEGRITY");
    // The identity slot was not touched.
    expect(await outcome(unlock(file, byIdentity()))).toBe("resolved");
  });

  it("refuses a second, forged identity slot added for the vault's recipient", async () => {
    const file = copyOf();
    const forged = await wrapToRecipient(randomBytes(32), recipient);
    sql(file, (db) =>
      db
        .prepare(
          "INSERT INTO key_slots (id, kind, label, recipient, slot, created_at, mac) VALUES ('slot_0forged', 'x25519', 'forged', ?, ?, 0, randomblob(32))",
        )
        .run(recipient, Buffer.from(forged)),
    );
    // The forged slot sorts first (created_at 0): it opens with the identity, then fails its MAC.
    expect(await outcome(unlock(file, byIdentity()))).toBe("INTEGRITY");
  });
});
