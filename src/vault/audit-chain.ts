import { constantTimeEqualHex, encodeFields, FieldWriter, sha256, sha256Hex, type Hmac32 } from "../crypto/index.js";
import { AuthyError } from "../errors.js";
import type { AuditChainRow, AuditRow, StoreWriter } from "../store/store.js";
import type { Keyring } from "./keyring.js";

/**
 * The audit log is a hash chain: each entry's hash covers its fields and the previous
 * entry's hash, and each hash is MACed with a key derived from the vault key, so that an
 * edit, insertion, deletion or reordering anywhere is found by `audit verify`. Deleting the
 * newest entries is caught by comparing against a checkpoint kept elsewhere.
 *
 * hash(entry) = SHA-256(encodeFields(["authy/audit/v1", vault id, seq, ts, actor, action,
 *                                     resource, outcome, details, prev hash]))
 * mac(entry)  = HMAC-SHA-256(audit key, hash)
 *
 * Checking: ChainWalker walks entries in order (seq, link, hash, MAC) for `audit verify` and
 * export; EntryVerifier checks single entries (hash and MAC) for queries.
 */
const GENESIS_HASH = new Uint8Array(32);
export const GENESIS_HASH_HEX = "00".repeat(32);
const AUDIT_DOMAIN = "authy/audit/v1";

type Outcome = "ok" | "denied" | "error" | "pending";

export interface AuditEvent {
  ts: number;
  actor: string;
  action: string;
  resource: string;
  outcome: Outcome;
  /** Non-secret details only: never a value, never key material. */
  details?: Record<string, unknown>;
}

export function auditHash(vaultId: Uint8Array, e: Omit<AuditRow, "hash" | "mac">): Uint8Array {
  return sha256(encodeFields([AUDIT_DOMAIN, vaultId, e.seq, e.ts, e.actor, e.action, e.resource, e.outcome, e.details, e.prevHash]));
}

/** Appends entries inside the caller's write transaction. */
export async function appendAudit(tx: StoreWriter, keys: Keyring, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  const head = await tx.auditHead();
  let seq = head ? head.seq : 0;
  let prevHash: Uint8Array = head ? head.hash : GENESIS_HASH;
  for (const ev of events) {
    seq += 1;
    const base = {
      seq,
      ts: ev.ts,
      actor: ev.actor,
      action: ev.action,
      resource: ev.resource,
      outcome: ev.outcome,
      details: JSON.stringify(ev.details ?? {}),
      prevHash,
    };
    const hash = auditHash(keys.vaultId, base);
    await tx.appendAudit({ ...base, hash, mac: keys.macAudit(hash) });
    prevHash = hash;
  }
}

/**
 * auditHash for many entries, as hex: the same bytes hashed, encoded into one reusable buffer
 * that already holds the domain and the vault id. Used by `audit verify`, queries and export.
 */
class AuditHasher {
  private readonly fields: FieldWriter;

  constructor(vaultId: Uint8Array) {
    this.fields = new FieldWriter().string(AUDIT_DOMAIN).blob(vaultId).mark();
  }

  hashHex(seq: number, ts: number, actor: string, action: string, resource: string, outcome: string, details: string, prevHash: string | Uint8Array): string {
    const f = this.fields.reset().integer(seq).integer(ts).string(actor).string(action).string(resource).string(outcome).string(details);
    if (typeof prevHash === "string") f.hexBlob(prevHash);
    else f.blob(prevHash);
    return sha256Hex(f.bytes());
  }
}

export interface BadEntry {
  seq: number;
  /** Worded to follow "audit entry N: ". */
  reason: string;
}

/**
 * Checks entries one after another. Allocates nothing per entry but what the hashes return:
 * this loop is what `audit verify` costs.
 */
export class ChainWalker {
  private readonly hasher: AuditHasher;
  private readonly macer: Hmac32;
  private nextSeq: number;
  private prevHash: string;

  /** Starts before entry `nextSeq`, whose prev hash must be `prevHash` (the genesis hash before entry 1). */
  constructor(keys: Keyring, start: { nextSeq: number; prevHash: string } = { nextSeq: 1, prevHash: GENESIS_HASH_HEX }) {
    this.hasher = new AuditHasher(keys.vaultId);
    this.macer = keys.auditMacer();
    this.nextSeq = start.nextSeq;
    this.prevHash = start.prevHash;
  }

  /** The last entry accepted (seq 0 and the genesis hash before any). */
  get last(): { seq: number; hash: string } {
    return { seq: this.nextSeq - 1, hash: this.prevHash };
  }

  /** null when the entry verifies and follows the one before; otherwise what is wrong. */
  check(row: AuditChainRow): BadEntry | null {
    const seq = row[0];
    if (seq !== this.nextSeq) return { seq: this.nextSeq, reason: seq > this.nextSeq ? `missing (next is ${seq})` : `out of order (seq ${seq} follows it)` };
    if (row[7] !== this.prevHash) return { seq, reason: "does not follow the entry before it" };
    const hash = this.hasher.hashHex(seq, row[1], row[2], row[3], row[4], row[5], row[6], this.prevHash);
    if (hash !== row[8]) return { seq, reason: "was modified" };
    if (!constantTimeEqualHex(this.macer.macHex(hash), row[9])) return { seq, reason: "was not written by this vault" };
    this.prevHash = hash;
    this.nextSeq = seq + 1;
    return null;
  }

  wipe(): void {
    this.macer.wipe();
  }
}

export const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

export function badAuditEntry(seq: number, reason: string): AuthyError {
  return new AuthyError("INTEGRITY", `audit entry ${seq}: ${reason}`, {
    hint: "the audit log was modified outside authy; run `authy audit verify` for the whole chain",
  });
}

/** Verifies single entries (hash and MAC, not the link to the one before). */
export class EntryVerifier {
  private readonly hasher: AuditHasher;
  private readonly macer: Hmac32;

  constructor(keys: Keyring) {
    this.hasher = new AuditHasher(keys.vaultId);
    this.macer = keys.auditMacer();
  }

  check(e: AuditRow): void {
    const hash = this.hasher.hashHex(e.seq, e.ts, e.actor, e.action, e.resource, e.outcome, e.details, e.prevHash);
    if (hash !== hex(e.hash)) throw badAuditEntry(e.seq, "was modified");
    if (!constantTimeEqualHex(this.macer.macHex(hash), hex(e.mac))) throw badAuditEntry(e.seq, "was not written by this vault");
  }

  wipe(): void {
    this.macer.wipe();
  }
}

/** Throws INTEGRITY naming the entry unless its hash and MAC verify. */
export function verifyEntryRow(keys: Keyring, row: AuditRow): void {
  const v = new EntryVerifier(keys);
  try {
    v.check(row);
  } finally {
    v.wipe();
  }
}
