/**
 * Conformance: write() is one atomic, serialized transaction, and a read outside it sees only
 * what was committed.
 */
import { describe, expect, it } from "vitest";
import type { Store, StoreWriter } from "../store.js";
import { agentRow, auditRow, expectRow, expectRows, gate, secretRow, slotRow, tick, tokenRow, vaultRow, versionRow } from "./store-fixtures.js";

const COUNTER = "test/COUNTER";

/** One read-modify-write of the counter, yielding to the event loop between read and write. */
async function increment(tx: StoreWriter): Promise<number> {
  const row = await tx.getSecret(COUNTER);
  await tick();
  const next = (row?.currentVersion ?? 0) + 1;
  await tx.putSecret(secretRow(COUNTER, { currentVersion: next }));
  await tick();
  return next;
}

export function transactionConformance(store: () => Store): void {
  /** One of every kind of row, written in one transaction. */
  async function seed(): Promise<void> {
    await store().write(async (tx) => {
      await tx.putVault(vaultRow());
      await tx.putSlot(slotRow("s1"));
      await tx.putSecret(secretRow("a/K"));
      await tx.putVersion(versionRow("a/K", 1));
      await tx.appendAudit(auditRow(1));
      await tx.putPolicy({ document: "{}", updatedAt: 1, mac: new Uint8Array([1]) });
      await tx.putAgent(agentRow("ci"));
      await tx.putToken(tokenRow("t1"));
    });
    await store().recordUnlockFailure(7, "passphrase");
  }

  async function snapshot(): Promise<unknown> {
    const s = store();
    return {
      vault: await s.getVault(),
      slots: await s.listSlots(),
      secrets: await s.listSecrets(),
      listing: await s.listingText(),
      versions: await s.listVersions("a/K"),
      newVersions: await s.listVersions("b/K"),
      audit: await s.listAudit({}),
      failures: await s.listUnlockFailures(),
      policy: await s.getPolicy(),
      agents: await s.listAgents(),
      tokens: await s.listTokens(),
    };
  }

  describe("transactions", () => {
    it("returns what the callback returns", async () => {
      await expect(store().write(async () => 42)).resolves.toBe(42);
    });

    it("persists nothing from a write whose callback throws, and rethrows that error", async () => {
      await seed();
      const before = await snapshot();
      const failures = await store().listUnlockFailures();
      const err = new Error("the audit entry could not be built");
      await expect(
        store().write(async (tx) => {
          await tx.putVault(vaultRow({ format: 9 }));
          await tx.setListingMac(new Uint8Array([1, 2, 3]));
          await tx.putSlot(slotRow("s2"));
          await tx.deleteSlot("s1");
          await tx.putSecret(secretRow("a/K", { currentVersion: 2 }));
          await tx.putVersion(versionRow("a/K", 2));
          await tx.putSecret(secretRow("b/K"));
          await tx.putVersion(versionRow("b/K", 1));
          await tx.appendAudit(auditRow(2));
          await tx.clearUnlockFailures(failures.map((f) => f.id));
          await tx.putPolicy({ document: '{"changed":true}', updatedAt: 2, mac: new Uint8Array([2]) });
          await tx.putAgent(agentRow("ci", { revokedAt: 3 }));
          await tx.putAgent(agentRow("new"));
          await tx.putToken(tokenRow("t1", { uses: 1 }));
          await tx.putToken(tokenRow("t2"));
          await tick();
          await tx.deleteSecret("a/K");
          throw err;
        }),
      ).rejects.toBe(err);
      expect(await snapshot()).toEqual(before);
    });

    it("commits nothing of a write whose callback caught a failed statement and carried on", async () => {
      await store().write((tx) => tx.appendAudit(auditRow(1)));
      const before = await snapshot();
      const outcome = store().write(async (tx) => {
        await tx.putSecret(secretRow("half/K"));
        await tx.appendAudit(auditRow(1, { actor: "duplicate" })).catch(() => undefined);
        await tx.putVersion(versionRow("half/K", 1)).catch(() => undefined);
        return "carried on";
      });
      await expect(outcome).rejects.toThrow();
      expect(await snapshot()).toEqual(before);
      expect(await store().getSecret("half/K")).toBeNull();
    });

    it("sees its own writes inside the transaction", async () => {
      await store().write(async (tx) => {
        await tx.putSecret(secretRow("a/K"));
        await tx.appendAudit(auditRow(1));
        expect((await tx.getSecret("a/K"))?.path).toBe("a/K");
        expect((await tx.listSecrets()).map((r) => r.path)).toEqual(["a/K"]);
        expect(await tx.listingText()).not.toBe("");
        expect((await tx.auditHead())?.seq).toBe(1);
      });
    });

    it("hides uncommitted writes from reads outside the transaction until commit", async () => {
      await store().write((tx) => tx.putSecret(secretRow("a/OLD")));
      const listingBefore = await store().listingText();
      const inside = gate();
      const resume = gate();
      const writing = store().write(async (tx) => {
        await tx.putSecret(secretRow("a/NEW"));
        await tx.putSecret(secretRow("a/OLD", { currentVersion: 2 }));
        await tx.appendAudit(auditRow(1));
        await tx.putVault(vaultRow());
        inside.open();
        await resume.promise;
      });
      try {
        await inside.promise;
        expect(await store().getSecret("a/NEW")).toBeNull();
        expect((await store().getSecret("a/OLD"))?.currentVersion).toBe(1);
        expect((await store().listSecrets()).map((r) => r.path)).toEqual(["a/OLD"]);
        expect(await store().listSecretsIn("a")).toHaveLength(1);
        expect(await store().listingText()).toBe(listingBefore);
        expect(await store().auditHead()).toBeNull();
        expect(await store().listAudit({})).toEqual([]);
        expect(await store().getVault()).toBeNull();
      } finally {
        resume.open();
        await writing;
      }
      expect((await store().getSecret("a/OLD"))?.currentVersion).toBe(2);
      expect((await store().listSecrets()).map((r) => r.path)).toEqual(["a/NEW", "a/OLD"]);
      expect((await store().auditHead())?.seq).toBe(1);
    });

    it("serializes 50 concurrent read-modify-write calls: no update is lost", async () => {
      const results = await Promise.all(Array.from({ length: 50 }, () => store().write(increment)));
      expect((await store().getSecret(COUNTER))?.currentVersion).toBe(50);
      expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    it("keeps serving writes queued behind one that failed", async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          store().write(async (tx) => {
            await increment(tx);
            if (i % 3 === 0) throw new Error(`failure ${i}`);
          }),
        ),
      );
      expect(outcomes.filter((o) => o.status === "rejected")).toHaveLength(4);
      expect((await store().getSecret(COUNTER))?.currentVersion).toBe(6);
    });

    it("refuses a transaction handle used after its write() has finished, and writes nothing", async () => {
      let leaked: StoreWriter | undefined;
      await store().write(async (tx) => {
        leaked = tx;
      });
      await expect(Promise.resolve().then(() => leaked!.putSecret(secretRow("late/K")))).rejects.toThrow();
      await expect(Promise.resolve().then(() => leaked!.appendAudit(auditRow(1)))).rejects.toThrow();
      expect(await store().getSecret("late/K")).toBeNull();
      expect(await store().auditHead()).toBeNull();
    });

    it("refuses a write() started inside another write's callback instead of deadlocking", async () => {
      const outer = store()
        .write(async () => {
          await store().write((tx) => tx.putSecret(secretRow("inner/K")));
          return "nested write ran";
        })
        .catch((e: unknown) => e);
      const deadlocked = new Promise((resolve) => setTimeout(() => resolve("deadlocked"), 5_000).unref());
      const outcome = await Promise.race([outer, deadlocked]);
      expect(outcome).toBeInstanceOf(Error);
      expect(await store().getSecret("inner/K")).toBeNull();
    });

    it("lets close() wait for a write already in flight", async () => {
      const held = gate();
      const writing = store().write(async (tx) => {
        await held.promise;
        await tx.putSecret(secretRow("a/K"));
        return "done";
      });
      const closing = store().close();
      held.open();
      await expect(writing).resolves.toBe("done");
      await closing;
    });

    it("keeps rows byte-exact across many small transactions", async () => {
      const rows = Array.from({ length: 20 }, (_, i) => secretRow(`many/K${i}`, { currentVersion: i, updatedAt: i * 1000 }));
      await Promise.all(rows.map((r) => store().write((tx) => tx.putSecret(r))));
      expectRows(
        await store().listSecrets(),
        [...rows].sort((a, b) => (a.path < b.path ? -1 : 1)),
      );
      for (const r of rows) expectRow(await store().getSecret(r.path), r);
    });
  });
}
