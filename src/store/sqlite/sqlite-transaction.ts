import type { AgentRow, ApprovalRow, AuditRow, KeySlotRow, MemberRow, PolicyRow, SecretRow, SettingsRow, StoreWriter, TokenRow, VaultRow, VersionRow } from "../store.js";
import { AuthyError } from "../../errors.js";
import { Connection, SqliteReader } from "./sqlite-reader.js";

/**
 * The writes of one `write()`. Refuses to be used once that write() has settled (its
 * statements would otherwise commit one by one, outside any transaction), and after any of
 * its statements failed: SQLite may have undone just that statement or the whole
 * transaction (SQLITE_FULL, SQLITE_IOERR), and either way committing the rest would leave
 * half an operation on disk, even when the caller caught the error.
 */
export class SqliteTransaction extends SqliteReader implements StoreWriter {
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
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows, as it was, what a statement of this transaction threw
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

  /** Throws if a statement of this write failed (even if the caller caught it): it must not commit. */
  checkUsable(): void {
    this.check();
  }

  async putVault(row: VaultRow): Promise<void> {
    this.run("writing the vault", (c) =>
      c
        .stmt(
          "INSERT INTO vault (id, vault_id, format, created_at, listing_mac, state_mac, unlock_mark, mac) VALUES (1, ?, ?, ?, ?, ?, ?, ?) " +
            "ON CONFLICT (id) DO UPDATE SET vault_id = excluded.vault_id, format = excluded.format, " +
            "created_at = excluded.created_at, listing_mac = excluded.listing_mac, state_mac = excluded.state_mac, " +
            "unlock_mark = excluded.unlock_mark, mac = excluded.mac",
        )
        .run(row.vaultId, row.format, row.createdAt, row.listingMac, row.stateMac, row.unlockMark, row.mac),
    );
  }

  async setState(stateMac: Uint8Array, unlockMark: number): Promise<void> {
    this.run("writing the vault", (c) => c.stmt("UPDATE vault SET state_mac = ?, unlock_mark = ? WHERE id = 1").run(stateMac, unlockMark));
  }

  async putStateDigest(bucket: string, digest: Uint8Array | null): Promise<void> {
    this.run("writing the vault state", (c) =>
      digest === null
        ? c.stmt("DELETE FROM state_digests WHERE bucket = ?").run(bucket)
        : c.stmt("INSERT OR REPLACE INTO state_digests (bucket, digest) VALUES (?, ?)").run(bucket, digest),
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
    await this.putSecrets([r]);
  }

  async putSecrets(rows: readonly SecretRow[]): Promise<void> {
    this.run("writing a secret", (c) => {
      const insert = c.stmt(
        "INSERT OR REPLACE INTO secrets (path, namespace, type, tier, description, tags, expires_at, current_version, " +
          "deleted_at, created_at, updated_at, mac, listing) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      );
      for (const r of rows) {
        insert.run(
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
        );
      }
    });
  }

  async deleteSecret(path: string): Promise<void> {
    this.run("purging a secret", (c) => {
      c.stmt("DELETE FROM secret_versions WHERE path = ?").run(path);
      c.stmt("DELETE FROM secrets WHERE path = ?").run(path);
    });
  }

  async putVersion(r: VersionRow): Promise<void> {
    await this.putVersions([r]);
  }

  async putVersions(rows: readonly VersionRow[]): Promise<void> {
    this.run("writing a secret version", (c) => {
      const insert = c.stmt(
        "INSERT OR REPLACE INTO secret_versions (path, version, type, tier, sealed, wrapped_dek, created_at, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      );
      for (const r of rows) insert.run(r.path, r.version, r.type, r.tier, r.sealed, r.wrappedDek, r.createdAt, r.actor);
    });
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

  async putSettings(row: SettingsRow): Promise<void> {
    this.run("writing the settings", (c) =>
      c
        .stmt(
          "INSERT INTO settings (id, document, updated_at, mac) VALUES (1, ?, ?, ?) " +
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

  async putMember(r: MemberRow): Promise<void> {
    this.run("writing a member", (c) =>
      c
        // An upsert on name (as putAgent): an id held by another member must fail, not replace it.
        .stmt(
          "INSERT INTO members (name, id, key_hash, role, scope, created_at, key_created_at, revoked_at, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) " +
            "ON CONFLICT (name) DO UPDATE SET id = excluded.id, key_hash = excluded.key_hash, role = excluded.role, scope = excluded.scope, " +
            "created_at = excluded.created_at, key_created_at = excluded.key_created_at, revoked_at = excluded.revoked_at, mac = excluded.mac",
        )
        .run(r.name, r.id, r.keyHash, r.role, r.scope, r.createdAt, r.keyCreatedAt, r.revokedAt, r.mac),
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
        ),
    );
  }

  /** Not part of StoreWriter: failed unlocks are recorded by the store, outside the chain. */
  recordUnlockFailure(ts: number, method: string): void {
    this.run("recording a failed unlock", (c) => c.stmt("INSERT INTO unlock_failures (ts, method) VALUES (?, ?)").run(ts, method));
  }
}
