import { createRequire } from "node:module";
import path from "node:path";
import Database from "better-sqlite3";
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { AuthyError } from "../../errors.js";
import type { StateBucket, StateRow, StateTextsAt, Store, StoreWriter } from "../store.js";
import { MIGRATIONS } from "./migrations.js";
import { isBusy, translateSqliteError } from "./sqlite-errors.js";
import { endAllSnapshots, endSnapshot, inSnapshot } from "./read-snapshot.js";
import { Connection, SqliteReader, stateAtSql, stateTextAtSql } from "./sqlite-reader.js";
import { SqliteTransaction } from "./sqlite-transaction.js";
import { NestingGuard } from "../nesting-guard.js";

/** 'AUTY': marks the file as an authy vault so that any other SQLite file is refused. */
const APPLICATION_ID = 0x41555459;
/** How long a writer waits for another process's transaction before saying "busy". */
const BUSY_TIMEOUT_MS = 10_000;
/**
 * Pauses between attempts to take the write lock: SQLite's own busy-handler schedule, but
 * awaited instead of slept, so that the event loop keeps running while another connection
 * (another process, or another store on the same file in this one) finishes its write.
 */
const WRITE_LOCK_RETRY_MS = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];

interface SqliteStoreOptions {
  /** Create the file (and schema) when missing; otherwise a missing file is NOT_INITIALIZED. */
  create?: boolean;
  readonly?: boolean;
  /** How long a write waits for another connection's write lock; BUSY_TIMEOUT_MS by default. */
  busyTimeoutMs?: number;
  /**
   * Reads outside write() share one snapshot per callback of the event loop (read-snapshot.ts):
   * for the daemon and the server, whose requests make several reads each. Off, each read is
   * a snapshot of its own, as a short command and the tests that edit the file between two
   * reads of one callback expect.
   */
  sharedReads?: boolean;
}

function notInitialized(file: string): AuthyError {
  return new AuthyError("NOT_INITIALIZED", `no vault at ${file}`, { hint: "run `authy init` first" });
}

const SQLITE_MAGIC = Buffer.from("SQLite format 3\u0000", "latin1");

/**
 * Creates a missing vault file as 0600 before SQLite does (it would make it 0666 less the
 * umask, usually 0644). SQLite gives the -wal, -shm and -journal files it makes beside a
 * database the database file's own mode, so they are born 0600 too, whatever the umask:
 * a chmod after the open would come too late for them.
 */
function createPrivate(file: string): void {
  try {
    closeSync(openSync(file, "wx", 0o600));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    const hint = code === "ENOSPC" ? "free some space and try again" : "check the disk and the permissions of AUTHY_HOME";
    throw new AuthyError("UNAVAILABLE", `cannot create ${file}: ${code ?? String(e)}`, { hint, cause: e });
  }
}

/**
 * Refuses a file that cannot be a whole SQLite database, before SQLite sees it: SQLite
 * reads a short file, or one cut inside its last page, as if the missing bytes were zeros,
 * so a one-byte file opens as an empty database and a vault that lost its tail opens fine.
 * While a WAL file holds frames the main file may legitimately be mid-checkpoint, so the
 * size check is left to SQLite's recovery then.
 */
function checkFileShape(file: string): void {
  const corrupt = () =>
    new AuthyError("INTEGRITY", `${file} is corrupt, truncated or not a database`, { hint: "restore the vault from a backup (authy restore FILE)" });
  let size: number;
  let walSize: number;
  const head = Buffer.alloc(100);
  try {
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat || stat.size === 0) return;
    size = stat.size;
    walSize = statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    const fd = openSync(file, "r");
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new AuthyError("UNAVAILABLE", `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      hint: "check the permissions of AUTHY_HOME",
      cause: e,
    });
  }
  const raw = head.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  const validPageSize = pageSize >= 512 && pageSize <= 65536 && (pageSize & (pageSize - 1)) === 0;
  if (size < head.length || !head.subarray(0, 16).equals(SQLITE_MAGIC) || !validPageSize) throw corrupt();
  if (walSize === 0 && size % pageSize !== 0) throw corrupt();
}

/** Refuses any file that is not an authy vault; only an empty database may become one. */
function checkIsVault(db: Database.Database, file: string, options: SqliteStoreOptions): void {
  const appId = db.pragma("application_id", { simple: true }) as number;
  const version = db.pragma("user_version", { simple: true }) as number;
  if (appId !== APPLICATION_ID) {
    const empty = appId === 0 && version === 0 && db.prepare("SELECT count(*) FROM sqlite_schema").pluck().get() === 0;
    if (!(empty && options.create)) {
      throw new AuthyError("INTEGRITY", `${file} is not an authy vault`, {
        hint: "point AUTHY_HOME at an authy vault, or restore one from a backup",
      });
    }
  }
  if (version > MIGRATIONS.length) {
    throw new AuthyError("UNAVAILABLE", `this vault was written by a newer authy (schema ${version})`, { hint: "upgrade authy" });
  }
  // authy creates no triggers. One planted in the file would run inside authy's own writes
  // (deleting each audit entry as it is written, say), so such a file is refused.
  if (db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'").pluck().get() !== 0) {
    throw new AuthyError("INTEGRITY", `${file} holds SQL triggers that authy did not create`, {
      hint: "the vault was modified outside authy; restore it from a backup (authy restore FILE)",
    });
  }
}

/** Numbered migrations, run in one IMMEDIATE transaction; a second process waits, then finds them done. */
function migrate(db: Database.Database): void {
  if ((db.pragma("user_version", { simple: true }) as number) === MIGRATIONS.length) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    const current = db.pragma("user_version", { simple: true }) as number;
    for (let i = current; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i]!);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
    db.exec("COMMIT");
  } catch (e) {
    if (db.inTransaction) db.exec("ROLLBACK");
    throw e;
  }
}

/**
 * The compiled addon, found directly: better-sqlite3's default lookup (the `bindings`
 * package) probes a dozen paths and walks a stack trace on every start of the CLI. (The CLI
 * bundles better-sqlite3's JavaScript, so that lookup would also start from the wrong
 * directory: where the addon is not in build/Release, `bindings` is asked from the package's
 * own directory.)
 */
// better-sqlite3 takes the addon itself too, though its types only say string.
const NATIVE_BINDING = ((): string | object | undefined => {
  let main: string;
  try {
    main = createRequire(import.meta.url).resolve("better-sqlite3");
  } catch {
    return undefined;
  }
  const root = path.join(path.dirname(main), "..");
  const file = path.join(root, "build", "Release", "better_sqlite3.node");
  if (existsSync(file)) return file;
  const bindings = createRequire(main)("bindings") as (opts: { bindings: string; module_root: string }) => object;
  return bindings({ bindings: "better_sqlite3.node", module_root: root });
})() as string | undefined;

/** The most write() calls committed together (see SqliteStore.drain). */
const MAX_GROUP_COMMIT = 64;

interface PendingWrite {
  fn: (tx: SqliteTransaction) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The embedded store: one SQLite file in WAL mode, synchronous=FULL so that a write we
 * reported is on disk, BEGIN IMMEDIATE so that writers queue on the file lock instead of
 * failing half-way with SQLITE_BUSY.
 *
 * Two connections: writes go through one, in one transaction at a time (queued in this
 * process, locked across processes); reads outside write() go through the other, which in
 * WAL mode sees only committed data, never a write still in flight (and, with `sharedReads`,
 * shares a snapshot with the other reads of its callback: read-snapshot.ts). (":memory:" has one
 * connection, so there a read during a write sees that write.)
 */
export class SqliteStore extends SqliteReader implements Store {
  readonly kind = "sqlite";
  /** write() calls waiting for the write connection, which has one transaction at a time. */
  private readonly pending: PendingWrite[] = [];
  /** Settles when the writes under way (if any) are done: close() waits for it. */
  private draining: Promise<void> | null = null;
  /** The transaction whose callback is running, to refuse a write() nested inside it. */
  private readonly current = new NestingGuard<SqliteTransaction>();

  private constructor(
    private readonly writer: Connection,
    reader: Connection,
    private readonly readonly: boolean,
    private readonly busyTimeoutMs: number,
    private readonly sharedReads: boolean,
  ) {
    super(reader);
  }

  protected override run<T>(doing: string, fn: (c: Connection) => T): T {
    if (!this.sharedReads) return super.run(doing, fn);
    return super.run(doing, (c) => {
      inSnapshot(c);
      return fn(c);
    });
  }

  static open(file: string, options: SqliteStoreOptions = {}): SqliteStore {
    const memory = file === ":memory:" || file === "";
    if (!options.create && !memory && !existsSync(file)) throw notInitialized(file);
    const readonly = options.readonly ?? false;
    if (!memory) checkFileShape(file);
    let db: Database.Database;
    try {
      if (options.create && !readonly && !memory) createPrivate(file);
      db = new Database(file, { fileMustExist: !options.create, readonly, nativeBinding: NATIVE_BINDING });
    } catch (e) {
      if ((e as { code?: string }).code === "SQLITE_CANTOPEN" && !existsSync(file)) throw notInitialized(file);
      throw translateSqliteError(e, "opening the vault");
    }
    let readDb: Database.Database | undefined;
    try {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      checkIsVault(db, file, options);
      if (!readonly) {
        db.pragma("journal_mode = WAL");
        db.pragma("synchronous = FULL");
        db.pragma("foreign_keys = ON");
        migrate(db);
      }
      if (!readonly && !memory) {
        readDb = new Database(file, { fileMustExist: true, nativeBinding: NATIVE_BINDING });
        readDb.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
        readDb.pragma("query_only = ON");
        // Writes wait for the lock in begin(), asynchronously; never block the event loop.
        db.pragma("busy_timeout = 0");
      }
      const writer = new Connection(db);
      const reader = readDb ? new Connection(readDb) : writer;
      // Only a read connection of its own can hold a snapshot: the writer's reads are its transactions'.
      const sharedReads = (options.sharedReads ?? false) && reader !== writer;
      return new SqliteStore(writer, reader, readonly, options.busyTimeoutMs ?? BUSY_TIMEOUT_MS, sharedReads);
    } catch (e) {
      readDb?.close();
      db.close();
      throw translateSqliteError(e, "opening the vault");
    }
  }

  async recordUnlockFailure(ts: number, method: string): Promise<void> {
    await this.enqueue(async (tx) => tx.recordUnlockFailure(ts, method));
  }

  write<T>(fn: (tx: StoreWriter) => Promise<T>): Promise<T> {
    return this.enqueue(fn);
  }

  private enqueue<T>(fn: (tx: SqliteTransaction) => Promise<T>): Promise<T> {
    if (this.current.inside()) {
      // It would wait for the write it is part of: a deadlock. Fail loudly instead.
      return Promise.reject(new AuthyError("INTERNAL", "write() was called inside another write(); use the transaction it was given"));
    }
    if (this.readonly) return Promise.reject(new AuthyError("UNAVAILABLE", "the vault was opened read-only"));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      this.draining ??= this.drain();
    });
  }

  /**
   * Group commit. The write() calls that queued up while the last transaction ran are
   * committed together: one BEGIN, each call in a savepoint of its own (all or nothing, and a
   * failing call undoes only itself), one COMMIT, so one fsync for all of them. No call
   * resolves before that COMMIT: a value whose audit entry is not durable is never released.
   * Alone, a call is one transaction as before (a tick later); under load (the daemon serving
   * many agents) the fsyncs are shared.
   */
  private async drain(): Promise<void> {
    for (;;) {
      // Let the requests that arrived with this one (the rest of this turn of the event loop)
      // reach write() first. better-sqlite3 blocks while it commits, so nothing else would
      // join a group otherwise.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.pending.length === 0) {
        // Said in the same tick as the last check: a write() queued from now on starts a new drain.
        this.draining = null;
        return;
      }
      const group = this.pending.splice(0, MAX_GROUP_COMMIT);
      try {
        await this.begin();
      } catch (e) {
        for (const w of group) w.reject(e);
        continue;
      }
      const settled: { w: PendingWrite; ok: boolean; value: unknown }[] = [];
      let lost: unknown = undefined;
      for (const w of group) {
        if (lost !== undefined) {
          // The transaction is gone: the rest run in the next one.
          this.pending.unshift(...group.slice(settled.length));
          break;
        }
        const r = await this.savepoint(w.fn);
        settled.push({ w, ...r });
        if (!r.ok && !this.writer.db.inTransaction) lost = r.value;
      }
      if (lost === undefined) {
        try {
          endAllSnapshots();
          this.writer.stmt("COMMIT").run();
        } catch (e) {
          lost = translateSqliteError(e, "committing a write");
          this.rollback();
        }
      }
      for (const { w, ok, value } of settled) {
        if (!ok) w.reject(value);
        else if (lost !== undefined) w.reject(lost);
        else w.resolve(value);
      }
    }
  }

  /** Runs one write() call inside the open transaction; its changes are undone if it fails. */
  private async savepoint(fn: (tx: SqliteTransaction) => Promise<unknown>): Promise<{ ok: boolean; value: unknown }> {
    const tx = new SqliteTransaction(this.writer);
    try {
      this.writer.stmt("SAVEPOINT authy_write").run();
      const value = await this.current.run(tx, () => fn(tx));
      tx.checkUsable();
      this.writer.stmt("RELEASE authy_write").run();
      return { ok: true, value };
    } catch (e) {
      if (this.writer.db.inTransaction) {
        try {
          this.writer.stmt("ROLLBACK TO authy_write").run();
          this.writer.stmt("RELEASE authy_write").run();
        } catch {
          // Cannot undo just this call: give up the whole transaction.
          this.rollback();
        }
      }
      return { ok: false, value: e };
    } finally {
      tx.end();
    }
  }

  private rollback(): void {
    if (!this.writer.db.inTransaction) return;
    try {
      this.writer.stmt("ROLLBACK").run();
    } catch {
      // The first error is the one worth reporting; SQLite rolls back on close anyway.
    }
  }

  /** BEGIN IMMEDIATE, waiting asynchronously while another connection holds the write lock. */
  private async begin(): Promise<void> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        this.writer.stmt("BEGIN IMMEDIATE").run();
        return;
      } catch (e) {
        if (!isBusy(e) || Date.now() >= deadline) throw translateSqliteError(e, "starting a write");
      }
      await sleep(WRITE_LOCK_RETRY_MS[Math.min(attempt, WRITE_LOCK_RETRY_MS.length - 1)]);
    }
  }

  /**
   * The vault's state MAC as committed. Every write that changes the vault state (a secret,
   * token, agent, member, key slot, policy or settings row, or the unlock mark) writes a new
   * one (fresh-store.ts), whichever connection or process makes it; the audit appends of reads
   * write none, so a daemon or server keeps the state it verified across them, as on
   * PostgreSQL. A row edited behind SQLite's back is still refused: every read compares its bucket with the digests the
   * state MAC vouched for. With one connection (":memory:") a read could see a write still in
   * flight: null.
   */
  async changeToken(): Promise<string | null> {
    if (this.conn === this.writer && !this.readonly) return null;
    const mac = this.run("reading the vault state", (c) => c.stmt("SELECT hex(state_mac) FROM vault WHERE id = 1").pluck().get() as string | null | undefined);
    return mac || "none";
  }

  /**
   * Each bucket's rows with the change token, in one statement (one snapshot) per bucket: on the
   * server, a warm read's check is one statement instead of two (stateAtSql).
   */
  async stateRowsAt(buckets: readonly StateBucket[]): Promise<{ token: string | null; rows: StateRow[][] }> {
    const single = this.conn === this.writer && !this.readonly;
    const read = buckets.map((b) => {
      const [sql, args] = stateAtSql(b);
      const [head, ...rows] = this.run("reading the vault state", (c) => c.stmt(sql).all(...args) as (StateRow & { o: number })[]);
      return { token: (head?.key as string | null | undefined) || "none", rows: rows.map(({ key, mac }) => ({ key, mac })) };
    });
    const token = single ? null : (read[0]?.token ?? null);
    return { token: read.every((r) => r.token === token) ? token : null, rows: read.map((r) => r.rows) };
  }

  /** stateRowsAt's texts, joined by SQLite (Store.stateTextsAt): what the core's checks read. */
  async stateTextsAt(buckets: readonly StateBucket[]): Promise<StateTextsAt> {
    const single = this.conn === this.writer && !this.readonly;
    const read = buckets.map((b) => {
      const [sql, args] = stateTextAtSql(b);
      const row = this.run("reading the vault state", (c) => c.stmt(sql).get(...args) as { token: string | null; text: string | null });
      return { token: row.token || "none", text: row.text ?? "" };
    });
    const token = single ? null : (read[0]?.token ?? null);
    return { token: read.every((r) => r.token === token) ? token : null, texts: read.map((r) => r.text) };
  }

  /** PRAGMA integrity_check: "ok" or the problems SQLite found. */
  integrityCheck(): string[] {
    const rows = this.run("checking the vault file", (c) => c.db.pragma("integrity_check") as { integrity_check: string }[]);
    return rows.map((r) => r.integrity_check);
  }

  /** A consistent copy of the whole database (still encrypted, committed data only), via SQLite's backup API. */
  async backupTo(file: string): Promise<void> {
    try {
      endSnapshot(this.conn);
      await this.conn.db.backup(file);
    } catch (e) {
      throw translateSqliteError(e, "writing the backup");
    }
  }

  async close(): Promise<void> {
    while (this.draining) await this.draining;
    endSnapshot(this.conn);
    if (this.conn !== this.writer && this.conn.db.open) this.conn.db.close();
    if (this.writer.db.open) this.writer.db.close();
  }
}
