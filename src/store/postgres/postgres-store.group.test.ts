/**
 * What the PostgreSQL store does beyond the conformance suite to serve many concurrent requests
 * (issue 14, item 8): audit-only writes inserted for their group in one statement, the vault
 * row's xmin as the change token, and a warm vault that still refuses a row put back by hand.
 */
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/setup/postgres-database.js";
import { isAuthyError } from "../../errors.js";
import { systemClock } from "../../vault/clock.js";
import { Vault } from "../../vault/vault.js";
import { auditRow, secretRow } from "../conformance/store-fixtures.js";
import type { StateBucket, StoreWriter } from "../store.js";
import { pathBucket, shardBucket } from "../../vault/state-digest.js";
import { openPostgresStore, type PostgresStore } from "./postgres-store.js";

let db: TestDatabase;
let store: PostgresStore | undefined;

beforeAll(async () => {
  db = await createTestDatabase("group");
});
afterAll(async () => {
  await db.drop();
});
afterEach(async () => {
  await store?.close();
  store = undefined;
  await db.reset();
});

async function sql(text: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query(text, values)).rows as Record<string, unknown>[];
  } finally {
    await c.end();
  }
}

/** Appends the next entry after the head this write sees. */
async function appendNext(tx: StoreWriter, actor: string): Promise<number> {
  const seq = ((await tx.auditHead())?.seq ?? 0) + 1;
  await tx.appendAudit(auditRow(seq, { actor }));
  return seq;
}

describe("audit entries of one group", () => {
  it("commits the entries of audit-only writes together, each failed write leaving none and no gap", async () => {
    store = await openPostgresStore(db.url);
    const s = store;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        s.write(async (tx) => {
          const seq = await appendNext(tx, `w${i}`);
          if (i % 3 === 0) throw new Error(`failure ${i}`);
          return seq;
        }),
      ),
    );
    expect(outcomes.filter((o) => o.status === "rejected")).toHaveLength(4);
    const seqs = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const rows = await s.listAudit({});
    expect(rows.map((r) => [r.seq, r.actor])).toEqual([1, 2, 4, 5, 7, 8, 10, 11].map((w, k) => [k + 1, `w${w}`]));
  });

  it("keeps one chain when audit-only writes and writes with statements of their own share a group", async () => {
    store = await openPostgresStore(db.url);
    const s = store;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        s.write(async (tx) => {
          const seq = await appendNext(tx, `w${i}`);
          if (i % 2 === 1) {
            await tx.putSecret(secretRow(`g/K${i}`));
            await appendNext(tx, `w${i}b`);
          }
          if (i % 4 === 3) throw new Error(`failure ${i}`);
          expect((await tx.auditHead())!.seq).toBe(i % 2 === 1 ? seq + 1 : seq);
          return seq;
        }),
      ),
    );
    expect(outcomes.filter((o) => o.status === "rejected")).toHaveLength(3);
    const rows = await s.listAudit({});
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, k) => k + 1));
    expect(rows.map((r) => r.actor)).toEqual(["w0", "w1", "w1b", "w2", "w4", "w5", "w5b", "w6", "w8", "w9", "w9b", "w10"]);
    expect((await s.listSecrets()).map((r) => r.path)).toEqual(["g/K1", "g/K5", "g/K9"]);
  });

  it("undoes all of a failed write whose first statements were asked for at once", async () => {
    store = await openPostgresStore(db.url);
    const s = store;
    const outcomes = await Promise.allSettled([
      s.write((tx) => appendNext(tx, "before")),
      s.write(async (tx) => {
        await appendNext(tx, "failed");
        await Promise.all([tx.putSecret(secretRow("c/A")), tx.putSecret(secretRow("c/B")), tx.getSecret("c/A")]);
        throw new Error("failure");
      }),
      s.write((tx) => appendNext(tx, "after")),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(await s.listSecrets()).toEqual([]);
    expect((await s.listAudit({})).map((r) => [r.seq, r.actor])).toEqual([
      [1, "before"],
      [2, "after"],
    ]);
  });

  it("refuses every write of a group whose entries cannot be inserted, and commits none of them", async () => {
    store = await openPostgresStore(db.url);
    const s = store;
    await s.write((tx) => tx.appendAudit(auditRow(1)));
    const outcomes = await Promise.allSettled([
      s.write((tx) => tx.appendAudit(auditRow(2, { actor: "fine" }))),
      s.write((tx) => tx.appendAudit(auditRow(1, { actor: "duplicate" }))),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect((await s.listAudit({})).map((r) => r.actor)).toEqual(["user:alice"]);
    await expect(s.write((tx) => appendNext(tx, "after"))).resolves.toBe(2);
  });
});

describe("the change token", () => {
  it("stays across audit appends and changes with any write of the vault row, by authy or by hand", async () => {
    store = await openPostgresStore(db.url);
    const vault = await Vault.init({ store, clock: systemClock }, { passphrase: "pw", workFactor: 15 });
    const first = await store.changeToken();
    await vault.recordEvent("test.event", "x", {});
    expect(await store.changeToken()).toBe(first);
    await vault.setSecret("a/K", Buffer.from("v"));
    const second = await store.changeToken();
    expect(second).not.toBe(first);
    // The same bytes written again by hand are a new row version all the same.
    await sql("UPDATE vault SET state_mac = state_mac");
    expect(await store.changeToken()).not.toBe(second);
  });
});

describe("stateRowsAt", () => {
  it("gives each bucket's rows as stateRows does, with the change token", async () => {
    store = await openPostgresStore(db.url);
    const vault = await Vault.init({ store, clock: systemClock }, { passphrase: "pw", workFactor: 15 });
    for (const p of ["a/K", "a/L", "a/KK", "b/K"]) await vault.setSecret(p, Buffer.from("v"));
    // 33 tokens in 32 shards: one shard holds two at least.
    for (let i = 0; i < 33; i++) await vault.createToken({ scope: await vault.resolveScope("secrets:read:a/*"), instance: "server" });
    await vault.createAgent("ci", { scope: "secrets:read:a/*" });
    const buckets: StateBucket[] = [
      ...[0, 1, 2, 3].map((i) => pathBucket(["a/K", "a/L", "a/KK", "b/K"][i]!)),
      ...(await store.listTokens()).map((t) => shardBucket("tokens", t.id)),
      shardBucket("tokens", "zzz"),
      { table: "agents" },
      { table: "members" },
      { table: "slots" },
      { table: "policy" },
      { table: "settings" },
      shardBucket("approvals", "a"),
    ];
    const at = await store.stateRowsAt(buckets);
    expect(at.token).toBe(await store.changeToken());
    for (const [i, b] of buckets.entries()) expect(at.rows[i]).toEqual(await store.stateRows(b));
    expect(at.rows.some((r) => r.length > 1)).toBe(true);
  });
});

describe("a read with its bucket's state (getTokenAt, readCurrentAt)", () => {
  it("gives the row the plain read gives and the state stateRowsAt gives, or no row", async () => {
    store = await openPostgresStore(db.url);
    const vault = await Vault.init({ store, clock: systemClock }, { passphrase: "pw", workFactor: 15 });
    await vault.setSecret("a/K", Buffer.from("v"));
    await vault.setSecret("a/L", Buffer.from("w"));
    const { token } = await vault.createToken({ scope: await vault.resolveScope("secrets:read:a/*"), instance: "server" });
    for (const [path, found] of [
      ["a/K", 1],
      ["a/NONE", 0],
    ] as const) {
      const bucket = pathBucket(path);
      const got = await store.readCurrentAt(path, bucket);
      expect(got.value).toHaveLength(found);
      expect(got.value).toEqual(await store.readCurrent([path]));
      expect(got.at).toEqual(await store.stateRowsAt([bucket]));
    }
    for (const id of [token.id, "tok_none"]) {
      const bucket = shardBucket("tokens", id);
      const got = await store.getTokenAt(id, bucket);
      expect(got.value).toEqual(await store.getToken(id));
      expect(got.at).toEqual(await store.stateRowsAt([bucket]));
    }
    expect((await store.getTokenAt(token.id, shardBucket("tokens", token.id))).value?.id).toBe(token.id);
  });
});

describe("a warm vault on PostgreSQL", () => {
  const outcome = async (p: Promise<unknown>): Promise<string> => {
    try {
      const r = (await p) as { ok?: boolean; reason?: string } | undefined;
      return r?.ok === false ? `not ok: ${r.reason}` : "ok";
    } catch (e) {
      if (isAuthyError(e)) return e.code;
      throw e;
    }
  };

  it("refuses a spent single-use token put back by hand, after audited reads kept its state verified", async () => {
    store = await openPostgresStore(db.url);
    const owner = await Vault.init({ store, clock: systemClock }, { passphrase: "pw", workFactor: 15 });
    await owner.setSecret("prod/DB", Buffer.from("db-value"));
    const { token, secret } = await owner.createToken({ scope: await owner.resolveScope("secrets:read:prod/*"), uses: 1, instance: "server" });
    const saved = await sql("SELECT * FROM tokens WHERE id = $1", [token.id]);
    expect((await owner.useToken(secret, "server")).ok).toBe(true);
    for (let i = 0; i < 3; i++) expect(Buffer.from((await owner.getSecret("prod/DB")).value).toString()).toBe("db-value");
    const cols = Object.keys(saved[0]!);
    await sql(`DELETE FROM tokens WHERE id = $1`, [token.id]);
    await sql(
      `INSERT INTO tokens (${cols.join(", ")}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(", ")})`,
      cols.map((c) => saved[0]![c]),
    );
    expect(await outcome(owner.useToken(secret, "server"))).toBe("INTEGRITY");
  });

  it("refuses a secret row put back by hand from before an update, read with its state in one statement", async () => {
    store = await openPostgresStore(db.url);
    const owner = await Vault.init({ store, clock: systemClock }, { passphrase: "pw", workFactor: 15 });
    await owner.setSecret("prod/DB", Buffer.from("old-value"));
    const saved = await sql("SELECT * FROM secrets WHERE path = $1", ["prod/DB"]);
    await owner.setSecret("prod/DB", Buffer.from("new-value"));
    const merged = vi.spyOn(store, "readCurrentAt");
    for (let i = 0; i < 3; i++) expect(Buffer.from((await owner.getSecret("prod/DB")).value).toString()).toBe("new-value");
    expect(merged).toHaveBeenCalled();
    const cols = Object.keys(saved[0]!);
    await sql("DELETE FROM secrets WHERE path = $1", ["prod/DB"]);
    await sql(
      `INSERT INTO secrets (${cols.join(", ")}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(", ")})`,
      cols.map((c) => saved[0]![c]),
    );
    expect(await outcome(owner.getSecret("prod/DB"))).toBe("INTEGRITY");
  });
});
