import type pg from "pg";
import { AuthyError } from "../../errors.js";
import {
  stateShard,
  type AgentRow,
  type MemberRow,
  type ApprovalRow,
  type AuditRow,
  type KeySlotRow,
  type PolicyRow,
  type SecretRow,
  type SettingsRow,
  type StoreWriter,
  type TokenRow,
  type VaultRow,
  type VersionRow,
} from "../store.js";
import { translatePostgresError } from "./postgres-errors.js";
import { PostgresReader, type Row } from "./postgres-reader.js";

/** Rows per multi-row INSERT: keeps one statement's parameters well under PostgreSQL's 65,535. */
const BATCH_ROWS = 1000;

const SECRET_INSERT =
  "INSERT INTO secrets (path, namespace, type, tier, description, tags, expires_at, current_version, deleted_at, created_at, updated_at, mac, listing, shard) " +
  "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], " +
  "$11::bigint[], $12::bytea[], $13::text[], $14::int[]) " +
  "ON CONFLICT (path) DO UPDATE SET namespace = excluded.namespace, type = excluded.type, tier = excluded.tier, description = excluded.description, " +
  "tags = excluded.tags, expires_at = excluded.expires_at, current_version = excluded.current_version, deleted_at = excluded.deleted_at, " +
  "created_at = excluded.created_at, updated_at = excluded.updated_at, mac = excluded.mac, listing = excluded.listing, shard = excluded.shard";

const VERSION_INSERT =
  "INSERT INTO secret_versions (path, version, type, tier, sealed, wrapped_dek, created_at, actor) " +
  "SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bytea[], $6::bytea[], $7::bigint[], $8::text[]) " +
  "ON CONFLICT (path, version) DO UPDATE SET type = excluded.type, tier = excluded.tier, sealed = excluded.sealed, " +
  "wrapped_dek = excluded.wrapped_dek, created_at = excluded.created_at, actor = excluded.actor";

/**
 * The last row for each key, in the order of their last put: one statement may not upsert a
 * row twice, and the batch methods promise that a later row replaces an earlier one.
 */
function lastPerKey<T>(rows: readonly T[], key: (r: T) => string): T[] {
  const last = new Map<string, T>();
  for (const r of rows) {
    const k = key(r);
    last.delete(k);
    last.set(k, r);
  }
  return last.size === rows.length ? [...rows] : [...last.values()];
}

/** Column arrays for an unnest() insert: rows[i][c] becomes columns[c][i]. */
function columns(rows: readonly unknown[][]): unknown[][] {
  const out: unknown[][] = rows.length === 0 ? [] : rows[0]!.map(() => []);
  for (const r of rows) r.forEach((v, c) => out[c]!.push(v));
  return out;
}

const AUDIT_INSERT =
  "INSERT INTO audit (seq, ts, actor, action, resource, outcome, details, prev_hash, hash, mac) " +
  "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bytea[], $9::bytea[], $10::bytea[])";

/** Inserts audit rows in one statement per BATCH_ROWS, on `query` (a client in the write transaction). */
export async function insertAudit(query: (sql: string, values: unknown[]) => Promise<unknown>, rows: readonly AuditRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH_ROWS) {
    const batch = rows.slice(i, i + BATCH_ROWS).map((r) => [r.seq, r.ts, r.actor, r.action, r.resource, r.outcome, r.details, r.prevHash, r.hash, r.mac]);
    await query(AUDIT_INSERT, columns(batch));
  }
}

/**
 * What a write() call shares with the others committed in its group (PostgresStore.drain):
 * the audit head as of the writes before it (read under the write lock when the group began),
 * and how its first statement starts its savepoint.
 */
export interface WriteGroup {
  head: AuditRow | null;
  /** Inserts the audit rows the group's earlier writes left to it, then takes this write's savepoint. */
  savepoint(): Promise<void>;
}

const newer = (a: AuditRow | null, b: AuditRow): AuditRow => (a === null || b.seq > a.seq ? b : a);

/**
 * The writes of one write() call, on the client that holds the write transaction. Refuses to
 * be used once its write() has settled, and after any of its statements failed: PostgreSQL
 * aborts the transaction on an error, and committing the rest would leave half an operation.
 *
 * A write that only appends to the audit log (what every audited read does) runs no statement
 * of its own: its entries are handed to the group and inserted with the others' in one
 * statement before the COMMIT, and there is nothing to undo if it fails. Its first other
 * statement takes its savepoint (after the group's entries so far are inserted, outside it)
 * and inserts its own entries inside it: from then on it is a write like any other.
 */
export class PostgresTransaction extends PostgresReader implements StoreWriter {
  private open = true;
  private failure: Error | undefined;
  /** This write's savepoint being taken (at its first statement), then taken; null before. */
  private starting: Promise<void> | null = null;
  /** Its audit entries not yet inserted (only before it has started). */
  readonly deferred: AuditRow[] = [];
  /** The newest audit entry it appended, if any. */
  appended: AuditRow | null = null;

  constructor(
    client: Pick<pg.PoolClient, "query">,
    private readonly group: WriteGroup,
  ) {
    super(client);
  }

  /** Whether a statement of this write has run (so its savepoint must be released or rolled back). */
  get hasStarted(): boolean {
    return this.starting !== null;
  }

  /** Statements of one write may be asked for at once: every one waits for the savepoint. */
  protected override async rows(doing: string, sql: string, values: unknown[] = [], rowMode?: "array"): Promise<Row[]> {
    this.check();
    this.starting ??= this.start();
    await this.starting;
    return super.rows(doing, sql, values, rowMode);
  }

  private async start(): Promise<void> {
    try {
      await this.group.savepoint();
    } catch (e) {
      throw this.failed(translatePostgresError(e, "starting a write"));
    }
    const mine = this.deferred.splice(0);
    await insertAudit((q, v) => super.rows("writing the audit log", q, v), mine);
  }

  override async auditHead(): Promise<AuditRow | null> {
    this.check();
    return this.appended ?? this.group.head;
  }

  get active(): boolean {
    return this.open;
  }

  end(): void {
    this.open = false;
  }

  protected override check(): void {
    if (!this.open) throw new AuthyError("INTERNAL", "a store transaction was used after its write() had finished");
    if (this.failure !== undefined) throw this.failure;
  }

  protected override failed(e: Error): Error {
    this.failure ??= e;
    return e;
  }

  /** Throws if a statement of this write failed (even if the caller caught it): it must not commit. */
  checkUsable(): void {
    this.check();
  }

  private async exec(doing: string, sql: string, values: unknown[] = []): Promise<void> {
    await this.rows(doing, sql, values);
  }

  async putVault(r: VaultRow): Promise<void> {
    await this.exec(
      "writing the vault",
      "INSERT INTO vault (id, vault_id, format, created_at, listing_mac, state_mac, unlock_mark, mac) VALUES (1, $1, $2, $3, $4, $5, $6, $7) " +
        "ON CONFLICT (id) DO UPDATE SET vault_id = excluded.vault_id, format = excluded.format, created_at = excluded.created_at, " +
        "listing_mac = excluded.listing_mac, state_mac = excluded.state_mac, unlock_mark = excluded.unlock_mark, mac = excluded.mac",
      [r.vaultId, r.format, r.createdAt, r.listingMac, r.stateMac, r.unlockMark, r.mac],
    );
  }

  async setListingMac(mac: Uint8Array): Promise<void> {
    await this.exec("writing the vault", "UPDATE vault SET listing_mac = $1 WHERE id = 1", [mac]);
  }

  async setState(stateMac: Uint8Array, unlockMark: number): Promise<void> {
    await this.exec("writing the vault", "UPDATE vault SET state_mac = $1, unlock_mark = $2 WHERE id = 1", [stateMac, unlockMark]);
  }

  async putStateDigest(bucket: string, digest: Uint8Array | null): Promise<void> {
    if (digest === null) await this.exec("writing the vault state", "DELETE FROM state_digests WHERE bucket = $1", [bucket]);
    else {
      await this.exec(
        "writing the vault state",
        "INSERT INTO state_digests (bucket, digest) VALUES ($1, $2) ON CONFLICT (bucket) DO UPDATE SET digest = excluded.digest",
        [bucket, digest],
      );
    }
  }

  async putSlot(r: KeySlotRow): Promise<void> {
    await this.exec(
      "writing a key slot",
      "INSERT INTO key_slots (id, kind, label, recipient, slot, created_at, mac) VALUES ($1, $2, $3, $4, $5, $6, $7) " +
        "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, label = excluded.label, recipient = excluded.recipient, slot = excluded.slot, " +
        "created_at = excluded.created_at, mac = excluded.mac",
      [r.id, r.kind, r.label, r.recipient, r.slot, r.createdAt, r.mac],
    );
  }

  async deleteSlot(id: string): Promise<void> {
    await this.exec("removing a key slot", "DELETE FROM key_slots WHERE id = $1", [id]);
  }

  async putSecret(r: SecretRow): Promise<void> {
    await this.putSecrets([r]);
  }

  async putSecrets(given: readonly SecretRow[]): Promise<void> {
    const rows = lastPerKey(given, (r) => r.path);
    for (let i = 0; i < rows.length; i += BATCH_ROWS) {
      const batch = rows
        .slice(i, i + BATCH_ROWS)
        .map((r) => [
          r.path,
          r.namespace,
          r.type,
          r.tier,
          r.description,
          r.tags,
          r.expiresAt,
          r.currentVersion,
          r.deletedAt,
          r.createdAt,
          r.updatedAt,
          r.mac,
          r.listing,
          stateShard(r.path),
        ]);
      await this.exec("writing a secret", SECRET_INSERT, columns(batch));
    }
  }

  async deleteSecret(path: string): Promise<void> {
    await this.exec("purging a secret", "DELETE FROM secret_versions WHERE path = $1", [path]);
    await this.exec("purging a secret", "DELETE FROM secrets WHERE path = $1", [path]);
  }

  async putVersion(r: VersionRow): Promise<void> {
    await this.putVersions([r]);
  }

  async putVersions(given: readonly VersionRow[]): Promise<void> {
    const rows = lastPerKey(given, (r) => `${r.version}/${r.path}`);
    for (let i = 0; i < rows.length; i += BATCH_ROWS) {
      const batch = rows.slice(i, i + BATCH_ROWS).map((r) => [r.path, r.version, r.type, r.tier, r.sealed, r.wrappedDek, r.createdAt, r.actor]);
      await this.exec("writing a secret version", VERSION_INSERT, columns(batch));
    }
  }

  async appendAudit(r: AuditRow): Promise<void> {
    this.check();
    if (this.starting !== null) {
      await this.exec(
        "writing the audit log",
        "INSERT INTO audit (seq, ts, actor, action, resource, outcome, details, prev_hash, hash, mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        [r.seq, r.ts, r.actor, r.action, r.resource, r.outcome, r.details, r.prevHash, r.hash, r.mac],
      );
    } else {
      this.deferred.push(r);
    }
    this.appended = newer(this.appended ?? this.group.head, r);
  }

  async clearUnlockFailures(ids: number[]): Promise<void> {
    if (ids.length > 0) await this.exec("clearing unlock failures", "DELETE FROM unlock_failures WHERE id = ANY($1::bigint[])", [ids]);
  }

  async putPolicy(r: PolicyRow): Promise<void> {
    await this.exec(
      "writing the policy",
      "INSERT INTO policy (id, document, updated_at, mac) VALUES (1, $1, $2, $3) " +
        "ON CONFLICT (id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at, mac = excluded.mac",
      [r.document, r.updatedAt, r.mac],
    );
  }

  async putSettings(r: SettingsRow): Promise<void> {
    await this.exec(
      "writing the settings",
      "INSERT INTO settings (id, document, updated_at, mac) VALUES (1, $1, $2, $3) " +
        "ON CONFLICT (id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at, mac = excluded.mac",
      [r.document, r.updatedAt, r.mac],
    );
  }

  async putAgent(r: AgentRow): Promise<void> {
    // An upsert on name: an id held by another agent violates UNIQUE and fails, as it must.
    await this.exec(
      "writing an agent",
      "INSERT INTO agents (name, id, key_hash, scope, description, created_at, revoked_at, mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) " +
        "ON CONFLICT (name) DO UPDATE SET id = excluded.id, key_hash = excluded.key_hash, scope = excluded.scope, description = excluded.description, " +
        "created_at = excluded.created_at, revoked_at = excluded.revoked_at, mac = excluded.mac",
      [r.name, r.id, r.keyHash, r.scope, r.description, r.createdAt, r.revokedAt, r.mac],
    );
  }

  async putMember(r: MemberRow): Promise<void> {
    // An upsert on name: an id held by another member violates UNIQUE and fails, as it must.
    await this.exec(
      "writing a member",
      "INSERT INTO members (name, id, key_hash, role, scope, created_at, key_created_at, revoked_at, mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) " +
        "ON CONFLICT (name) DO UPDATE SET id = excluded.id, key_hash = excluded.key_hash, role = excluded.role, scope = excluded.scope, " +
        "created_at = excluded.created_at, key_created_at = excluded.key_created_at, revoked_at = excluded.revoked_at, mac = excluded.mac",
      [r.name, r.id, r.keyHash, r.role, r.scope, r.createdAt, r.keyCreatedAt, r.revokedAt, r.mac],
    );
  }

  async putToken(r: TokenRow): Promise<void> {
    await this.exec(
      "writing a token",
      "INSERT INTO tokens (id, secret_hash, agent, scope, label, created_at, expires_at, max_uses, uses, revoked_at, instance, parent, pid, mac) " +
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) " +
        "ON CONFLICT (id) DO UPDATE SET secret_hash = excluded.secret_hash, agent = excluded.agent, scope = excluded.scope, label = excluded.label, " +
        "created_at = excluded.created_at, expires_at = excluded.expires_at, max_uses = excluded.max_uses, uses = excluded.uses, " +
        "revoked_at = excluded.revoked_at, instance = excluded.instance, parent = excluded.parent, pid = excluded.pid, mac = excluded.mac",
      [r.id, r.secretHash, r.agent, r.scope, r.label, r.createdAt, r.expiresAt, r.maxUses, r.uses, r.revokedAt, r.instance, r.parent, r.pid, r.mac],
    );
  }

  async putApproval(r: ApprovalRow): Promise<void> {
    await this.exec(
      "writing an approval",
      "INSERT INTO approvals (id, principal, agent, token, action, path, tier, reason, status, created_at, expires_at, decided_at, decision_reason, " +
        "grant_kind, grant_until, used_at, mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) " +
        "ON CONFLICT (id) DO UPDATE SET principal = excluded.principal, agent = excluded.agent, token = excluded.token, action = excluded.action, " +
        "path = excluded.path, tier = excluded.tier, reason = excluded.reason, status = excluded.status, created_at = excluded.created_at, " +
        "expires_at = excluded.expires_at, decided_at = excluded.decided_at, decision_reason = excluded.decision_reason, " +
        "grant_kind = excluded.grant_kind, grant_until = excluded.grant_until, used_at = excluded.used_at, mac = excluded.mac",
      [
        r.id,
        r.principal,
        r.agent,
        r.token,
        r.action,
        r.path,
        r.tier,
        r.reason,
        r.status,
        r.createdAt,
        r.expiresAt,
        r.decidedAt,
        r.decisionReason,
        r.grantKind,
        r.grantUntil,
        r.usedAt,
        r.mac,
      ],
    );
  }
}
