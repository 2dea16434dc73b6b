/**
 * Conformance: what fresh rows rest on (src/vault/state-digest.ts). The state rows of each
 * bucket are exactly its bucket's rows, each with its key and MAC, in one exact order; digests and the vault row's
 * state MAC and unlock mark round-trip; the unlock-failure counter only grows; the settings row
 * round-trips like the policy.
 */
import { describe, expect, it } from "vitest";
import { STATE_SHARDS, stateShard, type StateBucket, type Store } from "../store.js";
import { agentRow, approvalRow, everyByte, expectBytes, expectRow, noise, secretRow, slotRow, tokenRow, vaultRow, versionRow } from "./store-fixtures.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const US = "\u001f";

/** A bucket's rows as lines `key US hex(mac)`, joined by "\n": easy to compare and to read in a diff. */
export async function stateLines(store: Store, b: StateBucket): Promise<string> {
  return (await store.stateRows(b)).map((r) => `${r.key}${US}${hex(r.mac)}`).join("\n");
}

/**
 * Rows in every kind of bucket (secrets of `paths`, tokens, agents, the policy) and the list of
 * buckets to ask for: each bucket of `paths`, and buckets with one row, several and none.
 */
async function seedBuckets(s: Store, paths: readonly string[]): Promise<StateBucket[]> {
  await s.write(async (tx) => {
    await tx.putVault(vaultRow({ stateMac: everyByte() }));
    for (const p of paths) await tx.putSecret(secretRow(p));
    for (const id of ["t-b", "t-a", "u-a"]) await tx.putToken(tokenRow(id));
    for (const n of ["zed", "amy"]) await tx.putAgent(agentRow(n));
    await tx.putPolicy({ document: "{}", updatedAt: 1, mac: noise(32, 3) });
  });
  const namespace = paths[0]!.slice(0, paths[0]!.lastIndexOf("/"));
  return [
    ...new Map(paths.map((p) => [stateShard(p), { table: "secrets" as const, namespace, shard: stateShard(p) }])).values(),
    { table: "secrets", namespace: "other", shard: 0 },
    { table: "tokens", shard: "a" },
    { table: "tokens", shard: "b" },
    { table: "tokens", shard: "z" },
    { table: "approvals", shard: "a" },
    { table: "agents" },
    { table: "members" },
    { table: "slots" },
    { table: "policy" },
    { table: "settings" },
  ];
}

export function stateConformance(store: () => Store): void {
  describe("state rows", () => {
    it("are none for every empty bucket", async () => {
      for (const b of [
        { table: "secrets", namespace: "ns", shard: 0 },
        { table: "tokens", shard: "a" },
        { table: "approvals", shard: "a" },
        { table: "agents" },
        { table: "members" },
        { table: "policy" },
        { table: "slots" },
        { table: "settings" },
      ] as const) {
        expect(await store().stateRows(b)).toEqual([]);
      }
    });

    it("lists a shard's secrets by path with their MACs, and nothing of other shards, namespaces or versions", async () => {
      // Paths of one namespace that share a shard, and one that does not.
      const ns = "prod/app";
      const paths = Array.from({ length: 400 }, (_, i) => `${ns}/K${i}`);
      const shard = stateShard(paths[0]!);
      const same = paths.filter((p) => stateShard(p) === shard).slice(0, 3);
      const other = paths.find((p) => stateShard(p) !== shard)!;
      const rows = [...same, other, `${ns}/deeper/${same[0]!.slice(ns.length + 1)}`, `prod/${same[0]!.slice(ns.length + 1)}`].map((p) => secretRow(p));
      const versions = rows.flatMap((r) => [
        versionRow(r.path, 2, { wrappedDek: noise(61, r.path.length + 2) }),
        versionRow(r.path, 10, { wrappedDek: noise(61, r.path.length + 10) }),
      ]);
      await store().write(async (tx) => {
        await tx.putSecrets(rows);
        await tx.putVersions(versions);
        // Versions are not part of any shard's text (they are fresh through their secret).
        await tx.putVersion(versionRow(`${ns}/ORPHAN`, 1));
      });
      const expected = [...same]
        .sort()
        .map((p) => `${p}${US}${hex(rows.find((r) => r.path === p)!.mac)}`)
        .join("\n");
      expect(await stateLines(store(), { table: "secrets", namespace: ns, shard })).toBe(expected);
      expect(await stateLines(store(), { table: "secrets", namespace: ns, shard: stateShard(other) })).toContain(other);
      expect(await stateLines(store(), { table: "secrets", namespace: ns, shard: stateShard(other) })).not.toContain(same[0]!);
    });

    it("computes the shard from the path (0 to 63), the same as stateShard", async () => {
      const paths = ["a/b", "ns/KEY_000123", "prod/openai/API_KEY", "x/y.z-_"];
      await store().write((tx) => tx.putSecrets(paths.map((p) => secretRow(p))));
      for (const p of paths) {
        expect(stateShard(p)).toBeGreaterThanOrEqual(0);
        expect(stateShard(p)).toBeLessThan(STATE_SHARDS);
        expect(await stateLines(store(), { table: "secrets", namespace: p.slice(0, p.lastIndexOf("/")), shard: stateShard(p) })).toContain(p);
      }
    });

    it("lists tokens and approvals of one shard (last character of the id) by id, agents by name, slots by id, and the policy and settings row", async () => {
      const tokens = ["t-b", "t-a", "u-a"].map((id) => tokenRow(id));
      const approvals = ["apr_x1", "apr_y1", "apr_z2"].map((id) => approvalRow(id));
      const agents = ["zed", "amy"].map((n) => agentRow(n));
      const slots = ["slot_2", "slot_1"].map((id) => slotRow(id));
      const policy = { document: "{}", updatedAt: 1, mac: noise(32, 3) };
      const settings = { document: "{}", updatedAt: 2, mac: noise(32, 4) };
      await store().write(async (tx) => {
        for (const t of tokens) await tx.putToken(t);
        for (const a of approvals) await tx.putApproval(a);
        for (const a of agents) await tx.putAgent(a);
        for (const s of slots) await tx.putSlot(s);
        await tx.putPolicy(policy);
        await tx.putSettings(settings);
      });
      const lines = (rows: { mac: Uint8Array }[], key: (r: never) => string) => rows.map((r) => `${key(r as never)}${US}${hex(r.mac)}`).join("\n");
      const byId = (r: { id: string }) => r.id;
      expect(await stateLines(store(), { table: "tokens", shard: "a" })).toBe(lines([tokens[1]!, tokens[2]!], byId));
      expect(await stateLines(store(), { table: "tokens", shard: "b" })).toBe(lines([tokens[0]!], byId));
      expect(await stateLines(store(), { table: "approvals", shard: "1" })).toBe(lines([approvals[0]!, approvals[1]!], byId));
      expect(await stateLines(store(), { table: "agents" })).toBe(lines([agents[1]!, agents[0]!], (r: { name: string }) => r.name));
      expect(await stateLines(store(), { table: "slots" })).toBe(lines([slots[1]!, slots[0]!], byId));
      expect(await stateLines(store(), { table: "policy" })).toBe(`${US}${hex(policy.mac)}`);
      expect(await stateLines(store(), { table: "settings" })).toBe(`${US}${hex(settings.mac)}`);
    });
  });

  describe("state rows with the change token (stateRowsAt: optional in Store, given by both adapters)", () => {
    it("gives each bucket's rows as stateRows gives them, empty buckets included, with the token changeToken gives", async () => {
      const s = store();
      if (!s.stateRowsAt) throw new Error("this store has no stateRowsAt");
      const buckets = await seedBuckets(
        s,
        Array.from({ length: 200 }, (_, i) => `prod/app/K${i}`),
      );
      const at = await s.stateRowsAt(buckets);
      expect(at.token).toBe((await s.changeToken?.()) ?? null);
      for (const [i, b] of buckets.entries()) expect(at.rows[i], JSON.stringify(b)).toEqual(await s.stateRows(b));
      expect(at.rows.some((r) => r.length > 1)).toBe(true);
      expect(at.rows.some((r) => r.length === 0)).toBe(true);
    });
  });

  describe("state texts with the change token (stateTextsAt: optional in Store, given by both adapters)", () => {
    it("joins each bucket's rows, as stateRows gives them, into the bucket text, with the token changeToken gives", async () => {
      const s = store();
      if (!s.stateTextsAt) throw new Error("this store has no stateTextsAt");
      // Paths whose byte order differs from a naive one: upper case, "_" and "-", non-ASCII.
      const buckets = await seedBuckets(s, [
        ...Array.from({ length: 200 }, (_, i) => `prod/app/K${i}`),
        "prod/app/Z-last",
        "prod/app/a_first",
        "prod/app/ключ",
      ]);
      const at = await s.stateTextsAt(buckets);
      expect(at.token).toBe((await s.changeToken?.()) ?? null);
      for (const [i, b] of buckets.entries()) {
        const rows = await s.stateRows(b);
        const text = rows.map((r) => (b.table === "secrets" ? `${r.key}${US}${hex(r.mac)}` : hex(r.mac))).join("\n");
        expect(at.texts[i], JSON.stringify(b)).toBe(text);
      }
      expect(at.texts.some((t) => t.includes("\n"))).toBe(true);
      expect(at.texts.some((t) => t === "")).toBe(true);
    });
  });

  describe("state digests and the vault row's state", () => {
    it("stores, replaces and removes digests, listed by bucket name in byte order", async () => {
      await store().write(async (tx) => {
        await tx.putStateDigest("tokens/a", everyByte());
        await tx.putStateDigest("agents", noise(33, 1));
        await tx.putStateDigest("secrets/7/ключ", noise(33, 2));
        await tx.putStateDigest("secrets/10/a", noise(33, 3));
      });
      expect((await store().listStateDigests()).map((d) => d.bucket)).toEqual(["agents", "secrets/10/a", "secrets/7/ключ", "tokens/a"]);
      expectBytes((await store().listStateDigests()).at(-1)!.digest, everyByte());
      await store().write(async (tx) => {
        await tx.putStateDigest("agents", noise(33, 9));
        await tx.putStateDigest("tokens/a", null);
      });
      const after = await store().listStateDigests();
      expect(after.map((d) => d.bucket)).toEqual(["agents", "secrets/10/a", "secrets/7/ключ"]);
      expectBytes(after[0]!.digest, noise(33, 9));
    });

    it("round-trips the state MAC and unlock mark, and setState changes only those", async () => {
      const row = vaultRow({ stateMac: null, unlockMark: 0 });
      await store().write((tx) => tx.putVault(row));
      expectRow(await store().getVault(), row);
      await store().write((tx) => tx.setState(everyByte(), Number.MAX_SAFE_INTEGER));
      expectRow(await store().getVault(), { ...row, stateMac: everyByte(), unlockMark: Number.MAX_SAFE_INTEGER });
    });
  });

  describe("unlock-failure counter", () => {
    it("is 0 at first, and keeps the highest id ever handed out when rows are cleared", async () => {
      expect(await store().unlockFailureCounter()).toBe(0);
      await store().recordUnlockFailure(1, "passphrase");
      await store().recordUnlockFailure(2, "identity");
      const ids = (await store().listUnlockFailures()).map((f) => f.id);
      expect(await store().unlockFailureCounter()).toBe(Math.max(...ids));
      await store().write((tx) => tx.clearUnlockFailures(ids));
      expect(await store().listUnlockFailures()).toEqual([]);
      expect(await store().unlockFailureCounter()).toBe(Math.max(...ids));
      await store().recordUnlockFailure(3, "passphrase");
      expect((await store().listUnlockFailures())[0]!.id).toBeGreaterThan(Math.max(...ids));
    });
  });

  describe("settings", () => {
    it("is null until written, then round-trips and is replaced by the next put", async () => {
      expect(await store().getSettings()).toBeNull();
      const first = { document: '{"notify.webhook":"https://x.example/é"}', updatedAt: Number.MAX_SAFE_INTEGER, mac: everyByte() };
      await store().write((tx) => tx.putSettings(first));
      expectRow(await store().getSettings(), first);
      const second = { document: "", updatedAt: 0, mac: new Uint8Array(0) };
      await store().write((tx) => tx.putSettings(second));
      expectRow(await store().getSettings(), second);
    });
  });
}
