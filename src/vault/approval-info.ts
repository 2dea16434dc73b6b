import type { Tier } from "./types.js";

/**
 * What an approval request is, as everyone outside approval-rows.ts sees it (types only: context.ts reaches it).
 * A delete (soft) and a purge of a critical secret are writes of it, asked for under their own
 * names so that the owner sees what is asked, and a grant for one never serves another.
 */
export const APPROVAL_ACTIONS = ["secret.read", "secret.write", "secret.delete", "secret.purge"] as const;
export type ApprovalAction = (typeof APPROVAL_ACTIONS)[number];

const VERBS: Record<ApprovalAction, string> = { "secret.read": "read", "secret.write": "write", "secret.delete": "delete", "secret.purge": "purge" };

/**
 * The word a request is shown with (`wants to delete prod/ROOT`): read, write, delete or purge.
 * An action this version does not know (a newer server's) is shown as named, if it is a plain word.
 */
export function approvalVerb(action: string): string {
  if (Object.hasOwn(VERBS, action)) return VERBS[action as ApprovalAction];
  return /^[a-z][a-z._-]{0,39}$/.test(action) ? action : "access";
}
export const APPROVAL_STATUSES = ["pending", "approved", "denied", "expired", "used"] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
export type GrantKind = "once" | "window";

/** The longest reason, from an agent or the owner: a sentence, not a document. */
export const MAX_APPROVAL_REASON_LENGTH = 500;

/** One approval request as shown to the owner, the waiting agent, the API and notifications. Never a value. */
export interface ApprovalInfo {
  id: string;
  /** `agent:<name>`, or `token:<id>` for a token issued without an agent. */
  principal: string;
  agent: string | null;
  token: string;
  action: ApprovalAction;
  path: string;
  tier: Tier;
  reason: string;
  /** The effective status at the time of reading (a lapsed row reads as `expired`). */
  status: ApprovalStatus;
  createdAt: number;
  expiresAt: number;
  decidedAt: number | null;
  decisionReason: string | null;
  grant: GrantKind | null;
  grantUntil: number | null;
  usedAt: number | null;
}
