/**
 * Conformance: the audit log (append, head, every filter of listAudit) and the unlock-failure
 * counter that lives outside the authenticated chain.
 */
import { describe, expect, it } from "vitest";
import type { AuditQuery, AuditRow, Store } from "../store.js";
import { auditRow, everyByte, expectRow, expectRows, gate, noise } from "./store-fixtures.js";

const MAX = Number.MAX_SAFE_INTEGER;

/** Ten entries with varied actors, actions, resources and times (ts = seq * 10). */
function sampleLog(): AuditRow[] {
  const spec: [string, string, string][] = [
    ["user:alice", "secret.read", "prod"],
    ["user:alice", "secret.write", "prod/DB_URL"],
    ["agent:ci", "secret.read", "production/DB_URL"],
    ["agent:ci", "secret.read", "prod/sub/KEY"],
    ["user:bob", "secret.delete", "prodX/KEY"],
    ["user:alice", "vault.unlock", "vault"],
    ["agent:ci", "secret.read", "Prod/DB_URL"],
    ["user:bob", "secret.read", "pro"],
    ["user:alice%", "secret.read_", "prod_/K"],
    ["user:alice", "secret.read", "prod/"],
  ];
  return spec.map(([actor, action, resource], i) => auditRow(i + 1, { actor, action, resource, ts: (i + 1) * 10 }));
}

export function auditConformance(store: () => Store): void {
  async function append(rows: AuditRow[]): Promise<void> {
    await store().write(async (tx) => {
      for (const r of rows) await tx.appendAudit(r);
    });
  }
  async function seqs(q: AuditQuery): Promise<number[]> {
    return (await store().listAudit(q)).map((r) => r.seq);
  }

  describe("audit log", () => {
    it("has no head and no entries on an empty store", async () => {
      expect(await store().auditHead()).toBeNull();
      expect(await store().listAudit({})).toEqual([]);
    });

    it("round-trips an entry byte for byte, with an empty genesis hash and unicode details", async () => {
      const genesis = auditRow(1, { prevHash: new Uint8Array(0), hash: everyByte(), mac: noise(32, 9), details: '{"note":"é 😀 \\u0000 \u0001","n":1}' });
      const second = auditRow(2, { ts: MAX, actor: "agent:😀", outcome: "", details: "{}" });
      await append([genesis, second]);
      expectRows(await store().listAudit({}), [genesis, second]);
      expectRow(await store().auditHead(), second);
    });

    it("reports the entry with the highest seq as head, whatever the insertion order", async () => {
      await append([auditRow(3), auditRow(10), auditRow(7)]);
      expect((await store().auditHead())?.seq).toBe(10);
      expect(await seqs({})).toEqual([3, 7, 10]);
    });

    it("lists oldest first, or newest first when descending", async () => {
      await append(sampleLog());
      expect(await seqs({})).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(await seqs({ descending: true })).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    });

    it("pages with afterSeq and limit, in both directions", async () => {
      await append(sampleLog());
      expect(await seqs({ afterSeq: 7 })).toEqual([8, 9, 10]);
      expect(await seqs({ afterSeq: 0 })).toHaveLength(10);
      expect(await seqs({ afterSeq: 10 })).toEqual([]);
      expect(await seqs({ limit: 3 })).toEqual([1, 2, 3]);
      expect(await seqs({ limit: 3, descending: true })).toEqual([10, 9, 8]);
      expect(await seqs({ afterSeq: 4, limit: 2 })).toEqual([5, 6]);
      expect(await seqs({ afterSeq: 4, limit: 2, descending: true })).toEqual([10, 9]);
      expect(await seqs({ limit: 0 })).toEqual([]);
      expect(await seqs({ limit: 100 })).toHaveLength(10);
    });

    it("filters by exact action and exact actor, with no wildcards", async () => {
      await append(sampleLog());
      expect(await seqs({ action: "secret.read" })).toEqual([1, 3, 4, 7, 8, 10]);
      expect(await seqs({ action: "secret.read_" })).toEqual([9]);
      expect(await seqs({ action: "secret.rea" })).toEqual([]);
      expect(await seqs({ actor: "agent:ci" })).toEqual([3, 4, 7]);
      expect(await seqs({ actor: "user:alice%" })).toEqual([9]);
      expect(await seqs({ actor: "user:%" })).toEqual([]);
      expect(await seqs({ actor: "user:alice", action: "secret.read" })).toEqual([1, 10]);
    });

    it("filters by time, since and until both inclusive", async () => {
      await append(sampleLog());
      expect(await seqs({ since: 30 })).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
      expect(await seqs({ until: 30 })).toEqual([1, 2, 3]);
      expect(await seqs({ since: 31, until: 59 })).toEqual([4, 5]);
      expect(await seqs({ since: 40, until: 40 })).toEqual([4]);
      expect(await seqs({ since: 41, until: 49 })).toEqual([]);
      expect(await seqs({ since: 20, until: 80, actor: "agent:ci", descending: true, limit: 2 })).toEqual([7, 4]);
    });

    it('filters by resource prefix: "prod" is prod and prod/…, never production or prodX', async () => {
      await append(sampleLog());
      expect(await seqs({ resourcePrefix: "prod" })).toEqual([1, 2, 4, 10]);
      expect(await seqs({ resourcePrefix: "prod/sub" })).toEqual([4]);
      expect(await seqs({ resourcePrefix: "prod/DB_URL" })).toEqual([2]);
      expect(await seqs({ resourcePrefix: "pro" })).toEqual([8]);
      expect(await seqs({ resourcePrefix: "prod_" })).toEqual([9]);
      expect(await seqs({ resourcePrefix: "pro%" })).toEqual([]);
      expect(await seqs({ resourcePrefix: "Prod" })).toEqual([7]);
      expect(await seqs({ resourcePrefix: "prod", action: "secret.read", descending: true })).toEqual([10, 4, 1]);
    });

    it("matches a resource prefix made of multi-byte and astral characters", async () => {
      const resources = ["ключ/K", "ключи/K", "😀ns", "😀ns/K", "😀nsX/K", "😀n", "é/K", "e/K"];
      await append(resources.map((resource, i) => auditRow(i + 1, { resource })));
      expect(await seqs({ resourcePrefix: "ключ" })).toEqual([1]);
      expect(await seqs({ resourcePrefix: "😀ns" })).toEqual([3, 4]);
      expect(await seqs({ resourcePrefix: "é" })).toEqual([7]);
    });

    it("orders by time, then seq, in both directions", async () => {
      // ts out of seq order (folded unlock failures carry their own, older time), with ties.
      const ts = [50, 10, 30, 10, 70, 30];
      await append(ts.map((t, i) => auditRow(i + 1, { ts: t })));
      expect(await seqs({ order: "time" })).toEqual([2, 4, 3, 6, 1, 5]);
      expect(await seqs({ order: "time", descending: true })).toEqual([5, 1, 6, 3, 4, 2]);
      expect(await seqs({ order: "time", descending: true, limit: 3 })).toEqual([5, 1, 6]);
      expect(await seqs({ order: "time", descending: true, since: 30, limit: 10 })).toEqual([5, 1, 6, 3]);
      expect(await seqs({ order: "seq", descending: true, limit: 2 })).toEqual([6, 5]);
    });

    it("filters by agent: the agent itself and tokens issued to it, nobody else", async () => {
      const actors = [
        "agent:ci",
        "token:abc(ci)",
        "token:def(cid)",
        "agent:cid",
        "token:ci",
        "owner",
        "token:xyz(ci)",
        "agent:ci)",
        "user:agent:ci",
        "token:q(c(i)",
      ];
      await append(actors.map((actor, i) => auditRow(i + 1, { actor })));
      expect(await seqs({ agent: "ci" })).toEqual([1, 2, 7]);
      expect(await seqs({ agent: "cid" })).toEqual([3, 4]);
      expect(await seqs({ agent: "c" })).toEqual([]);
      expect(await seqs({ agent: "%" })).toEqual([]);
      expect(await seqs({ agent: "ci", action: "secret.read", order: "time", descending: true, limit: 2 })).toEqual([7, 2]);
    });

    it("reads the chain as tuples with hashes in lowercase hex", async () => {
      const rows = [
        auditRow(1, { prevHash: new Uint8Array(32), details: '{"note":"é 😀"}' }),
        auditRow(2, { hash: everyByte().slice(0, 32) }),
        auditRow(3),
        auditRow(5),
      ];
      await append(rows);
      const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
      const tuple = (r: AuditRow) => [r.seq, r.ts, r.actor, r.action, r.resource, r.outcome, r.details, hex(r.prevHash), hex(r.hash), hex(r.mac)];
      expect(await store().listAuditChain(0, 10)).toEqual(rows.map(tuple));
      expect(await store().listAuditChain(1, 2)).toEqual([tuple(rows[1]!), tuple(rows[2]!)]);
      expect(await store().listAuditChain(3, 10)).toEqual([tuple(rows[3]!)]);
      expect(await store().listAuditChain(5, 10)).toEqual([]);
    });

    it("refuses a duplicate seq and leaves the log and the rest of that write unchanged", async () => {
      await append([auditRow(1), auditRow(2)]);
      const before = await store().listAudit({});
      await expect(
        store().write(async (tx) => {
          await tx.appendAudit(auditRow(3));
          await tx.putSecret({
            path: "x/K",
            namespace: "x",
            type: "t",
            tier: "s",
            description: "",
            tags: "[]",
            expiresAt: null,
            currentVersion: 1,
            deletedAt: null,
            createdAt: 1,
            updatedAt: 1,
            mac: new Uint8Array(1),
            listing: "x",
          });
          await tx.appendAudit(auditRow(2, { actor: "mallory" }));
        }),
      ).rejects.toThrow();
      expectRows(await store().listAudit({}), before);
      expect(await store().getSecret("x/K")).toBeNull();
      expect((await store().auditHead())?.seq).toBe(2);
    });
  });

  describe("unlock failures", () => {
    it("lists nothing on an empty store", async () => {
      expect(await store().listUnlockFailures()).toEqual([]);
    });

    it("records failures with increasing ids, in the order they happened", async () => {
      await store().recordUnlockFailure(5, "passphrase");
      await store().recordUnlockFailure(MAX, "x25519");
      await store().recordUnlockFailure(0, "' OR 1=1; --");
      const rows = await store().listUnlockFailures();
      expect(rows.map((r) => [r.ts, r.method])).toEqual([
        [5, "passphrase"],
        [MAX, "x25519"],
        [0, "' OR 1=1; --"],
      ]);
      expect(rows[0]!.id).toBeLessThan(rows[1]!.id);
      expect(rows[1]!.id).toBeLessThan(rows[2]!.id);
    });

    it("clears exactly the ids given", async () => {
      for (let i = 0; i < 4; i++) await store().recordUnlockFailure(i, "passphrase");
      const ids = (await store().listUnlockFailures()).map((r) => r.id);
      await store().write((tx) => tx.clearUnlockFailures([ids[0]!, ids[2]!, 987654]));
      await store().write((tx) => tx.clearUnlockFailures([]));
      expect((await store().listUnlockFailures()).map((r) => r.id)).toEqual([ids[1], ids[3]]);
    });

    // An unlock lists the failures, waits and runs scrypt, then clears the ids it listed: a
    // reused id would let that late clear erase a newer failure that was never audited.
    it("never reuses the id of a cleared failure", async () => {
      await store().recordUnlockFailure(1, "passphrase");
      const [first] = await store().listUnlockFailures();
      await store().write((tx) => tx.clearUnlockFailures([first!.id]));
      await store().recordUnlockFailure(2, "passphrase");
      const [second] = await store().listUnlockFailures();
      expect(second!.id).toBeGreaterThan(first!.id);
      await store().write((tx) => tx.clearUnlockFailures([first!.id]));
      expect((await store().listUnlockFailures()).map((r) => r.ts)).toEqual([2]);
    });

    it("keeps a failure recorded while a write is in flight, even when that write rolls back", async () => {
      const inside = gate();
      const held = gate();
      const failing = store().write(async (tx) => {
        await tx.appendAudit(auditRow(1));
        inside.open();
        await held.promise;
        throw new Error("boom");
      });
      try {
        await inside.promise;
        const recorded = store().recordUnlockFailure(42, "passphrase");
        held.open();
        await expect(failing).rejects.toThrow("boom");
        await recorded;
      } finally {
        held.open();
        await failing.catch(() => undefined);
      }
      expect((await store().listUnlockFailures()).map((r) => r.ts)).toEqual([42]);
      expect(await store().auditHead()).toBeNull();
    });
  });
}
