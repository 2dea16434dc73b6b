import type pg from "pg";
import { AuthyError } from "../../errors.js";

/**
 * The PostgreSQL schema, as numbered migrations. Each runs in a transaction of its own with
 * its row in authy_migrations; all of them under one session advisory lock, so that servers
 * started at once migrate once: the first takes the lock and migrates, the others wait, then
 * find nothing left to do. Never edit a migration that has shipped: add a new one.
 *
 * Text that is sorted or compared is COLLATE "C" (byte order of UTF-8, as the Store contract
 * and SQLite's BINARY collation have it). Integers are BIGINT; bytes are BYTEA. The tables and
 * columns are SQLite's (sqlite/migrations.ts) as of its migration 9, with two differences: the
 * secrets' shard is a plain column the adapter fills from stateShard (store.ts), and the
 * unlock-failure ids come from a counter row updated in the same statement as the insert, so
 * an id is never handed out twice, even by a statement that rolled back.
 */

/** authy's advisory lock keys: (APP, MIGRATE) guards migrations, (APP, WRITE) every write(). */
export const LOCK_APP = 0x41555459; // 'AUTY'
const LOCK_MIGRATE = 1;
export const LOCK_WRITE = 2;

/**
 * The agent an audit actor speaks for (NAME for `agent:NAME` and `token:ID(NAME)`; NULL
 * otherwise), as SQLite's AUDIT_AGENT_EXPR. Migration 1 indexes it, and a query uses the
 * index only when it repeats it exactly: it must never change.
 */
export const AUDIT_AGENT_EXPR =
  "(CASE WHEN left(actor, 6) = 'agent:' THEN substr(actor, 7)" +
  " WHEN left(actor, 6) = 'token:' AND right(actor, 1) = ')' AND strpos(actor, '(') > 0" +
  " THEN substr(actor, strpos(actor, '(') + 1, length(actor) - strpos(actor, '(') - 1) END)";

export const MIGRATIONS: readonly string[] = [
  // 1: everything a vault holds, as SQLite has it after its migration 9.
  `
  CREATE TABLE vault (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    vault_id    BYTEA   NOT NULL,
    format      BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    listing_mac BYTEA,
    state_mac   BYTEA,
    unlock_mark BIGINT  NOT NULL DEFAULT 0,
    mac         BYTEA   NOT NULL
  );
  CREATE TABLE key_slots (
    id         TEXT COLLATE "C" PRIMARY KEY,
    kind       TEXT COLLATE "C" NOT NULL,
    label      TEXT COLLATE "C" NOT NULL,
    recipient  TEXT COLLATE "C",
    slot       BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    mac        BYTEA  NOT NULL
  );
  CREATE TABLE secrets (
    path            TEXT COLLATE "C" PRIMARY KEY,
    namespace       TEXT COLLATE "C" NOT NULL,
    type            TEXT COLLATE "C" NOT NULL,
    tier            TEXT COLLATE "C" NOT NULL,
    description     TEXT COLLATE "C" NOT NULL,
    tags            TEXT COLLATE "C" NOT NULL,
    expires_at      BIGINT,
    current_version BIGINT NOT NULL,
    deleted_at      BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    mac             BYTEA  NOT NULL,
    listing         TEXT COLLATE "C" NOT NULL,
    shard           INTEGER NOT NULL
  );
  CREATE INDEX secrets_by_namespace ON secrets (namespace, path);
  CREATE INDEX secrets_by_shard ON secrets (namespace, shard, path);
  CREATE TABLE secret_versions (
    path        TEXT COLLATE "C" NOT NULL,
    version     BIGINT NOT NULL,
    type        TEXT COLLATE "C" NOT NULL,
    tier        TEXT COLLATE "C" NOT NULL,
    sealed      BYTEA  NOT NULL,
    wrapped_dek BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL,
    actor       TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (path, version)
  );
  CREATE TABLE audit (
    seq       BIGINT PRIMARY KEY,
    ts        BIGINT NOT NULL,
    actor     TEXT COLLATE "C" NOT NULL,
    action    TEXT COLLATE "C" NOT NULL,
    resource  TEXT COLLATE "C" NOT NULL,
    outcome   TEXT COLLATE "C" NOT NULL,
    details   TEXT COLLATE "C" NOT NULL,
    prev_hash BYTEA  NOT NULL,
    hash      BYTEA  NOT NULL,
    mac       BYTEA  NOT NULL
  );
  CREATE INDEX audit_by_action_ts ON audit (action, ts, seq);
  CREATE INDEX audit_by_ts ON audit (ts, seq);
  CREATE INDEX audit_by_agent_ts ON audit (${AUDIT_AGENT_EXPR}, ts, seq);
  CREATE TABLE unlock_failures (
    id     BIGINT PRIMARY KEY,
    ts     BIGINT NOT NULL,
    method TEXT COLLATE "C" NOT NULL
  );
  CREATE TABLE counters (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    unlock_failures BIGINT NOT NULL
  );
  INSERT INTO counters (id, unlock_failures) VALUES (1, 0);
  CREATE TABLE policy (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    document   TEXT COLLATE "C" NOT NULL,
    updated_at BIGINT NOT NULL,
    mac        BYTEA  NOT NULL
  );
  CREATE TABLE settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    document   TEXT COLLATE "C" NOT NULL,
    updated_at BIGINT NOT NULL,
    mac        BYTEA  NOT NULL
  );
  CREATE TABLE agents (
    name        TEXT COLLATE "C" PRIMARY KEY,
    id          TEXT COLLATE "C" NOT NULL UNIQUE,
    key_hash    BYTEA  NOT NULL,
    scope       TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    mac         BYTEA  NOT NULL
  );
  CREATE TABLE tokens (
    id          TEXT COLLATE "C" PRIMARY KEY,
    secret_hash BYTEA  NOT NULL,
    agent       TEXT COLLATE "C",
    scope       TEXT COLLATE "C" NOT NULL,
    label       TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    max_uses    BIGINT,
    uses        BIGINT NOT NULL,
    revoked_at  BIGINT,
    instance    TEXT COLLATE "C" NOT NULL,
    parent      TEXT COLLATE "C",
    pid         BIGINT,
    mac         BYTEA  NOT NULL
  );
  CREATE INDEX tokens_by_agent ON tokens (agent);
  CREATE TABLE approvals (
    id              TEXT COLLATE "C" PRIMARY KEY,
    principal       TEXT COLLATE "C" NOT NULL,
    agent           TEXT COLLATE "C",
    token           TEXT COLLATE "C" NOT NULL,
    action          TEXT COLLATE "C" NOT NULL,
    path            TEXT COLLATE "C" NOT NULL,
    tier            TEXT COLLATE "C" NOT NULL,
    reason          TEXT COLLATE "C" NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    decided_at      BIGINT,
    decision_reason TEXT COLLATE "C",
    grant_kind      TEXT COLLATE "C",
    grant_until     BIGINT,
    used_at         BIGINT,
    mac             BYTEA  NOT NULL
  );
  CREATE INDEX approvals_by_principal ON approvals (principal, status);
  CREATE INDEX approvals_by_status ON approvals (status, created_at);
  CREATE TABLE state_digests (
    bucket TEXT COLLATE "C" PRIMARY KEY,
    digest BYTEA NOT NULL
  );
  `,
  // 2: members of a team server (src/vault/members.ts): people with a role and a personal
  // API key, stored as an HMAC; the id is the key's public part and survives a rotation.
  `
  CREATE TABLE members (
    name           TEXT COLLATE "C" PRIMARY KEY,
    id             TEXT COLLATE "C" NOT NULL UNIQUE,
    key_hash       BYTEA  NOT NULL,
    role           TEXT COLLATE "C" NOT NULL,
    scope          TEXT COLLATE "C" NOT NULL,
    created_at     BIGINT NOT NULL,
    key_created_at BIGINT NOT NULL,
    revoked_at     BIGINT,
    mac            BYTEA  NOT NULL
  );
  `,
];

/** Bookkeeping of applied migrations: one row each, with who applied it (a test reads it). */
const MIGRATIONS_TABLE = `
  CREATE TABLE IF NOT EXISTS authy_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at BIGINT  NOT NULL,
    applied_by TEXT    NOT NULL
  )`;

/**
 * Runs the migrations not yet applied, under the migration lock. Refuses a database that holds
 * tables of something else (it is not a vault and must not become one by accident) and one
 * migrated by a newer authy.
 */
export async function migrate(client: pg.ClientBase, appliedBy: string): Promise<void> {
  await client.query("SELECT pg_advisory_lock($1, $2)", [LOCK_APP, LOCK_MIGRATE]);
  try {
    const known = await client.query<{ ours: boolean; others: string }>(
      "SELECT bool_or(table_name = 'authy_migrations') AS ours, count(*) AS others FROM information_schema.tables WHERE table_schema = current_schema()",
    );
    const { ours, others } = known.rows[0]!;
    if (!ours && Number(others) > 0) {
      throw new AuthyError("INTEGRITY", "the database holds tables that are not an authy vault's", {
        hint: "give authy a database (or schema) of its own",
      });
    }
    await client.query(MIGRATIONS_TABLE);
    const done = await client.query<{ version: number }>("SELECT coalesce(max(version), 0) AS version FROM authy_migrations");
    const current = Number(done.rows[0]!.version);
    if (current > MIGRATIONS.length) {
      throw new AuthyError("UNAVAILABLE", `this vault was written by a newer authy (schema ${current})`, { hint: "upgrade authy" });
    }
    for (let i = current; i < MIGRATIONS.length; i++) {
      await client.query("BEGIN");
      try {
        await client.query(MIGRATIONS[i]!);
        await client.query("INSERT INTO authy_migrations (version, applied_at, applied_by) VALUES ($1, $2, $3)", [i + 1, Date.now(), appliedBy]);
        await client.query("COMMIT");
      } catch (e) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw e;
      }
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock($1, $2)", [LOCK_APP, LOCK_MIGRATE]).catch(() => undefined);
  }
}
