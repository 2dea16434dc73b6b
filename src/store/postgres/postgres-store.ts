import pg from "pg";
import { AuthyError } from "../../errors.js";
import type { AuditRow, CurrentRows, StateAt, StateBucket, StateTextsAt, Store, StoreWriter, TokenRow } from "../store.js";
import { Coalescer, copyRows } from "./postgres-coalesce.js";
import { translatePostgresError } from "./postgres-errors.js";
import { prepared, statementName } from "./postgres-prepared.js";
import { PostgresReader, READ_CURRENT_SQL, toAudit, toCurrent, toToken, type Row } from "./postgres-reader.js";
import { LOCK_APP, LOCK_WRITE, migrate } from "./postgres-schema.js";
import { CHANGE_TOKEN_SQL, rowAtSql, stateAtSql, stateRowsOf, stateTextAtSql } from "./postgres-state-sql.js";
import { insertAudit, PostgresTransaction } from "./postgres-transaction.js";
import { NestingGuard } from "../nesting-guard.js";

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

/** One group's transaction, as its writes leave it. */
interface GroupState {
  /** The newest audit entry, committed or written by the group's writes so far. */
  head: AuditRow | null;
  /** Audit entries of the group's writes that ran no statement, to insert before the COMMIT. */
  deferred: AuditRow[];
  /** Set when a statement outside any savepoint failed: the transaction is lost. */
  broken: unknown;
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
  // The writes' own connection, in pipeline mode: a group's audit entries and its COMMIT go
  // in one round trip (PostgresStore.drain). One is enough: one group is committed at a time.
  const writes = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, types, pipeline: true });
  writes.on("error", () => undefined);
  return new PostgresStore(pool, writes, options.writeLockTimeoutMs ?? WRITE_LOCK_TIMEOUT_MS);
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
  private readonly current = new NestingGuard<PostgresTransaction>();
  private closed = false;
  private readonly reads = new Coalescer<pg.QueryResult>(copyRows);

  constructor(
    private readonly pool: pg.Pool,
    private readonly writes: pg.Pool,
    private readonly writeLockTimeoutMs: number,
  ) {
    super(pool);
  }

  protected override check(): void {
    if (this.closed) throw new AuthyError("INTERNAL", "the store was used after close()");
  }

  /** Reads through the pool, identical ones from concurrent callers coalesced (postgres-coalesce.ts). */
  protected override query(sql: string, values: unknown[], rowMode?: "array"): Promise<pg.QueryResult> {
    // Keyed by the statement's short name, not its text: a key is built and hashed per call.
    return this.reads.run(`${rowMode ?? ""}\u0000${statementName(sql)}\u0000${JSON.stringify(values)}`, () => super.query(sql, values, rowMode));
  }

  /** One statement: the counter row gives the id and is locked until the insert commits, so ids are never reused. */
  async recordUnlockFailure(ts: number, method: string): Promise<void> {
    this.check();
    try {
      // On the pool itself: a write, never coalesced with another's.
      await this.pool.query(
        "WITH n AS (UPDATE counters SET unlock_failures = unlock_failures + 1 WHERE id = 1 RETURNING unlock_failures) " +
          "INSERT INTO unlock_failures (id, ts, method) SELECT unlock_failures, $1, $2 FROM n",
        [ts, method],
      );
    } catch (e) {
      throw translatePostgresError(e, "recording a failed unlock");
    }
  }

  /**
   * The transaction id that last wrote the vault row (its xmin) and the state MAC: any UPDATE,
   * or a DELETE and INSERT, of the row, by authy or by hand, gives it a new xmin, and every
   * write that changes the vault state rewrites the row. The audit appends of reads do not,
   * so a server keeps the state it verified across them (what Store.changeToken asks).
   */
  async changeToken(): Promise<string | null> {
    const r = (await this.rows("reading the vault state", `SELECT ${CHANGE_TOKEN_SQL} AS token`))[0];
    return r!.token as string;
  }

  /** Each bucket's rows with the change token, in one statement (one snapshot) per bucket. */
  async stateRowsAt(buckets: readonly StateBucket[]): Promise<StateAt> {
    const read = await Promise.all(
      buckets.map(async (b) => {
        const [sql, values] = stateAtSql(b);
        const r = (await this.rows("reading the vault state", sql, values))[0]!;
        return { token: r.token as string, rows: stateRowsOf(r.keys, r.macs) };
      }),
    );
    const token = read[0]?.token ?? null;
    return { token: read.every((r) => r.token === token) ? token : null, rows: read.map((r) => r.rows) };
  }

  async stateTextsAt(buckets: readonly StateBucket[]): Promise<StateTextsAt> {
    const read = await Promise.all(
      buckets.map(async (b) => {
        const [sql, values] = stateTextAtSql(b);
        const r = (await this.rows("reading the vault state", sql, values))[0]!;
        return { token: r.token as string, text: r.text as string };
      }),
    );
    const token = read[0]?.token ?? null;
    return { token: read.every((r) => r.token === token) ? token : null, texts: read.map((r) => r.text) };
  }

  async getTokenAt(id: string, bucket: StateBucket): Promise<{ value: TokenRow | null; at: StateAt }> {
    const { row, at } = await this.rowAt("reading a token", "SELECT * FROM tokens WHERE id = $1", [id], bucket);
    return { value: row ? toToken(row) : null, at };
  }

  async readCurrentAt(path: string, bucket: StateBucket): Promise<{ value: CurrentRows[]; at: StateAt }> {
    const { row, at } = await this.rowAt("reading secrets", READ_CURRENT_SQL, [[path]], bucket);
    return { value: row ? [toCurrent(row)] : [], at };
  }

  /**
   * The row `sql` selects (at most one) and `bucket`'s state, in one statement: one snapshot
   * and one round trip, where reading the row and then checking it took two. The state's
   * statement gives exactly one row, so the row's is joined to it, marked to tell "no row"
   * from a row of NULLs. Both texts are constants, so the joined text is one too.
   */
  private async rowAt(doing: string, sql: string, values: unknown[], bucket: StateBucket): Promise<{ row: Row | null; at: StateAt }> {
    const [joined, stateValues] = rowAtSql(bucket, sql);
    const r = (await this.rows(doing, joined, [...stateValues, ...values]))[0]!;
    const at = { token: r.authy_at_token as string, rows: [stateRowsOf(r.authy_at_keys, r.authy_at_macs)] };
    return { row: r.authy_at_found === true ? r : null, at };
  }

  write<T>(fn: (tx: StoreWriter) => Promise<T>): Promise<T> {
    if (this.current.inside()) {
      return Promise.reject(new AuthyError("INTERNAL", "write() was called inside another write(); use the transaction it was given"));
    }
    if (this.closed) return Promise.reject(new AuthyError("INTERNAL", "the store was used after close()"));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn: fn, resolve: resolve as (value: unknown) => void, reject });
      this.draining ??= this.drain();
    });
  }

  /**
   * Group commit, as SqliteStore.drain: no call resolves before the COMMIT that holds it. One
   * round trip opens the transaction, takes the write lock and reads the audit head; the audit
   * entries of the writes that ran no statement of their own (PostgresTransaction) are inserted
   * in one statement before the COMMIT. A failure there loses the whole group, and every write
   * in it is refused: nothing acknowledged is lost, and the chain has no gap.
   */
  private async drain(): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.pending.length === 0) {
        this.draining = null;
        return;
      }
      let client: pg.PoolClient;
      try {
        client = await this.writes.connect();
        keepAlive(client);
      } catch (e) {
        for (const w of this.pending.splice(0, MAX_GROUP_COMMIT)) w.reject(translatePostgresError(e, "starting a write"));
        continue;
      }
      let head: AuditRow | null;
      try {
        // Constants only (simple protocol, several statements): the lock is taken before the head is read.
        const results = (await client.query(
          `BEGIN; SET LOCAL lock_timeout = ${Math.max(1, Math.floor(this.writeLockTimeoutMs))}; ` +
            `SELECT pg_advisory_xact_lock(${LOCK_APP}, ${LOCK_WRITE}); SELECT * FROM audit ORDER BY seq DESC LIMIT 1`,
        )) as unknown as pg.QueryResult[];
        const row = results[3]?.rows[0] as Row | undefined;
        head = row ? toAudit(row) : null;
      } catch (e) {
        await client.query("ROLLBACK").catch(() => undefined);
        client.release(true);
        for (const w of this.pending.splice(0, MAX_GROUP_COMMIT)) w.reject(translatePostgresError(e, "starting a write"));
        continue;
      }
      // Taken once the lock is held: the writes queued while another process held it join this
      // group, so that more of them share its round trips and its COMMIT's WAL flush.
      const group = this.pending.splice(0, MAX_GROUP_COMMIT);
      const state: GroupState = { head, deferred: [], broken: undefined };
      const settled: { w: PendingWrite; ok: boolean; value: unknown }[] = [];
      for (const w of group) {
        const r = await this.runWrite(client, state, w.fn);
        settled.push({ w, ...r });
        if (r.lost) {
          state.broken ??= r.value;
          this.pending.unshift(...group.slice(settled.length));
          break;
        }
      }
      let lost: unknown = state.broken;
      if (lost === undefined) lost = await this.commit(client, state.deferred);
      else await client.query("ROLLBACK").catch(() => undefined);
      client.release(lost !== undefined);
      for (const { w, ok, value } of settled) {
        if (!ok) w.reject(value);
        else if (lost !== undefined) w.reject(lost);
        else w.resolve(value);
      }
    }
  }

  /**
   * Inserts the group's deferred audit entries and commits, sent together (the connection is
   * in pipeline mode): one round trip, and the write lock held one round trip less. Each
   * statement is answered on its own; after a failed INSERT the transaction is aborted and
   * PostgreSQL answers the COMMIT with a ROLLBACK, so nothing of the group is kept. What is
   * returned is why the group was lost, or undefined when it was committed.
   */
  private async commit(client: pg.PoolClient, deferred: readonly AuditRow[]): Promise<unknown> {
    const inserts: Promise<unknown>[] = [];
    await insertAudit((sql, values) => {
      inserts.push(client.query(prepared(sql, values)));
      return Promise.resolve();
    }, deferred);
    // Both settled together: a rejection is never left without a handler while the other is awaited.
    const [inserted, [committed]] = await Promise.all([Promise.allSettled(inserts), Promise.allSettled([client.query("COMMIT")])]);
    const failed = inserted.find((r) => r.status === "rejected");
    if (failed) return translatePostgresError(failed.reason, "writing the audit log");
    if (committed.status === "rejected") return translatePostgresError(committed.reason, "committing a write");
    const answer = committed.value.command;
    if (answer !== "COMMIT") return new AuthyError("UNAVAILABLE", `PostgreSQL rolled the write back (${answer}); nothing was written`);
    return undefined;
  }

  /**
   * Runs one write() call inside the open transaction. Its first statement takes a savepoint
   * (PostgresTransaction), so that a failure undoes it alone; a write that ran none has
   * nothing to undo, and hands its audit entries to the group. `lost` when the transaction
   * itself is gone (a statement outside any savepoint failed, or even the undo did).
   */
  private async runWrite(
    client: pg.PoolClient,
    state: GroupState,
    fn: (tx: PostgresTransaction) => Promise<unknown>,
  ): Promise<{ ok: boolean; value: unknown; lost: boolean }> {
    const tx = new PostgresTransaction(client, {
      get head() {
        return state.head;
      },
      savepoint: async () => {
        try {
          const earlier = state.deferred.splice(0);
          await insertAudit((sql, values) => client.query(prepared(sql, values)), earlier);
          await client.query("SAVEPOINT authy_write");
        } catch (e) {
          state.broken ??= translatePostgresError(e, "starting a write");
          throw e;
        }
      },
    });
    try {
      const value = await this.current.run(tx, () => fn(tx));
      tx.checkUsable();
      if (tx.hasStarted) await client.query("RELEASE SAVEPOINT authy_write");
      else state.deferred.push(...tx.deferred);
      state.head = tx.appended ?? state.head;
      return { ok: true, value, lost: false };
    } catch (e) {
      if (state.broken !== undefined) return { ok: false, value: e, lost: true };
      if (!tx.hasStarted) return { ok: false, value: e, lost: false };
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
    await Promise.all([this.pool.end(), this.writes.end()]);
  }
}
