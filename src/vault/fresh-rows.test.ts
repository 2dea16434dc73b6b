/**
 * Fresh rows, in-process, for the rows that only mean something on a daemon (tokens, approvals)
 * and for the vault's own bookkeeping: an earlier, validly MACed copy of a row put back with a
 * second SQLite connection (as a same-user agent would) is refused with INTEGRITY by the next
 * operation that reads it, and `verify` (doctor) names it. The built-CLI attacks are in
 * test/e2e/fresh.test.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isAuthyError } from "../errors.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import { Keyring } from "./keyring.js";
import type { Actor } from "./types.js";
import { Vault } from "./vault.js";

const INSTANCE = "dmn_test";
const now = Date.UTC(2030, 0, 1);
const clock = { now: () => now };
let dir: string;
let file: string;
let store: SqliteStore;
let owner: Vault;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-fresh-"));
  file = path.join(dir, "vault.db");
  store = SqliteStore.open(file, { create: true });
  owner = await Vault.init({ store, clock }, { passphrase: "pw", workFactor: 15 });
  await owner.setSecret("prod/DB", Buffer.from("db-value"), { tier: "sensitive" });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The attacker's connection: saves rows of a table, and later puts them back in place. */
function saveRows(table: string, where: string): () => void {
  const db = new Database(file);
  // Generated columns (the shard) are SQLite's to compute.
  const cols = (db.prepare(`PRAGMA table_xinfo(${table})`).all() as { name: string; hidden: number }[]).filter((c) => c.hidden === 0).map((c) => c.name);
  const rows = db.prepare(`SELECT ${cols.join(", ")} FROM ${table} WHERE ${where}`).all() as Record<string, unknown>[];
  db.close();
  expect(rows.length).toBeGreaterThan(0);
  return () => {
    const w = new Database(file);
    try {
      w.prepare(`DELETE FROM ${table} WHERE ${where}`).run();
      for (const r of rows) {
        w.prepare(`INSERT INTO ${table} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`).run(...cols.map((c) => r[c]));
      }
    } finally {
      w.close();
    }
  };
}

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    const r = await p;
    return (r as { ok?: boolean } | undefined)?.ok === false ? `not ok: ${(r as { reason: string }).reason}` : "ok";
  } catch (e) {
    if (isAuthyError(e)) return e.code;
    throw e;
  }
}

async function stale(): Promise<string[]> {
  return (await owner.verify()).problems.filter((p) => /do not match the vault state/.test(p));
}

describe("tokens put back", () => {
  it("a single-use token is not re-armed", async () => {
    const scope = await owner.resolveScope("secrets:read:prod/*");
    const { token, secret } = await owner.createToken({ scope, uses: 1, instance: INSTANCE });
    const putBack = saveRows("tokens", `id = '${token.id}'`);
    expect((await owner.useToken(secret, INSTANCE)).ok).toBe(true);
    expect(await outcome(owner.useToken(secret, INSTANCE))).toBe("not ok: exhausted");
    putBack();
    expect(await outcome(owner.useToken(secret, INSTANCE))).toBe("INTEGRITY");
    expect(await stale()).toHaveLength(1);
  });

  it("a revoked token does not come back", async () => {
    const scope = await owner.resolveScope("secrets:read:prod/*");
    const { token, secret } = await owner.createToken({ scope, instance: INSTANCE });
    const putBack = saveRows("tokens", `id = '${token.id}'`);
    await owner.revokeToken(token.id);
    putBack();
    expect(await outcome(owner.useToken(secret, INSTANCE))).toBe("INTEGRITY");
    expect(await outcome(owner.listTokens(INSTANCE))).toBe("INTEGRITY");
    expect(await stale()).toHaveLength(1);
  });
});

describe("approvals put back", () => {
  it("a used single-use approval is not re-armed", async () => {
    const scope = await owner.resolveScope("secrets:read:prod/*");
    const actor: Actor = { kind: "token", id: "t1", scope, expiresAt: now + 3_600_000 };
    const bot = owner.as(actor);
    const asked = await outcome(bot.getSecret("prod/DB"));
    expect(asked).toBe("APPROVAL_REQUIRED");
    const [request] = await owner.listApprovals();
    await owner.approve(request!.id, { reason: "once" });
    const putBack = saveRows("approvals", `id = '${request!.id}'`);
    expect(Buffer.from((await bot.getSecret("prod/DB")).value).toString()).toBe("db-value");
    expect((await owner.getApproval(request!.id)).status).toBe("used");
    putBack();
    expect(await outcome(bot.getSecret("prod/DB"))).toBe("INTEGRITY");
    expect(await outcome(owner.listApprovals())).toBe("INTEGRITY");
    expect(await stale()).toHaveLength(1);
  });
});

describe("the vault state itself", () => {
  it("refuses a state digest row put back from before a write", async () => {
    const putBack = saveRows("state_digests", "1 = 1");
    await owner.createAgent("ci", { scope: "secrets:read:prod/*" });
    putBack();
    expect(await outcome(owner.listAgents())).toBe("INTEGRITY");
  });

  it("refuses a vault row (state MAC) put back from before a write", async () => {
    const putBack = saveRows("vault", "1 = 1");
    await owner.createAgent("ci", { scope: "secrets:read:prod/*" });
    putBack();
    expect(await outcome(owner.listAgents())).toBe("INTEGRITY");
    expect(await outcome(Vault.unlock({ store, clock }, { passphrase: "pw" }))).toBe("INTEGRITY");
  });

  it("never launders a row put back into the next write: the write is refused", async () => {
    const putBack = saveRows("secrets", "path = 'prod/DB'");
    await owner.setSecret("prod/DB", Buffer.from("rotated"));
    putBack();
    expect(await outcome(owner.setSecret("prod/DB", Buffer.from("again")))).toBe("INTEGRITY");
    expect(await outcome(owner.getSecret("prod/DB"))).toBe("INTEGRITY");
  });
});

describe("a warm vault (the state verified once, kept until the store changes)", () => {
  it("refuses a secret row put back after its bucket was read and verified", async () => {
    const putBack = saveRows("secrets", "path = 'prod/DB'");
    await owner.setSecret("prod/DB", Buffer.from("rotated"));
    const warm = await Vault.unlock({ store, clock }, { passphrase: "pw" });
    for (let i = 0; i < 3; i++) expect(Buffer.from((await warm.getSecret("prod/DB")).value).toString()).toBe("rotated");
    putBack();
    expect(await outcome(warm.getSecret("prod/DB"))).toBe("INTEGRITY");
  });

  it("refuses it even when the store says nothing changed: the text is compared every time", async () => {
    const putBack = saveRows("secrets", "path = 'prod/DB'");
    await owner.setSecret("prod/DB", Buffer.from("rotated"));
    // A store whose change token never changes, as if the row had been written behind SQLite's back.
    const blind = new Proxy(store, {
      get(target, key) {
        if (key === "changeToken") return () => Promise.resolve("unchanged");
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const warm = await Vault.unlock({ store: blind, clock }, { passphrase: "pw" });
    for (let i = 0; i < 3; i++) expect(Buffer.from((await warm.getSecret("prod/DB")).value).toString()).toBe("rotated");
    putBack();
    expect(await outcome(warm.getSecret("prod/DB"))).toBe("INTEGRITY");
  });

  it("sees the writes of another connection as writes, not as tampering", async () => {
    const warm = await Vault.unlock({ store, clock }, { passphrase: "pw" });
    expect(Buffer.from((await warm.getSecret("prod/DB")).value).toString()).toBe("db-value");
    const other = SqliteStore.open(file);
    try {
      const writer = await Vault.unlock({ store: other, clock }, { passphrase: "pw" });
      await writer.setSecret("prod/DB", Buffer.from("from-elsewhere"));
    } finally {
      await other.close();
    }
    expect(Buffer.from((await warm.getSecret("prod/DB")).value).toString()).toBe("from-elsewhere");
  });
});

describe("migrating a vault from before fresh rows (format 1)", () => {
  /** Turns the vault into what schema 8 makes of a format-1 vault: no digests, no state MAC. */
  function downgrade(key: Uint8Array): void {
    const db = new Database(file);
    try {
      const v = db.prepare("SELECT vault_id, created_at FROM vault").get() as { vault_id: Uint8Array; created_at: number };
      const keys = new Keyring(Uint8Array.from(key), v.vault_id);
      db.prepare("UPDATE vault SET format = 1, mac = ?, state_mac = NULL, unlock_mark = 0").run(keys.macRow("authy/vault/v1", [1, v.created_at]));
      db.prepare("DELETE FROM state_digests").run();
    } finally {
      db.close();
    }
  }

  it("adopts the state once at the next unlock, audited, and refuses the format-1 header put back afterwards", async () => {
    await owner.createAgent("ci", { scope: "secrets:read:prod/*" });
    downgrade(owner.exportKey());
    const before = saveRows("vault", "1 = 1");
    const again = await Vault.unlock({ store, clock }, { passphrase: "pw" });
    expect(Buffer.from((await again.getSecret("prod/DB", { allowExpired: true })).value).toString()).toBe("db-value");
    expect((await again.listAgents()).map((a) => a.name)).toEqual(["ci"]);
    expect((await store.listAudit({ action: "vault.state.adopt" })).length).toBe(1);
    expect((await store.getVault())!.format).toBe(2);
    expect((await again.verify()).problems).toEqual([]);
    before();
    const db = new Database(file);
    db.prepare("DELETE FROM state_digests").run();
    db.close();
    expect(await outcome(Vault.unlock({ store, clock }, { passphrase: "pw" }))).toBe("INTEGRITY");
  });
});
