import { AuthyError, integrityError } from "../errors.js";
import type { ApprovalRow } from "../store/store.js";
import type { VaultContext } from "./context.js";
import {
  APPROVAL_ACTIONS,
  APPROVAL_STATUSES,
  MAX_APPROVAL_REASON_LENGTH,
  type ApprovalAction,
  type ApprovalInfo,
  type ApprovalStatus,
  type GrantKind,
} from "./approval-info.js";
import { isTier, type Actor, type Tier } from "./types.js";

export { APPROVAL_STATUSES, type ApprovalAction, type ApprovalInfo, type ApprovalStatus } from "./approval-info.js";

/**
 * The authenticated shape of approval rows, and what the rest of authy sees of them.
 *
 * State machine (DESIGN.md section 2, "Approval"):
 *
 *   pending ──approve──► approved ──used once──► used          (single use: grant "once")
 *      │                    │
 *      │                    └──grantUntil passes──► expired    (an unused "once", or a "window" that ended)
 *      ├──deny──► denied
 *      └──expiresAt passes──► expired                          (nobody decided in time)
 *
 * Every transition is one write transaction with its audit entry. Lapses (→ expired) are
 * written by whichever operation first notices them; until then the view already reports the
 * effective status, so a row that lapsed is never honoured as if it had not.
 */
const APPROVAL_DOMAIN = "authy/approval/v1";

function approvalFields(r: Omit<ApprovalRow, "mac">) {
  return [
    r.id,
    r.principal,
    r.agent,
    r.token,
    r.action,
    r.path,
    r.tier,
    r.reason,
    r.status,
    r.createdAt,
    r.expiresAt,
    r.decidedAt,
    r.decisionReason,
    r.grantKind,
    r.grantUntil,
    r.usedAt,
  ];
}

export function sealApproval(ctx: VaultContext, r: Omit<ApprovalRow, "mac">): ApprovalRow {
  return { ...r, mac: ctx.keys.macRow(APPROVAL_DOMAIN, approvalFields(r)) };
}

/** Verifies a row; INTEGRITY if anything in it was edited or is not one of ours. */
export function verifyApproval(ctx: VaultContext, r: ApprovalRow): ApprovalRow {
  ctx.keys.verifyRow(APPROVAL_DOMAIN, approvalFields(r), r.mac, `approval ${JSON.stringify(r.id)} was modified outside authy`);
  const known =
    (APPROVAL_ACTIONS as readonly string[]).includes(r.action) &&
    (APPROVAL_STATUSES as readonly string[]).includes(r.status) &&
    isTier(r.tier) &&
    (r.grantKind === null || r.grantKind === "once" || r.grantKind === "window");
  if (!known) throw integrityError(`approval ${JSON.stringify(r.id)} has an unknown action, status, tier or grant`);
  return r;
}

/** What a row has become by `now`, if it lapsed: a pending request nobody decided, or a grant whose window closed. */
export function lapse(r: ApprovalRow, now: number): "request" | "grant" | null {
  if (r.status === "pending" && now >= r.expiresAt) return "request";
  if (r.status === "approved" && r.grantUntil !== null && now >= r.grantUntil) return "grant";
  return null;
}

export function approvalInfo(r: ApprovalRow, now: number): ApprovalInfo {
  return {
    id: r.id,
    principal: r.principal,
    agent: r.agent,
    token: r.token,
    action: r.action as ApprovalAction,
    path: r.path,
    tier: r.tier as Tier,
    reason: r.reason,
    status: lapse(r, now) ? "expired" : (r.status as ApprovalStatus),
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    decidedAt: r.decidedAt,
    decisionReason: r.decisionReason,
    grant: r.grantKind as GrantKind | null,
    grantUntil: r.grantUntil,
    usedAt: r.usedAt,
  };
}

/**
 * Who an approval is for. A token issued to an agent asks (and is granted) as that agent, so
 * a grant outlives the short-lived token that asked and covers the agent's next token; a
 * token issued without an agent asks as itself, and its grant covers that token only (not
 * the tokens it issues). The owner is never asked: null.
 *
 * An agent is named with its id, `agent:<name>#<id>`: a grant given to agent `x` does not
 * serve a new agent created later under the name `x` (with a new key, so a new id).
 */
export function principalOf(actor: Actor): string | null {
  switch (actor.kind) {
    case "owner":
    case "member": // members are people: they decide requests, they are never asked
      return null;
    case "agent":
      return agentPrincipal(actor.name, actor.id);
    case "token":
      if (!actor.agent) return `token:${actor.id}`;
      // A token of an agent always knows the agent's id (tokens.ts); one that does not is refused, never granted by name.
      if (!actor.agentId) throw new AuthyError("ACCESS_DENIED", "this token does not name its agent's identity", { hint: "obtain a new token" });
      return agentPrincipal(actor.agent, actor.agentId);
  }
}

export function agentPrincipal(name: string, id: string): string {
  return `agent:${name}#${id}`;
}

/**
 * Reasons are shown on the owner's terminal (`approvals watch`) and in desktop notifications,
 * so characters that could move the cursor, rewrite the screen or reorder text are refused.
 */
const UNSHOWABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

export function checkReason(reason: string | undefined, who: string): string {
  const r = (reason ?? "").trim();
  if (r.length > MAX_APPROVAL_REASON_LENGTH) throw new AuthyError("INVALID_INPUT", `${who} is longer than ${MAX_APPROVAL_REASON_LENGTH} characters`);
  if (UNSHOWABLE.test(r)) throw new AuthyError("INVALID_INPUT", `${who} contains control or invisible characters`, { hint: "use plain text on one line" });
  return r;
}

const TIER_RANK: Record<Tier, number> = { standard: 0, sensitive: 1, critical: 2 };

export function strictestTier(...tiers: Tier[]): Tier {
  return tiers.reduce((a, b) => (TIER_RANK[b] > TIER_RANK[a] ? b : a), "standard");
}

/** DESIGN.md's tier table: sensitive and critical reads, and critical writes (a delete or purge is one), need the owner. */
export function needsApproval(tier: Tier, action: ApprovalAction): boolean {
  return action === "secret.read" ? tier !== "standard" : tier === "critical";
}
