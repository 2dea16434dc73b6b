/**
 * The storage contract. A Store holds rows; it knows nothing of keys, MACs or policy: every
 * row that decides access arrives already authenticated by the core (the `mac` columns) and
 * is returned byte for byte as written. One adapter per database (sqlite/, postgres/), one
 * conformance suite (conformance/) that every adapter must pass.
 *
 * Reads may happen outside a transaction. Every write happens inside `write()`, which runs
 * one logical operation (new version + wrapped key + audit entry) all or nothing, serialized
 * against every other writer of the same vault, in this process or another.
 *
 * Pinned by the conformance suite: paths and resources compare in UTF-8 byte order (for
 * PostgreSQL, COLLATE "C"); integers are exact up to Number.MAX_SAFE_INTEGER; null, 0 and ""
 * stay apart; blobs of any length (0 included) come back byte for byte. Text never holds
 * U+0000 (PostgreSQL text cannot), which the core's validation has to guarantee.
 */

export interface VaultRow {
  vaultId: Uint8Array;
  format: number;
  createdAt: number;
  /** MAC over the listing text (its format: the top of src/vault/secret-rows.ts); null only while a vault is being created. */
  listingMac: Uint8Array | null;
  /**
   * MAC over every state digest and the unlock mark (src/vault/state-digest.ts): what makes
   * an earlier copy of a row put back detectable. Null until the vault's first write under
   * format 2, and in a vault not yet migrated to it.
   */
  stateMac: Uint8Array | null;
  /** The unlock-failure counter as last reconciled by a successful unlock (covered by stateMac). */
  unlockMark: number;
  mac: Uint8Array;
}

/**
 * A part of the authenticated state, digested on its own so that a read checks the part it
 * reads and not the whole vault: the secrets of one namespace whose path falls in one shard
 * (stateShard); the agents,
 * the tokens or approvals whose id ends in one character, the policy, the key slots.
 */
export type StateBucket =
  | { table: "secrets"; namespace: string; shard: number }
  | { table: "tokens" | "approvals"; shard: string }
  | { table: "agents" | "members" | "policy" | "slots" | "settings" };

/** One row of a state bucket: its key (path, id or name; "" for the one-row tables) and its MAC. */
export interface StateRow {
  key: string;
  mac: Uint8Array;
}

/** Buckets' rows (one list per bucket asked for) and the change token, as of one moment (Store.stateRowsAt). */
export interface StateAt {
  token: string | null;
  rows: StateRow[][];
}

/** Buckets' texts (one per bucket asked for) and the change token, as of one moment (Store.stateTextsAt). */
export interface StateTextsAt {
  token: string | null;
  texts: string[];
}

/** The stored digest of one bucket, under the name the core gives it (state-digest.ts). */
export interface StateDigestRow {
  bucket: string;
  digest: Uint8Array;
}

type SlotKind = "passphrase" | "x25519";

export interface KeySlotRow {
  id: string;
  kind: SlotKind;
  label: string;
  recipient: string | null;
  /** A standard age file wrapping the vault key. */
  slot: Uint8Array;
  createdAt: number;
  mac: Uint8Array;
}

export interface SecretRow {
  path: string;
  namespace: string;
  type: string;
  tier: string;
  description: string;
  /** JSON: an array of tags, or {tags, generator} (see vault/secret-attributes.ts). */
  tags: string;
  expiresAt: number | null;
  currentVersion: number;
  deletedAt: number | null;
  createdAt: number;
  updatedAt: number;
  mac: Uint8Array;
  /**
   * The row's line of the authenticated listing, as the core laid it out (listingLine in
   * src/vault/secret-rows.ts). Stored and returned as given: the store never builds it.
   */
  listing: string;
}

export interface VersionRow {
  path: string;
  version: number;
  type: string;
  tier: string;
  sealed: Uint8Array;
  wrappedDek: Uint8Array;
  createdAt: number;
  actor: string;
}

export interface AuditRow {
  seq: number;
  ts: number;
  actor: string;
  action: string;
  resource: string;
  outcome: string;
  /** JSON object of non-secret details. */
  details: string;
  prevHash: Uint8Array;
  hash: Uint8Array;
  mac: Uint8Array;
}

export interface PolicyRow {
  /** Canonical JSON of the policy document. */
  document: string;
  updatedAt: number;
  mac: Uint8Array;
}

/** The owner's settings (notifications, approval expiry): canonical JSON, authenticated like the policy. */
export interface SettingsRow {
  document: string;
  updatedAt: number;
  mac: Uint8Array;
}

export interface AgentRow {
  name: string;
  /** Public lookup id, part of the agent key. */
  id: string;
  /** HMAC of the key's secret part; the key itself is never stored. */
  keyHash: Uint8Array;
  /** Maximum scope: a stored scope name or a compact scope. */
  scope: string;
  description: string;
  createdAt: number;
  revokedAt: number | null;
  mac: Uint8Array;
}

/** A member of a team server: a person with a role and a personal API key (src/vault/members.ts). */
export interface MemberRow {
  name: string;
  /** Public lookup id, part of the member key; kept when the key is rotated. */
  id: string;
  /** HMAC of the key's secret part; the key itself is never stored. */
  keyHash: Uint8Array;
  /** `admin` or `member`. */
  role: string;
  /** A member's scope: a stored scope name or a compact scope ("" for an admin). */
  scope: string;
  createdAt: number;
  /** When the current key was made (createdAt until the first rotation). */
  keyCreatedAt: number;
  revokedAt: number | null;
  mac: Uint8Array;
}

export interface TokenRow {
  id: string;
  secretHash: Uint8Array;
  /** The agent it was issued to, as `name#id` (src/vault/tokens.ts), or null. */
  agent: string | null;
  /** Canonical JSON of the token's (resolved) scope. */
  scope: string;
  label: string;
  createdAt: number;
  expiresAt: number;
  maxUses: number | null;
  uses: number;
  revokedAt: number | null;
  /** The daemon or server instance that honours it. */
  instance: string;
  parent: string | null;
  pid: number | null;
  mac: Uint8Array;
}

/**
 * An approval request (`apr_…`) and, once decided, the grant it became. Every column is
 * covered by the row MAC: a status, window or path edited by hand is refused.
 */
export interface ApprovalRow {
  id: string;
  /** Who asked and who the grant is for: `agent:<name>#<id>`, or `token:<id>` for a token without an agent. */
  principal: string;
  agent: string | null;
  /** The token that made the request. */
  token: string;
  /** `secret.read`, `secret.write`, `secret.delete` or `secret.purge`. */
  action: string;
  path: string;
  tier: string;
  /** The agent's `--reason` ("" when none was given). */
  reason: string;
  /** pending | approved | denied | expired | used */
  status: string;
  createdAt: number;
  /** When a pending request lapses if nobody decides it. */
  expiresAt: number;
  decidedAt: number | null;
  decisionReason: string | null;
  /** `once` or `window`; null until approved. */
  grantKind: string | null;
  /** The end of the grant (exclusive); null until approved. */
  grantUntil: number | null;
  usedAt: number | null;
  mac: Uint8Array;
}

/** Every filter given must hold, exactly; createdAt order, then id. */
export interface ApprovalQuery {
  status?: string;
  principal?: string;
  path?: string;
}

/** Every filter given must hold; matches are exact (no wildcards); seq order, oldest first. */
export interface AuditQuery {
  afterSeq?: number;
  /** Newest first when true. */
  descending?: boolean;
  /**
   * "time": by ts, then seq (still oldest first unless descending). What a reader of the log
   * asks for, and what the (action, ts) and (ts) indexes answer without sorting a million rows.
   */
  order?: "seq" | "time";
  limit?: number;
  action?: string;
  actor?: string;
  /** The agent itself (actor `agent:NAME`) or any token issued to it (actor `token:ID(NAME)`). */
  agent?: string;
  /** The resource itself or anything below it: "prod" matches "prod" and "prod/X", never "production". */
  resourcePrefix?: string;
  /** Inclusive. */
  since?: number;
  /** Inclusive. */
  until?: number;
}

/** An audit entry as the chain verifier reads it: AuditRow's fields in order, hashes as hex. */
export type AuditChainRow = [
  seq: number,
  ts: number,
  actor: string,
  action: string,
  resource: string,
  outcome: string,
  details: string,
  prevHash: string,
  hash: string,
  mac: string,
];

export interface CurrentRows {
  secret: SecretRow;
  version: VersionRow | null;
}

export interface UnlockFailureRow {
  id: number;
  ts: number;
  method: string;
}

export interface StoreReader {
  getVault(): Promise<VaultRow | null>;
  /** By createdAt, then id. */
  listSlots(): Promise<KeySlotRow[]>;
  getSecret(path: string): Promise<SecretRow | null>;
  /** Every secret row, sorted by path in byte order (deleted ones included). */
  listSecrets(): Promise<SecretRow[]>;
  /** The secret rows directly in one namespace (not below it), sorted by path. */
  listSecretsIn(namespace: string): Promise<SecretRow[]>;
  /**
   * The stored `listing` of every secret row, sorted by path in byte order, joined by "\n"
   * ("" when there is none): the text the core MACs. One string from the database, because
   * 100,000 rows turned into objects one by one cost far more than the bench allows.
   */
  listingText(): Promise<string>;
  getVersion(path: string, version: number): Promise<VersionRow | null>;
  /**
   * For each of these paths that has a secret row: that row, and the version row its
   * currentVersion names (null if there is none), in the order the paths were given. One read
   * for the many secrets `run` and `env export` decrypt, instead of two per secret.
   */
  readCurrent(paths: readonly string[]): Promise<CurrentRows[]>;
  /** readCurrent for every secret directly in one namespace (as listSecretsIn selects them), sorted by path. */
  readCurrentIn(namespace: string): Promise<CurrentRows[]>;
  /** The versions of exactly this path, lowest version first. */
  listVersions(path: string): Promise<VersionRow[]>;
  /**
   * Every path that has a version row, each once, in byte order, with how many versions it
   * has: what lets a full check find version rows that no secret row owns.
   */
  listVersionPaths(): Promise<{ path: string; versions: number }[]>;
  auditHead(): Promise<AuditRow | null>;
  listAudit(query: AuditQuery): Promise<AuditRow[]>;
  /**
   * Up to `limit` entries with seq > afterSeq, oldest first, as tuples with the three hashes
   * in lowercase hex: what `audit verify` reads a million of. Turning three blobs per row into
   * buffers cost more than all the hashing the verifier does.
   */
  listAuditChain(afterSeq: number, limit: number): Promise<AuditChainRow[]>;
  /** Oldest first. Ids are never reused, so clearing ids read earlier never clears a newer failure. */
  listUnlockFailures(): Promise<UnlockFailureRow[]>;
  /**
   * The highest unlock-failure id ever handed out (0 if none): it only grows, whatever rows
   * are deleted, so failures erased by hand show as a gap against the rows still there.
   */
  unlockFailureCounter(): Promise<number>;
  /**
   * The rows of one bucket, each as its key and its MAC, in this order: the secret rows of the
   * namespace and shard by path; the tokens or approvals whose id ends in the shard character
   * (one code point) by id; agents by name; slots by id; the policy or settings row. The core
   * digests them (state-digest.ts, bucketText); [] for an empty bucket.
   */
  stateRows(bucket: StateBucket): Promise<StateRow[]>;
  /** Every stored bucket digest, by bucket name in byte order. */
  listStateDigests(): Promise<StateDigestRow[]>;
  getPolicy(): Promise<PolicyRow | null>;
  getSettings(): Promise<SettingsRow | null>;
  getAgent(name: string): Promise<AgentRow | null>;
  getAgentById(id: string): Promise<AgentRow | null>;
  listAgents(): Promise<AgentRow[]>;
  getMember(name: string): Promise<MemberRow | null>;
  getMemberById(id: string): Promise<MemberRow | null>;
  /** By name, in byte order. */
  listMembers(): Promise<MemberRow[]>;
  getToken(id: string): Promise<TokenRow | null>;
  listTokens(): Promise<TokenRow[]>;
  getApproval(id: string): Promise<ApprovalRow | null>;
  listApprovals(query?: ApprovalQuery): Promise<ApprovalRow[]>;
}

export interface StoreWriter extends StoreReader {
  putVault(row: VaultRow): Promise<void>;
  setListingMac(mac: Uint8Array): Promise<void>;
  /** The state MAC and the unlock mark of the vault row. */
  setState(stateMac: Uint8Array, unlockMark: number): Promise<void>;
  /** Stores a bucket's digest; null removes it (the bucket is empty). */
  putStateDigest(bucket: string, digest: Uint8Array | null): Promise<void>;
  putSlot(row: KeySlotRow): Promise<void>;
  deleteSlot(id: string): Promise<void>;
  putSecret(row: SecretRow): Promise<void>;
  /** putSecret for many rows at once (`env import` writes 10,000), in order. */
  putSecrets(rows: readonly SecretRow[]): Promise<void>;
  deleteSecret(path: string): Promise<void>;
  /** Inserts, or replaces the same (path, version): rotating the vault key rewraps DEKs. */
  putVersion(row: VersionRow): Promise<void>;
  /** putVersion for many rows at once, in order. */
  putVersions(rows: readonly VersionRow[]): Promise<void>;
  appendAudit(row: AuditRow): Promise<void>;
  clearUnlockFailures(ids: number[]): Promise<void>;
  putPolicy(row: PolicyRow): Promise<void>;
  putSettings(row: SettingsRow): Promise<void>;
  putAgent(row: AgentRow): Promise<void>;
  /** Inserts, or replaces the member of the same name; an id held by another member is refused. */
  putMember(row: MemberRow): Promise<void>;
  putToken(row: TokenRow): Promise<void>;
  /** Inserts, or replaces the row with the same id. */
  putApproval(row: ApprovalRow): Promise<void>;
}

export interface Store extends StoreReader {
  readonly kind: string;
  /**
   * Runs `fn` as one atomic, serialized write. A throw rolls everything back, and so does a
   * failed store call inside `fn` even if `fn` caught it. `tx` is valid only until `fn`
   * settles; a write() from inside `fn` is refused (it would wait for itself).
   */
  write<T>(fn: (tx: StoreWriter) => Promise<T>): Promise<T>;
  /**
   * Failed unlocks are recorded outside the authenticated chain (no key is known yet), in a
   * write of their own: a write in flight that rolls back does not take the record with it.
   */
  recordUnlockFailure(ts: number, method: string): Promise<void>;
  /**
   * Optional. A value that is the same in two calls only if the vault state (the vault row's
   * state MAC) was not changed in between, by any connection or process (a store may be
   * stricter: PostgreSQL's changes with any write of the vault row); null when the store
   * cannot tell. Every write that changes the vault state writes a new state MAC
   * (fresh-store.ts), so the core keeps the state it verified until the value changes;
   * without it, every read verifies the state again.
   */
  changeToken?(): Promise<string | null>;
  /**
   * Optional. The rows of each bucket (as stateRows gives them) and the change token, all as
   * of one moment: what a read of a warm vault checks, in one round trip per bucket instead of
   * one more for the token. The token is null when the store cannot tell, or when the buckets
   * were not read at one moment after all (a commit came between them).
   */
  stateRowsAt?(buckets: readonly StateBucket[]): Promise<StateAt>;
  /**
   * Optional. stateRowsAt with each bucket's rows already joined into the bucket's text by the
   * database, byte for byte as state-digest.ts's bucketText joins them: one line per row, LF
   * between lines; a secret's line is its path, U+001F and its MAC in lowercase hex, any other
   * row's line its MAC in lowercase hex; "" for an empty bucket. Preferred by the core where
   * given: a thousand rows are then one string, not a thousand objects and MAC buffers.
   */
  stateTextsAt?(buckets: readonly StateBucket[]): Promise<StateTextsAt>;
  /**
   * Optional. getToken, with the state of the token's bucket (stateRowsAt of `[bucket]`) as of
   * the same moment: a warm read's row and check in one round trip instead of two.
   */
  getTokenAt?(id: string, bucket: StateBucket): Promise<{ value: TokenRow | null; at: StateAt }>;
  /** Optional. readCurrent of one path, with the state of its bucket as of the same moment (as getTokenAt). */
  readCurrentAt?(path: string, bucket: StateBucket): Promise<{ value: CurrentRows[]; at: StateAt }>;
  close(): Promise<void>;
}

/** How many shards the secrets of one namespace are digested in (see stateShard). */
export const STATE_SHARDS = 64;

/**
 * The shard of a secret's path, as the store computes it (SQLite: a generated column, so that it
 * can never disagree with the path): (c1 + 3 c2 + 9 c3 + 27 c4 + 5 length) mod STATE_SHARDS, where
 * c1 is the code of the path's last character, c2 the one before, and so on (0 past the
 * start). Paths are ASCII, so characters and code points agree. Not a hash in any
 * cryptographic sense: it only spreads a namespace's rows so that a read digests a 64th of it.
 */
export function stateShard(path: string): number {
  const at = (k: number) => (path.length >= k ? path.charCodeAt(path.length - k) : 0);
  return (at(1) + 3 * at(2) + 9 * at(3) + 27 * at(4) + 5 * path.length) % STATE_SHARDS;
}
