import type pg from "pg";
import type {
  AgentRow,
  MemberRow,
  ApprovalQuery,
  ApprovalRow,
  AuditChainRow,
  AuditQuery,
  AuditRow,
  CurrentRows,
  KeySlotRow,
  PolicyRow,
  SettingsRow,
  StateBucket,
  StateDigestRow,
  StateRow,
  TokenRow,
  SecretRow,
  StoreReader,
  UnlockFailureRow,
  VaultRow,
  VersionRow,
} from "../store.js";
import { translatePostgresError } from "./postgres-errors.js";
import { statementName } from "./postgres-prepared.js";
import { AUDIT_AGENT_EXPR } from "./postgres-schema.js";

/** What a read goes through: the pool (committed data only) or a transaction's client. */
type Queryable = Pick<pg.Pool, "query"> | Pick<pg.PoolClient, "query">;

export type Row = Record<string, unknown>;

// BIGINT arrives as a number (the pool's type parser, postgres-store.ts); BYTEA as a Buffer.
const num = (v: unknown): number => v as number;
const numOrNull = (v: unknown): number | null => (v === null ? null : (v as number));
const text = (v: unknown): string => v as string;
const textOrNull = (v: unknown): string | null => (v === null ? null : (v as string));
const bytes = (v: unknown): Uint8Array => v as Uint8Array;
const bytesOrNull = (v: unknown): Uint8Array | null => (v === null ? null : (v as Uint8Array));

const toVault = (r: Row): VaultRow => ({
  vaultId: bytes(r.vault_id),
  format: num(r.format),
  createdAt: num(r.created_at),
  listingMac: bytesOrNull(r.listing_mac),
  stateMac: bytesOrNull(r.state_mac),
  unlockMark: num(r.unlock_mark),
  mac: bytes(r.mac),
});

const toSlot = (r: Row): KeySlotRow => ({
  id: text(r.id),
  kind: r.kind as KeySlotRow["kind"],
  label: text(r.label),
  recipient: textOrNull(r.recipient),
  slot: bytes(r.slot),
  createdAt: num(r.created_at),
  mac: bytes(r.mac),
});

const toSecret = (r: Row): SecretRow => ({
  path: text(r.path),
  namespace: text(r.namespace),
  type: text(r.type),
  tier: text(r.tier),
  description: text(r.description),
  tags: text(r.tags),
  expiresAt: numOrNull(r.expires_at),
  currentVersion: num(r.current_version),
  deletedAt: numOrNull(r.deleted_at),
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at),
  mac: bytes(r.mac),
  listing: text(r.listing),
});

const toVersion = (r: Row): VersionRow => ({
  path: text(r.path),
  version: num(r.version),
  type: text(r.type),
  tier: text(r.tier),
  sealed: bytes(r.sealed),
  wrappedDek: bytes(r.wrapped_dek),
  createdAt: num(r.created_at),
  actor: text(r.actor),
});

export const toCurrent = (r: Row): CurrentRows => ({
  secret: toSecret(r),
  version:
    r.v_version === null
      ? null
      : toVersion({
          path: r.path,
          version: r.v_version,
          type: r.v_type,
          tier: r.v_tier,
          sealed: r.v_sealed,
          wrapped_dek: r.v_wrapped_dek,
          created_at: r.v_created_at,
          actor: r.v_actor,
        }),
});

export const toAudit = (r: Row): AuditRow => ({
  seq: num(r.seq),
  ts: num(r.ts),
  actor: text(r.actor),
  action: text(r.action),
  resource: text(r.resource),
  outcome: text(r.outcome),
  details: text(r.details),
  prevHash: bytes(r.prev_hash),
  hash: bytes(r.hash),
  mac: bytes(r.mac),
});

const toAgent = (r: Row): AgentRow => ({
  name: text(r.name),
  id: text(r.id),
  keyHash: bytes(r.key_hash),
  scope: text(r.scope),
  description: text(r.description),
  createdAt: num(r.created_at),
  revokedAt: numOrNull(r.revoked_at),
  mac: bytes(r.mac),
});

const toMember = (r: Row): MemberRow => ({
  name: text(r.name),
  id: text(r.id),
  keyHash: bytes(r.key_hash),
  role: text(r.role),
  scope: text(r.scope),
  createdAt: num(r.created_at),
  keyCreatedAt: num(r.key_created_at),
  revokedAt: numOrNull(r.revoked_at),
  mac: bytes(r.mac),
});

export const toToken = (r: Row): TokenRow => ({
  id: text(r.id),
  secretHash: bytes(r.secret_hash),
  agent: textOrNull(r.agent),
  scope: text(r.scope),
  label: text(r.label),
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  maxUses: numOrNull(r.max_uses),
  uses: num(r.uses),
  revokedAt: numOrNull(r.revoked_at),
  instance: text(r.instance),
  parent: textOrNull(r.parent),
  pid: numOrNull(r.pid),
  mac: bytes(r.mac),
});

const toApproval = (r: Row): ApprovalRow => ({
  id: text(r.id),
  principal: text(r.principal),
  agent: textOrNull(r.agent),
  token: text(r.token),
  action: text(r.action),
  path: text(r.path),
  tier: text(r.tier),
  reason: text(r.reason),
  status: text(r.status),
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  decidedAt: numOrNull(r.decided_at),
  decisionReason: textOrNull(r.decision_reason),
  grantKind: textOrNull(r.grant_kind),
  grantUntil: numOrNull(r.grant_until),
  usedAt: numOrNull(r.used_at),
  mac: bytes(r.mac),
});

const SECRET_COLUMNS = "path, namespace, type, tier, description, tags, expires_at, current_version, deleted_at, created_at, updated_at, mac, listing";

const CURRENT_VERSION_COLUMNS = `
  s.path, s.namespace, s.type, s.tier, s.description, s.tags, s.expires_at, s.current_version, s.deleted_at, s.created_at,
  s.updated_at, s.mac, s.listing, v.version AS v_version, v.type AS v_type, v.tier AS v_tier, v.sealed AS v_sealed,
  v.wrapped_dek AS v_wrapped_dek, v.created_at AS v_created_at, v.actor AS v_actor`;

/** The secret rows of an array of paths, in its order, each with its current version's row. */
export const READ_CURRENT_SQL = `
  SELECT ${CURRENT_VERSION_COLUMNS}
  FROM unnest($1::text[]) WITH ORDINALITY AS j(path, n)
  JOIN secrets AS s ON s.path = j.path
  LEFT JOIN secret_versions AS v ON v.path = s.path AND v.version = s.current_version
  ORDER BY j.n`;

const READ_CURRENT_IN_SQL = `
  SELECT ${CURRENT_VERSION_COLUMNS}
  FROM secrets AS s
  LEFT JOIN secret_versions AS v ON v.path = s.path AND v.version = s.current_version
  WHERE s.namespace = $1
  ORDER BY s.path`;

/** The stored listing lines joined in one pass by the database (the store does not build them). */
const LISTING_SQL = "SELECT coalesce(string_agg(listing, E'\\n' ORDER BY path), '') AS text FROM secrets";

/** Hashes as hex text, as the contract asks (what `audit verify` reads a million of). */
const AUDIT_CHAIN_SQL =
  "SELECT seq, ts, actor, action, resource, outcome, details, encode(prev_hash, 'hex'), encode(hash, 'hex'), encode(mac, 'hex')" +
  " FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2";

/** The key and MAC of each row of a bucket, in the bucket's order (StoreReader.stateRows). */
const STATE_SQL = {
  secrets: "SELECT path AS key, mac FROM secrets WHERE namespace = $1 AND shard = $2 ORDER BY path",
  agents: "SELECT name AS key, mac FROM agents ORDER BY name",
  members: "SELECT name AS key, mac FROM members ORDER BY name",
  slots: "SELECT id AS key, mac FROM key_slots ORDER BY id",
  policy: "SELECT '' AS key, mac FROM policy",
  settings: "SELECT '' AS key, mac FROM settings",
  tokens: "SELECT id AS key, mac FROM tokens WHERE right(id, 1) = $1 ORDER BY id",
  approvals: "SELECT id AS key, mac FROM approvals WHERE right(id, 1) = $1 ORDER BY id",
};

/**
 * StoreReader over the pool (each read sees the latest commit) or over a transaction's client
 * (which sees its own writes). Every query is parameterized: names are data, never SQL.
 */
export class PostgresReader implements StoreReader {
  constructor(protected readonly db: Queryable) {}

  /** Lets a transaction refuse use after it has ended. */
  protected check(): void {}

  protected async rows(doing: string, sql: string, values: unknown[] = [], rowMode?: "array"): Promise<Row[]> {
    this.check();
    try {
      return (await this.query(sql, values, rowMode)).rows as Row[];
    } catch (e) {
      throw this.failed(translatePostgresError(e, doing));
    }
  }

  /** One statement (PostgresStore coalesces the identical reads of concurrent callers). */
  protected query(sql: string, values: unknown[], rowMode?: "array"): Promise<pg.QueryResult> {
    const name = statementName(sql);
    return rowMode ? this.db.query({ name, text: sql, values, rowMode }) : this.db.query({ name, text: sql, values });
  }

  /** Hook for a transaction to remember that one of its statements failed. */
  protected failed(e: Error): Error {
    return e;
  }

  private async one(doing: string, sql: string, values: unknown[] = []): Promise<Row | null> {
    return (await this.rows(doing, sql, values))[0] ?? null;
  }

  async getVault(): Promise<VaultRow | null> {
    const r = await this.one("reading the vault", "SELECT * FROM vault WHERE id = 1");
    return r ? toVault(r) : null;
  }

  async listSlots(): Promise<KeySlotRow[]> {
    return (await this.rows("reading key slots", "SELECT * FROM key_slots ORDER BY created_at, id")).map(toSlot);
  }

  async getSecret(path: string): Promise<SecretRow | null> {
    const r = await this.one("reading a secret", `SELECT ${SECRET_COLUMNS} FROM secrets WHERE path = $1`, [path]);
    return r ? toSecret(r) : null;
  }

  async listSecrets(): Promise<SecretRow[]> {
    return (await this.rows("listing secrets", `SELECT ${SECRET_COLUMNS} FROM secrets ORDER BY path`)).map(toSecret);
  }

  async listSecretsIn(namespace: string): Promise<SecretRow[]> {
    return (await this.rows("listing secrets", `SELECT ${SECRET_COLUMNS} FROM secrets WHERE namespace = $1 ORDER BY path`, [namespace])).map(toSecret);
  }

  async listingText(): Promise<string> {
    return text((await this.one("listing secrets", LISTING_SQL))!.text);
  }

  async getVersion(path: string, version: number): Promise<VersionRow | null> {
    const r = await this.one("reading a secret version", "SELECT * FROM secret_versions WHERE path = $1 AND version = $2", [path, version]);
    return r ? toVersion(r) : null;
  }

  async readCurrent(paths: readonly string[]): Promise<CurrentRows[]> {
    if (paths.length === 0) return [];
    return (await this.rows("reading secrets", READ_CURRENT_SQL, [paths])).map(toCurrent);
  }

  async readCurrentIn(namespace: string): Promise<CurrentRows[]> {
    return (await this.rows("reading secrets", READ_CURRENT_IN_SQL, [namespace])).map(toCurrent);
  }

  async listVersions(path: string): Promise<VersionRow[]> {
    return (await this.rows("reading secret history", "SELECT * FROM secret_versions WHERE path = $1 ORDER BY version", [path])).map(toVersion);
  }

  async listVersionPaths(): Promise<{ path: string; versions: number }[]> {
    const rows = await this.rows("reading secret history", "SELECT path, count(*) AS versions FROM secret_versions GROUP BY path ORDER BY path");
    return rows.map((r) => ({ path: text(r.path), versions: num(r.versions) }));
  }

  async auditHead(): Promise<AuditRow | null> {
    const r = await this.one("reading the audit log", "SELECT * FROM audit ORDER BY seq DESC LIMIT 1");
    return r ? toAudit(r) : null;
  }

  async listAudit(q: AuditQuery): Promise<AuditRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const when = (sql: (...n: string[]) => string, ...values: unknown[]) => {
      const names = values.map((v) => (args.push(v), `$${args.length}`));
      where.push(sql(...names));
    };
    if (q.afterSeq !== undefined) when((a) => `seq > ${a}`, q.afterSeq);
    if (q.action !== undefined) when((a) => `action = ${a}`, q.action);
    if (q.actor !== undefined) when((a) => `actor = ${a}`, q.actor);
    // Written exactly as the index expression, so that the planner can use audit_by_agent_ts.
    if (q.agent !== undefined) when((a) => `${AUDIT_AGENT_EXPR} = ${a}`, q.agent);
    if (q.since !== undefined) when((a) => `ts >= ${a}`, q.since);
    if (q.until !== undefined) when((a) => `ts <= ${a}`, q.until);
    // "p" itself or anything under "p/": in byte order (COLLATE "C") exactly "p/" <= r < "p0".
    if (q.resourcePrefix !== undefined) {
      when((a, b, c) => `(resource = ${a} OR (resource >= ${b} AND resource < ${c}))`, q.resourcePrefix, `${q.resourcePrefix}/`, `${q.resourcePrefix}0`);
    }
    const dir = q.descending ? "DESC" : "ASC";
    const order = q.order === "time" ? `ts ${dir}, seq ${dir}` : `seq ${dir}`;
    let sql = `SELECT * FROM audit${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY ${order}`;
    if (q.limit !== undefined) {
      args.push(q.limit);
      sql += ` LIMIT $${args.length}`;
    }
    return (await this.rows("reading the audit log", sql, args)).map(toAudit);
  }

  async listAuditChain(afterSeq: number, limit: number): Promise<AuditChainRow[]> {
    return (await this.rows("reading the audit log", AUDIT_CHAIN_SQL, [afterSeq, limit], "array")) as unknown as AuditChainRow[];
  }

  async listUnlockFailures(): Promise<UnlockFailureRow[]> {
    const rows = await this.rows("reading unlock failures", "SELECT id, ts, method FROM unlock_failures ORDER BY id");
    return rows.map((r) => ({ id: num(r.id), ts: num(r.ts), method: text(r.method) }));
  }

  async unlockFailureCounter(): Promise<number> {
    const r = await this.one("reading unlock failures", "SELECT unlock_failures FROM counters WHERE id = 1");
    return r ? num(r.unlock_failures) : 0;
  }

  async stateRows(b: StateBucket): Promise<StateRow[]> {
    const rowsOf = async (sql: string, values: unknown[] = []) =>
      (await this.rows("reading the vault state", sql, values)).map((r) => ({ key: text(r.key), mac: bytes(r.mac) }));
    switch (b.table) {
      case "secrets":
        return rowsOf(STATE_SQL.secrets, [b.namespace, b.shard]);
      case "tokens":
      case "approvals":
        return rowsOf(STATE_SQL[b.table], [b.shard]);
      default:
        return rowsOf(STATE_SQL[b.table]);
    }
  }

  async listStateDigests(): Promise<StateDigestRow[]> {
    const rows = await this.rows("reading the vault state", "SELECT bucket, digest FROM state_digests ORDER BY bucket");
    return rows.map((r) => ({ bucket: text(r.bucket), digest: bytes(r.digest) }));
  }

  async getPolicy(): Promise<PolicyRow | null> {
    const r = await this.one("reading the policy", "SELECT document, updated_at, mac FROM policy WHERE id = 1");
    return r ? { document: text(r.document), updatedAt: num(r.updated_at), mac: bytes(r.mac) } : null;
  }

  async getSettings(): Promise<SettingsRow | null> {
    const r = await this.one("reading the settings", "SELECT document, updated_at, mac FROM settings WHERE id = 1");
    return r ? { document: text(r.document), updatedAt: num(r.updated_at), mac: bytes(r.mac) } : null;
  }

  async getAgent(name: string): Promise<AgentRow | null> {
    const r = await this.one("reading an agent", "SELECT * FROM agents WHERE name = $1", [name]);
    return r ? toAgent(r) : null;
  }

  async getAgentById(id: string): Promise<AgentRow | null> {
    const r = await this.one("reading an agent", "SELECT * FROM agents WHERE id = $1", [id]);
    return r ? toAgent(r) : null;
  }

  async listAgents(): Promise<AgentRow[]> {
    return (await this.rows("reading agents", "SELECT * FROM agents ORDER BY name")).map(toAgent);
  }

  async getMember(name: string): Promise<MemberRow | null> {
    const r = await this.one("reading a member", "SELECT * FROM members WHERE name = $1", [name]);
    return r ? toMember(r) : null;
  }

  async getMemberById(id: string): Promise<MemberRow | null> {
    const r = await this.one("reading a member", "SELECT * FROM members WHERE id = $1", [id]);
    return r ? toMember(r) : null;
  }

  async listMembers(): Promise<MemberRow[]> {
    return (await this.rows("reading members", "SELECT * FROM members ORDER BY name")).map(toMember);
  }

  async getToken(id: string): Promise<TokenRow | null> {
    const r = await this.one("reading a token", "SELECT * FROM tokens WHERE id = $1", [id]);
    return r ? toToken(r) : null;
  }

  async listTokens(): Promise<TokenRow[]> {
    return (await this.rows("reading tokens", "SELECT * FROM tokens ORDER BY created_at, id")).map(toToken);
  }

  async getApproval(id: string): Promise<ApprovalRow | null> {
    const r = await this.one("reading an approval", "SELECT * FROM approvals WHERE id = $1", [id]);
    return r ? toApproval(r) : null;
  }

  async listApprovals(q: ApprovalQuery = {}): Promise<ApprovalRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    for (const [column, value] of [
      ["status", q.status],
      ["principal", q.principal],
      ["path", q.path],
    ] as const) {
      if (value === undefined) continue;
      args.push(value);
      where.push(`${column} = $${args.length}`);
    }
    const sql = `SELECT * FROM approvals${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at, id`;
    return (await this.rows("reading approvals", sql, args)).map(toApproval);
  }
}
