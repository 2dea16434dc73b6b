/**
 * Reading the audit log, in-process: every filter, newest N returned oldest first, paging
 * after a seq (what --follow and export use), owner only, and each entry verified as it is
 * read, touching only the rows returned, through the indexes rather than a scan.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Connection } from "../store/sqlite/sqlite-reader.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import { appendAudit, type AuditEvent } from "./audit-chain.js";
import { DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT } from "./audit-query.js";
import type { Clock } from "./clock.js";
import { Keyring } from "./keyring.js";
import type { Actor } from "./types.js";
import { Vault } from "./vault.js";
import { codeOf } from "../errors.test-helpers.js";

const T0 = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;
const utf8 = (s: string) => Buffer.from(s, "utf8");

let dir: string;
let file: string;
let now: number;
const clock: Clock = { now: () => now };
let store: SqliteStore;
let vault: Vault;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-audit-query-"));
  file = path.join(dir, "vault.db");
  now = T0;
  store = SqliteStore.open(file, { create: true });
  vault = await Vault.init({ store, clock }, { passphrase: "pw", workFactor: 15 });
});

afterEach(async () => {
  await vault.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Appends entries as authy would (same chain, same MACs), one minute apart unless `ts` is given. */
async function append(events: Partial<AuditEvent>[]): Promise<void> {
  const keys = new Keyring(vault.exportKey(), Buffer.from(vault.vaultId, "hex"));
  const full = events.map((e) => ({ ts: (now += MINUTE), actor: "owner", action: "secret.read", resource: "prod/K", outcome: "ok" as const, ...e }));
  await store.write((tx) => appendAudit(tx, keys, full));
}

function sql(fn: (db: Database.Database) => void): void {
  const db = new Database(file);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

const seqs = async (f: Parameters<Vault["queryAudit"]>[0]) => (await vault.queryAudit(f)).entries.map((e) => e.seq);

describe("audit queries", () => {
  it("returns the newest entries, oldest first, with parsed details and the chain hashes", async () => {
    await append([{ action: "secret.write", details: { version: 2, type: "api_key" } }, { outcome: "denied" }]);
    const page = await vault.queryAudit({});
    expect(page.headSeq).toBe(3);
    expect(page.entries.map((e) => [e.seq, e.action, e.outcome])).toEqual([
      [1, "vault.init", "ok"],
      [2, "secret.write", "ok"],
      [3, "secret.read", "denied"],
    ]);
    expect(page.entries[1]).toMatchObject({ actor: "owner", resource: "prod/K", ts: T0 + MINUTE, details: { version: 2, type: "api_key" } });
    expect(page.entries[1]!.prevHash).toBe(page.entries[0]!.hash);
    expect(page.entries[0]!.prevHash).toBe("00".repeat(32));
  });

  it(`keeps the newest ${DEFAULT_AUDIT_LIMIT} by default and the newest N with a limit`, async () => {
    await append(Array.from({ length: 60 }, () => ({})));
    expect(await seqs({})).toEqual(Array.from({ length: 50 }, (_, i) => i + 12));
    expect(await seqs({ limit: 3 })).toEqual([59, 60, 61]);
  });

  it("orders by time: an entry written later with an older time sits where its time says", async () => {
    await append([{}, {}]);
    await append([{ action: "vault.unlock.failed", ts: T0 + 30_000 }]);
    expect(await seqs({})).toEqual([1, 4, 2, 3]);
  });

  it("filters by action, exact actor, and since/until (inclusive)", async () => {
    await append([{ action: "token.issue" }, {}, { actor: "unknown", action: "vault.unlock.failed" }, {}]);
    expect(await seqs({ action: "secret.read" })).toEqual([3, 5]);
    expect(await seqs({ action: "secret" })).toEqual([]);
    expect(await seqs({ actor: "unknown" })).toEqual([4]);
    expect(await seqs({ since: T0 + 2 * MINUTE, until: T0 + 4 * MINUTE })).toEqual([3, 4, 5]);
    expect(await seqs({ since: T0 + 2 * MINUTE + 1 })).toEqual([4, 5]);
  });

  it("filters by namespace: the namespace and everything below it, never a longer name", async () => {
    await append([
      { resource: "prod" },
      { resource: "prod/A" },
      { resource: "prod/sub/B" },
      { resource: "production/A" },
      { resource: "prodX" },
      { resource: "Prod/A" },
    ]);
    expect(await seqs({ namespace: "prod" })).toEqual([2, 3, 4]);
    expect(await seqs({ namespace: "prod/sub" })).toEqual([4]);
    expect(await seqs({ namespace: "prod/A" })).toEqual([3]);
  });

  it("filters by agent: the agent's own entries and its tokens', through real operations", async () => {
    await vault.setSecret("prod/K", utf8("value-0123456789"));
    const scope = await vault.resolveScope("secrets:read:prod/*");
    const token = (id: string, agent?: string): Actor => ({
      kind: "token",
      id,
      scope,
      expiresAt: T0 + 60 * MINUTE,
      ...(agent ? { agent, agentId: `${agent}-id` } : {}),
    });
    await vault.as(token("tk1", "ci")).getSecret("prod/K");
    await vault.as(token("tk2", "cid")).getSecret("prod/K");
    await vault.as(token("tk3")).getSecret("prod/K");
    await append([
      { actor: "agent:ci", action: "token.issue" },
      { actor: "agent:cid", action: "token.issue" },
    ]);
    const byCi = (await vault.queryAudit({ agent: "ci" })).entries;
    expect(byCi.map((e) => [e.actor, e.action])).toEqual([
      ["token:tk1(ci)", "secret.read"],
      ["agent:ci", "token.issue"],
    ]);
    expect(await seqs({ agent: "ci", action: "token.issue" })).toEqual([byCi[1]!.seq]);
    expect(await seqs({ agent: "tk3" })).toEqual([]);
  });

  it("pages after a seq, oldest first by seq, with the filters (what --follow polls)", async () => {
    await append([{}, { action: "token.issue" }, {}, {}]);
    expect(await seqs({ afterSeq: 2 })).toEqual([3, 4, 5]);
    expect(await seqs({ afterSeq: 2, action: "secret.read" })).toEqual([4, 5]);
    expect(await seqs({ afterSeq: 2, limit: 1 })).toEqual([3]);
    const page = await vault.queryAudit({ afterSeq: 5 });
    expect(page).toEqual({ entries: [], headSeq: 5 });
  });

  it("refuses bad filters with INVALID_INPUT", async () => {
    for (const f of [
      { limit: 0 },
      { limit: MAX_AUDIT_LIMIT + 1 },
      { limit: 1.5 },
      { since: 2, until: 1 },
      { namespace: "a/../b" },
      { namespace: "prod/" },
      { agent: "" },
      { afterSeq: -1 },
    ]) {
      expect(await codeOf(vault.queryAudit(f))).toMatch(/^INVALID_INPUT/);
    }
  });

  it("is for the owner only", async () => {
    const scope = await vault.resolveScope("secrets:read:prod/*");
    const tokenVault = vault.as({ kind: "token", id: "tk", agent: "ci", scope, expiresAt: T0 + MINUTE });
    expect(await codeOf(tokenVault.queryAudit({}))).toMatch(/^ACCESS_DENIED/);
    expect(await codeOf(tokenVault.exportAudit({ afterSeq: 0 }))).toMatch(/^ACCESS_DENIED/);
    expect(await codeOf(tokenVault.verifyAudit())).toMatch(/^ACCESS_DENIED/);
    expect(await codeOf(tokenVault.auditCheckpoint())).toMatch(/^ACCESS_DENIED/);
  });
});

describe("audit queries verify what they return", () => {
  it.each([
    ["details", "'{\"version\":9}'"],
    ["actor", "'agent:mallory'"],
    ["outcome", "'ok'"],
    ["ts", "ts + 1"],
    ["prev_hash", "randomblob(32)"],
    ["hash", "randomblob(32)"],
    ["mac", "randomblob(32)"],
  ])("names the entry whose %s was changed (INTEGRITY)", async (column, value) => {
    await append([{}, { outcome: "denied" }, {}]);
    sql((db) => db.prepare(`UPDATE audit SET ${column} = ${value} WHERE seq = 3`).run());
    expect(await codeOf(vault.queryAudit({}))).toBe("INTEGRITY: audit entry 3: " + (column === "mac" ? "was not written by this vault" : "was modified"));
  });

  it("touches only the rows it returns: a bad entry outside the answer does not fail it", async () => {
    await append([{ action: "token.issue" }, {}, {}]);
    sql((db) => db.prepare("UPDATE audit SET details = '{\"x\":1}' WHERE seq = 2").run());
    expect(await seqs({ action: "secret.read" })).toEqual([3, 4]);
    expect(await codeOf(vault.queryAudit({ action: "token.issue" }))).toMatch(/^INTEGRITY: audit entry 2:/);
  });

  it("answers `--action secret.read --since 1h --limit 50` from an index, sorting nothing", async () => {
    const seen: string[] = [];
    const original = Connection.prototype.stmt; // eslint-disable-line @typescript-eslint/unbound-method -- called below with .call(this)
    Connection.prototype.stmt = function (this: Connection, s: string) {
      seen.push(s);
      return original.call(this, s);
    };
    try {
      await vault.queryAudit({ action: "secret.read", since: now - 60 * MINUTE, limit: 50 });
      await vault.queryAudit({ agent: "ci", limit: 50 });
      await vault.queryAudit({ limit: 50 });
    } finally {
      Connection.prototype.stmt = original;
    }
    const queries = seen.filter((s) => s.startsWith("SELECT * FROM audit") && s.includes("ORDER BY ts DESC"));
    expect(queries).toHaveLength(3);
    const plans = queries.map((q) => {
      const db = new Database(file, { readonly: true });
      try {
        const args = (q.match(/\?/g) ?? []).map(() => 1);
        return (db.prepare(`EXPLAIN QUERY PLAN ${q}`).all(...args) as { detail: string }[]).map((r) => r.detail).join("; ");
      } finally {
        db.close();
      }
    });
    expect(plans[0]).toMatch(/USING INDEX audit_by_action_ts \(action=\? AND ts>\?\)/);
    expect(plans[1]).toMatch(/USING INDEX audit_by_agent_ts/);
    expect(plans[2]).toMatch(/USING INDEX audit_by_ts/);
    for (const p of plans) expect(p).not.toMatch(/TEMP B-TREE/);
  });
});

describe("audit export pages", () => {
  it("pages through the whole log, oldest first, linked page to page", async () => {
    await append(Array.from({ length: 9 }, (_, i) => ({ details: { i } })));
    const all: number[] = [];
    for (let after = 0; ;) {
      const page = await vault.exportAudit({ afterSeq: after, limit: 4 });
      if (page.entries.length === 0) break;
      expect(page.headSeq).toBe(10);
      all.push(...page.entries.map((e) => e.seq));
      after = page.entries[page.entries.length - 1]!.seq;
    }
    expect(all).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });

  it("stops at a bad entry, and at a page that no longer follows the one before", async () => {
    await append(Array.from({ length: 6 }, () => ({})));
    sql((db) => db.prepare("UPDATE audit SET resource = 'prod/X' WHERE seq = 5").run());
    expect(await codeOf(vault.exportAudit({ afterSeq: 0 }))).toBe("INTEGRITY: audit entry 5: was modified");
    expect(await codeOf(vault.exportAudit({ afterSeq: 5 }))).toBe("INTEGRITY: audit entry 5: was modified");
    expect((await vault.exportAudit({ afterSeq: 0, limit: 3 })).entries).toHaveLength(3);
    sql((db) => db.prepare("DELETE FROM audit WHERE seq = 3").run());
    expect(await codeOf(vault.exportAudit({ afterSeq: 0, limit: 3 }))).toBe("INTEGRITY: audit entry 3: missing (next is 4)");
    expect(await codeOf(vault.exportAudit({ afterSeq: 3 }))).toBe("INTEGRITY: audit entry 3: missing");
  });
});
