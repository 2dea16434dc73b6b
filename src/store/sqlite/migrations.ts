/**
 * stateShard (store.ts) in SQL, over the column `path`, for the generated shard column
 * (migrations 8 and 9). Frozen with them: a different shard needs a new migration.
 */
const STATE_SHARD_SQL =
  "((coalesce(unicode(substr(path, -1, 1)), 0) + 3 * coalesce(unicode(substr(path, -2, 1)), 0) + " +
  "9 * coalesce(unicode(substr(path, -3, 1)), 0) + 27 * coalesce(unicode(substr(path, -4, 1)), 0) + 5 * length(path)) % 64)";

/**
 * Numbered schema migrations, run in order on open inside one IMMEDIATE transaction.
 * `PRAGMA user_version` records the last one applied. Never edit a migration that has
 * shipped: add a new one.
 */
/**
 * The agent an audit actor speaks for: NAME for `agent:NAME` and for a token issued to it,
 * `token:ID(NAME)`; NULL otherwise. Migration 6 indexes this expression, and a query uses the
 * index only when it repeats it exactly (sqlite-reader.ts does), so it must never change: a
 * different expression needs a new index in a new migration.
 */
export const AUDIT_AGENT_EXPR =
  "(CASE WHEN substr(actor, 1, 6) = 'agent:' THEN substr(actor, 7)" +
  " WHEN substr(actor, 1, 6) = 'token:' AND substr(actor, -1, 1) = ')' AND instr(actor, '(') > 0" +
  " THEN substr(actor, instr(actor, '(') + 1, length(actor) - instr(actor, '(') - 1) END)";

export const MIGRATIONS: readonly string[] = [
  // 1: the vault, key slots, secrets with versions, the audit chain.
  `
  CREATE TABLE vault (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    vault_id    BLOB    NOT NULL,
    format      INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    listing_mac BLOB,
    mac         BLOB    NOT NULL
  ) STRICT;
  CREATE TABLE key_slots (
    id         TEXT    PRIMARY KEY,
    kind       TEXT    NOT NULL,
    label      TEXT    NOT NULL,
    recipient  TEXT,
    slot       BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    mac        BLOB    NOT NULL
  ) STRICT;
  CREATE TABLE secrets (
    path            TEXT    PRIMARY KEY,
    namespace       TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    tier            TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    tags            TEXT    NOT NULL,
    expires_at      INTEGER,
    current_version INTEGER NOT NULL,
    deleted_at      INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    mac             BLOB    NOT NULL
  ) STRICT;
  CREATE INDEX secrets_by_namespace ON secrets (namespace);
  CREATE TABLE secret_versions (
    path        TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    tier        TEXT    NOT NULL,
    sealed      BLOB    NOT NULL,
    wrapped_dek BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    PRIMARY KEY (path, version)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    ts        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    resource  TEXT    NOT NULL,
    outcome   TEXT    NOT NULL,
    details   TEXT    NOT NULL,
    prev_hash BLOB    NOT NULL,
    hash      BLOB    NOT NULL,
    mac       BLOB    NOT NULL
  ) STRICT;
  CREATE INDEX audit_by_action_ts ON audit (action, ts);
  CREATE INDEX audit_by_ts ON audit (ts);
  CREATE TABLE unlock_failures (
    id     INTEGER PRIMARY KEY,
    ts     INTEGER NOT NULL,
    method TEXT    NOT NULL
  ) STRICT;
  `,
  // 2: the policy (scopes), one authenticated document.
  `
  CREATE TABLE policy (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    document   TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    mac        BLOB    NOT NULL
  ) STRICT;
  `,
  // 3: unlock failure ids are never reused (AUTOINCREMENT). An unlock lists the failures,
  // waits and runs scrypt, then clears the ids it listed; with a reused id that late clear
  // would erase a newer failure that was never audited.
  `
  CREATE TABLE unlock_failures_v3 (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    ts     INTEGER NOT NULL,
    method TEXT    NOT NULL
  ) STRICT;
  INSERT INTO unlock_failures_v3 (id, ts, method) SELECT id, ts, method FROM unlock_failures;
  DROP TABLE unlock_failures;
  ALTER TABLE unlock_failures_v3 RENAME TO unlock_failures;
  `,
  // 4: agents and their tokens.
  `
  CREATE TABLE agents (
    name        TEXT    PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    key_hash    BLOB    NOT NULL,
    scope       TEXT    NOT NULL,
    description TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    mac         BLOB    NOT NULL
  ) STRICT;
  CREATE TABLE tokens (
    id          TEXT    PRIMARY KEY,
    secret_hash BLOB    NOT NULL,
    agent       TEXT,
    scope       TEXT    NOT NULL,
    label       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    max_uses    INTEGER,
    uses        INTEGER NOT NULL,
    revoked_at  INTEGER,
    instance    TEXT    NOT NULL,
    parent      TEXT,
    pid         INTEGER,
    mac         BLOB    NOT NULL
  ) STRICT;
  CREATE INDEX tokens_by_agent ON tokens (agent);
  `,
  // 5: approval requests and the grants they become.
  `
  CREATE TABLE approvals (
    id              TEXT    PRIMARY KEY,
    principal       TEXT    NOT NULL,
    agent           TEXT,
    token           TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    path            TEXT    NOT NULL,
    tier            TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    decided_at      INTEGER,
    decision_reason TEXT,
    grant_kind      TEXT,
    grant_until     INTEGER,
    used_at         INTEGER,
    mac             BLOB    NOT NULL
  ) STRICT;
  CREATE INDEX approvals_by_principal ON approvals (principal, status);
  CREATE INDEX approvals_by_status ON approvals (status, created_at);
  `,
  // 6: audit queries by agent, newest first, without a scan: `audit --agent ci --limit 50`.
  `
  CREATE INDEX audit_by_agent_ts ON audit (${AUDIT_AGENT_EXPR}, ts);
  `,
  // 7: the listing line of each secret is kept with the row (a stored generated column), and
  // the table is clustered by path, so that listing 100,000 secrets is one ordered scan
  // instead of building every line on each `secrets list`. Same format as before.
  `
  CREATE TABLE secrets_v7 (
    path            TEXT    PRIMARY KEY,
    namespace       TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    tier            TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    tags            TEXT    NOT NULL,
    expires_at      INTEGER,
    current_version INTEGER NOT NULL,
    deleted_at      INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    mac             BLOB    NOT NULL,
    listing         TEXT    GENERATED ALWAYS AS (
      length(CAST(path AS BLOB)) || ':' || path || char(31) || type || char(31) || tier || char(31) ||
      current_version || char(31) || coalesce(deleted_at, '') || char(31) || updated_at || char(31) ||
      coalesce(expires_at, '')
    ) STORED
  ) STRICT, WITHOUT ROWID;
  INSERT INTO secrets_v7 (path, namespace, type, tier, description, tags, expires_at, current_version, deleted_at, created_at, updated_at, mac)
    SELECT path, namespace, type, tier, description, tags, expires_at, current_version, deleted_at, created_at, updated_at, mac FROM secrets;
  DROP TABLE secrets;
  ALTER TABLE secrets_v7 RENAME TO secrets;
  CREATE INDEX secrets_by_namespace ON secrets (namespace);
  `,
  // 8: fresh rows. Each bucket of authenticated rows (state-digest.ts) has a digest here, and
  // the vault row a MAC over all of them and the unlock mark, updated by every write: a row
  // put back from an earlier copy no longer matches. The shard (store.ts, stateShard) spreads
  // a namespace's secrets over 64 buckets. The owner's settings (notifications, approval
  // expiry) move into the vault, authenticated, from config.yaml. Vaults from before stay at format 1
  // until their first unlock computes the digests (needs the key, so not done in SQL).
  `
  CREATE TABLE state_digests (
    bucket TEXT PRIMARY KEY,
    digest BLOB NOT NULL
  ) STRICT, WITHOUT ROWID;
  ALTER TABLE vault ADD COLUMN state_mac BLOB;
  ALTER TABLE vault ADD COLUMN unlock_mark INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE secrets ADD COLUMN shard INTEGER GENERATED ALWAYS AS ${STATE_SHARD_SQL} VIRTUAL;
  CREATE INDEX secrets_by_shard ON secrets (namespace, shard);
  CREATE TABLE settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    document   TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    mac        BLOB    NOT NULL
  ) STRICT;
  `,
  // 9: the listing line is the core's (listingLine in src/vault/secret-rows.ts), stored as it
  // gives it, no longer generated here: the format the vault MACs is defined once, and no other
  // store copies it in SQL. Existing rows keep the lines migration 7 generated, which are the
  // same bytes.
  `
  CREATE TABLE secrets_v9 (
    path            TEXT    PRIMARY KEY,
    namespace       TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    tier            TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    tags            TEXT    NOT NULL,
    expires_at      INTEGER,
    current_version INTEGER NOT NULL,
    deleted_at      INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    mac             BLOB    NOT NULL,
    listing         TEXT    NOT NULL,
    shard           INTEGER GENERATED ALWAYS AS ${STATE_SHARD_SQL} VIRTUAL
  ) STRICT, WITHOUT ROWID;
  INSERT INTO secrets_v9 (path, namespace, type, tier, description, tags, expires_at, current_version, deleted_at, created_at, updated_at, mac, listing)
    SELECT path, namespace, type, tier, description, tags, expires_at, current_version, deleted_at, created_at, updated_at, mac, listing FROM secrets;
  DROP TABLE secrets;
  ALTER TABLE secrets_v9 RENAME TO secrets;
  CREATE INDEX secrets_by_namespace ON secrets (namespace);
  CREATE INDEX secrets_by_shard ON secrets (namespace, shard);
  `,
  // 10: members of a team server (src/vault/members.ts): people with a role and a personal
  // API key, stored as an HMAC; the id is the key's public part and survives a rotation.
  `
  CREATE TABLE members (
    name           TEXT    PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    key_hash       BLOB    NOT NULL,
    role           TEXT    NOT NULL,
    scope          TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    key_created_at INTEGER NOT NULL,
    revoked_at     INTEGER,
    mac            BLOB    NOT NULL
  ) STRICT;
  `,
];
