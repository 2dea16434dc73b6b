/**
 * Conformance: agents and their tokens. Rows that decide access: byte-exact, null kept apart
 * from 0 and "", and a put never touches a row other than the one it names.
 */
import { describe, expect, it } from "vitest";
import type { Store } from "../store.js";
import { agentRow, everyByte, expectRow, expectRows, tokenRow } from "./store-fixtures.js";

const MAX = Number.MAX_SAFE_INTEGER;

export function agentConformance(store: () => Store): void {
  describe("agents", () => {
    it("finds nothing on an empty store", async () => {
      expect(await store().getAgent("ci")).toBeNull();
      expect(await store().getAgentById("id-ci")).toBeNull();
      expect(await store().listAgents()).toEqual([]);
    });

    it("round-trips an agent byte for byte, by name and by id", async () => {
      const ci = agentRow("ci", { keyHash: everyByte(), mac: everyByte().reverse(), createdAt: MAX, revokedAt: MAX, description: "é 😀 ' ; --" });
      const zero = agentRow("zero", { revokedAt: 0, createdAt: 0, description: "", scope: "" });
      await store().write(async (tx) => {
        await tx.putAgent(ci);
        await tx.putAgent(zero);
      });
      expectRow(await store().getAgent("ci"), ci);
      expectRow(await store().getAgentById("id-ci"), ci);
      expectRow(await store().getAgent("zero"), zero);
      expect(await store().getAgent("CI")).toBeNull();
      expect(await store().getAgentById("id-c%")).toBeNull();
    });

    it("lists agents in byte order of name", async () => {
      const names = ["b", "B", "a", "ä", "A-1", "a_2"];
      await store().write(async (tx) => {
        for (const n of names) await tx.putAgent(agentRow(n));
      });
      expect((await store().listAgents()).map((a) => a.name)).toEqual(["A-1", "B", "a", "a_2", "b", "ä"]);
    });

    it("replaces an agent by name (revoked, then created again with a new id)", async () => {
      await store().write((tx) => tx.putAgent(agentRow("ci", { revokedAt: 5 })));
      const again = agentRow("ci", { id: "id-new", keyHash: everyByte() });
      await store().write((tx) => tx.putAgent(again));
      expectRows(await store().listAgents(), [again]);
      expect(await store().getAgentById("id-ci")).toBeNull();
      expectRow(await store().getAgentById("id-new"), again);
    });

    it("refuses an id already held by another agent, and leaves both as they were", async () => {
      const first = agentRow("first", { id: "shared" });
      await store().write((tx) => tx.putAgent(first));
      await expect(store().write((tx) => tx.putAgent(agentRow("second", { id: "shared" })))).rejects.toThrow();
      expectRows(await store().listAgents(), [first]);
      expectRow(await store().getAgentById("shared"), first);
    });
  });

  describe("tokens", () => {
    it("finds nothing on an empty store", async () => {
      expect(await store().getToken("t1")).toBeNull();
      expect(await store().listTokens()).toEqual([]);
    });

    it("round-trips a token byte for byte, keeping null, 0 and the empty string apart", async () => {
      const nulls = tokenRow("t-nulls", { agent: null, maxUses: null, revokedAt: null, parent: null, pid: null, secretHash: everyByte() });
      const zeros = tokenRow("t-zeros", { agent: "", maxUses: 0, uses: 0, revokedAt: 0, parent: "", pid: 0, label: "", createdAt: 0, expiresAt: 0 });
      const big = tokenRow("t-big", {
        maxUses: MAX,
        uses: MAX,
        revokedAt: MAX,
        pid: 4_194_304,
        expiresAt: MAX,
        createdAt: MAX,
        parent: "t-nulls",
        scope: '{"é":"😀"}',
      });
      await store().write(async (tx) => {
        for (const t of [nulls, zeros, big]) await tx.putToken(t);
      });
      for (const t of [nulls, zeros, big]) expectRow(await store().getToken(t.id), t);
    });

    it("lists tokens by creation time, then id", async () => {
      const rows = [tokenRow("z", { createdAt: 1 }), tokenRow("b", { createdAt: 2 }), tokenRow("a", { createdAt: 2 }), tokenRow("m", { createdAt: 0 })];
      await store().write(async (tx) => {
        for (const r of rows) await tx.putToken(r);
      });
      expect((await store().listTokens()).map((t) => t.id)).toEqual(["m", "z", "a", "b"]);
    });

    it("replaces a token by id (a use counted, a revocation), touching no other", async () => {
      const other = tokenRow("other");
      await store().write(async (tx) => {
        await tx.putToken(tokenRow("t1", { maxUses: 1 }));
        await tx.putToken(other);
      });
      const used = tokenRow("t1", { maxUses: 1, uses: 1, revokedAt: 99 });
      await store().write((tx) => tx.putToken(used));
      expectRows(
        await store().listTokens(),
        [other, used].sort((a, b) => (a.id < b.id ? -1 : 1)),
      );
    });
  });
}
