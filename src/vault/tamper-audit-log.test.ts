/**
 * The audit log: an entry for every operation, refusals included; the chain names the first
 * entry edited, swapped, duplicated, inserted, appended or deleted; no secret value, raw or
 * encoded, in the log or anywhere in the vault file.
 * The fixture: tamper.test-helpers.ts.
 */
import { readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { randomBytes } from "../crypto/index.js";
import { auditHash } from "./audit-chain.js";
import { verifyAuditChain } from "./verify.js";
import { copyOf, ctxOf, flipBit, keysFor, opened, openStore, outcome, sql, unlock, useTemplates, utf8, writableColumns } from "./tamper.test-helpers.js";

useTemplates();

describe("the audit log", () => {
  const count = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare("SELECT count(*) FROM audit").pluck().get() as number;
    } finally {
      db.close();
    }
  };

  it("gains an entry for every operation: set, get, list, history, delete, restore, export", async () => {
    const file = copyOf();
    const vault = await unlock(file);
    const steps: [string, () => Promise<unknown>][] = [
      ["secret.write", () => vault.setSecret("prod/NEW", utf8("v"))],
      ["secret.read", () => vault.getSecret("prod/NEW")],
      ["secret.list", () => vault.listSecrets()],
      ["secret.delete", () => vault.deleteSecret("prod/NEW")],
      ["secret.restore", () => vault.restoreSecret("prod/NEW")],
      ["secret.rollback", () => vault.rollback("prod/A", 1)],
      ["env.export", () => vault.exportEnv("prod")],
    ];
    for (const [action, step] of steps) {
      const before = count(file);
      await step();
      expect({ action, added: count(file) - before }).toEqual({ action, added: 1 });
      const db = new Database(file, { readonly: true });
      try {
        expect(db.prepare("SELECT action FROM audit ORDER BY seq DESC LIMIT 1").pluck().get()).toBe(action);
      } finally {
        db.close();
      }
    }
    expect((await verifyAuditChain(ctxOf(opened[0]!, await keysFor(opened[0]!)))).firstBad).toBeNull();
  });

  it("records a refused read (INTEGRITY) as an error entry", async () => {
    const file = copyOf();
    sql(file, (db) => db.prepare("UPDATE secret_versions SET sealed = randomblob(length(sealed)) WHERE path = 'prod/B'").run());
    const vault = await unlock(file);
    const before = count(file);
    expect(await outcome(vault.getSecret("prod/B"))).toBe("INTEGRITY");
    expect(count(file)).toBe(before + 1);
    sql(file, (db) => expect(db.prepare("SELECT outcome FROM audit ORDER BY seq DESC LIMIT 1").pluck().get()).toBe("error"));
  });

  /** A vault with a dozen audit entries, its raw rows, and a way to check the chain. */
  async function chain() {
    const file = copyOf();
    const vault = await unlock(file);
    for (let i = 0; i < 6; i++) await vault.getSecret("prod/B");
    await vault.close();
    opened.splice(0);
    const rows = () => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare("SELECT * FROM audit ORDER BY seq").all() as Record<string, unknown>[];
      } finally {
        db.close();
      }
    };
    const verify = async () => {
      const store = openStore(file);
      return verifyAuditChain(ctxOf(store, await keysFor(store)));
    };
    expect(rows().length).toBeGreaterThanOrEqual(10);
    expect((await verify()).firstBad).toBeNull();
    return { file, rows, verify };
  }

  const insert = (db: Database.Database, row: Record<string, unknown>) => {
    const columns = writableColumns(db, "audit");
    db.prepare(`INSERT INTO audit (${columns.join(", ")}) VALUES (${columns.map((k) => "@" + k).join(", ")})`).run(
      Object.fromEntries(columns.map((c) => [c, row[c]])),
    );
  };
  /** Moves entries from `seq` on up (delta 1) or down (delta -1), via negative numbers to dodge the key. */
  const shift = (db: Database.Database, from: number, delta: number) => {
    db.prepare("UPDATE audit SET seq = -seq WHERE seq >= ?").run(from);
    db.prepare("UPDATE audit SET seq = -seq + ? WHERE seq < 0").run(delta);
  };

  it.each([
    ["actor", "'agent:mallory'"],
    ["action", "'forged.action'"],
    ["resource", "'prod/A'"],
    ["outcome", "'denied'"],
    ["details", "'{}'"],
    ["ts", "ts + 1"],
    ["prev_hash", "randomblob(32)"],
    ["hash", "randomblob(32)"],
    ["mac", "randomblob(32)"],
  ])("names entry 5 when its %s is changed", async (column, set) => {
    const { file, verify } = await chain();
    sql(file, (db) => db.prepare(`UPDATE audit SET ${column} = ${set} WHERE seq = 5`).run());
    expect((await verify()).firstBad?.seq).toBe(5);
  });

  it("names the entry whose bytes were flipped, for every byte of it", async () => {
    const { file, rows } = await chain();
    const original = rows()[5]!;
    const seq = original.seq as number;
    const store = openStore(file);
    const ctx = ctxOf(store, await keysFor(store));
    const db = new Database(file);
    try {
      let variants = 0;
      for (const column of writableColumns(db, "audit")) {
        const value = original[column];
        if (column === "seq") continue;
        const forms: unknown[] = [];
        if (typeof value === "string") for (let i = 0; i < utf8(value).length; i++) forms.push(flipBit(utf8(value), i));
        else if (typeof value === "number") for (let bit = 0; bit < 48; bit++) forms.push(Number(BigInt(value) ^ (1n << BigInt(bit))));
        else if (value instanceof Uint8Array) for (let i = 0; i < value.length; i++) forms.push(flipBit(value, i));
        for (const form of forms) {
          db.prepare(`UPDATE audit SET ${column} = ${typeof value === "string" ? "CAST(? AS TEXT)" : "?"} WHERE seq = ?`).run(form, seq);
          variants++;
          expect(`${column}: ${(await verifyAuditChain(ctx)).firstBad?.seq}`).toBe(`${column}: ${seq}`);
        }
        db.prepare(`UPDATE audit SET ${column} = ? WHERE seq = ?`).run(value, seq);
      }
      expect(variants).toBeGreaterThan(150);
      expect((await verifyAuditChain(ctx)).firstBad).toBeNull();
    } finally {
      db.close();
    }
  });

  it("names the first displaced entry when two entries are swapped", async () => {
    const { file, verify } = await chain();
    sql(file, (db) => {
      db.prepare("UPDATE audit SET seq = -1 WHERE seq = 4").run();
      db.prepare("UPDATE audit SET seq = 4 WHERE seq = 7").run();
      db.prepare("UPDATE audit SET seq = 7 WHERE seq = -1").run();
    });
    expect((await verify()).firstBad?.seq).toBe(4);
  });

  it("names a duplicated entry", async () => {
    const { file, rows, verify } = await chain();
    const fifth = rows()[4]!;
    sql(file, (db) => {
      shift(db, 6, 1);
      insert(db, { ...fifth, seq: 6 });
    });
    expect((await verify()).firstBad?.seq).toBe(6);
  });

  it("names an inserted entry, even one whose hash links correctly (it lacks the MAC)", async () => {
    const { file, rows, verify } = await chain();
    const fourth = rows()[3]!;
    const store = openStore(file);
    const vaultId = (await store.getVault())!.vaultId;
    const base = {
      seq: 5,
      ts: fourth.ts as number,
      actor: "owner",
      action: "secret.read",
      resource: "prod/A",
      outcome: "ok",
      details: "{}",
      prevHash: new Uint8Array(fourth.hash as Buffer),
    };
    const hash = auditHash(vaultId, base);
    sql(file, (db) => {
      shift(db, 5, 1);
      insert(db, {
        seq: 5,
        ts: base.ts,
        actor: base.actor,
        action: base.action,
        resource: base.resource,
        outcome: base.outcome,
        details: base.details,
        prev_hash: fourth.hash,
        hash: Buffer.from(hash),
        mac: Buffer.from(randomBytes(32)),
      });
    });
    const report = await verify();
    expect(report.firstBad).toEqual({ seq: 5, reason: "was not written by this vault" });
  });

  it("names a forged entry appended at the end", async () => {
    const { file, rows, verify } = await chain();
    const last = rows().at(-1)!;
    sql(file, (db) => insert(db, { ...last, seq: (last.seq as number) + 1, prev_hash: last.hash, mac: Buffer.from(randomBytes(32)) }));
    expect((await verify()).firstBad?.seq).toBe((last.seq as number) + 1);
  });

  it("names the gap when an entry in the middle is deleted, renumbered or not", async () => {
    const a = await chain();
    sql(a.file, (db) => db.prepare("DELETE FROM audit WHERE seq = 5").run());
    expect((await a.verify()).firstBad?.seq).toBe(5);

    const b = await chain();
    sql(b.file, (db) => {
      db.prepare("DELETE FROM audit WHERE seq = 5").run();
      shift(db, 6, -1);
    });
    expect((await b.verify()).firstBad?.seq).toBe(5);
  });

  it("does not notice the newest entries deleted, without a checkpoint", async () => {
    // Truncating the tail leaves a valid, shorter chain: only `audit verify --checkpoint`
    // against a head kept elsewhere can catch it (a later issue). Pinned here so that the
    // day checkpoints arrive, this test is changed on purpose rather than by surprise.
    const { file, rows, verify } = await chain();
    const n = rows().length;
    sql(file, (db) => db.prepare("DELETE FROM audit WHERE seq > ?").run(n - 2));
    const report = await verify();
    expect(report.firstBad).toBeNull();
    expect(report.entries).toBe(n - 2);
  });

  it("never holds a secret value, raw or encoded, and neither does the vault file", async () => {
    const canary = "canary-" + Buffer.from(randomBytes(18)).toString("hex");
    const file = copyOf();
    const vault = await unlock(file);
    await vault.setSecret("prod/CANARY", utf8(canary), { description: "canary" });
    await vault.getSecret("prod/CANARY");
    await vault.setSecret("prod/CANARY", utf8(canary + "-2"));
    await vault.rollback("prod/CANARY", 1);
    await vault.importEnv([{ key: "CANARY_ENV", value: canary }], { namespace: "prod" });
    await vault.exportEnv("prod");
    await vault.exportAll();
    await vault.listSecrets();
    await vault.history("prod/CANARY");
    await vault.deleteSecret("prod/CANARY");
    await vault.restoreSecret("prod/CANARY");
    // A failed read too (its audit entry must not carry the value either).
    sql(file, (db) => db.prepare("UPDATE secret_versions SET actor = 'x' WHERE path = 'prod/CANARY' AND version = 1").run());
    expect(await outcome(vault.getSecret("prod/CANARY", { version: 1 }))).toBe("INTEGRITY");
    await vault.close();
    opened.splice(0);

    const v = utf8(canary);
    const forms = [
      canary,
      v.toString("base64"),
      v.toString("base64url"),
      v.toString("hex"),
      v.toString("hex").toUpperCase(),
      encodeURIComponent(canary),
      JSON.stringify(canary),
    ];
    // Base64 of the value at each alignment (as it would appear inside a longer encoded text).
    for (const pad of [1, 2])
      forms.push(
        Buffer.concat([Buffer.alloc(pad), v])
          .toString("base64")
          .slice(4),
      );
    const db = new Database(file, { readonly: true });
    try {
      const rows = db.prepare("SELECT * FROM audit").all() as Record<string, unknown>[];
      expect(rows.length).toBeGreaterThan(10);
      const text = rows
        .map((r) =>
          Object.values(r)
            .map((x) => (x instanceof Uint8Array ? Buffer.from(x).toString("latin1") : String(x)))
            .join("\u0000"),
        )
        .join("\n");
      for (const f of forms) expect(text.includes(f), `audit holds the canary as ${f}`).toBe(false);
      expect(db.prepare("SELECT count(*) FROM audit WHERE resource = 'prod/CANARY'").pluck().get()).toBeGreaterThan(5);
    } finally {
      db.close();
    }
    const whole = readFileSync(file).toString("latin1");
    for (const f of forms) expect(whole.includes(f), `the vault file holds the canary as ${f}`).toBe(false);
  });
});
