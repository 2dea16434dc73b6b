/**
 * Fresh rows: the state digest.
 *
 * Each authenticated row verifies on its own (its MAC), so an earlier, validly MACed copy of
 * a row put back by hand would verify too. To refuse it, the rows that decide access or hold
 * a value are grouped in buckets, each bucket has a digest of exactly its current rows, and
 * the vault row holds one MAC over all the digests (and the unlock mark). Every write updates
 * the digests of the buckets it touched and that MAC in the same transaction; every read
 * checks the bucket it reads against its digest and the digests against the MAC. A row put
 * back (or added, or removed) changes its bucket's text and no longer matches. Reads stay
 * cheap because a read digests one bucket, not the vault: `secrets get` and `env export`
 * digest one namespace. A rollback of the whole file (header and all) is not caught here:
 * that is what `authy audit checkpoint` is for.
 *
 * Buckets and their names (byte order of the names is the digest list's order):
 *   secrets/<shard>/<namespace>  the secret rows of one namespace whose path is in that shard
 *                        (stateShard in store.ts: 64 per namespace). Their versions are fresh
 *                        through them (secret-rows.ts, checkVersionFresh): a version row is
 *                        never rewritten, and one put back from before a purge is newer than
 *                        the current version or older than the secret.
 *   tokens/<c>           tokens whose id ends in character c (32 shards: ids are base32)
 *   approvals/<c>        approvals whose id ends in c
 *   agents, members, policy, slots, settings
 * The text of a bucket is built here (bucketText) from the rows the store gives
 * (StoreReader.stateRows: each row's key and MAC, in the bucket's order).
 * Unlock failures are not in a bucket (they are recorded before any key is known); the unlock
 * mark in the vault row is their high-water mark instead (see unlock-failures.ts).
 *
 * Stored formats (version byte first):
 *   state_digests.digest = 0x01 | SHA-256(encodeFields(["authy/state-bucket/v1", vault id,
 *                                                       bucket name, bucket text]))
 *   vault.state_mac      = 0x01 | HMAC-SHA-256(row MAC key, encodeFields(["authy/state/v1",
 *                                               vault id, unlock mark, digest list]))
 *   digest list          = for each stored digest, by bucket name:
 *                          bucket name US lowercase hex of the stored digest LF
 *   bucket text          = one line per row, joined by LF ("" for an empty bucket):
 *                          secrets: path US lowercase hex(row MAC), by path;
 *                          every other bucket: lowercase hex(row MAC), in the store's order
 *                          (tokens, approvals and slots by id, agents and members by name)
 * An empty bucket has no digest row. US = U+001F.
 */
import { constantTimeEqual, encodeFields, sha256 } from "../crypto/index.js";
import { integrityError } from "../errors.js";
import { STATE_SHARDS, stateShard, type StateBucket, type StateDigestRow, type StateRow, type StoreReader, type VaultRow } from "../store/store.js";
import type { Keyring } from "./keyring.js";

export const STATE_FORMAT = 0x01;
const BUCKET_DOMAIN = "authy/state-bucket/v1";
const STATE_DOMAIN = "authy/state/v1";

export function bucketName(b: StateBucket): string {
  switch (b.table) {
    case "secrets":
      return `secrets/${b.shard}/${b.namespace}`;
    case "tokens":
    case "approvals":
      return `${b.table}/${b.shard}`;
    default:
      return b.table;
  }
}

/** The bucket a stored digest names, or null for a name authy never writes. */
export function parseBucketName(name: string): StateBucket | null {
  if (name === "agents" || name === "members" || name === "policy" || name === "slots" || name === "settings") return { table: name };
  const cut = name.indexOf("/");
  if (cut === -1) return null;
  const table = name.slice(0, cut);
  const rest = name.slice(cut + 1);
  if (table === "secrets") {
    const m = /^(\d{1,2})\/(.*)$/s.exec(rest);
    return m && Number(m[1]) < STATE_SHARDS ? { table, shard: Number(m[1]), namespace: m[2]! } : null;
  }
  if ((table === "tokens" || table === "approvals") && Array.from(rest).length === 1) return { table, shard: rest };
  return null;
}

/** The namespace part of a path (everything before the last "/"), as the secrets table keeps it. */
export function namespaceOfPath(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut === -1 ? "" : path.slice(0, cut);
}

export const pathBucket = (path: string): StateBucket => ({ table: "secrets", namespace: namespaceOfPath(path), shard: stateShard(path) });
/** The bucket a secret row is stored in (by its namespace column, as the store selects it). */
export const secretRowBucket = (r: { path: string; namespace: string }): StateBucket => ({
  table: "secrets",
  namespace: r.namespace,
  shard: stateShard(r.path),
});
/** By the last code point, as SQLite's substr(id, -1) takes it. */
export const shardBucket = (table: "tokens" | "approvals", id: string): StateBucket => ({ table, shard: Array.from(id).at(-1) ?? "" });

/** The text of a bucket that its digest covers (format at the top of this file). */
export function bucketText(b: StateBucket, rows: readonly StateRow[]): string {
  let text = "";
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const mac = Buffer.from(r.mac.buffer, r.mac.byteOffset, r.mac.byteLength).toString("hex");
    text += (i === 0 ? "" : "\n") + (b.table === "secrets" ? `${r.key}\u001f${mac}` : mac);
  }
  return text;
}

/** A bucket's current text, from the rows the store holds now. */
export async function readBucketText(store: StoreReader, b: StateBucket): Promise<string> {
  return bucketText(b, await store.stateRows(b));
}

export function digestBucket(keys: Keyring, name: string, text: string): Uint8Array {
  const h = sha256(encodeFields([BUCKET_DOMAIN, keys.vaultId, name, text]));
  const out = new Uint8Array(1 + h.length);
  out[0] = STATE_FORMAT;
  out.set(h, 1);
  return out;
}

export function macState(keys: Keyring, unlockMark: number, digests: readonly StateDigestRow[]): Uint8Array {
  let list = "";
  for (const d of digests) list += `${d.bucket}\u001f${Buffer.from(d.digest).toString("hex")}\n`;
  const mac = keys.macRow(STATE_DOMAIN, [unlockMark, list]);
  const out = new Uint8Array(1 + mac.length);
  out[0] = STATE_FORMAT;
  out.set(mac, 1);
  return out;
}

/** INTEGRITY unless the stored digests and unlock mark are the ones the vault last wrote. */
export function verifyState(keys: Keyring, vault: VaultRow | null, digests: readonly StateDigestRow[]): void {
  if (!vault) throw integrityError("the vault header is missing");
  if (vault.stateMac === null) throw integrityError("the vault state is not authenticated");
  if (!constantTimeEqual(macState(keys, vault.unlockMark, digests), vault.stateMac)) {
    throw integrityError("the vault state does not match its MAC (rows were put back or edited outside authy)");
  }
}

/** INTEGRITY unless a bucket's current text is the one its stored digest was made from. */
export function verifyBucket(keys: Keyring, b: StateBucket, text: string, digests: ReadonlyMap<string, Uint8Array>): void {
  const name = bucketName(b);
  const stored = digests.get(name);
  const fresh = stored === undefined ? text === "" : constantTimeEqual(digestBucket(keys, name, text), stored);
  if (!fresh) throw staleError(b);
}

export function staleError(b: StateBucket): Error {
  return integrityError(`${describeBucket(b)} do not match the vault state: an earlier copy was put back, or rows were added or removed outside authy`);
}

function describeBucket(b: StateBucket): string {
  switch (b.table) {
    case "secrets":
      return `the secrets of namespace ${JSON.stringify(b.namespace)} (shard ${b.shard})`;
    case "tokens":
    case "approvals":
      return `the ${b.table} (shard ${JSON.stringify(b.shard)})`;
    case "slots":
      return "the key slots";
    case "policy":
      return "the policy rows";
    default:
      return `the ${b.table}`;
  }
}
