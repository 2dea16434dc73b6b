import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import { Vault } from "./vault.js";

let dir: string;
let vault: Vault;
const clock = { now: () => 1_700_000_000_000 };
const INSTANCE = "dmn_test";

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-tokens-"));
  const store = SqliteStore.open(path.join(dir, "vault.db"), { create: true });
  vault = await Vault.init({ store, clock }, { passphrase: "pw", workFactor: 15 });
});
afterEach(async () => {
  await vault.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("token uses", () => {
  it("spends a use per request, but not when only checking (an approval poll)", async () => {
    const scope = await vault.resolveScope("secrets:read:prod/*");
    const { secret } = await vault.createToken({ scope, uses: 1, instance: INSTANCE });
    for (let i = 0; i < 3; i++) expect((await vault.useToken(secret, INSTANCE, { spend: false })).ok).toBe(true);
    expect((await vault.useToken(secret, INSTANCE)).ok).toBe(true);
    expect(await vault.useToken(secret, INSTANCE)).toEqual({ ok: false, reason: "exhausted" });
    expect(await vault.useToken(secret, INSTANCE, { spend: false })).toEqual({ ok: false, reason: "exhausted" });
  });

  it("honours a token only on the instance that issued it", async () => {
    const scope = await vault.resolveScope("secrets:read:prod/*");
    const { secret } = await vault.createToken({ scope, instance: INSTANCE });
    expect((await vault.useToken(secret, INSTANCE)).ok).toBe(true);
    expect(await vault.useToken(secret, "dmn_restarted")).toEqual({ ok: false, reason: "unknown" });
  });

  it("gives a family of tokens one budget: a child's uses are spent from its ancestors too, and a refund gives back to all", async () => {
    const scope = await vault.resolveScope("secrets:read:prod/*");
    const parent = await vault.createToken({ scope, uses: 3, instance: INSTANCE });
    const asParent = vault.as({ kind: "token", id: parent.token.id, scope, expiresAt: parent.token.expiresAt });
    const child = await asParent.createToken({ scope, uses: 10, instance: INSTANCE });
    expect(child.token.maxUses).toBe(3);
    expect(child.notices).toContain("uses clamped to the 3 left to the issuing token");
    const asChild = vault.as({ kind: "token", id: child.token.id, scope, expiresAt: child.token.expiresAt });
    const grandchild = await asChild.createToken({ scope, instance: INSTANCE });
    expect((await vault.useToken(grandchild.secret, INSTANCE)).ok).toBe(true);
    expect((await vault.useToken(child.secret, INSTANCE)).ok).toBe(true);
    await vault.refundUse(child.token.id);
    expect((await vault.useToken(parent.secret, INSTANCE)).ok).toBe(true);
    expect((await vault.useToken(child.secret, INSTANCE)).ok).toBe(true);
    for (const t of [parent, child, grandchild]) expect(await vault.useToken(t.secret, INSTANCE)).toEqual({ ok: false, reason: "exhausted" });
    const listed = await vault.listTokens(INSTANCE);
    expect(listed.map((t) => t.status)).toEqual(["spent", "spent", "spent"]);
    expect(listed.find((t) => t.id === parent.token.id)?.uses).toBe(3);
  });
});
