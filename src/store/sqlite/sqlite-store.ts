import { createRequire } from "node:module";
import path from "node:path";
import Database from "better-sqlite3";
import { AsyncLocalStorage } from "node:async_hooks";
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { AuthyError } from "../../errors.js";
import type {
  AgentRow,
  ApprovalRow,
  AuditRow,
  KeySlotRow,
  PolicyRow,
  SecretRow,
  Store,
  StoreWriter,
  TokenRow,
  VaultRow,
  VersionRow,
} from "../store.js";
import { MIGRATIONS } from "./migrations.js";
import { isBusy, translateSqliteError } from "./sqlite-errors.js";
import { Connection, SqliteReader } from "./sqlite-reader.js";

/** 'AUTY': marks the file as an authy vault so that any other SQLite file is refused. */
const APPLICATION_ID = 0x41555459;
/** How long a writer waits for another process's transaction before saying "busy". */
export const BUSY_TIMEOUT_MS = 10_000;
/**
 * Pauses between attempts to take the write lock: SQLite's own busy-handler schedule, but
 * awaited instead of slept, so that the event loop keeps running while another connection
 * (another process, or another store on the same file in this one) finishes its write.
 */
const WRITE_LOCK_RETRY_MS = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];

export interface SqliteStoreOptions {
  /** Create the file (and schema) when missing; otherwise a missing file is NOT_INITIALIZED. */
  create?: boolean;
  readonly?: boolean;
  /** How long a write waits for another connection's write lock; BUSY_TIMEOUT_MS by default. */
  busyTimeoutMs?: number;
}

/**
 * The writes of one `write()`. Refuses to be used once that write() has settled (its
 * statements would otherwise commit one by one, outside any transaction), and after any of
 * its statements failed: SQLite may have undone just that statement or the whole
 * transaction (SQLITE_FULL, SQLITE_IOERR), and either way committing the rest would leave
 * half an operation on disk, even when the caller caught the error.
 */
class SqliteTransaction extends SqliteReader implements StoreWriter {
  private open = true;
  private failure: unknown = undefined;

  get active(): boolean {
    return this.open;
  }

  end(): void {
    this.open = false;
  }

  protected override check(): void {
    if (!this.open) throw new AuthyError("INTERNAL", "a store transaction was used after its write() had finished");
    if (this.failure !== undefined) throw this.failure;
    if (!this.conn.db.inTransaction) {
      throw new AuthyError("UNAVAILABLE", "the write was rolled back after a storage error; nothing was written", { hint: "try again" });
    }
  }

  protected override run<T>(doing: string, fn: (c: Connection) => T): T {
    try {
      return super.run(doing, fn);
    } catch (e) {
      this.failure ??= e;
      throw e;
    }
  }

  commit(): void {
    this.run("committing a write", (c) => c.stmt("COMMIT").run());
  }

  async putVault(row: VaultRow): Promise<void> {
    this.run("writing the vault", (c) =>
      c
        .stmt(
          "INSERT INTO vault (id, vault_id, format, created_at, listing_mac, mac) VALUES (1, ?, ?, ?, ?, ?) " +
            "ON CONFLICT (id) DO UPDATE SET vault_id = excluded.vault_id, format = excluded.format, " +
            "created_at = excluded.created_at, listing_mac = excluded.listing_mac, mac = excluded.mac",
        )
        .run(row.vaultId, row.format, row.createdAt, row.listingMac, row.mac),
    );
  }

  async setListingMac(mac: Uint8Array): Promise<void> {
    this.run("writing the vault", (c) => c.stmt("UPDATE vault SET listing_mac = ? WHERE id = 1").run(mac));
  }

  async putSlot(row: KeySlotRow): Promise<void> {
    this.run("writing a key slot", (c) =>
      c
        .stmt("INSERT OR REPLACE INTO key_slots (id, kind, label, recipient, slot, created_at, mac) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run(row.id, row.kind, row.label, row.recipient, row.slot, row.createdAt, row.mac),
    );
  }

  async deleteSlot(id: string): Promise<void> {
    this.run("removing a key slot", (c) => c.stmt("DELETE FROM key_slots WHERE id = ?").run(id));
  }

  async putSecret(r: SecretRow): Promise<void> {
    this.run("writing a secret", (c) =>
      c
        .stmt(
          "INSERT OR REPLACE INTO secrets (path, namespace, type, tier, description, tags, expires_at, current_version, " +
            "deleted_at, created_at, updated_at, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .run(r.path, r.namespace, r.type, r.tier, r.description, r.tags, r.expiresAt, r.currentVersion, r.deletedAt, r.createdAt, r.updatedAt, r.mac),
    );
  }

  async deleteSecret(path: string): Promise<void> {
    this.run("purging a secret", (c) => {
      c.stmt("DELETE FROM secret_versions WHERE path = ?").run(path);
      c.stmt("DELETE FROM secrets WHERE path = ?").run(path);
    });
  }

  async putVersion(r: VersionRow): Promise<void> {
    this.run("writing a secret version", (c) =>
      c
        .stmt("INSERT OR REPLACE INTO secret_versions (path, version, type, tier, sealed, wrapped_dek, created_at, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .run(r.path, r.version, r.type, r.tier, r.sealed, r.wrappedDek, r.createdAt, r.actor),
    );
  }

  async appendAudit(r: AuditRow): Promise<void> {
    this.run("writing the audit log", (c) =>
      c
        .stmt("INSERT INTO audit (seq, ts, actor, action, resource, outcome, details, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .run(r.seq, r.ts, r.actor, r.action, r.resource, r.outcome, r.details, r.prevHash, r.hash, r.mac),
    );
  }

  async clearUnlockFailures(ids: number[]): Promise<void> {
    this.run("clearing unlock failures", (c) => {
      const del = c.stmt("DELETE FROM unlock_failures WHERE id = ?");
      for (const id of ids) del.run(id);
    });
  }

  async putPolicy(row: PolicyRow): Promise<void> {
    this.run("writing the policy", (c) =>
      c
        .stmt(
          "INSERT INTO policy (id, document, updated_at, mac) VALUES (1, ?, ?, ?) " +
            "ON CONFLICT (id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at, mac = excluded.mac",
        )
        .run(row.document, row.updatedAt, row.mac),
    );
  }

  async putAgent(r: AgentRow): Promise<void> {
    this.run("writing an agent", (c) =>
      c
        // An upsert on name, not INSERT OR REPLACE: REPLACE would silently delete another
        // agent that holds the same id (UNIQUE), where a clash must fail instead.
        .stmt(
          "INSERT INTO agents (name, id, key_hash, scope, description, created_at, revoked_at, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?) " +
            "ON CONFLICT (name) DO UPDATE SET id = excluded.id, key_hash = excluded.key_hash, scope = excluded.scope, " +
            "description = excluded.description, created_at = excluded.created_at, revoked_at = excluded.revoked_at, mac = excluded.mac",
        )
        .run(r.name, r.id, r.keyHash, r.scope, r.description, r.createdAt, r.revokedAt, r.mac),
    );
  }

  async putToken(r: TokenRow): Promise<void> {
    this.run("writing a token", (c) =>
      c
        .stmt(
          "INSERT OR REPLACE INTO tokens (id, secret_hash, agent, scope, label, created_at, expires_at, max_uses, uses, revoked_at, instance, parent, pid, mac) " +
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .run(r.id, r.secretHash, r.agent, r.scope, r.label, r.createdAt, r.expiresAt, r.maxUses, r.uses, r.revokedAt, r.instance, r.parent, r.pid, r.mac),
    );
  }

  async putApproval(r: ApprovalRow): Promise<void> {
    this.run("writing an approval", (c) =>
      c
        .stmt(
          "INSERT OR REPLACE INTO approvals (id, principal, agent, token, action, path, tier, reason, status, created_at, expires_at, " +
            "decided_at, decision_reason, grant_kind, grant_until, used_at, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .run(
          r.id, r.principal, r.agent, r.token, r.action, r.path, r.tier, r.reason, r.status, r.createdAt, r.expiresAt,
          r.decidedAt, r.decisionReason, r.grantKind, r.grantUntil, r.usedAt, r.mac,
        ),
    );
  }

  /** Not part of StoreWriter: failed unlocks are recorded by the store, outside the chain. */
  recordUnlockFailure(ts: number, method: string): void {
    this.run("recording a failed unlock", (c) => c.stmt("INSERT INTO unlock_failures (ts, method) VALUES (?, ?)").run(ts, method));
  }
}

function notInitialized(file: string): AuthyError {
  return new AuthyError("NOT_INITIALIZED", `no vault at ${file}`, { hint: "run `authy init` first" });
}

const SQLITE_MAGIC = Buffer.from("SQLite format 3\u0000", "latin1");

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
 * The embedded store: one SQLite file in WAL mode, synchronous=FULL so that a write we
 * reported is on disk, BEGIN IMMEDIATE so that writers queue on the file lock instead of
 * failing half-way with SQLITE_BUSY.
 *
 * Two connections: writes go through one, in one transaction at a time (queued in this
 * process, locked across processes); reads outside write() go through the other, which in
 * WAL mode sees only committed data, never a write still in flight. (":memory:" has one
 * connection, so there a read during a write sees that write.)
 */
/**
 * The compiled addon, found directly: better-sqlite3's default lookup (the `bindings`
 * package) probes a dozen paths and walks a stack trace on every start of the CLI.
 */
const NATIVE_BINDING: string | undefined = (() => {
  try {
    const file = path.join(path.dirname(createRequire(import.meta.url).resolve("better-sqlite3")), "..", "build", "Release", "better_sqlite3.node");
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
})();

export class SqliteStore extends SqliteReader implements Store {
  readonly kind = "sqlite";
  /** Serializes write() calls within this process: the write connection has one transaction. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The transaction whose callback is running, to refuse a write() nested inside it. */
  private readonly current = new AsyncLocalStorage<SqliteTransaction>();

  private constructor(
    private readonly writer: Connection,
    reader: Connection,
    private readonly readonly: boolean,
    private readonly busyTimeoutMs: number,
  ) {
    super(reader);
  }

  static open(file: string, options: SqliteStoreOptions = {}): SqliteStore {
    const memory = file === ":memory:" || file === "";
    if (!options.create && !memory && !existsSync(file)) throw notInitialized(file);
    const readonly = options.readonly ?? false;
    if (!memory) checkFileShape(file);
    let db: Database.Database;
    try {
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
      return new SqliteStore(writer, readDb ? new Connection(readDb) : writer, readonly, options.busyTimeoutMs ?? BUSY_TIMEOUT_MS);
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
    if (this.current.getStore()?.active) {
      // It would wait for the write it is part of: a deadlock. Fail loudly instead.
      return Promise.reject(new AuthyError("INTERNAL", "write() was called inside another write(); use the transaction it was given"));
    }
    if (this.readonly) return Promise.reject(new AuthyError("UNAVAILABLE", "the vault was opened read-only"));
    const next = this.queue.then(() => this.transaction(fn));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async transaction<T>(fn: (tx: SqliteTransaction) => Promise<T>): Promise<T> {
    await this.begin();
    const tx = new SqliteTransaction(this.writer);
    try {
      const result = await this.current.run(tx, () => fn(tx));
      tx.commit();
      return result;
    } catch (e) {
      if (this.writer.db.inTransaction) {
        try {
          this.writer.stmt("ROLLBACK").run();
        } catch {
          // The first error is the one worth reporting; SQLite rolls back on close anyway.
        }
      }
      throw e;
    } finally {
      tx.end();
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

  /** PRAGMA integrity_check: "ok" or the problems SQLite found. */
  integrityCheck(): string[] {
    const rows = this.run("checking the vault file", (c) => c.db.pragma("integrity_check") as { integrity_check: string }[]);
    return rows.map((r) => r.integrity_check);
  }

  /** A consistent copy of the whole database (still encrypted, committed data only), via SQLite's backup API. */
  async backupTo(file: string): Promise<void> {
    try {
      await this.conn.db.backup(file);
    } catch (e) {
      throw translateSqliteError(e, "writing the backup");
    }
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.conn !== this.writer && this.conn.db.open) this.conn.db.close();
    if (this.writer.db.open) this.writer.db.close();
  }
}
