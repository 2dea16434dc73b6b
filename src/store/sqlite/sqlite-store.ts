import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import { AuthyError } from "../../errors.js";
import type {
  AuditQuery,
  AuditRow,
  KeySlotRow,
  PolicyRow,
  SecretRow,
  Store,
  StoreWriter,
  UnlockFailureRow,
  VaultRow,
  VersionRow,
} from "../store.js";
import { MIGRATIONS } from "./migrations.js";
import { translateSqliteError } from "./sqlite-errors.js";

/** 'AUTY': marks the file as an authy vault so that any other SQLite file is refused. */
const APPLICATION_ID = 0x41555459;
/** How long a writer waits for another process's transaction before saying "busy". */
export const BUSY_TIMEOUT_MS = 10_000;

export interface SqliteStoreOptions {
  /** Create the file (and schema) when missing; otherwise a missing file is NOT_INITIALIZED. */
  create?: boolean;
  readonly?: boolean;
}

type Row = Record<string, unknown>;

const bytes = (v: unknown): Uint8Array => v as Uint8Array;
const num = (v: unknown): number => v as number;
const numOrNull = (v: unknown): number | null => (v === null ? null : (v as number));

function toSecret(r: Row): SecretRow {
  return {
    path: r.path as string,
    namespace: r.namespace as string,
    type: r.type as string,
    tier: r.tier as string,
    description: r.description as string,
    tags: r.tags as string,
    expiresAt: numOrNull(r.expires_at),
    currentVersion: num(r.current_version),
    deletedAt: numOrNull(r.deleted_at),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    mac: bytes(r.mac),
  };
}

function toVersion(r: Row): VersionRow {
  return {
    path: r.path as string,
    version: num(r.version),
    type: r.type as string,
    tier: r.tier as string,
    sealed: bytes(r.sealed),
    wrappedDek: bytes(r.wrapped_dek),
    createdAt: num(r.created_at),
    actor: r.actor as string,
  };
}

function toAudit(r: Row): AuditRow {
  return {
    seq: num(r.seq),
    ts: num(r.ts),
    actor: r.actor as string,
    action: r.action as string,
    resource: r.resource as string,
    outcome: r.outcome as string,
    details: r.details as string,
    prevHash: bytes(r.prev_hash),
    hash: bytes(r.hash),
    mac: bytes(r.mac),
  };
}

function toSlot(r: Row): KeySlotRow {
  return {
    id: r.id as string,
    kind: r.kind as KeySlotRow["kind"],
    label: r.label as string,
    recipient: (r.recipient as string | null) ?? null,
    slot: bytes(r.slot),
    createdAt: num(r.created_at),
    mac: bytes(r.mac),
  };
}

/**
 * The embedded store: one SQLite file in WAL mode, synchronous=FULL so that a write we
 * reported is on disk, BEGIN IMMEDIATE so that writers queue on the file lock instead of
 * failing half-way with SQLITE_BUSY.
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite";
  private readonly db: Database.Database;
  /** Serializes write() calls within this process: the connection has one transaction. */
  private writeQueue: Promise<unknown> = Promise.resolve();

  private constructor(db: Database.Database) {
    this.db = db;
  }

  static open(file: string, options: SqliteStoreOptions = {}): SqliteStore {
    if (!options.create && !existsSync(file)) {
      throw new AuthyError("NOT_INITIALIZED", `no vault at ${file}`, { hint: "run `authy init` first" });
    }
    let db: Database.Database;
    try {
      db = new Database(file, { fileMustExist: !options.create, readonly: options.readonly ?? false });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "SQLITE_CANTOPEN") {
        throw new AuthyError("NOT_INITIALIZED", `no vault at ${file}`, { hint: "run `authy init` first" });
      }
      throw translateSqliteError(e, "opening the vault");
    }
    try {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      const appId = db.pragma("application_id", { simple: true }) as number;
      const version = db.pragma("user_version", { simple: true }) as number;
      if (appId !== APPLICATION_ID && !(appId === 0 && version === 0 && options.create)) {
        throw new AuthyError("INTEGRITY", `${file} is not an authy vault`, {
          hint: "point AUTHY_HOME at an authy vault, or restore one from a backup",
        });
      }
      if (!options.readonly) {
        db.pragma("journal_mode = WAL");
        db.pragma("synchronous = FULL");
        db.pragma("foreign_keys = ON");
      }
      const store = new SqliteStore(db);
      if (!options.readonly) store.migrate();
      return store;
    } catch (e) {
      db.close();
      throw translateSqliteError(e, "opening the vault");
    }
  }

  private migrate(): void {
    const current = this.db.pragma("user_version", { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new AuthyError("UNAVAILABLE", `this vault was written by a newer authy (schema ${current})`, {
        hint: "upgrade authy",
      });
    }
    if (current === MIGRATIONS.length) return;
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const again = this.db.pragma("user_version", { simple: true }) as number;
      for (let i = again; i < MIGRATIONS.length; i++) this.db.exec(MIGRATIONS[i]!);
      this.db.pragma(`application_id = ${APPLICATION_ID}`);
      this.db.pragma(`user_version = ${MIGRATIONS.length}`);
      this.db.exec("COMMIT");
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  private run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw translateSqliteError(e, what);
    }
  }

  private stmtCache = new Map<string, Database.Statement>();
  private stmt(sql: string): Database.Statement {
    let s = this.stmtCache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmtCache.set(sql, s);
    }
    return s;
  }

  async getVault(): Promise<VaultRow | null> {
    const r = this.run("reading the vault", () => this.stmt("SELECT * FROM vault WHERE id = 1").get() as Row | undefined);
    if (!r) return null;
    return {
      vaultId: bytes(r.vault_id),
      format: num(r.format),
      createdAt: num(r.created_at),
      listingMac: (r.listing_mac as Uint8Array | null) ?? null,
      mac: bytes(r.mac),
    };
  }

  async listSlots(): Promise<KeySlotRow[]> {
    const rows = this.run("reading key slots", () => this.stmt("SELECT * FROM key_slots ORDER BY created_at, id").all() as Row[]);
    return rows.map(toSlot);
  }

  async getSecret(path: string): Promise<SecretRow | null> {
    const r = this.run("reading a secret", () => this.stmt("SELECT * FROM secrets WHERE path = ?").get(path) as Row | undefined);
    return r ? toSecret(r) : null;
  }

  async listSecrets(): Promise<SecretRow[]> {
    const rows = this.run("listing secrets", () => this.stmt("SELECT * FROM secrets ORDER BY path").all() as Row[]);
    return rows.map(toSecret);
  }

  async listSecretsIn(namespace: string): Promise<SecretRow[]> {
    const rows = this.run("listing secrets", () => this.stmt("SELECT * FROM secrets WHERE namespace = ? ORDER BY path").all(namespace) as Row[]);
    return rows.map(toSecret);
  }

  async listingText(): Promise<string> {
    const sql = `SELECT group_concat(
        length(CAST(path AS BLOB)) || ':' || path || char(31) || type || char(31) || tier || char(31) ||
        current_version || char(31) || coalesce(deleted_at, '') || char(31) || updated_at || char(31) ||
        coalesce(expires_at, ''), char(10) ORDER BY path) AS text FROM secrets`;
    const text = this.run("listing secrets", () => this.stmt(sql).pluck().get() as string | null);
    return text ?? "";
  }

  async getVersion(path: string, version: number): Promise<VersionRow | null> {
    const r = this.run("reading a secret version", () =>
      this.stmt("SELECT * FROM secret_versions WHERE path = ? AND version = ?").get(path, version) as Row | undefined,
    );
    return r ? toVersion(r) : null;
  }

  async listVersions(path: string): Promise<VersionRow[]> {
    const rows = this.run("reading secret history", () =>
      this.stmt("SELECT * FROM secret_versions WHERE path = ? ORDER BY version").all(path) as Row[],
    );
    return rows.map(toVersion);
  }

  async auditHead(): Promise<AuditRow | null> {
    const r = this.run("reading the audit log", () => this.stmt("SELECT * FROM audit ORDER BY seq DESC LIMIT 1").get() as Row | undefined);
    return r ? toAudit(r) : null;
  }

  async listAudit(q: AuditQuery): Promise<AuditRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.afterSeq !== undefined) (where.push("seq > ?"), args.push(q.afterSeq));
    if (q.action !== undefined) (where.push("action = ?"), args.push(q.action));
    if (q.actor !== undefined) (where.push("actor = ?"), args.push(q.actor));
    if (q.since !== undefined) (where.push("ts >= ?"), args.push(q.since));
    if (q.until !== undefined) (where.push("ts <= ?"), args.push(q.until));
    if (q.resourcePrefix !== undefined) {
      where.push("(resource = ? OR substr(resource, 1, ?) = ?)");
      args.push(q.resourcePrefix, q.resourcePrefix.length + 1, q.resourcePrefix + "/");
    }
    const sql =
      `SELECT * FROM audit${where.length ? " WHERE " + where.join(" AND ") : ""}` +
      ` ORDER BY seq ${q.descending ? "DESC" : "ASC"}${q.limit !== undefined ? " LIMIT ?" : ""}`;
    if (q.limit !== undefined) args.push(q.limit);
    const rows = this.run("reading the audit log", () => this.db.prepare(sql).all(...args) as Row[]);
    return rows.map(toAudit);
  }

  async listUnlockFailures(): Promise<UnlockFailureRow[]> {
    const rows = this.run("reading unlock failures", () => this.stmt("SELECT * FROM unlock_failures ORDER BY id").all() as Row[]);
    return rows.map((r) => ({ id: num(r.id), ts: num(r.ts), method: r.method as string }));
  }

  async getPolicy(): Promise<PolicyRow | null> {
    const r = this.run("reading the policy", () => this.stmt("SELECT * FROM policy WHERE id = 1").get() as Row | undefined);
    return r ? { document: r.document as string, updatedAt: num(r.updated_at), mac: bytes(r.mac) } : null;
  }

  async recordUnlockFailure(ts: number, method: string): Promise<void> {
    this.run("recording a failed unlock", () => this.stmt("INSERT INTO unlock_failures (ts, method) VALUES (?, ?)").run(ts, method));
  }

  write<T>(fn: (tx: StoreWriter) => Promise<T>): Promise<T> {
    const next = this.writeQueue.then(() => this.transaction(fn));
    this.writeQueue = next.catch(() => undefined);
    return next;
  }

  private async transaction<T>(fn: (tx: StoreWriter) => Promise<T>): Promise<T> {
    this.run("starting a write", () => this.stmt("BEGIN IMMEDIATE").run());
    let result: T;
    try {
      result = await fn(this.writer);
    } catch (e) {
      if (this.db.inTransaction) this.stmt("ROLLBACK").run();
      throw e;
    }
    try {
      this.stmt("COMMIT").run();
    } catch (e) {
      if (this.db.inTransaction) this.stmt("ROLLBACK").run();
      throw translateSqliteError(e, "committing a write");
    }
    return result;
  }

  private readonly writer: StoreWriter = Object.assign(Object.create(this) as SqliteStore, {
    putVault: async (row: VaultRow) => {
      this.run("writing the vault", () =>
        this.stmt(
          "INSERT INTO vault (id, vault_id, format, created_at, listing_mac, mac) VALUES (1, ?, ?, ?, ?, ?) " +
            "ON CONFLICT (id) DO UPDATE SET vault_id = excluded.vault_id, format = excluded.format, " +
            "created_at = excluded.created_at, listing_mac = excluded.listing_mac, mac = excluded.mac",
        ).run(row.vaultId, row.format, row.createdAt, row.listingMac, row.mac),
      );
    },
    setListingMac: async (mac: Uint8Array) => {
      this.run("writing the vault", () => this.stmt("UPDATE vault SET listing_mac = ? WHERE id = 1").run(mac));
    },
    putSlot: async (row: KeySlotRow) => {
      this.run("writing a key slot", () =>
        this.stmt(
          "INSERT OR REPLACE INTO key_slots (id, kind, label, recipient, slot, created_at, mac) VALUES (?, ?, ?, ?, ?, ?, ?)",
        ).run(row.id, row.kind, row.label, row.recipient, row.slot, row.createdAt, row.mac),
      );
    },
    deleteSlot: async (id: string) => {
      this.run("removing a key slot", () => this.stmt("DELETE FROM key_slots WHERE id = ?").run(id));
    },
    putSecret: async (r: SecretRow) => {
      this.run("writing a secret", () =>
        this.stmt(
          "INSERT OR REPLACE INTO secrets (path, namespace, type, tier, description, tags, expires_at, current_version, " +
            "deleted_at, created_at, updated_at, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ).run(r.path, r.namespace, r.type, r.tier, r.description, r.tags, r.expiresAt, r.currentVersion, r.deletedAt, r.createdAt, r.updatedAt, r.mac),
      );
    },
    deleteSecret: async (path: string) => {
      this.run("purging a secret", () => {
        this.stmt("DELETE FROM secret_versions WHERE path = ?").run(path);
        this.stmt("DELETE FROM secrets WHERE path = ?").run(path);
      });
    },
    putVersion: async (r: VersionRow) => {
      this.run("writing a secret version", () =>
        this.stmt(
          "INSERT OR REPLACE INTO secret_versions (path, version, type, tier, sealed, wrapped_dek, created_at, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        ).run(r.path, r.version, r.type, r.tier, r.sealed, r.wrappedDek, r.createdAt, r.actor),
      );
    },
    appendAudit: async (r: AuditRow) => {
      this.run("writing the audit log", () =>
        this.stmt(
          "INSERT INTO audit (seq, ts, actor, action, resource, outcome, details, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ).run(r.seq, r.ts, r.actor, r.action, r.resource, r.outcome, r.details, r.prevHash, r.hash, r.mac),
      );
    },
    putPolicy: async (row: PolicyRow) => {
      this.run("writing the policy", () =>
        this.stmt(
          "INSERT INTO policy (id, document, updated_at, mac) VALUES (1, ?, ?, ?) " +
            "ON CONFLICT (id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at, mac = excluded.mac",
        ).run(row.document, row.updatedAt, row.mac),
      );
    },
    clearUnlockFailures: async (ids: number[]) => {
      this.run("clearing unlock failures", () => {
        const del = this.stmt("DELETE FROM unlock_failures WHERE id = ?");
        for (const id of ids) del.run(id);
      });
    },
  });

  /** PRAGMA integrity_check: "ok" or the problems SQLite found. */
  integrityCheck(): string[] {
    const rows = this.run("checking the vault file", () => this.db.pragma("integrity_check") as { integrity_check: string }[]);
    return rows.map((r) => r.integrity_check);
  }

  /** A consistent copy of the whole database (still encrypted), via SQLite's backup API. */
  async backupTo(file: string): Promise<void> {
    try {
      await this.db.backup(file);
    } catch (e) {
      throw translateSqliteError(e, "writing the backup");
    }
  }

  async close(): Promise<void> {
    await this.writeQueue;
    if (this.db.open) this.db.close();
  }
}
