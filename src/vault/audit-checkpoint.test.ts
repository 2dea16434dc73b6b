/**
 * `audit verify` and checkpoints, in-process: change one field, reorder, duplicate, insert or
 * delete an entry and verification names the first bad entry; delete the newest entries and
 * only a checkpoint notices; a checkpoint cannot be edited to fit; a canary value never
 * reaches the log, raw or encoded.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import { CHECKPOINT_FORMAT, parseCheckpoint, type AuditCheckpoint } from "./audit-checkpoint.js";
import type { Clock } from "./clock.js";
import { Keyring } from "./keyring.js";
import { Vault } from "./vault.js";
import { codeOf } from "../errors.test-helpers.js";

const T0 = Date.UTC(2030, 0, 1);
const CANARY = "canary-7Hq2-ZZ-do-not-log-9f31c0";

let dir: string;
let file: string;
let now: number;
const clock: Clock = { now: () => (now += 1000) };
let stores: SqliteStore[];
let vault: Vault;

async function open(f: string): Promise<Vault> {
  const store = SqliteStore.open(f);
  stores.push(store);
  return Vault.unlock({ store, clock }, { passphrase: "pw" });
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-audit-verify-"));
  file = path.join(dir, "vault.db");
  now = T0;
  const store = SqliteStore.open(file, { create: true });
  stores = [store];
  vault = await Vault.init({ store, clock }, { passphrase: "pw", workFactor: 15 });
  // 1 vault.init, then 2..10: nine events.
  for (let i = 0; i < 9; i++) await vault.recordEvent("test.event", `ns/K${i}`, { i });
});

afterEach(async () => {
  vault.lock();
  for (const s of stores) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

function sql(fn: (db: Database.Database) => void, f = file): void {
  const db = new Database(f);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

/** Moves entries from `seq` on by `delta`, via negative numbers to dodge the primary key. */
function shift(db: Database.Database, from: number, delta: number): void {
  db.prepare("UPDATE audit SET seq = -seq WHERE seq >= ?").run(from);
  db.prepare("UPDATE audit SET seq = -seq + ? WHERE seq < 0").run(delta);
}

const row = (db: Database.Database, seq: number) => db.prepare("SELECT * FROM audit WHERE seq = ?").get(seq) as Record<string, unknown>;
const insert = (db: Database.Database, r: Record<string, unknown>) =>
  db
    .prepare(
      `INSERT INTO audit (${Object.keys(r).join(", ")}) VALUES (${Object.keys(r)
        .map((k) => "@" + k)
        .join(", ")})`,
    )
    .run(r);

async function firstBad(v = vault): Promise<string | null> {
  const r = await v.verifyAudit();
  expect(r.ok).toBe(r.firstBad === null);
  return r.firstBad && `${r.firstBad.seq}: ${r.firstBad.reason}`;
}

describe("audit verify", () => {
  it("passes an untouched log and reports its head", async () => {
    const r = await vault.verifyAudit();
    expect(r).toMatchObject({ ok: true, entries: 10, firstBad: null, checkpoint: null });
    expect(r.head?.seq).toBe(10);
    expect(r.head?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reports progress up to the head", async () => {
    const calls: [number, number][] = [];
    await vault.verifyAudit({ onProgress: (d, t) => calls.push([d, t]) });
    expect(calls.at(-1)).toEqual([10, 10]);
  });

  it.each([
    ["ts", "ts + 1"],
    ["actor", "'agent:mallory'"],
    ["action", "'secret.delete'"],
    ["resource", "'ns/OTHER'"],
    ["outcome", "'denied'"],
    ["details", "'{\"i\":99}'"],
    ["hash", "randomblob(32)"],
  ])("names the entry whose %s was changed", async (column, value) => {
    sql((db) => db.prepare(`UPDATE audit SET ${column} = ${value} WHERE seq = 6`).run());
    expect(await firstBad()).toBe("6: was modified");
  });

  it("names the entry whose link or MAC was changed", async () => {
    sql((db) => db.prepare("UPDATE audit SET prev_hash = randomblob(32) WHERE seq = 4").run());
    expect(await firstBad()).toBe("4: does not follow the entry before it");
    sql((db) => db.prepare("UPDATE audit SET prev_hash = (SELECT hash FROM audit WHERE seq = 3) WHERE seq = 4").run());
    expect(await firstBad()).toBeNull();
    sql((db) => db.prepare("UPDATE audit SET mac = randomblob(32) WHERE seq = 7").run());
    expect(await firstBad()).toBe("7: was not written by this vault");
  });

  it("names the first of two entries swapped", async () => {
    sql((db) => {
      const [a, b] = [row(db, 4), row(db, 5)];
      db.prepare("DELETE FROM audit WHERE seq IN (4, 5)").run();
      insert(db, { ...b, seq: 4 });
      insert(db, { ...a, seq: 5 });
    });
    expect(await firstBad()).toBe("4: does not follow the entry before it");
  });

  it("names a duplicated entry", async () => {
    sql((db) => {
      const copy = row(db, 5);
      shift(db, 6, 1);
      insert(db, { ...copy, seq: 6 });
    });
    expect(await firstBad()).toBe("6: does not follow the entry before it");
  });

  it("names an inserted entry, even one whose hash was recomputed to fit the chain", async () => {
    const keys = new Keyring(vault.exportKey(), Buffer.from(vault.vaultId, "hex"));
    const { auditHash } = await import("./audit-chain.js");
    sql((db) => {
      const before = row(db, 5);
      shift(db, 6, 1);
      const forged = {
        seq: 6,
        ts: before.ts as number,
        actor: "owner",
        action: "test.event",
        resource: "ns/FORGED",
        outcome: "ok",
        details: "{}",
        prev_hash: before.hash as Uint8Array,
      };
      const hash = auditHash(keys.vaultId, { ...forged, prevHash: forged.prev_hash });
      insert(db, { ...forged, hash, mac: new Uint8Array(32) });
      db.prepare("UPDATE audit SET prev_hash = ? WHERE seq = 7").run(hash);
    });
    expect(await firstBad()).toBe("6: was not written by this vault");
  });

  it("names a deleted entry, and the entry after it when the rest were renumbered", async () => {
    sql((db) => db.prepare("DELETE FROM audit WHERE seq = 5").run());
    expect(await firstBad()).toBe("5: missing (next is 6)");
    sql((db) => shift(db, 6, -1));
    expect(await firstBad()).toBe("5: does not follow the entry before it");
  });

  it("names the entry whose bytes were flipped, for every byte of its text and hashes", async () => {
    const original = await new Promise<Record<string, unknown>>((resolve) => sql((db) => resolve(row(db, 3))));
    let variants = 0;
    for (const [column, value] of Object.entries(original)) {
      if (column === "seq" || column === "ts") continue;
      const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value as Uint8Array);
      for (let i = 0; i < bytes.length; i++) {
        const flipped = Buffer.from(bytes);
        flipped[i]! ^= 0x01;
        sql((db) => db.prepare(`UPDATE audit SET ${column} = ${typeof value === "string" ? "CAST(? AS TEXT)" : "?"} WHERE seq = 3`).run(flipped));
        expect(`${column}[${i}] ${await firstBad()}`).toMatch(new RegExp(`^${column}\\[${i}\\] 3: `));
        variants++;
      }
      sql((db) => db.prepare(`UPDATE audit SET ${column} = ? WHERE seq = 3`).run(value));
    }
    expect(variants).toBeGreaterThan(100);
    expect(await firstBad()).toBeNull();
  });

  it("passes when the newest entries were deleted: only a checkpoint shows that", async () => {
    sql((db) => db.prepare("DELETE FROM audit WHERE seq > 7").run());
    expect(await firstBad()).toBeNull();
  });
});

describe("audit checkpoints", () => {
  it("records the head, MACed, and holds while the log grows", async () => {
    const cp = await vault.auditCheckpoint();
    expect(cp).toMatchObject({ format: CHECKPOINT_FORMAT, vaultId: vault.vaultId, seq: 10 });
    expect(cp.hash).toBe((await vault.verifyAudit()).head?.hash);
    await vault.recordEvent("test.event", "ns/LATER");
    const r = await vault.verifyAudit({ checkpoint: parseCheckpoint(JSON.parse(JSON.stringify(cp))) });
    expect(r).toMatchObject({ ok: true, entries: 11, checkpoint: { seq: 10, ts: cp.ts, ok: true, reason: null } });
  });

  it("catches the newest entries deleted", async () => {
    const cp = await vault.auditCheckpoint();
    sql((db) => db.prepare("DELETE FROM audit WHERE seq > 7").run());
    const r = await vault.verifyAudit({ checkpoint: cp });
    expect(r.ok).toBe(false);
    expect(r.firstBad).toBeNull();
    expect(r.checkpoint?.reason).toBe("the log ends at entry 7 but the checkpoint names entry 10: the newest entries were deleted");
  });

  it("catches a log rewritten from the same vault: a different entry at the checkpoint's seq", async () => {
    const fork = path.join(dir, "fork.db");
    vault.lock();
    for (const s of stores.splice(0)) await s.close();
    copyFileSync(file, fork);
    vault = await open(file);
    await vault.recordEvent("test.event", "ns/ORIGINAL");
    const cp = await vault.auditCheckpoint();
    const other = await open(fork);
    await other.recordEvent("test.event", "ns/REWRITTEN");
    const r = await other.verifyAudit({ checkpoint: cp });
    expect(r).toMatchObject({ ok: false, firstBad: null, checkpoint: { ok: false, reason: "entry 11 is not the one checkpointed: the log was rewritten" } });
    other.lock();
  });

  it("says the chain breaks first when it breaks before the checkpoint", async () => {
    const cp = await vault.auditCheckpoint();
    sql((db) => db.prepare("UPDATE audit SET details = '{}' WHERE seq = 4").run());
    const r = await vault.verifyAudit({ checkpoint: cp });
    expect(r).toMatchObject({
      ok: false,
      firstBad: { seq: 4 },
      checkpoint: { ok: false, reason: "not reached: the chain breaks at entry 4, before entry 10" },
    });
  });

  it("refuses a checkpoint edited to fit a shortened log", async () => {
    const cp = await vault.auditCheckpoint();
    sql((db) => db.prepare("DELETE FROM audit WHERE seq > 7").run());
    const head = (await vault.verifyAudit()).head!;
    const edited: AuditCheckpoint = { ...cp, seq: head.seq, hash: head.hash };
    expect(await codeOf(vault.verifyAudit({ checkpoint: edited }))).toBe("INTEGRITY: the audit checkpoint was edited, or was not made by this vault");
    expect(await codeOf(vault.verifyAudit({ checkpoint: { ...cp, ts: cp.ts + 1 } }))).toMatch(/^INTEGRITY/);
  });

  it("refuses another vault's checkpoint and anything that is not a checkpoint", async () => {
    const cp = await vault.auditCheckpoint();
    expect(await codeOf(vault.verifyAudit({ checkpoint: { ...cp, vaultId: "00".repeat(16) } }))).toMatch(
      /^INVALID_INPUT: the checkpoint is for vault 0+, not this one/,
    );
    for (const bad of [
      null,
      [],
      {},
      { ...cp, format: "v0" },
      { ...cp, seq: -1 },
      { ...cp, seq: "10" },
      { ...cp, hash: "xyz" },
      { ...cp, mac: cp.mac.toUpperCase() },
    ]) {
      expect(() => parseCheckpoint(bad)).toThrow(/not an authy audit checkpoint/);
    }
  });

  it("refuses to vouch for a forged head", async () => {
    sql((db) => db.prepare("UPDATE audit SET resource = 'ns/FORGED' WHERE seq = 10").run());
    expect(await codeOf(vault.auditCheckpoint())).toBe("INTEGRITY: audit entry 10: was modified");
  });
});

describe("values never reach the audit log", () => {
  const forms = (v: string) => {
    const b = Buffer.from(v, "utf8");
    return [v, b.toString("base64"), b.toString("base64url"), b.toString("hex"), b.toString("hex").toUpperCase(), encodeURIComponent(v)];
  };

  it("keeps a canary value out of every column, raw, base64 or hex, and out of the export", async () => {
    await vault.setSecret("prod/CANARY", Buffer.from(CANARY), { description: "the canary" });
    await vault.getSecret("prod/CANARY");
    await vault.exportEnv("prod");
    await vault.setSecret("prod/CANARY", Buffer.from(CANARY + "-2"));
    await vault.rollback("prod/CANARY", 1);
    await vault.deleteSecret("prod/CANARY");
    await vault.restoreSecret("prod/CANARY");
    const dump = await new Promise<string>((resolve) =>
      sql((db) =>
        resolve(
          (db.prepare("SELECT * FROM audit").raw(true).all() as unknown[][])
            .flat()
            .map((c) => (c instanceof Uint8Array ? Buffer.from(c).toString("latin1") : String(c)))
            .join("\n"),
        ),
      ),
    );
    const exported: string[] = [];
    for (let after = 0; ;) {
      const page = await vault.exportAudit({ afterSeq: after });
      if (page.entries.length === 0) break;
      exported.push(JSON.stringify(page.entries), JSON.stringify(await vault.queryAudit({ limit: 1000 })));
      after = page.entries.at(-1)!.seq;
    }
    expect(dump).toContain("prod/CANARY");
    for (const form of forms(CANARY)) {
      expect(dump).not.toContain(form);
      expect(exported.join("\n")).not.toContain(form);
    }
    // The vault file itself never holds it in the clear either (values are sealed).
    vault.lock();
    for (const s of stores.splice(0)) await s.close();
    expect(readFileSync(file).includes(Buffer.from(CANARY))).toBe(false);
  });
});
