import { AuthyError } from "../errors.js";
import type { AuditChainRow } from "../store/store.js";
import { requireOwner } from "./access.js";
import { badAuditEntry, ChainWalker, EntryVerifier, hex } from "./audit-chain.js";
import type { VaultContext } from "./context.js";
import { validateNamespace } from "./path.js";

/**
 * Reading the audit log (owner only): filtered queries, and the whole log page by page for
 * export. Every entry returned has been verified as it was read (its hash recomputed, its MAC
 * checked), so what is shown is what authy wrote; a query does not walk the whole chain (that
 * is `audit verify`), it touches only the rows it returns.
 */

/** Entries a query returns when no limit is given: a screenful of the newest. */
export const DEFAULT_AUDIT_LIMIT = 50;
/** One answer at most: more is what `audit export` (paged, streamed) is for. */
export const MAX_AUDIT_LIMIT = 10_000;
/** Entries per export page: large enough to stream fast, small enough to stay one modest response. */
const AUDIT_EXPORT_PAGE = 2000;

export interface AuditFilter {
  /** A namespace or path: the resource itself or anything below it ("prod" is never "production"). */
  namespace?: string;
  /** The agent (actor `agent:NAME`) and every token issued to it (`token:ID(NAME)`). */
  agent?: string;
  /** An exact actor: `owner`, `agent:ci`, `token:ID(ci)`, `unknown`. */
  actor?: string;
  action?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, inclusive. */
  until?: number;
  limit?: number;
  /**
   * Only entries after this seq, oldest first by seq (what `--follow` polls with). Without
   * it: the newest `limit` matches by time, returned oldest first (like `tail`).
   */
  afterSeq?: number;
}

/** One audit entry as authy shows it. Never a value: details are non-secret by construction. */
export interface AuditEntry {
  seq: number;
  /** Epoch ms. */
  ts: number;
  actor: string;
  action: string;
  resource: string;
  outcome: string;
  details: Record<string, unknown>;
  /** Hex; the chain link, so that an export can be checked against a checkpoint. */
  prevHash: string;
  hash: string;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** The log's newest seq when the page was read (0 for an empty log). */
  headSeq: number;
}

function parseDetails(json: string): Record<string, unknown> {
  // Written by appendAudit as JSON.stringify of an object, and verified before this runs.
  try {
    const v: unknown = JSON.parse(json);
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through: shown as it is rather than dropped
  }
  return { text: json };
}

function entryOf(
  seq: number,
  ts: number,
  actor: string,
  action: string,
  resource: string,
  outcome: string,
  details: string,
  prevHash: string,
  hash: string,
): AuditEntry {
  return { seq, ts, actor, action, resource, outcome, details: parseDetails(details), prevHash, hash };
}

function wholeNumber(name: string, v: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < min || v > max)) {
    throw new AuthyError("INVALID_INPUT", `${name} must be a whole number from ${min} to ${max}, not ${v}`);
  }
}

function nonEmpty(name: string, v: string | undefined): void {
  if (v !== undefined && v.length === 0) throw new AuthyError("INVALID_INPUT", `${name} is empty`);
}

function checkFilter(f: AuditFilter): void {
  wholeNumber("the limit", f.limit, 1, MAX_AUDIT_LIMIT);
  wholeNumber("afterSeq", f.afterSeq, 0);
  for (const [name, t] of [
    ["since", f.since],
    ["until", f.until],
  ] as const) {
    if (t !== undefined && !Number.isSafeInteger(t)) throw new AuthyError("INVALID_INPUT", `${name} is not a time`);
  }
  if (f.since !== undefined && f.until !== undefined && f.since > f.until) {
    throw new AuthyError("INVALID_INPUT", "since is later than until", { hint: "swap them, or drop one" });
  }
  if (f.namespace !== undefined) validateNamespace(f.namespace);
  nonEmpty("the agent name", f.agent);
  nonEmpty("the actor", f.actor);
  nonEmpty("the action", f.action);
}

async function headSeq(ctx: VaultContext): Promise<number> {
  return (await ctx.store.auditHead())?.seq ?? 0;
}

export async function queryAudit(ctx: VaultContext, filter: AuditFilter = {}): Promise<AuditPage> {
  requireOwner(ctx, "read the audit log");
  checkFilter(filter);
  // The head first: a follower that starts from it misses nothing written during the query.
  const head = await headSeq(ctx);
  const follow = filter.afterSeq !== undefined;
  const rows = await ctx.store.listAudit({
    action: filter.action,
    actor: filter.actor,
    agent: filter.agent,
    resourcePrefix: filter.namespace,
    since: filter.since,
    until: filter.until,
    limit: filter.limit ?? DEFAULT_AUDIT_LIMIT,
    ...(follow ? { afterSeq: filter.afterSeq } : { order: "time" as const, descending: true }),
  });
  if (!follow) rows.reverse();
  const v = new EntryVerifier(ctx.keys);
  try {
    for (const r of rows) v.check(r);
  } finally {
    v.wipe();
  }
  const entries = rows.map((r) => entryOf(r.seq, r.ts, r.actor, r.action, r.resource, r.outcome, r.details, hex(r.prevHash), hex(r.hash)));
  const newest = entries.reduce((m, e) => Math.max(m, e.seq), 0);
  return { entries, headSeq: Math.max(head, newest) };
}

/**
 * Entries after `afterSeq`, oldest first: one page of `audit export`. The page is checked as a
 * stretch of the chain: each entry verified and linked to the one before, the first to entry
 * `afterSeq` itself, so pages read one after another verify the whole log as it streams
 * (except its newest entries having been cut off, which only a checkpoint shows).
 */
export async function exportAuditPage(ctx: VaultContext, afterSeq: number, limit = AUDIT_EXPORT_PAGE): Promise<AuditPage> {
  requireOwner(ctx, "export the audit log");
  wholeNumber("afterSeq", afterSeq, 0);
  wholeNumber("the page size", limit, 1, MAX_AUDIT_LIMIT);
  const head = await headSeq(ctx);
  let rows: AuditChainRow[];
  let walker: ChainWalker;
  if (afterSeq === 0) {
    rows = await ctx.store.listAuditChain(0, limit);
    walker = new ChainWalker(ctx.keys);
  } else {
    rows = await ctx.store.listAuditChain(afterSeq - 1, limit + 1);
    const anchor = rows.shift();
    if (!anchor || anchor[0] !== afterSeq) throw badAuditEntry(afterSeq, "missing");
    walker = new ChainWalker(ctx.keys, { nextSeq: afterSeq, prevHash: anchor[7] });
    rows.unshift(anchor);
  }
  try {
    for (const r of rows) {
      const bad = walker.check(r);
      if (bad) throw badAuditEntry(bad.seq, bad.reason);
    }
  } finally {
    walker.wipe();
  }
  if (afterSeq !== 0) rows.shift();
  const entries = rows.map((r) => entryOf(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]));
  return { entries, headSeq: Math.max(head, walker.last.seq) };
}
