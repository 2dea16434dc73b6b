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
});
