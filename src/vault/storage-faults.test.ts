/**
 * Storage faults: an audit log that cannot be written releases no value and writes nothing; a
 * full disk fails a write cleanly, and authy works again once there is space.
 * The fixture: tamper.test-helpers.ts.
 */
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { randomBytes } from "../crypto/index.js";
import { AuthyError } from "../errors.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import type { Store, StoreWriter } from "../store/store.js";
import { A2, B1, byIdentity, C1, copyOf, openStore, outcome, unlock, useTemplates, utf8 } from "./tamper.test-helpers.js";

useTemplates();

/** The store's own write connection (SQLite limits such as max_page_count are per connection). */
function writeConnection(store: SqliteStore): Database.Database {
  const s = store as unknown as { writer?: { db: Database.Database }; db?: Database.Database };
  const db = s.writer?.db ?? s.db;
  if (!db) throw new Error("cannot find SqliteStore's write connection: update writeConnection() in this test");
  return db;
}

describe("storage faults", () => {
  /** A store whose audit appends fail, as when the disk fills between the read and the audit entry. */
  function auditFails(inner: SqliteStore): Store {
    const failingTx = (tx: StoreWriter): StoreWriter =>
      new Proxy(tx, {
        get(target, prop) {
          if (prop === "appendAudit")
            return async () => {
              throw new AuthyError("UNAVAILABLE", "the disk is full (writing the audit log); nothing was written");
            };
          const v = Reflect.get(target, prop) as unknown;
          return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    return new Proxy(inner, {
      get(target, prop) {
        if (prop === "write") return <T>(fn: (tx: StoreWriter) => Promise<T>) => target.write((tx) => fn(failingTx(tx)));
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  it("releases no value when the audit entry cannot be written, and writes nothing", async () => {
    const file = copyOf();
    const vault = await unlock(file, byIdentity(), auditFails(openStore(file)));
    expect(await outcome(vault.getSecret("prod/B"))).toBe("UNAVAILABLE");
    expect(await outcome(vault.getSecret("prod/A", { version: 1 }))).toBe("UNAVAILABLE");
    expect(await outcome(vault.exportEnv("prod"))).toBe("UNAVAILABLE");
    expect(await outcome(vault.exportAll())).toBe("UNAVAILABLE");
    expect(await outcome(vault.setSecret("prod/B", utf8("lost")))).toBe("UNAVAILABLE");
    expect(
      await outcome(
        vault.importEnv(
          [
            { key: "B", value: "lost" },
            { key: "NEW", value: "lost" },
          ],
          { namespace: "prod" },
        ),
      ),
    ).toBe("UNAVAILABLE");
    expect(await outcome(vault.deleteSecret("prod/B"))).toBe("UNAVAILABLE");
    // Nothing of the failed writes stuck.
    const healthy = await unlock(file);
    expect((await healthy.history("prod/B")).versions).toHaveLength(1);
    expect(await outcome(healthy.getSecret("prod/NEW"))).toBe("NOT_FOUND");
    expect(Buffer.from((await healthy.getSecret("prod/B")).value).toString()).toBe(B1);
    expect((await healthy.verify()).problems).toEqual([]);
  });

  it("fails a write cleanly when the database cannot grow (disk full), and works again once it can", async () => {
    const file = copyOf();
    const store = openStore(file);
    const vault = await unlock(file, byIdentity(), store);
    const auditBefore = (await store.listAudit({})).length;
    // SQLite's own cap stands in for a full disk: the next page it needs is refused with SQLITE_FULL.
    const db = writeConnection(store);
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const big = randomBytes(256 * 1024);
    const err = await vault.setSecret("prod/BIG", big).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthyError);
    expect((err as AuthyError).code).toBe("UNAVAILABLE");
    expect((err as AuthyError).message).toMatch(/disk is full/);
    expect(await outcome(vault.setSecret("prod/A", big))).toBe("UNAVAILABLE");
    // Nothing half-written: no audit entry, no version, no row, the listing still verifies.
    expect((await store.listAudit({})).length).toBe(auditBefore);
    expect(await outcome(vault.history("prod/BIG"))).toBe("NOT_FOUND");
    expect((await vault.history("prod/A")).versions).toHaveLength(2);
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    // Space is back.
    db.pragma("max_page_count = 1073741823");
    await vault.setSecret("prod/BIG", big);
    expect(Buffer.from((await vault.getSecret("prod/BIG")).value).equals(Buffer.from(big))).toBe(true);
    for (const [p, v] of [
      ["prod/A", A2],
      ["prod/B", B1],
      ["staging/C", C1],
    ] as const) {
      expect(Buffer.from((await vault.getSecret(p)).value).toString()).toBe(v);
    }
    expect((await vault.verify()).problems).toEqual([]);
  });
});
