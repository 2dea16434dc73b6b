import type Database from "better-sqlite3";
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
import { AUDIT_AGENT_EXPR } from "./migrations.js";
import { translateSqliteError } from "./sqlite-errors.js";

/** One better-sqlite3 connection with its prepared statements, which are tied to it. */
export class Connection {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly db: Database.Database) {}

  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }
}

type Row = Record<string, unknown>;

const num = (v: unknown): number => v as number;
const numOrNull = (v: unknown): number | null => (v === null ? null : (v as number));
const text = (v: unknown): string => v as string;
const bytes = (v: unknown): Uint8Array => v as Uint8Array;

function toAgent(r: Row): AgentRow {
  return {
    name: text(r.name),
    id: text(r.id),
    keyHash: bytes(r.key_hash),
    scope: text(r.scope),
    description: text(r.description),
    createdAt: num(r.created_at),
    revokedAt: numOrNull(r.revoked_at),
    mac: bytes(r.mac),
  };
}

function toMember(r: Row): MemberRow {
  return {
    name: text(r.name),
    id: text(r.id),
    keyHash: bytes(r.key_hash),
    role: text(r.role),
    scope: text(r.scope),
    createdAt: num(r.created_at),
    keyCreatedAt: num(r.key_created_at),
    revokedAt: numOrNull(r.revoked_at),
    mac: bytes(r.mac),
  };
}

function toToken(r: Row): TokenRow {
  return {
    id: text(r.id),
    secretHash: bytes(r.secret_hash),
    agent: r.agent === null ? null : text(r.agent),
    scope: text(r.scope),
    label: text(r.label),
    createdAt: num(r.created_at),
    expiresAt: num(r.expires_at),
    maxUses: numOrNull(r.max_uses),
    uses: num(r.uses),
    revokedAt: numOrNull(r.revoked_at),
    instance: text(r.instance),
    parent: r.parent === null ? null : text(r.parent),
    pid: numOrNull(r.pid),
    mac: bytes(r.mac),
  };
}

const textOrNull = (v: unknown): string | null => (v === null ? null : (v as string));

function toApproval(r: Row): ApprovalRow {
  return {
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
  };
}

function toVault(r: Row): VaultRow {
  return {
    vaultId: bytes(r.vault_id),
    format: num(r.format),
    createdAt: num(r.created_at),
    listingMac: r.listing_mac === null ? null : bytes(r.listing_mac),
    stateMac: r.state_mac === null ? null : bytes(r.state_mac),
    unlockMark: num(r.unlock_mark),
    mac: bytes(r.mac),
  };
}

function toSlot(r: Row): KeySlotRow {
  return {
    id: text(r.id),
    kind: r.kind as KeySlotRow["kind"],
    label: text(r.label),
    recipient: r.recipient === null ? null : text(r.recipient),
    slot: bytes(r.slot),
    createdAt: num(r.created_at),
    mac: bytes(r.mac),
  };
}

function toSecret(r: Row): SecretRow {
  return {
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
  };
}

function toVersion(r: Row): VersionRow {
  return {
    path: text(r.path),
    version: num(r.version),
    type: text(r.type),
    tier: text(r.tier),
    sealed: bytes(r.sealed),
    wrappedDek: bytes(r.wrapped_dek),
    createdAt: num(r.created_at),
    actor: text(r.actor),
  };
}

/**
 * A secret row joined with its current version's columns, read as an array in the order of
 * CURRENT_VERSION_COLUMNS (all the version's null if there is none). Arrays, not objects:
 * better-sqlite3 builds an object row by setting each of its 20 named columns from C++, which
 * cost `env export` of 1,000 secrets 34-38 ms of CPU in this query where arrays cost 25-29
 * (first run in a fresh process, 4 runs each on the loaded 2-core machine).
 *
 * The row's three blobs (its MAC, the version's wrapped data key and sealed value) come as
 * one, with the first two's lengths, and are cut apart here into views of it: better-sqlite3
 * copies every blob into a Buffer of its own, about 2.5 µs each, and three per secret were
 * a third of this query's time. 1,000 rows: 20-31 ms first in a fresh process, against 30-44
 * for three blobs a row (3 runs each, loaded 2-core machine).
 */
function toCurrent(r: unknown[]): CurrentRows {
  const blobs = bytes(r[19]);
  const macEnd = num(r[17]);
  const dekEnd = macEnd + num(r[18]);
  const part = (from: number, to: number) => new Uint8Array(blobs.buffer, blobs.byteOffset + from, to - from);
  return {
    secret: {
      path: text(r[0]),
      namespace: text(r[1]),
      type: text(r[2]),
      tier: text(r[3]),
      description: text(r[4]),
      tags: text(r[5]),
      expiresAt: numOrNull(r[6]),
      currentVersion: num(r[7]),
      deletedAt: numOrNull(r[8]),
      createdAt: num(r[9]),
      updatedAt: num(r[10]),
      mac: part(0, macEnd),
      listing: text(r[11]),
    },
    version:
      r[12] === null
        ? null
        : {
            path: text(r[0]),
            version: num(r[12]),
            type: text(r[13]),
            tier: text(r[14]),
            sealed: part(dekEnd, blobs.length),
            wrappedDek: part(macEnd, dekEnd),
            createdAt: num(r[15]),
            actor: text(r[16]),
          },
  };
}

function toAudit(r: Row): AuditRow {
  return {
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
  };
}

/** Hashes as hex text: a blob becomes a Buffer at about 1 µs each, a short string far cheaper. */
const AUDIT_CHAIN_SQL =
  "SELECT seq, ts, actor, action, resource, outcome, details, lower(hex(prev_hash)), lower(hex(hash)), lower(hex(mac))" +
  " FROM audit WHERE seq > ? ORDER BY seq LIMIT ?";

/**
 * A secret's columns and its current version's, prefixed v_; read by position in toCurrent().
 * The three blobs last, as one (their lengths before it): each length is of the value as a
 * blob, so a MAC stored as text by hand is cut where its bytes end, and fails to verify.
 */
const CURRENT_VERSION_COLUMNS = `
  s.path, s.namespace, s.type, s.tier, s.description, s.tags, s.expires_at, s.current_version,
  s.deleted_at, s.created_at, s.updated_at, s.listing, v.version AS v_version, v.type AS v_type, v.tier AS v_tier,
  v.created_at AS v_created_at, v.actor AS v_actor,
  coalesce(length(CAST(s.mac AS BLOB)), 0) AS mac_bytes, coalesce(length(CAST(v.wrapped_dek AS BLOB)), 0) AS dek_bytes,
  CAST(coalesce(s.mac, x'') || coalesce(v.wrapped_dek, x'') || coalesce(v.sealed, x'') AS BLOB) AS blobs`;

/** The secret rows of a JSON array of paths, in its order, each with its current version's row. */
const READ_CURRENT_SQL = `
  SELECT ${CURRENT_VERSION_COLUMNS}
  FROM json_each(?) AS j
  JOIN secrets AS s ON s.path = j.value
  LEFT JOIN secret_versions AS v ON v.path = s.path AND v.version = s.current_version
  ORDER BY j.key`;

/** The secret rows of one namespace, in path order, each with its current version's row. */
const READ_CURRENT_IN_SQL = `
  SELECT ${CURRENT_VERSION_COLUMNS}
  FROM secrets AS s
  LEFT JOIN secret_versions AS v ON v.path = s.path AND v.version = s.current_version
  WHERE s.namespace = ?
  ORDER BY s.path`;

/**
 * The stored listing lines, concatenated by SQLite in one pass (the store does not build them).
 * ORDER BY path uses the BINARY collation, i.e. memcmp of UTF-8: the byte order the contract
 * asks for; the table is clustered by path, so the inner query is one ordered scan and the
 * concatenation keeps that order.
 */
const LISTING_SQL = "SELECT group_concat(listing, char(10)) FROM (SELECT listing FROM secrets ORDER BY path)";

/** The key and MAC of each row of a bucket, in the bucket's order (StoreReader.stateRows). */
const STATE_SQL = {
  secrets: "SELECT path AS key, mac FROM secrets WHERE namespace = ? AND shard = ? ORDER BY path",
  agents: "SELECT name AS key, mac FROM agents ORDER BY name",
  members: "SELECT name AS key, mac FROM members ORDER BY name",
  slots: "SELECT id AS key, mac FROM key_slots ORDER BY id",
  policy: "SELECT '' AS key, mac FROM policy",
  settings: "SELECT '' AS key, mac FROM settings",
  tokens: "SELECT id AS key, mac FROM tokens WHERE substr(id, -1) = ? ORDER BY id",
  approvals: "SELECT id AS key, mac FROM approvals WHERE substr(id, -1) = ? ORDER BY id",
};

/** A bucket's STATE_SQL statement and its parameters. */
function stateSql(b: StateBucket): [string, unknown[]] {
  switch (b.table) {
    case "secrets":
      return [STATE_SQL.secrets, [b.namespace, b.shard]];
    case "tokens":
    case "approvals":
      return [STATE_SQL[b.table], [b.shard]];
    default:
      return [STATE_SQL[b.table], []];
  }
}

/**
 * A bucket's rows (STATE_SQL, same rows, same order) after one first row holding the change
 * token (SqliteStore.changeToken): one statement, so one snapshot, even for an empty bucket.
 */
export function stateAtSql(b: StateBucket): [string, unknown[]] {
  const [sql, args] = stateSql(b);
  return [
    `SELECT 0 AS o, (SELECT hex(state_mac) FROM vault WHERE id = 1) AS key, NULL AS mac UNION ALL SELECT 1, key, mac FROM (${sql}) ORDER BY o, key`,
    args,
  ];
}

/**
 * A bucket's text (Store.stateTextsAt: its STATE_SQL rows joined by SQLite, in their order)
 * beside the change token: one statement, so one snapshot, and one row even for an empty
 * bucket (group_concat of no rows is NULL). Every bucket's rows are ordered by their key,
 * which is unique in it. Measured on 1,000 secrets in 64 buckets: 3.6-4.0 ms against 14 ms
 * for the rows and their text built in JavaScript.
 */
export function stateTextAtSql(b: StateBucket): [string, unknown[]] {
  const [sql, args] = stateSql(b);
  const line = b.table === "secrets" ? "key || char(31) || lower(hex(mac))" : "lower(hex(mac))";
  return [`SELECT (SELECT hex(state_mac) FROM vault WHERE id = 1) AS token, group_concat(${line}, char(10) ORDER BY key) AS text FROM (${sql})`, args];
}

/**
 * StoreReader over one connection. The store reads through its own read connection (which
 * sees committed data only); a transaction reads through the write connection (which sees
 * its own writes). `check()` lets a transaction refuse use after it has ended.
 */
export class SqliteReader implements StoreReader {
  constructor(protected readonly conn: Connection) {}

  protected check(): void {}

  protected run<T>(doing: string, fn: (c: Connection) => T): T {
    this.check();
    try {
      return fn(this.conn);
    } catch (e) {
      throw translateSqliteError(e, doing);
    }
  }

  async getVault(): Promise<VaultRow | null> {
    const r = this.run("reading the vault", (c) => c.stmt("SELECT * FROM vault WHERE id = 1").get() as Row | undefined);
    return r ? toVault(r) : null;
  }

  async listSlots(): Promise<KeySlotRow[]> {
    const rows = this.run("reading key slots", (c) => c.stmt("SELECT * FROM key_slots ORDER BY created_at, id").all() as Row[]);
    return rows.map(toSlot);
  }

  async getSecret(path: string): Promise<SecretRow | null> {
    const r = this.run("reading a secret", (c) => c.stmt("SELECT * FROM secrets WHERE path = ?").get(path) as Row | undefined);
    return r ? toSecret(r) : null;
  }

  async listSecrets(): Promise<SecretRow[]> {
    const rows = this.run("listing secrets", (c) => c.stmt("SELECT * FROM secrets ORDER BY path").all() as Row[]);
    return rows.map(toSecret);
  }

  async listSecretsIn(namespace: string): Promise<SecretRow[]> {
    const rows = this.run("listing secrets", (c) => c.stmt("SELECT * FROM secrets WHERE namespace = ? ORDER BY path").all(namespace) as Row[]);
    return rows.map(toSecret);
  }

  async listingText(): Promise<string> {
    const listing = this.run("listing secrets", (c) => c.stmt(LISTING_SQL).pluck().get() as string | null);
    return listing ?? "";
  }

  async readCurrent(paths: readonly string[]): Promise<CurrentRows[]> {
    if (paths.length === 0) return [];
    return this.run("reading secrets", (c) => c.stmt(READ_CURRENT_SQL).raw(true).all(JSON.stringify(paths)) as unknown[][]).map(toCurrent);
  }

  async readCurrentIn(namespace: string): Promise<CurrentRows[]> {
    return this.run("reading secrets", (c) => c.stmt(READ_CURRENT_IN_SQL).raw(true).all(namespace) as unknown[][]).map(toCurrent);
  }

  async getVersion(path: string, version: number): Promise<VersionRow | null> {
    const r = this.run(
      "reading a secret version",
      (c) => c.stmt("SELECT * FROM secret_versions WHERE path = ? AND version = ?").get(path, version) as Row | undefined,
    );
    return r ? toVersion(r) : null;
  }

  async listVersions(path: string): Promise<VersionRow[]> {
    const rows = this.run("reading secret history", (c) => c.stmt("SELECT * FROM secret_versions WHERE path = ? ORDER BY version").all(path) as Row[]);
    return rows.map(toVersion);
  }

  async listVersionPaths(): Promise<{ path: string; versions: number }[]> {
    return this.run(
      "reading secret history",
      (c) => c.stmt("SELECT path, count(*) AS versions FROM secret_versions GROUP BY path ORDER BY path").all() as { path: string; versions: number }[],
    );
  }

  async auditHead(): Promise<AuditRow | null> {
    const r = this.run("reading the audit log", (c) => c.stmt("SELECT * FROM audit ORDER BY seq DESC LIMIT 1").get() as Row | undefined);
    return r ? toAudit(r) : null;
  }

  async listAudit(q: AuditQuery): Promise<AuditRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const when = (sql: string, ...values: unknown[]) => (where.push(sql), args.push(...values));
    if (q.afterSeq !== undefined) when("seq > ?", q.afterSeq);
    if (q.action !== undefined) when("action = ?", q.action);
    if (q.actor !== undefined) when("actor = ?", q.actor);
    // Written exactly as the index expression, so that SQLite uses audit_by_agent_ts.
    if (q.agent !== undefined) when(`${AUDIT_AGENT_EXPR} = ?`, q.agent);
    if (q.since !== undefined) when("ts >= ?", q.since);
    if (q.until !== undefined) when("ts <= ?", q.until);
    // "p" itself or anything under "p/": in byte order those are exactly "p/" <= r < "p0"
    // ('0' follows '/'). A character count (substr) would miscount astral characters.
    if (q.resourcePrefix !== undefined)
      when("(resource = ? OR (resource >= ? AND resource < ?))", q.resourcePrefix, `${q.resourcePrefix}/`, `${q.resourcePrefix}0`);
    if (q.limit !== undefined) args.push(q.limit);
    const dir = q.descending ? "DESC" : "ASC";
    // (ts, seq) is the order of every ts index (seq is the rowid each index entry ends with),
    // so "the newest 50 reads in the last hour" walks 50 index entries and sorts nothing.
    const order = q.order === "time" ? `ts ${dir}, seq ${dir}` : `seq ${dir}`;
    const sql = `SELECT * FROM audit${where.length ? ` WHERE ${where.join(" AND ")}` : ""}` + ` ORDER BY ${order}${q.limit !== undefined ? " LIMIT ?" : ""}`;
    const rows = this.run("reading the audit log", (c) => c.stmt(sql).all(...args) as Row[]);
    return rows.map(toAudit);
  }

  async listAuditChain(afterSeq: number, limit: number): Promise<AuditChainRow[]> {
    return this.run("reading the audit log", (c) => c.stmt(AUDIT_CHAIN_SQL).raw(true).all(afterSeq, limit) as AuditChainRow[]);
  }

  async listUnlockFailures(): Promise<UnlockFailureRow[]> {
    const rows = this.run("reading unlock failures", (c) => c.stmt("SELECT id, ts, method FROM unlock_failures ORDER BY id").all() as Row[]);
    return rows.map((r) => ({ id: num(r.id), ts: num(r.ts), method: text(r.method) }));
  }

  async unlockFailureCounter(): Promise<number> {
    const n = this.run("reading unlock failures", (c) => c.stmt("SELECT seq FROM sqlite_sequence WHERE name = 'unlock_failures'").pluck().get());
    return typeof n === "number" ? n : 0;
  }

  async stateRows(b: StateBucket): Promise<StateRow[]> {
    const [sql, args] = stateSql(b);
    return this.run("reading the vault state", (c) => c.stmt(sql).all(...args) as StateRow[]);
  }

  async listStateDigests(): Promise<StateDigestRow[]> {
    const rows = this.run("reading the vault state", (c) => c.stmt("SELECT bucket, digest FROM state_digests ORDER BY bucket").all() as Row[]);
    return rows.map((r) => ({ bucket: text(r.bucket), digest: bytes(r.digest) }));
  }

  async getAgent(name: string): Promise<AgentRow | null> {
    const r = this.run("reading an agent", (c) => c.stmt("SELECT * FROM agents WHERE name = ?").get(name) as Row | undefined);
    return r ? toAgent(r) : null;
  }

  async getAgentById(id: string): Promise<AgentRow | null> {
    const r = this.run("reading an agent", (c) => c.stmt("SELECT * FROM agents WHERE id = ?").get(id) as Row | undefined);
    return r ? toAgent(r) : null;
  }

  async listAgents(): Promise<AgentRow[]> {
    return (this.run("reading agents", (c) => c.stmt("SELECT * FROM agents ORDER BY name").all()) as Row[]).map(toAgent);
  }

  async getMember(name: string): Promise<MemberRow | null> {
    const r = this.run("reading a member", (c) => c.stmt("SELECT * FROM members WHERE name = ?").get(name) as Row | undefined);
    return r ? toMember(r) : null;
  }

  async getMemberById(id: string): Promise<MemberRow | null> {
    const r = this.run("reading a member", (c) => c.stmt("SELECT * FROM members WHERE id = ?").get(id) as Row | undefined);
    return r ? toMember(r) : null;
  }

  async listMembers(): Promise<MemberRow[]> {
    return (this.run("reading members", (c) => c.stmt("SELECT * FROM members ORDER BY name").all()) as Row[]).map(toMember);
  }

  async getToken(id: string): Promise<TokenRow | null> {
    const r = this.run("reading a token", (c) => c.stmt("SELECT * FROM tokens WHERE id = ?").get(id) as Row | undefined);
    return r ? toToken(r) : null;
  }

  async listTokens(): Promise<TokenRow[]> {
    return (this.run("reading tokens", (c) => c.stmt("SELECT * FROM tokens ORDER BY created_at, id").all()) as Row[]).map(toToken);
  }

  async getApproval(id: string): Promise<ApprovalRow | null> {
    const r = this.run("reading an approval", (c) => c.stmt("SELECT * FROM approvals WHERE id = ?").get(id) as Row | undefined);
    return r ? toApproval(r) : null;
  }

  async listApprovals(q: ApprovalQuery = {}): Promise<ApprovalRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const when = (clause: string, value: unknown) => {
      where.push(clause);
      args.push(value);
    };
    if (q.status !== undefined) when("status = ?", q.status);
    if (q.principal !== undefined) when("principal = ?", q.principal);
    if (q.path !== undefined) when("path = ?", q.path);
    const sql = `SELECT * FROM approvals${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at, id`;
    return (this.run("reading approvals", (c) => c.stmt(sql).all(...args)) as Row[]).map(toApproval);
  }

  async getSettings(): Promise<SettingsRow | null> {
    const r = this.run("reading the settings", (c) => c.stmt("SELECT * FROM settings WHERE id = 1").get() as Row | undefined);
    return r ? { document: text(r.document), updatedAt: num(r.updated_at), mac: bytes(r.mac) } : null;
  }

  async getPolicy(): Promise<PolicyRow | null> {
    const r = this.run("reading the policy", (c) => c.stmt("SELECT * FROM policy WHERE id = 1").get() as Row | undefined);
    return r ? { document: text(r.document), updatedAt: num(r.updated_at), mac: bytes(r.mac) } : null;
  }
}
