import type { IssuedToken } from "../client/vault-client.js";
import type { AgentInfo } from "../vault/agents.js";
import type { SlotInfo } from "../vault/key-slots.js";
import type { TokenInfo } from "../vault/tokens.js";
import type { VersionInfo } from "../vault/types.js";

/**
 * What `--json` prints, for the records that several commands share. Every shape is written
 * down in docs/json.md and checked against the built CLI by test/e2e/json.test.ts.
 *
 * The core and the API keep times as epoch milliseconds; they become text here, at the CLI's
 * edge, and only through jsonTime(), so that every command writes them the same way.
 */

/** A time in --json output: ISO 8601, UTC, always with milliseconds ("2026-01-31T09:30:00.123Z"). */
export function jsonTime(ms: number): string;
export function jsonTime(ms: number | null): string | null;
export function jsonTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/**
 * Audit details that hold times (approval and token expiries, a run's start). They are kept
 * in the hash chain as the core wrote them (epoch ms) and shown as times like every other.
 */
const DETAIL_TIMES = new Set(["expiresAt", "until", "startedAt"]);

export function detailsJson(details: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(details)) {
    if (DETAIL_TIMES.has(k) && typeof v === "number" && Number.isFinite(v)) (out ??= { ...details })[k] = jsonTime(v);
  }
  return out ?? details;
}

export function versionJson(v: VersionInfo) {
  return { version: v.version, type: v.type, tier: v.tier, createdAt: jsonTime(v.createdAt), actor: v.actor, current: v.current };
}

export function slotJson(s: SlotInfo) {
  return { id: s.id, kind: s.kind, label: s.label, recipient: s.recipient, createdAt: jsonTime(s.createdAt), workFactor: s.workFactor };
}

export function agentJson(a: AgentInfo) {
  return { name: a.name, id: a.id, scope: a.scope, description: a.description, createdAt: jsonTime(a.createdAt), revokedAt: jsonTime(a.revokedAt) };
}

/** What `tokens list` shows as STATUS, when the daemon did not say (an older one). */
export function tokenStatus(t: TokenInfo, now: number): NonNullable<TokenInfo["status"]> {
  return t.status ?? (t.revokedAt !== null ? "revoked" : t.expiresAt <= now ? "expired" : "active");
}

export function tokenJson(t: TokenInfo, now: number) {
  return {
    id: t.id,
    agent: t.agent,
    agentId: t.agentId,
    scope: t.scope,
    label: t.label,
    createdAt: jsonTime(t.createdAt),
    expiresAt: jsonTime(t.expiresAt),
    maxUses: t.maxUses,
    // Uses are counted against a limit only (an audited read of an unlimited token writes no
    // token row); the audit log has every use.
    uses: t.maxUses === null ? null : t.uses,
    revokedAt: jsonTime(t.revokedAt),
    parent: t.parent,
    pid: t.pid,
    status: tokenStatus(t, now),
  };
}

export function issuedTokenJson(t: IssuedToken) {
  return { token: t.token, id: t.id, expiresAt: jsonTime(t.expiresAt), scope: t.scope, notices: t.notices };
}
