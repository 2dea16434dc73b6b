/**
 * Conformance: members of a team server. Rows that decide access: byte-exact, null kept apart
 * from 0 and "", a put touches only the row it names, an id is never held twice, and the
 * members bucket lists them by name with their MACs.
 */
import { describe, expect, it } from "vitest";
import type { Store } from "../store.js";
import { everyByte, expectRow, expectRows, memberRow } from "./store-fixtures.js";
import { stateLines } from "./state-conformance.js";

const MAX = Number.MAX_SAFE_INTEGER;
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

export function memberConformance(store: () => Store): void {
  describe("members", () => {
    it("finds nothing on an empty store", async () => {
      expect(await store().getMember("alice")).toBeNull();
      expect(await store().getMemberById("mid-alice")).toBeNull();
      expect(await store().listMembers()).toEqual([]);
    });

    it("round-trips a member byte for byte, by name and by id, keeping null, 0 and the empty string apart", async () => {
      const alice = memberRow("alice", {
        keyHash: everyByte(),
        mac: everyByte().reverse(),
        createdAt: MAX,
        keyCreatedAt: MAX,
        revokedAt: MAX,
        role: "admin",
        scope: "",
      });
      const zero = memberRow("zero", { revokedAt: 0, createdAt: 0, keyCreatedAt: 0, scope: "secrets:read:prod/*,approve:prod/** ' ; -- % _ \\" });
      await store().write(async (tx) => {
        await tx.putMember(alice);
        await tx.putMember(zero);
      });
      expectRow(await store().getMember("alice"), alice);
      expectRow(await store().getMemberById("mid-alice"), alice);
      expectRow(await store().getMember("zero"), zero);
      expect((await store().getMember("zero"))!.revokedAt).toBe(0);
      expect(await store().getMember("ALICE")).toBeNull();
      expect(await store().getMemberById("mid-%")).toBeNull();
      expect(await store().getMemberById("mid-_lice")).toBeNull();
    });

    it("lists members in byte order of name", async () => {
      const names = ["b", "B", "a", "ä", "A-1", "a_2"];
      await store().write(async (tx) => {
        for (const n of names) await tx.putMember(memberRow(n));
      });
      expect((await store().listMembers()).map((m) => m.name)).toEqual(["A-1", "B", "a", "a_2", "b", "ä"]);
    });

    it("replaces a member by name (a rotated key, a revocation), touching no other", async () => {
      const bob = memberRow("bob");
      await store().write(async (tx) => {
        await tx.putMember(memberRow("alice"));
        await tx.putMember(bob);
      });
      const rotated = memberRow("alice", { keyHash: everyByte(), keyCreatedAt: 42, revokedAt: 43 });
      await store().write((tx) => tx.putMember(rotated));
      expectRows(await store().listMembers(), [rotated, bob]);
      expectRow(await store().getMemberById("mid-alice"), rotated);
    });

    it("refuses an id already held by another member, and leaves both as they were", async () => {
      const first = memberRow("first", { id: "shared" });
      await store().write((tx) => tx.putMember(first));
      await expect(store().write((tx) => tx.putMember(memberRow("second", { id: "shared" })))).rejects.toThrow();
      expectRows(await store().listMembers(), [first]);
      expectRow(await store().getMemberById("shared"), first);
    });

    it("gives the members bucket as one line per member by name, apart from the agents", async () => {
      const rows = [memberRow("zed", { mac: everyByte() }), memberRow("amy")];
      await store().write(async (tx) => {
        for (const r of rows) await tx.putMember(r);
      });
      expect(await stateLines(store(), { table: "members" })).toBe(`amy\u001f${hex(rows[1]!.mac)}\nzed\u001f${hex(rows[0]!.mac)}`);
      expect(await store().stateRows({ table: "agents" })).toEqual([]);
    });
  });
}
