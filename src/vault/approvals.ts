import { randomId } from "../crypto/index.js";
import { AuthyError } from "../errors.js";
import type { ApprovalRow, StoreReader, StoreWriter } from "../store/store.js";
import { mayApprove, requireApprover, requireOwner } from "./access.js";
import {
  APPROVAL_STATUSES,
  approvalInfo,
  checkReason,
  lapse,
  needsApproval,
  principalOf,
  sealApproval,
  strictestTier,
  verifyApproval,
  type ApprovalAction,
  type ApprovalInfo,
} from "./approval-rows.js";
import { approvalVerb } from "./approval-info.js";
import { audit } from "./audit-log.js";
import type { VaultContext } from "./context.js";
import { openSecretRow } from "./secret-rows.js";
import { isTier, type SecretMeta, type Tier } from "./types.js";
import { DEFAULT_SETTINGS, readSettings, type VaultSettings } from "./settings.js";

export type { ApprovalNotifier, ApprovalSettings } from "./approval-settings.js";

/**
 * Approvals: the owner's say over the reads of sensitive and critical secrets and the writes
 * of critical ones by agents and tokens (DESIGN.md's tier table); a delete or purge of a
 * critical secret is a write of it, asked for as `secret.delete` or `secret.purge`. The owner
 * is never asked.
 *
 * A read or write that needs one calls `passApprovals` inside the transaction that records
 * the operation. If every path has a grant for exactly this (principal, action, path), the
 * grants are spent there (a single-use one becomes `used`), so two concurrent reads cannot
 * both spend one single-use approval, and a spent approval always has its read in the log.
 * Otherwise nothing is spent: each missing path gets a pending request (or joins the
 * identical one already pending), the transaction commits just that, and the caller throws
 * APPROVAL_REQUIRED (exit 5) naming the requests, which the agent's command then waits on.
 *
 * The core does no I/O: new requests are announced to an injected notifier after commit.
 */

/** A request nobody decides lapses after this (the issue's default; `pendingTtlMs` overrides it). */
export const APPROVAL_PENDING_TTL_MS = 10 * 60_000;
/** A single-use approval the agent does not come back for within this is not left lying around. */
export const APPROVAL_USE_WINDOW_MS = 10 * 60_000;
/** The longest time-boxed grant (`--for`): a working day, like a token's maximum life. */
export const APPROVAL_MAX_GRANT_MS = 24 * 60 * 60_000;

export interface ApprovalNeed {
  path: string;
  tier: Tier;
  action: ApprovalAction;
}

type ApprovalGate = { ok: true } | { ok: false; requests: ApprovalInfo[]; created: ApprovalInfo[]; notify?: VaultSettings["notify"] };

const PASS: ApprovalGate = { ok: true };

/**
 * What reading `meta` asks for. An older version is judged by the stricter of its own tier
 * and the current one, so lowering a tier never opens the values written under the old one.
 */
export async function readNeed(ctx: VaultContext, meta: SecretMeta, version?: number): Promise<ApprovalNeed> {
  const need = currentReadNeed(meta);
  if (version !== undefined && principalOf(ctx.actor) !== null) {
    const old = await ctx.store.getVersion(meta.path, version);
    if (old && isTier(old.tier)) need.tier = strictestTier(need.tier, old.tier);
  }
  return need;
}

/** readNeed for the current version, which needs nothing read. */
export function currentReadNeed(meta: SecretMeta): ApprovalNeed {
  return { path: meta.path, tier: meta.tier, action: "secret.read" };
}

/** What writing `path` asks for: the stricter of the stored tier and the tier being set. */
export async function writeNeed(tx: StoreReader, ctx: VaultContext, path: string, asked?: Tier): Promise<ApprovalNeed> {
  const row = principalOf(ctx.actor) === null ? null : await tx.getSecret(path);
  const stored = row ? openSecretRow(ctx.keys, row).tier : "standard";
  return { path, tier: strictestTier(stored, asked ?? stored), action: "secret.write" };
}

/**
 * What deleting `meta` asks for: a delete of a critical secret is a write of it. A soft delete
 * is judged by the current tier; a purge, which erases every version for good, by the
 * strictest tier any of them was written under (as reading an older version is judged).
 */
export async function deleteNeed(tx: StoreReader, ctx: VaultContext, meta: SecretMeta, purge: boolean): Promise<ApprovalNeed> {
  if (!purge) return { path: meta.path, tier: meta.tier, action: "secret.delete" };
  // The owner is never asked: no versions to read for them.
  const versions = principalOf(ctx.actor) === null ? [] : await tx.listVersions(meta.path);
  const tier = versions.reduce((t, v) => (isTier(v.tier) ? strictestTier(t, v.tier) : t), meta.tier);
  return { path: meta.path, tier, action: "secret.purge" };
}

function reseal(ctx: VaultContext, row: ApprovalRow, change: Partial<Omit<ApprovalRow, "mac">>): ApprovalRow {
  const { mac: _mac, ...rest } = row;
  return sealApproval(ctx, { ...rest, ...change });
}

/** Writes down the lapse of each row that lapsed by `now`; returns the rows as they now stand. */
async function recordLapses(tx: StoreWriter, ctx: VaultContext, rows: ApprovalRow[], now: number): Promise<ApprovalRow[]> {
  const out: ApprovalRow[] = [];
  for (const row of rows) {
    const lapsed = lapse(row, now);
    if (!lapsed) {
      out.push(row);
      continue;
    }
    const expired = reseal(ctx, row, { status: "expired" });
    await tx.putApproval(expired);
    await audit(tx, ctx, "approval.expire", row.path, { id: row.id, principal: row.principal, action: row.action, lapsed });
    out.push(expired);
  }
  return out;
}

/**
 * Ends every grant and pending request of a principal (an agent being revoked), inside the
 * caller's transaction: each becomes `expired`, audited as `approval.expire` with why.
 */
export async function endGrantsOf(tx: StoreWriter, ctx: VaultContext, principal: string): Promise<void> {
  for (const found of await tx.listApprovals({ principal })) {
    const row = verifyApproval(ctx, found);
    if (row.status !== "approved" && row.status !== "pending") continue;
    await tx.putApproval(reseal(ctx, row, { status: "expired" }));
    await audit(tx, ctx, "approval.expire", row.path, { id: row.id, principal: row.principal, action: row.action, lapsed: "agent-revoked" });
  }
}

/**
 * The approval check for the acting principal, inside the caller's write transaction. Passes
 * at once for the owner and for needs the tier table does not cover.
 */
export async function passApprovals(tx: StoreWriter, ctx: VaultContext, needs: readonly ApprovalNeed[], reason?: string): Promise<ApprovalGate> {
  const principal = principalOf(ctx.actor);
  if (principal === null) return PASS;
  const wanted = new Map<string, ApprovalNeed>();
  for (const n of needs) if (needsApproval(n.tier, n.action)) wanted.set(`${n.action} ${n.path}`, n);
  if (wanted.size === 0) return PASS;
  const why = checkReason(reason, "the reason");
  const now = ctx.clock.now();
  const plans: { need: ApprovalNeed; grant?: ApprovalRow; pending?: ApprovalRow }[] = [];
  for (const need of wanted.values()) {
    const listed = (await tx.listApprovals({ principal, path: need.path })).map((r) => verifyApproval(ctx, r));
    const rows = await recordLapses(
      tx,
      ctx,
      listed.filter((r) => r.action === need.action),
      now,
    );
    const approved = rows.filter((r) => r.status === "approved");
    // A time-boxed grant is preferred: using it spends nothing.
    const grant = approved.find((r) => r.grantKind === "window") ?? approved.find((r) => r.grantKind === "once");
    plans.push({ need, grant, pending: rows.find((r) => r.status === "pending") });
  }
  if (plans.every((p) => p.grant)) {
    for (const { grant } of plans) {
      const g = grant!;
      if (g.grantKind === "once") await tx.putApproval(reseal(ctx, g, { status: "used", usedAt: now }));
      await audit(tx, ctx, "approval.use", g.path, {
        id: g.id,
        action: g.action,
        grant: g.grantKind,
        ...(g.grantKind === "window" ? { until: g.grantUntil } : {}),
      });
    }
    return PASS;
  }
  // Something is missing: ask for it, and spend nothing until everything is granted.
  const requests: ApprovalInfo[] = [];
  const created: ApprovalInfo[] = [];
  const actor = ctx.actor;
  // From the vault, not from a file an agent could rewrite (settings.ts).
  const settings = await readSettings(tx, ctx.keys);
  for (const { need, grant, pending } of plans) {
    if (grant) continue;
    if (pending) {
      await audit(tx, ctx, "approval.request", need.path, { id: pending.id, action: need.action, tier: need.tier, joined: true }, "pending");
      requests.push(approvalInfo(pending, now));
      continue;
    }
    const row = sealApproval(ctx, {
      id: randomId("apr_", 10),
      principal,
      agent: actor.kind === "token" ? (actor.agent ?? null) : actor.kind === "agent" ? actor.name : null,
      token: actor.kind === "token" ? actor.id : "",
      action: need.action,
      path: need.path,
      tier: need.tier,
      reason: why,
      status: "pending",
      createdAt: now,
      expiresAt: now + (settings.approvals.expiryMs ?? ctx.approvals?.pendingTtlMs ?? APPROVAL_PENDING_TTL_MS),
      decidedAt: null,
      decisionReason: null,
      grantKind: null,
      grantUntil: null,
      usedAt: null,
    });
    await tx.putApproval(row);
    await audit(tx, ctx, "approval.request", need.path, { id: row.id, action: need.action, tier: need.tier, reason: why, expiresAt: row.expiresAt }, "pending");
    const info = approvalInfo(row, now);
    requests.push(info);
    created.push(info);
  }
  return { ok: false, requests, created, notify: settings.notify };
}

/** The error for a gate that did not pass (call after its transaction committed); announces new requests. */
export function approvalRequired(ctx: VaultContext, gate: { requests: ApprovalInfo[]; created: ApprovalInfo[]; notify?: VaultSettings["notify"] }): AuthyError {
  for (const a of gate.created) {
    try {
      ctx.approvals?.notifier?.requested(a, gate.notify ?? DEFAULT_SETTINGS.notify);
    } catch {
      // A notification is a courtesy; the request stands without it.
    }
  }
  const first = gate.requests[0]!;
  const what = gate.requests.map((a) => `${approvalVerb(a.action)} ${a.path} (${a.tier})`).join(", ");
  const ids = gate.requests.map((a) => a.id).join(", ");
  return new AuthyError(
    "APPROVAL_REQUIRED",
    `the owner's approval is needed to ${what}: ${gate.requests.length === 1 ? "request" : "requests"} ${ids} pending`,
    {
      hint: `wait for ${gate.requests.length === 1 ? "it" : "them"} (--wait), or ask the owner to run ${gate.requests.map((a) => `\`authy approvals approve ${a.id}\``).join(" and ")}`,
      details: {
        approvalId: first.id,
        status: first.status,
        approvals: gate.requests.map((a) => ({
          id: a.id,
          status: a.status,
          agent: a.agent,
          principal: a.principal,
          action: a.action,
          path: a.path,
          tier: a.tier,
          reason: a.reason,
          expiresAt: a.expiresAt,
        })),
      },
    },
  );
}

function noSuchRequest(id: string): AuthyError {
  return new AuthyError("NOT_FOUND", `no approval request ${id}`, { hint: "see `authy approvals list`" });
}

/** Writes down lapses noticed by a read, in a transaction of its own (rare: once per lapse). */
async function persistLapses(ctx: VaultContext, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await ctx.store.write(async (tx) => {
    const rows: ApprovalRow[] = [];
    for (const id of ids) {
      const row = await tx.getApproval(id);
      if (row) rows.push(verifyApproval(ctx, row));
    }
    await recordLapses(tx, ctx, rows, ctx.clock.now());
  });
}

/** Every request, oldest first, optionally of one status (the owner, an admin, or a member for the paths its scope may approve). Not audited: it shows no secret, and `watch` polls it. */
export async function listApprovals(ctx: VaultContext, opts: { status?: string } = {}): Promise<ApprovalInfo[]> {
  // A member of role member sees the requests it may decide (its scope grants `approve` on the path).
  if (ctx.actor.kind !== "member") requireOwner(ctx, "list approval requests");
  if (opts.status !== undefined && !(APPROVAL_STATUSES as readonly string[]).includes(opts.status)) {
    throw new AuthyError("INVALID_INPUT", `unknown status ${JSON.stringify(opts.status)}`, { hint: `one of ${APPROVAL_STATUSES.join(", ")}` });
  }
  const now = ctx.clock.now();
  const rows = (await ctx.store.listApprovals()).map((r) => verifyApproval(ctx, r)).filter((r) => mayApprove(ctx, r.path));
  await persistLapses(
    ctx,
    rows.filter((r) => lapse(r, now)).map((r) => r.id),
  );
  const all = rows.map((r) => approvalInfo(r, now));
  return opts.status === undefined ? all : all.filter((a) => a.status === opts.status);
}

/** One request: the owner sees any; a token only its own principal's (anything else is "no such request"). */
export async function getApproval(ctx: VaultContext, id: string): Promise<ApprovalInfo> {
  if (ctx.actor.kind === "agent" && !ctx.actor.direct) throw new AuthyError("ACCESS_DENIED", "an agent key can only be exchanged for a token");
  const found = await ctx.store.getApproval(id);
  if (!found) throw noSuchRequest(id);
  const row = verifyApproval(ctx, found);
  const principal = principalOf(ctx.actor);
  if (principal !== null && row.principal !== principal) throw noSuchRequest(id);
  if (!mayApprove(ctx, row.path) && principal === null) throw noSuchRequest(id);
  const now = ctx.clock.now();
  if (lapse(row, now)) await persistLapses(ctx, [row.id]);
  return approvalInfo(row, now);
}

export interface ApproveOptions {
  reason?: string;
  /** A time-boxed grant for exactly this (principal, action, path); single use when absent. */
  forMs?: number;
}

function checkWindow(forMs: number | undefined): number | undefined {
  if (forMs === undefined) return undefined;
  if (!Number.isSafeInteger(forMs) || forMs < 1000 || forMs > APPROVAL_MAX_GRANT_MS) {
    throw new AuthyError("INVALID_INPUT", "--for must be between 1s and 24h", { hint: "for example --for 15m" });
  }
  return forMs;
}

/** The pending request `id`, or a clear refusal: unknown, already decided, or lapsed. */
async function pendingRow(tx: StoreWriter, ctx: VaultContext, id: string, now: number): Promise<ApprovalRow> {
  const found = await tx.getApproval(id);
  if (!found) throw noSuchRequest(id);
  const row = verifyApproval(ctx, found);
  const status = approvalInfo(row, now).status;
  if (status === "pending") return row;
  const already = status === "expired" ? "expired" : `already ${status}`;
  throw new AuthyError("INVALID_INPUT", `approval request ${id} is ${already}`, {
    hint: status === "expired" ? "the agent has to ask again" : "see `authy approvals list`",
  });
}

async function decide(
  tx: StoreWriter,
  ctx: VaultContext,
  row: ApprovalRow,
  now: number,
  verdict: "approved" | "denied",
  note: string,
  forMs?: number,
): Promise<ApprovalInfo> {
  const approved = verdict === "approved";
  const updated = reseal(ctx, row, {
    status: verdict,
    decidedAt: now,
    decisionReason: note === "" ? null : note,
    grantKind: approved ? (forMs === undefined ? "once" : "window") : null,
    grantUntil: approved ? now + (forMs ?? APPROVAL_USE_WINDOW_MS) : null,
  });
  await tx.putApproval(updated);
  const details: Record<string, unknown> = { id: row.id, principal: row.principal, action: row.action, reason: note };
  if (approved) Object.assign(details, { grant: updated.grantKind, until: updated.grantUntil });
  await audit(tx, ctx, approved ? "approval.approve" : "approval.deny", row.path, details);
  return approvalInfo(updated, now);
}

/**
 * Whether the actor may decide request `id`: the owner or an admin always; a member only where
 * its scope grants `approve` on the request's path (refused and audited otherwise). Checked
 * before the deciding transaction, which writes the refusal's audit entry of its own.
 */
async function checkApprover(ctx: VaultContext, id: string, action: string): Promise<void> {
  if (ctx.actor.kind !== "member" || ctx.actor.role === "admin") {
    requireOwner(ctx, "decide approval requests");
    return;
  }
  const found = await ctx.store.getApproval(id);
  if (!found) throw noSuchRequest(id);
  await requireApprover(ctx, verifyApproval(ctx, found).path, action);
}

export async function approve(ctx: VaultContext, id: string, opts: ApproveOptions = {}): Promise<ApprovalInfo> {
  await checkApprover(ctx, id, "approval.approve");
  const note = checkReason(opts.reason, "--reason");
  const forMs = checkWindow(opts.forMs);
  return ctx.store.write(async (tx) => {
    const now = ctx.clock.now();
    return decide(tx, ctx, await pendingRow(tx, ctx, id, now), now, "approved", note, forMs);
  });
}

export async function deny(ctx: VaultContext, id: string, reason: string): Promise<ApprovalInfo> {
  await checkApprover(ctx, id, "approval.deny");
  const note = checkReason(reason, "--reason");
  if (note === "") throw new AuthyError("INVALID_INPUT", "a denial needs a reason", { hint: 'the agent is told it: --reason "not during the freeze"' });
  return ctx.store.write(async (tx) => {
    const now = ctx.clock.now();
    return decide(tx, ctx, await pendingRow(tx, ctx, id, now), now, "denied", note);
  });
}

/** Approves every request still pending, in one transaction; returns what was approved. */
export async function approveAll(ctx: VaultContext, opts: ApproveOptions = {}): Promise<ApprovalInfo[]> {
  requireOwner(ctx, "approve requests");
  const note = checkReason(opts.reason, "--reason");
  const forMs = checkWindow(opts.forMs);
  return ctx.store.write(async (tx) => {
    const now = ctx.clock.now();
    const rows = await recordLapses(
      tx,
      ctx,
      (await tx.listApprovals({ status: "pending" })).map((r) => verifyApproval(ctx, r)),
      now,
    );
    const out: ApprovalInfo[] = [];
    for (const row of rows) if (row.status === "pending") out.push(await decide(tx, ctx, row, now, "approved", note, forMs));
    return out;
  });
}
