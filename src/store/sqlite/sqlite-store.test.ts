import Database from "better-sqlite3";
import { mkdtemp, rm } from "node:fs/promises";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuthyError } from "../../errors.js";
import { describeStoreConformance } from "../conformance/store-conformance.js";
import { auditRow, gate, noise, secretRow, vaultRow, versionRow } from "../conformance/store-fixtures.js";
import type { Store, StoreWriter } from "../store.js";
import { MIGRATIONS } from "./migrations.js";
import type { Connection } from "./sqlite-reader.js";
import { SqliteStore } from "./sqlite-store.js";

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), "authy-sqlite-"));
}

describeStoreConformance("sqlite", async () => {
  const dir = await tempDir();
  const store = SqliteStore.open(path.join(dir, "vault.db"), { create: true });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

/** The store's two connections, reached past `private` for pragmas that only they can show. */
function connections(store: SqliteStore): { writer: Database.Database; reader: Database.Database } {
  const s = store as unknown as { writer: Connection; conn: Connection };
  return { writer: s.writer.db, reader: s.conn.db };
}

/** The AuthyError code a call fails with, or "resolved"; anything else fails the test. */
async function failure(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return "resolved";
  } catch (e) {
    if (!(e instanceof AuthyError)) throw e;
    return e.code;
  }
}

const COUNTER = "test/COUNTER";
async function increment(tx: StoreWriter): Promise<void> {
  const row = await tx.getSecret(COUNTER);
  await new Promise((r) => setImmediate(r));
  const head = await tx.auditHead();
  await tx.putSecret(secretRow(COUNTER, { currentVersion: (row?.currentVersion ?? 0) + 1 }));
  await tx.appendAudit(auditRow((head?.seq ?? 0) + 1));
}

describe("SqliteStore", () => {
  let dir: string;
  let file: string;
  const open: Store[] = [];
  const openStore = (options: Parameters<typeof SqliteStore.open>[1] = {}) => {
    const s = SqliteStore.open(file, options);
    open.push(s);
    return s;
  };
  beforeEach(async () => {
    dir = await tempDir();
    file = path.join(dir, "vault.db");
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A closed vault with enough rows to span many pages. */
  async function populatedVault(): Promise<Buffer> {
    const store = openStore({ create: true });
    await store.write(async (tx) => {
      for (let i = 0; i < 200; i++) {
        await tx.putSecret(secretRow(`ns/K${i}`));
        await tx.putVersion(versionRow(`ns/K${i}`, 1, { sealed: noise(700, i + 1) }));
        await tx.appendAudit(auditRow(i + 1));
      }
    });
    await store.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
    return readFileSync(file);
  }

  describe("opening", () => {
    it("sets WAL and synchronous=FULL, and reads through a query-only connection", async () => {
      const store = openStore({ create: true });
      const { writer, reader } = connections(store);
      expect(writer).not.toBe(reader);
      expect(writer.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(writer.pragma("synchronous", { simple: true })).toBe(2);
      expect(reader.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(reader.pragma("query_only", { simple: true })).toBe(1);
      const raw = new Database(file, { readonly: true });
      expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(raw.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
      raw.close();
    });

    it("creates the vault and the -wal and -shm files beside it 0600, under a umask of 022", async () => {
      const before = process.umask(0o022);
      try {
        const store = openStore({ create: true });
        await store.write((tx) => tx.putSecret(secretRow("a/K")));
        for (const f of [file, `${file}-wal`, `${file}-shm`]) expect((statSync(f).mode & 0o777).toString(8), f).toBe("600");
      } finally {
        process.umask(before);
      }
    });

    it("says NOT_INITIALIZED for a missing file without create, and creates nothing", async () => {
      expect(await failure(() => openStore())).toBe("NOT_INITIALIZED");
      expect(await failure(() => openStore({ readonly: true }))).toBe("NOT_INITIALIZED");
      expect(existsSync(file)).toBe(false);
    });

    it("keeps what was written across close and reopen", async () => {
      const first = openStore({ create: true });
      await first.write((tx) => tx.putSecret(secretRow("a/K")));
      await first.close();
      const again = openStore();
      expect((await again.getSecret("a/K"))?.path).toBe("a/K");
      expect(await failure(() => openStore({ create: true }).listSecrets())).toBe("resolved");
    });

    it("refuses another application's SQLite database, even with create, and leaves it untouched", async () => {
      const other = new Database(file);
      other.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('alice');");
      other.close();
      const before = readFileSync(file);
      expect(await failure(() => openStore())).toBe("INTEGRITY");
      expect(await failure(() => openStore({ create: true }))).toBe("INTEGRITY");
      expect(await failure(() => openStore({ readonly: true }))).toBe("INTEGRITY");
      expect(readFileSync(file).equals(before)).toBe(true);
    });

    it("refuses an empty SQLite database marked by another application", async () => {
      const other = new Database(file);
      other.pragma("application_id = 305419896");
      other.close();
      const before = readFileSync(file);
      expect(await failure(() => openStore({ create: true }))).toBe("INTEGRITY");
      expect(readFileSync(file).equals(before)).toBe(true);
    });

    it.each([
      ["random bytes", () => Buffer.from(noise(8192, 77))],
      ["a SQLite header followed by garbage", () => Buffer.concat([Buffer.from("SQLite format 3\u0000"), Buffer.from(noise(8176, 78))])],
      ["a one-byte file", () => Buffer.from([0x53])],
    ])("refuses %s with INTEGRITY and never modifies it", async (_name, content) => {
      const before = content();
      writeFileSync(file, before);
      for (const options of [{}, { create: true }, { readonly: true }]) {
        expect(await failure(() => openStore(options).listSecrets())).toBe("INTEGRITY");
        expect(readFileSync(file).equals(before)).toBe(true);
      }
    });

    it("refuses a truncated vault with INTEGRITY at every cut, and never modifies it", async () => {
      const whole = await populatedVault();
      const pageSize = 4096;
      expect(whole.length).toBeGreaterThan(20 * pageSize);
      const cuts = [0, 50, 99, 100, 512, pageSize, pageSize + 1, 2 * pageSize, Math.floor(whole.length / 2), whole.length - pageSize, whole.length - 1];
      for (const cut of cuts) {
        const cutFile = path.join(dir, `cut-${cut}.db`);
        const truncated = whole.subarray(0, cut);
        writeFileSync(cutFile, truncated);
        const code = await failure(async () => {
          const s = SqliteStore.open(cutFile);
          open.push(s);
          await s.listSecrets();
          await s.listAudit({});
          await s.listVersions("ns/K199");
        });
        expect({ cut, code }).toEqual({ cut, code: "INTEGRITY" });
        expect(readFileSync(cutFile).equals(truncated)).toBe(true);
      }
    });

    it("says UNAVAILABLE for a schema newer than this authy knows, and leaves the file alone", async () => {
      await openStore({ create: true }).close();
      const raw = new Database(file);
      raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
      raw.close();
      const before = readFileSync(file);
      expect(await failure(() => openStore())).toBe("UNAVAILABLE");
      expect(await failure(() => openStore({ readonly: true }))).toBe("UNAVAILABLE");
      expect(readFileSync(file).equals(before)).toBe(true);
    });

    it("migrates a schema-1 vault, keeping its unlock failures and never reusing their ids", async () => {
      const raw = new Database(file);
      raw.pragma("journal_mode = WAL");
      raw.exec(MIGRATIONS[0]!);
      raw.pragma("application_id = 1096111193");
      raw.pragma("user_version = 1");
      raw.exec("INSERT INTO unlock_failures (ts, method) VALUES (1, 'passphrase'), (2, 'identity')");
      raw.close();
      const store = openStore();
      const failures = await store.listUnlockFailures();
      expect(failures.map((f) => [f.ts, f.method])).toEqual([
        [1, "passphrase"],
        [2, "identity"],
      ]);
      await store.write((tx) => tx.clearUnlockFailures([failures[1]!.id]));
      await store.recordUnlockFailure(3, "passphrase");
      const after = await store.listUnlockFailures();
      expect(after.map((f) => f.ts)).toEqual([1, 3]);
      expect(after[1]!.id).toBeGreaterThan(failures[1]!.id);
    });

    it("works in memory, on one connection, for tests that need no file", async () => {
      const mem = SqliteStore.open(":memory:", { create: true });
      open.push(mem);
      await mem.write((tx) => tx.putSecret(secretRow("a/K")));
      expect((await mem.listSecrets()).map((r) => r.path)).toEqual(["a/K"]);
      expect(mem.integrityCheck()).toEqual(["ok"]);
    });

    it("opens read-only: reads work, writes are refused, the file is not touched", async () => {
      const store = openStore({ create: true });
      await store.write((tx) => tx.putSecret(secretRow("a/K")));
      await store.close();
      const before = readFileSync(file);
      const ro = openStore({ readonly: true });
      expect((await ro.getSecret("a/K"))?.path).toBe("a/K");
      expect(await failure(() => ro.write((tx) => tx.putSecret(secretRow("b/K"))))).toBe("UNAVAILABLE");
      expect(await failure(() => ro.recordUnlockFailure(1, "passphrase"))).toBe("UNAVAILABLE");
      await ro.close();
      expect(readFileSync(file).equals(before)).toBe(true);
    });
  });

  describe("two connections on one file, as two processes would have", () => {
    it("loses no update when their writes interleave, and never shows SQLITE_BUSY", async () => {
      const a = openStore({ create: true });
      const b = openStore();
      const outcomes = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).write(increment)));
      const rejected = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as unknown] : []));
      for (const e of rejected) expect(e instanceof AuthyError && e.code).toBe("UNAVAILABLE");
      expect(rejected).toEqual([]);
      expect((await a.getSecret(COUNTER))?.currentVersion).toBe(50);
      expect((await b.listAudit({})).map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    it("waits for the other connection's write without blocking the event loop", async () => {
      const a = openStore({ create: true });
      const b = openStore();
      const inside = gate();
      const release = gate();
      const holding = a.write(async (tx) => {
        await tx.putSecret(secretRow("a/K"));
        inside.open();
        await release.promise;
      });
      await inside.promise;
      const waiting = b.write(async (tx) => (await tx.getSecret("a/K"))?.path ?? "not seen");
      const started = Date.now();
      await new Promise((r) => setTimeout(r, 100));
      expect(Date.now() - started).toBeLessThan(2_000);
      release.open();
      await holding;
      await expect(waiting).resolves.toBe("a/K");
    });

    it("gives up with UNAVAILABLE, not SQLITE_BUSY, when the lock is held past the busy timeout", async () => {
      const a = openStore({ create: true });
      const b = openStore({ busyTimeoutMs: 200 });
      const inside = gate();
      const release = gate();
      const holding = a.write(async () => {
        inside.open();
        await release.promise;
      });
      await inside.promise;
      const code = await failure(() => b.write((tx) => tx.putSecret(secretRow("b/K"))));
      release.open();
      await holding;
      expect(code).toBe("UNAVAILABLE");
      expect(await b.getSecret("b/K")).toBeNull();
      await b.write((tx) => tx.putSecret(secretRow("b/K")));
      expect((await a.getSecret("b/K"))?.path).toBe("b/K");
    });
  });

  describe("disk full", () => {
    it("fails with UNAVAILABLE, writes nothing, and works again once there is room", async () => {
      const store = openStore({ create: true });
      await store.write(async (tx) => {
        await tx.putSecret(secretRow("a/K"));
        await tx.appendAudit(auditRow(1));
      });
      const { writer } = connections(store);
      const pages = writer.pragma("page_count", { simple: true }) as number;
      writer.pragma(`max_page_count = ${pages}`);
      const bigWrite = (tx: StoreWriter) =>
        (async () => {
          await tx.putSecret(secretRow("big/K"));
          await tx.putVersion(versionRow("big/K", 1, { sealed: noise(1024 * 1024, 5) }));
          await tx.appendAudit(auditRow(2));
        })();
      const err = await store.write(bigWrite).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthyError);
      expect((err as AuthyError).code).toBe("UNAVAILABLE");
      expect((err as AuthyError).message).toMatch(/disk is full/);
      expect(await store.getSecret("big/K")).toBeNull();
      expect(await store.listVersions("big/K")).toEqual([]);
      expect((await store.auditHead())?.seq).toBe(1);

      writer.pragma("max_page_count = 1073741823");
      await store.write(bigWrite);
      expect((await store.getVersion("big/K", 1))?.sealed.length).toBe(1024 * 1024);
      expect((await store.auditHead())?.seq).toBe(2);
      expect(store.integrityCheck()).toEqual(["ok"]);
    });

    it("commits nothing when the callback catches the disk-full error and carries on", async () => {
      const store = openStore({ create: true });
      const { writer } = connections(store);
      writer.pragma(`max_page_count = ${writer.pragma("page_count", { simple: true }) as number}`);
      const code = await failure(() =>
        store.write(async (tx) => {
          await tx.putVersion(versionRow("big/K", 1, { sealed: noise(1024 * 1024, 5) })).catch(() => undefined);
          await tx.appendAudit(auditRow(1)).catch(() => undefined);
        }),
      );
      expect(code).toBe("UNAVAILABLE");
      expect(await store.auditHead()).toBeNull();
      expect(await store.listVersions("big/K")).toEqual([]);
    });
  });

  describe("group commit", () => {
    /** Counts the COMMITs the write connection runs: one per transaction, so one fsync each. */
    function countCommits(store: SqliteStore): { commits: number } {
      const w = (store as unknown as { writer: Connection }).writer;
      const stmt = w.stmt.bind(w);
      const counter = { commits: 0 };
      w.stmt = (sql: string) => {
        if (sql === "COMMIT") counter.commits++;
        return stmt(sql);
      };
      return counter;
    }

    it("commits writes that queue up together, each all or nothing, and resolves none before its COMMIT", async () => {
      const store = openStore({ create: true });
      const other = openStore();
      const counter = countCommits(store);
      const seenByOtherConnection: boolean[] = [];
      const writes = Array.from({ length: 40 }, (_, i) =>
        store
          .write(async (tx) => {
            await tx.putSecret(secretRow(`g/K${i}`));
            await new Promise((r) => setImmediate(r));
            if (i % 10 === 7) throw new AuthyError("INVALID_INPUT", `refused ${i}`);
            return i;
          })
          .then(async (v) => {
            // Resolved means committed: another connection (another process) sees it already.
            seenByOtherConnection.push((await other.getSecret(`g/K${i}`)) !== null);
            return v;
          }),
      );
      const results = await Promise.allSettled(writes);
      expect(results.filter((r) => r.status === "rejected").map((r) => r.reason.message)).toEqual(["refused 7", "refused 17", "refused 27", "refused 37"]);
      expect(seenByOtherConnection).toHaveLength(36);
      expect(seenByOtherConnection.every(Boolean)).toBe(true);
      for (let i = 0; i < 40; i++) expect((await store.getSecret(`g/K${i}`)) !== null).toBe(i % 10 !== 7);
      // Asked for in one turn of the event loop: one transaction, one fsync.
      expect(counter.commits).toBe(1);
    });

    it("keeps the audit chain whole when many appends share a transaction", async () => {
      const store = openStore({ create: true });
      await Promise.all(Array.from({ length: 100 }, () => store.write(increment)));
      expect((await store.auditHead())?.seq).toBe(100);
      expect((await store.getSecret(COUNTER))?.currentVersion).toBe(100);
    });

    it("fails every write of a group whose transaction is lost, and runs the ones not yet started in the next", async () => {
      const store = openStore({ create: true });
      await store.write((tx) => tx.putSecret(secretRow("first/K")));
      const { writer } = connections(store);
      const pages = writer.pragma("page_count", { simple: true }) as number;
      // Asked for in one turn of the event loop, these three form one group.
      const small = store.write((tx) => tx.putSecret(secretRow("small/K")));
      const big = store.write(async (tx) => {
        writer.pragma(`max_page_count = ${pages}`);
        try {
          await tx.putVersion(versionRow("big/K", 1, { sealed: noise(1024 * 1024, 5) }));
        } finally {
          writer.pragma("max_page_count = 1073741823");
        }
      });
      const after = store.write((tx) => tx.putSecret(secretRow("after/K")));
      expect(await failure(() => big)).toBe("UNAVAILABLE");
      // SQLite undid the whole transaction on SQLITE_FULL: the write before it in the group was
      // lost too, and says so; it is never reported as written.
      expect(await failure(() => small)).toBe("UNAVAILABLE");
      expect(await store.getSecret("small/K")).toBeNull();
      expect(await failure(() => after)).toBe("resolved");
      expect(await store.getSecret("after/K")).not.toBeNull();
      expect(store.integrityCheck()).toEqual(["ok"]);
    });
  });

  describe("change token", () => {
    it("stays across writes that leave the vault state as it is, and changes with any that change it, by this store, another connection or bytes written behind SQLite's back", async () => {
      const store = openStore({ create: true });
      const stateMac = (n: number) => new Uint8Array(32).fill(n);
      await store.write((tx) => tx.putVault(vaultRow({ stateMac: stateMac(1) })));
      const first = await store.changeToken();
      expect(first).not.toBeNull();
      // A read, and a write outside the state (an audited read's audit entry), keep it.
      expect(await store.getSecret("a/K")).toBeNull();
      await store.write((tx) => tx.putSecret(secretRow("a/K")));
      expect(await store.changeToken()).toBe(first);

      await store.write((tx) => tx.setState(stateMac(2), 0));
      const own = await store.changeToken();
      expect(own).not.toBe(first);

      const other = new Database(file);
      other.prepare("UPDATE vault SET state_mac = ? WHERE id = 1").run(stateMac(3));
      other.close();
      const foreign = await store.changeToken();
      expect(foreign).not.toBe(own);

      // The file's own bytes, edited in place with no SQLite: the state MAC's bytes in the
      // WAL (or the main file) changed to others.
      const wal = `${file}-wal`;
      const target = existsSync(wal) && statSync(wal).size > 0 ? wal : file;
      const bytes = readFileSync(target);
      const at = bytes.lastIndexOf(Buffer.from(stateMac(3)));
      expect(at).toBeGreaterThan(0);
      bytes.set(stateMac(4), at);
      writeFileSync(target, bytes);
      // SQLite reads a frame again once the WAL changes; another connection's commit does that.
      const nudge = new Database(file);
      nudge.prepare("CREATE TABLE IF NOT EXISTS nudge (x)").run();
      nudge.close();
      expect(await store.changeToken()).not.toBe(foreign);
    });

    it("is null from stateRowsAt too for a store of one connection", async () => {
      const memory = SqliteStore.open(":memory:", { create: true });
      open.push(memory);
      expect((await memory.stateRowsAt([{ table: "agents" }])).token).toBeNull();
    });

    it("is null for a store of one connection, whose own commits it would not see", async () => {
      const memory = SqliteStore.open(":memory:", { create: true });
      open.push(memory);
      expect(await memory.changeToken()).toBeNull();
    });
  });

  it("takes a backup of committed data only, which opens as a vault", async () => {
    const store = openStore({ create: true });
    await store.write((tx) => tx.putSecret(secretRow("a/K")));
    const inside = gate();
    const release = gate();
    const pending = store.write(async (tx) => {
      await tx.putSecret(secretRow("uncommitted/K"));
      inside.open();
      await release.promise;
    });
    await inside.promise;
    const copy = path.join(dir, "backup.db");
    try {
      await store.backupTo(copy);
    } finally {
      release.open();
      await pending;
    }
    expect(statSync(copy).size).toBeGreaterThan(0);
    const restored = SqliteStore.open(copy, { readonly: true });
    open.push(restored);
    expect((await restored.listSecrets()).map((r) => r.path)).toEqual(["a/K"]);
  });
});
