import { AsyncLocalStorage } from "node:async_hooks";
import pg from "pg";
import { AuthyError } from "../../errors.js";
import type { Store, StoreWriter } from "../store.js";
import { translatePostgresError } from "./postgres-errors.js";
import { PostgresReader } from "./postgres-reader.js";
import { LOCK_APP, LOCK_WRITE, migrate } from "./postgres-schema.js";
import { PostgresTransaction } from "./postgres-transaction.js";

/** How long a write waits for another process's write before saying "busy" (as SQLite's BUSY_TIMEOUT_MS). */
const WRITE_LOCK_TIMEOUT_MS = 10_000;
/** Connections per store: reads run in parallel on them; writes take one at a time. */
const POOL_SIZE = 8;
/** How long opening a connection may take before the database counts as unavailable. */
const CONNECT_TIMEOUT_MS = 10_000;
/** The most write() calls committed together (see PostgresStore.drain), as SQLite's MAX_GROUP_COMMIT. */
const MAX_GROUP_COMMIT = 64;

/** BIGINT (OID 20) as a JavaScript number: the Store contract keeps integers exact up to MAX_SAFE_INTEGER. */
const INT8_OID = 20;
/* eslint-disable @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-enum-assignment -- pg's own parser lookup, typed loosely by @types/pg */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};
/* eslint-enable @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-enum-assignment */

interface PostgresStoreOptions {
  /** Connections in the pool; POOL_SIZE by default. */
  poolSize?: number;
  /** How long a write waits for another process's write; WRITE_LOCK_TIMEOUT_MS by default. */
  writeLockTimeoutMs?: number;
}

/** Ignores a connection's 'error' event: the failure reaches the query in progress or the next one. */
const ignoreConnectionError = (): void => undefined;

/**
 * A connection checked out of the pool and lost (the server restarted) emits 'error'; with no
 * listener that would end the process. The pool listens only on idle connections, so a
 * checked-out one gets this listener, once per connection.
 */
export function keepAlive(client: pg.PoolClient): void {
  if (!client.listeners("error").includes(ignoreConnectionError)) client.on("error", ignoreConnectionError);
}

interface PendingWrite {
  fn: (tx: PostgresTransaction) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Opens the vault store in the PostgreSQL database at `url` (postgres://user:pass@host/db,
 * with the usual libpq parameters such as sslmode), running its numbered migrations first
 * under an advisory lock. What a server calls with its --database URL.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? POOL_SIZE, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, types });
  // An idle connection that dies (the server restarted) must not crash the process: the next
  // query gets a fresh connection, or a clean UNAVAILABLE.
  pool.on("error", () => undefined);
  try {
    const client = await pool.connect();
    keepAlive(client);
    try {
      await migrate(client, `pid ${process.pid}`);
    } finally {
      client.release();
    }
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw translatePostgresError(e, "opening the vault");
  }
  return new PostgresStore(pool, options.writeLockTimeoutMs ?? WRITE_LOCK_TIMEOUT_MS);
}

/**
 * The shared store: one PostgreSQL database, any number of processes. Reads go through the
 * pool and see committed data only. Writes are queued in this process and committed in
 * groups (one transaction, one savepoint per write() call, one COMMIT), and every write
 * transaction first takes a transaction-scoped advisory lock, so that writers in all
 * processes are serialized as SQLite's BEGIN IMMEDIATE serializes them: the core's
 * read-modify-write steps (the audit chain's head, a token's uses) see the last commit and
 * nothing slips between the read and the write.
 */
export class PostgresStore extends PostgresReader implements Store {
  readonly kind = "postgres";
  private readonly pending: PendingWrite[] = [];
  private draining: Promise<void> | null = null;
  private readonly current = new AsyncLocalStorage<PostgresTransaction>();
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly writeLockTimeoutMs: number,
  ) {
    super(pool);
  }

  protected override check(): void {
    if (this.closed) throw new AuthyError("INTERNAL", "the store was used after close()");
  }

  /** One statement: the counter row gives the id and is locked until the insert commits, so ids are never reused. */
  async recordUnlockFailure(ts: number, method: string): Promise<void> {
    await this.rows(
      "recording a failed unlock",
      "WITH n AS (UPDATE counters SET unlock_failures = unlock_failures + 1 WHERE id = 1 RETURNING unlock_failures) " +
        "INSERT INTO unlock_failures (id, ts, method) SELECT unlock_failures, $1, $2 FROM n",
      [ts, method],
    );
  }

  write<T>(fn: (tx: StoreWriter) => Promise<T>): Promise<T> {
    if (this.current.getStore()?.active) {
      return Promise.reject(new AuthyError("INTERNAL", "write() was called inside another write(); use the transaction it was given"));
    }
    if (this.closed) return Promise.reject(new AuthyError("INTERNAL", "the store was used after close()"));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn: fn, resolve: resolve as (value: unknown) => void, reject });
      this.draining ??= this.drain();
    });
  }

  /** Group commit, as SqliteStore.drain: no call resolves before the COMMIT that holds it. */
  private async drain(): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.pending.length === 0) {
        this.draining = null;
        return;
      }
      const group = this.pending.splice(0, MAX_GROUP_COMMIT);
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
        keepAlive(client);
      } catch (e) {
        for (const w of group) w.reject(translatePostgresError(e, "starting a write"));
        continue;
      }
      let broken: unknown = undefined;
      try {
        await client.query("BEGIN");
        await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(this.writeLockTimeoutMs))}`);
        await client.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_APP, LOCK_WRITE]);
      } catch (e) {
        broken = e;
        await client.query("ROLLBACK").catch(() => undefined);
        client.release(true);
        for (const w of group) w.reject(translatePostgresError(e, "starting a write"));
        continue;
      }
      const settled: { w: PendingWrite; ok: boolean; value: unknown }[] = [];
      for (const w of group) {
        const r = await this.savepoint(client, w.fn);
        settled.push({ w, ...r });
        if (r.lost) {
          broken = r.value;
          this.pending.unshift(...group.slice(settled.length));
          break;
        }
      }
      let lost: unknown = broken;
      if (lost === undefined) {
        try {
          await client.query("COMMIT");
        } catch (e) {
          lost = translatePostgresError(e, "committing a write");
        }
      } else {
        await client.query("ROLLBACK").catch(() => undefined);
      }
      client.release(lost !== undefined);
      for (const { w, ok, value } of settled) {
        if (!ok) w.reject(value);
        else if (lost !== undefined) w.reject(lost);
        else w.resolve(value);
      }
    }
  }

  /**
   * Runs one write() call inside the open transaction, undone on its own if it fails. `lost`
   * when even that undo failed (the connection is gone): the whole transaction is.
   */
  private async savepoint(client: pg.PoolClient, fn: (tx: PostgresTransaction) => Promise<unknown>): Promise<{ ok: boolean; value: unknown; lost: boolean }> {
    const tx = new PostgresTransaction(client);
    try {
      await client.query("SAVEPOINT authy_write");
    } catch (e) {
      tx.end();
      const err = translatePostgresError(e, "starting a write");
      return { ok: false, value: err, lost: true };
    }
    try {
      const value = await this.current.run(tx, () => fn(tx));
      tx.checkUsable();
      await client.query("RELEASE SAVEPOINT authy_write");
      return { ok: true, value, lost: false };
    } catch (e) {
      try {
        await client.query("ROLLBACK TO SAVEPOINT authy_write");
        await client.query("RELEASE SAVEPOINT authy_write");
        return { ok: false, value: e, lost: false };
      } catch {
        return { ok: false, value: e, lost: true };
      }
    } finally {
      tx.end();
    }
  }

  async close(): Promise<void> {
    while (this.draining) await this.draining;
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
