/**
 * Conformance: approval requests. They decide who may read what, so like agents and tokens
 * they come back byte for byte, null kept apart from 0 and "", filters match exactly (never
 * as patterns, never ignoring case), and a put replaces only the row it names.
 */
import { describe, expect, it } from "vitest";
import type { Store } from "../store.js";
import { approvalRow, everyByte, expectRow, expectRows } from "./store-fixtures.js";

const MAX = Number.MAX_SAFE_INTEGER;

export function approvalConformance(store: () => Store): void {
  describe("approvals", () => {
    it("finds nothing on an empty store", async () => {
      expect(await store().getApproval("apr_1")).toBeNull();
      expect(await store().listApprovals()).toEqual([]);
      expect(await store().listApprovals({ status: "pending" })).toEqual([]);
    });

    it("round-trips an approval byte for byte, keeping null, 0 and the empty string apart", async () => {
      const nulls = approvalRow("apr_nulls", {
        agent: null,
        decidedAt: null,
        decisionReason: null,
        grantKind: null,
        grantUntil: null,
        usedAt: null,
        mac: everyByte(),
      });
      const zeros = approvalRow("apr_zeros", {
        agent: "",
        reason: "",
        decidedAt: 0,
        decisionReason: "",
        grantKind: "",
        grantUntil: 0,
        usedAt: 0,
        createdAt: 0,
        expiresAt: 0,
      });
      const big = approvalRow("apr_big", {
        reason: "é 😀 ' ; -- %_\\",
        decisionReason: 'ok "quoted"',
        status: "approved",
        grantKind: "window",
        createdAt: MAX,
        expiresAt: MAX,
        decidedAt: MAX,
        grantUntil: MAX,
        usedAt: MAX,
        path: "prod/ä/😀_KEY",
      });
      await store().write(async (tx) => {
        for (const a of [nulls, zeros, big]) await tx.putApproval(a);
      });
      for (const a of [nulls, zeros, big]) expectRow(await store().getApproval(a.id), a);
      expect(await store().getApproval("APR_NULLS")).toBeNull();
    });

    it("lists by creation time, then id", async () => {
      const rows = [
        approvalRow("z", { createdAt: 1 }),
        approvalRow("b", { createdAt: 2 }),
        approvalRow("a", { createdAt: 2 }),
        approvalRow("m", { createdAt: 0 }),
      ];
      await store().write(async (tx) => {
        for (const r of rows) await tx.putApproval(r);
      });
      expect((await store().listApprovals()).map((a) => a.id)).toEqual(["m", "z", "a", "b"]);
    });

    it("filters by status, principal and path, exactly and together", async () => {
      const rows = [
        approvalRow("a1", { createdAt: 1, principal: "agent:ci", path: "prod/DB", status: "pending" }),
        approvalRow("a2", { createdAt: 2, principal: "agent:ci", path: "prod/db", status: "pending" }),
        approvalRow("a3", { createdAt: 3, principal: "agent:CI", path: "prod/DB", status: "approved" }),
        approvalRow("a4", { createdAt: 4, principal: "token:t1", agent: null, path: "prod/DB", status: "pending" }),
        approvalRow("a5", { createdAt: 5, principal: "agent:ci", path: "prod/DB", status: "denied" }),
      ];
      await store().write(async (tx) => {
        for (const r of rows) await tx.putApproval(r);
      });
      const ids = async (q: Parameters<Store["listApprovals"]>[0]) => (await store().listApprovals(q)).map((a) => a.id);
      expect(await ids({ status: "pending" })).toEqual(["a1", "a2", "a4"]);
      expect(await ids({ principal: "agent:ci" })).toEqual(["a1", "a2", "a5"]);
      expect(await ids({ path: "prod/DB" })).toEqual(["a1", "a3", "a4", "a5"]);
      expect(await ids({ principal: "agent:ci", path: "prod/DB", status: "pending" })).toEqual(["a1"]);
      expect(await ids({ principal: "agent:%" })).toEqual([]);
      expect(await ids({ path: "prod/_B" })).toEqual([]);
      expect(await ids({ status: "PENDING" })).toEqual([]);
      expect(await ids({})).toEqual(["a1", "a2", "a3", "a4", "a5"]);
    });

    it("replaces an approval by id (pending, then approved, then used), touching no other", async () => {
      const other = approvalRow("other", { createdAt: 1_800_000_000_000 });
      await store().write(async (tx) => {
        await tx.putApproval(approvalRow("apr_1"));
        await tx.putApproval(other);
      });
      const approved = approvalRow("apr_1", { status: "approved", decidedAt: 10, decisionReason: "fine", grantKind: "once", grantUntil: 20 });
      await store().write((tx) => tx.putApproval(approved));
      expectRows(await store().listApprovals(), [approved, other]);
      const used = { ...approved, status: "used", usedAt: 11 };
      await store().write((tx) => tx.putApproval(used));
      expectRow(await store().getApproval("apr_1"), used);
      expectRow(await store().getApproval("other"), other);
    });

    it("keeps nothing of a write that failed", async () => {
      await expect(
        store().write(async (tx) => {
          await tx.putApproval(approvalRow("apr_gone"));
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      expect(await store().getApproval("apr_gone")).toBeNull();
    });
  });
}
