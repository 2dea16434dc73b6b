import { requireOwner } from "./access.js";
import { ChainWalker, type BadEntry } from "./audit-chain.js";
import { checkpointHolds, verifyCheckpointMac, type AuditCheckpoint } from "./audit-checkpoint.js";
import type { VaultContext } from "./context.js";

/**
 * `audit verify`: the whole chain, oldest first, a page at a time so that a million entries
 * never sit in memory at once. Each entry must have the next seq, name the previous entry's
 * hash, hash to its stored hash, and carry the MAC of that hash under the audit key; the
 * first that does not is named. A checkpoint kept elsewhere also catches the one thing a
 * chain cannot show by itself: its newest entries deleted.
 */

/** Entries per read. Measured on a million entries: 1,000 to 5,000 are fastest; larger pages cost more in GC than they save. */
const AUDIT_VERIFY_PAGE = 2000;

export interface AuditVerifyReport {
  ok: boolean;
  /** Entries that verified, from the first. */
  entries: number;
  /** The last entry that verified. */
  head: { seq: number; hash: string } | null;
  firstBad: BadEntry | null;
  /** Set when a checkpoint was given: whether the log still holds its entry, unchanged. */
  checkpoint: { seq: number; ts: number; ok: boolean; reason: string | null } | null;
}

export interface AuditVerifyOptions {
  checkpoint?: AuditCheckpoint;
  /** Entries checked so far and the head seq when verification started. */
  onProgress?: (done: number, total: number) => void;
}

/** What walking the chain found; `hashAt` is the hash the chain holds at the seq asked about. */
interface ChainWalk {
  entries: number;
  head: { seq: number; hash: string } | null;
  firstBad: BadEntry | null;
  hashAt: string | null;
}

/**
 * Walks the whole chain from entry 1 and stops at the first bad entry. No access check: the
 * callers (verifyAudit, and verifyVault for doctor) are owner-only.
 */
export async function walkAuditChain(ctx: VaultContext, opts: { hashAtSeq?: number; onProgress?: AuditVerifyOptions["onProgress"] } = {}): Promise<ChainWalk> {
  const total = (await ctx.store.auditHead())?.seq ?? 0;
  const walker = new ChainWalker(ctx.keys);
  let firstBad: BadEntry | null = null;
  let hashAt: string | null = null;
  try {
    pages: for (;;) {
      const page = await ctx.store.listAuditChain(walker.last.seq, AUDIT_VERIFY_PAGE);
      if (page.length === 0) break;
      for (const row of page) {
        firstBad = walker.check(row);
        if (firstBad) break pages;
        if (row[0] === opts.hashAtSeq) hashAt = row[8];
      }
      opts.onProgress?.(walker.last.seq, Math.max(total, walker.last.seq));
    }
  } finally {
    walker.wipe();
  }
  const last = walker.last;
  return { entries: last.seq, head: last.seq === 0 ? null : last, firstBad, hashAt };
}

export async function verifyAudit(ctx: VaultContext, opts: AuditVerifyOptions = {}): Promise<AuditVerifyReport> {
  requireOwner(ctx, "verify the audit log");
  const cp = opts.checkpoint;
  if (cp) verifyCheckpointMac(ctx.keys, cp);
  const walk = await walkAuditChain(ctx, { hashAtSeq: cp?.seq, onProgress: opts.onProgress });
  const checkpoint = cp ? { seq: cp.seq, ts: cp.ts, ...checkpointHolds(cp, walk.entries, walk.hashAt, walk.firstBad) } : null;
  return {
    ok: walk.firstBad === null && (checkpoint === null || checkpoint.ok),
    entries: walk.entries,
    head: walk.head,
    firstBad: walk.firstBad,
    checkpoint,
  };
}
