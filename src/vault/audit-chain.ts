import { encodeFields, sha256 } from "../crypto/index.js";
import type { AuditRow, StoreWriter } from "../store/store.js";
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
 */
export const GENESIS_HASH = new Uint8Array(32);

export type Outcome = "ok" | "denied" | "error" | "pending";

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
  return sha256(
    encodeFields(["authy/audit/v1", vaultId, e.seq, e.ts, e.actor, e.action, e.resource, e.outcome, e.details, e.prevHash]),
  );
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
