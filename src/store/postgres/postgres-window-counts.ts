import pg from "pg";
import { Coalescer } from "./postgres-coalesce.js";
import { translatePostgresError } from "./postgres-errors.js";
import { prepared } from "./postgres-prepared.js";
import { keepAlive } from "./postgres-store.js";

/**
 * Counts per key and time window shared by every server process on one database (the team
 * server's failed-authentication limits, src/api/auth-limit.ts): one row per key and window,
 * counted up in one statement, so that no increment is lost between processes. The table is
 * UNLOGGED and outside the vault: counts are worth nothing after a crash, and nothing in it is
 * secret (credential ids and client addresses). It is created here, idempotently under an
 * advisory lock, not by a numbered migration of the store (see the report of issue 14).
 */
const TABLE = `
  CREATE UNLOGGED TABLE IF NOT EXISTS authy_window_counts (
    key    TEXT COLLATE "C" NOT NULL,
    window_start BIGINT NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
  )`;
/** Advisory lock key of the table's creation (several servers starting at once). */
const CREATE_LOCK = 0x61757468;
/** Connections for the counts: a failure costs one statement. */
const POOL_SIZE = 2;
/** How long opening a connection may take before the database counts as unavailable (as the store's). */
const CONNECT_TIMEOUT_MS = 10_000;
/** Rows of past windows are deleted every this many windows. */
const SWEEP_EVERY_WINDOWS = 5;

export class PostgresWindowCounts {
  private lastSweep = 0;
  /** Each caller builds its own Map from the rows, which nobody changes: shared as they are. */
  private readonly reads = new Coalescer<{ key: string; count: number }[]>((rows) => rows);

  private constructor(private readonly pool: pg.Pool) {}

  static async open(url: string): Promise<PostgresWindowCounts> {
    const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    pool.on("error", () => undefined); // a dropped idle connection: the next query reconnects
    try {
      const client = await pool.connect();
      keepAlive(client);
      try {
        await client.query("SELECT pg_advisory_lock($1)", [CREATE_LOCK]);
        try {
          await client.query(TABLE);
        } finally {
          await client.query("SELECT pg_advisory_unlock($1)", [CREATE_LOCK]);
        }
      } finally {
        client.release();
      }
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw translatePostgresError(e, "preparing the rate limits");
    }
    return new PostgresWindowCounts(pool);
  }

  async add(keys: readonly string[], window: number): Promise<void> {
    await this.query(
      "INSERT INTO authy_window_counts (key, window_start, count) SELECT k, $2, 1 FROM unnest($1::text[]) AS k " +
        "ON CONFLICT (key, window_start) DO UPDATE SET count = authy_window_counts.count + 1",
      [keys, window],
    );
    if (window - this.lastSweep >= SWEEP_EVERY_WINDOWS) {
      this.lastSweep = window;
      await this.query("DELETE FROM authy_window_counts WHERE window_start < $1", [window]);
    }
  }

  /** Every request asks this before its credential is checked: the same question from concurrent requests is asked once (postgres-coalesce.ts). */
  async get(keys: readonly string[], window: number): Promise<Map<string, number>> {
    const rows = await this.reads.run(JSON.stringify([keys, window]), async () => {
      const r = await this.query<{ key: string; count: number }>(
        "SELECT key, count FROM authy_window_counts WHERE key = ANY($1::text[]) AND window_start = $2",
        [keys, window],
      );
      return r.rows;
    });
    return new Map(rows.map((row) => [row.key, row.count]));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(prepared(text, values));
    } catch (e) {
      throw translatePostgresError(e, "counting failed authentication");
    }
  }
}
