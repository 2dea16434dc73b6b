import { constantTimeEqual, randomId, randomToken } from "../crypto/index.js";
import { AuthyError, integrityError } from "../errors.js";
import type { TokenRow } from "../store/store.js";
import { auditRefusedCredential, requireOwner } from "./access.js";
import { secretHash, openAgentRow } from "./agents.js";
import { audit, tryAudit } from "./audit-log.js";
import type { VaultContext } from "./context.js";
import { canonicalPolicyJson, isSubScope, policyFromCanonicalJson, type Scope } from "./policy/index.js";

/**
 * Tokens: short-lived, scoped, revocable, optionally limited in uses or bound to a process.
 * Shown once (`authy_tk_<id>_<secret>`), stored as an HMAC. A token is valid only on the
 * daemon or server instance that issued it, so a restarted daemon honours none from before.
 */
export const TOKEN_DEFAULT_TTL_MS = 15 * 60_000;
/** Tokens are for a session of work, not for configuration files: one day at most. */
export const TOKEN_MAX_TTL_MS = 24 * 60 * 60_000;
export const TOKEN_PREFIX = "authy_tk_";
const TOKEN_DOMAIN = "authy/token/v1";

export interface TokenInfo {
  id: string;
  agent: string | null;
  scope: Scope;
  label: string;
  createdAt: number;
  expiresAt: number;
  maxUses: number | null;
  uses: number;
  revokedAt: number | null;
  parent: string | null;
  pid: number | null;
}

export type TokenCheck = { ok: true; token: TokenInfo } | { ok: false; reason: "unknown" | "expired" | "revoked" | "exhausted" | "agent-revoked" };

function tokenFields(r: Omit<TokenRow, "mac">) {
  return [r.id, r.secretHash, r.agent, r.scope, r.label, r.createdAt, r.expiresAt, r.maxUses, r.uses, r.revokedAt, r.instance, r.parent, r.pid];
}

function seal(ctx: VaultContext, r: Omit<TokenRow, "mac">): TokenRow {
  return { ...r, mac: ctx.keys.macRow(TOKEN_DOMAIN, tokenFields(r)) };
}

/**
 * A token's scope as stored (and MACed with its row):
 *   {"name":<the scope's name as given>,"policy":<canonical policy JSON of one scope named "token">}
 * The name sits beside the policy because a compact scope's name (`secrets:read:prod/*`) is
 * not a valid stored scope name, and the canonical policy form refuses it.
 */
const TOKEN_SCOPE_KEY = "token";

function scopeJson(scope: Scope): string {
  return JSON.stringify({ name: scope.name, policy: canonicalPolicyJson({ scopes: { [TOKEN_SCOPE_KEY]: { ...scope, name: TOKEN_SCOPE_KEY } } }) });
}

/**
 * Token scopes parsed, by their stored text (MAC-verified before it gets here): the daemon
 * checks a token on every request, and parsing and re-checking its policy JSON each time cost
 * about 7% of its reads per second. Bounded, like compiled patterns.
 */
const parsedScopes = new Map<string, Scope>();
const PARSED_SCOPES_LIMIT = 256;

function scopeFromJson(id: string, json: string): Scope {
  const known = parsedScopes.get(json);
  if (known) return known;
  const scope = parseScopeJson(id, json);
  if (parsedScopes.size >= PARSED_SCOPES_LIMIT) parsedScopes.clear();
  parsedScopes.set(json, scope);
  return scope;
}

function parseScopeJson(id: string, json: string): Scope {
  let stored: unknown;
  try {
    stored = JSON.parse(json);
  } catch {
    throw integrityError(`token ${id} has a malformed scope`);
  }
  const { name, policy } = (stored ?? {}) as { name?: unknown; policy?: unknown };
  if (typeof name !== "string" || typeof policy !== "string") throw integrityError(`token ${id} has a malformed scope`);
  const scope = policyFromCanonicalJson(policy).scopes[TOKEN_SCOPE_KEY];
  if (!scope) throw integrityError(`token ${id} has no scope`);
  return { ...scope, name };
}

/** Verifies a token row's MAC and scope (for `doctor` and `restore`); INTEGRITY if either fails. */
export function verifyTokenRow(ctx: VaultContext, r: TokenRow): void {
  open(ctx, r);
}

function open(ctx: VaultContext, r: TokenRow): TokenInfo {
  ctx.keys.verifyRow(TOKEN_DOMAIN, tokenFields(r), r.mac, `token ${r.id} was modified outside authy`);
  const scope = scopeFromJson(r.id, r.scope);
  return { id: r.id, agent: r.agent, scope, label: r.label, createdAt: r.createdAt, expiresAt: r.expiresAt, maxUses: r.maxUses, uses: r.uses, revokedAt: r.revokedAt, parent: r.parent, pid: r.pid };
}

export interface CreateTokenOptions {
  scope: Scope;
  ttlMs?: number;
  uses?: number;
  agent?: string;
  label?: string;
  pid?: number;
  /** Which daemon or server instance honours it. */
  instance: string;
}

/**
 * Issues a token. The owner may issue any scope; an agent (by its key) at most its own
 * scope; a token at most its own scope, uses and remaining life. Returns `clamped` when the
 * TTL was shortened.
 */
export async function createToken(ctx: VaultContext, opts: CreateTokenOptions): Promise<{ token: TokenInfo; secret: string; notices: string[] }> {
  const notices: string[] = [];
  const now = ctx.clock.now();
  let ttl = opts.ttlMs ?? TOKEN_DEFAULT_TTL_MS;
  if (!Number.isFinite(ttl) || ttl <= 0) throw new AuthyError("INVALID_INPUT", "a token's lifetime must be positive");
  if (ttl > TOKEN_MAX_TTL_MS) {
    ttl = TOKEN_MAX_TTL_MS;
    notices.push("lifetime clamped to the 24h maximum");
  }
  if (opts.uses !== undefined && (!Number.isSafeInteger(opts.uses) || opts.uses < 1)) throw new AuthyError("INVALID_INPUT", "--uses must be a whole number of at least 1");
  let expiresAt = now + ttl;
  let agent = opts.agent ?? null;
  let parent: string | null = null;
  let maxUses = opts.uses ?? null;
  const actor = ctx.actor;
  if (actor.kind === "token" || actor.kind === "agent") {
    if (!isSubScope(opts.scope, actor.scope)) {
      await tryAudit(ctx, "token.issue.denied", "token", { reason: "wider scope" }, "denied");
      throw new AuthyError("ACCESS_DENIED", "a token can only be issued for a scope within the issuer's own", { hint: "ask the owner for a wider token" });
    }
    agent = actor.kind === "agent" ? actor.name : (actor.agent ?? null);
    if (opts.agent !== undefined && opts.agent !== agent) throw new AuthyError("ACCESS_DENIED", "cannot issue a token for another agent");
  }
  if (actor.kind === "token") {
    parent = actor.id;
    if (expiresAt > actor.expiresAt) {
      expiresAt = actor.expiresAt;
      notices.push("lifetime clamped to the issuing token's");
    }
    const parentRow = await ctx.store.getToken(actor.id);
    const p = parentRow ? open(ctx, parentRow) : null;
    if (p && p.maxUses !== null) {
      const left = p.maxUses - p.uses;
      if (maxUses === null || maxUses > left) {
        maxUses = left;
        notices.push(`uses clamped to the issuing token's ${left}`);
      }
    }
  }
  if (agent !== null && actor.kind === "owner") {
    const row = await ctx.store.getAgent(agent);
    if (!row || openAgentRow(ctx, row).revokedAt !== null) throw new AuthyError("NOT_FOUND", `no agent ${agent}`);
  }
  const id = randomId("", 10);
  const secret = randomToken(32);
  const row = seal(ctx, {
    id, secretHash: secretHash(ctx, secret), agent, scope: scopeJson(opts.scope), label: opts.label ?? "", createdAt: now, expiresAt,
    maxUses, uses: 0, revokedAt: null, instance: opts.instance, parent, pid: opts.pid ?? null,
  });
  await ctx.store.write(async (tx) => {
    await tx.putToken(row);
    await audit(tx, ctx, "token.issue", `token:${id}`, { agent, scope: opts.scope.name, expiresAt, maxUses, parent, pid: opts.pid ?? null });
  });
  return { token: open(ctx, row), secret: `${TOKEN_PREFIX}${id}_${secret}`, notices };
}

function parseToken(token: string): { id: string; secret: string } | null {
  const m = /^authy_tk_([a-z2-7]+)_([A-Za-z0-9_-]+)$/.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/**
 * Checks a presented token and, if it is limited in uses, spends one use atomically (so a
 * single-use token used 100 times at once succeeds exactly once). Callers must answer every
 * failure the same way; the reason is for the audit log only. With `spend: false` (checking on
 * an approval request) the token is checked but no use is spent.
 */
export async function useToken(ctx: VaultContext, presented: string, instance: string, opts: { spend?: boolean } = {}): Promise<TokenCheck> {
  const parsed = parseToken(presented);
  const hash = secretHash(ctx, parsed ? parsed.secret : presented);
  const check = async (row: TokenRow | null): Promise<TokenCheck> => {
    const match = constantTimeEqual(hash, row ? row.secretHash : new Uint8Array(hash.length));
    if (!row || !match || row.instance !== instance) return { ok: false, reason: "unknown" };
    const t = open(ctx, row);
    if (t.revokedAt !== null) return { ok: false, reason: "revoked" };
    if (ctx.clock.now() >= t.expiresAt) return { ok: false, reason: "expired" };
    if (t.maxUses !== null && t.uses >= t.maxUses) return { ok: false, reason: "exhausted" };
    if (t.agent !== null) {
      const agentRow = await ctx.store.getAgent(t.agent);
      if (!agentRow || openAgentRow(ctx, agentRow).revokedAt !== null) return { ok: false, reason: "agent-revoked" };
    }
    return { ok: true, token: t };
  };
  const first = await check(parsed ? await ctx.store.getToken(parsed.id) : null);
  const result: TokenCheck =
    !first.ok || first.token.maxUses === null || opts.spend === false
      ? first
      : await ctx.store.write(async (tx): Promise<TokenCheck> => {
          const row = await tx.getToken(parsed!.id);
          const again = await check(row);
          if (!again.ok || !row) return again;
          const { mac: _mac, ...rest } = row;
          await tx.putToken(seal(ctx, { ...rest, uses: rest.uses + 1 }));
          return { ok: true, token: { ...again.token, uses: again.token.uses + 1 } };
        });
  if (!result.ok) {
    // Every refusal is written down; the id is shown only if it has the shape of one.
    const who = parsed && parsed.id.length <= 32 ? `token:${parsed.id}` : "token:unknown";
    await auditRefusedCredential(ctx, who, "token.use.denied", { reason: result.reason });
  }
  return result;
}

export async function listTokens(ctx: VaultContext, instance: string): Promise<TokenInfo[]> {
  requireOwner(ctx, "list tokens");
  return (await ctx.store.listTokens()).filter((r) => r.instance === instance).map((r) => open(ctx, r));
}

/** Revokes a token and every token it issued. The owner may revoke any; a token itself and its children. */
export async function revokeToken(ctx: VaultContext, id: string): Promise<TokenInfo> {
  return ctx.store.write(async (tx) => {
    const row = await tx.getToken(id);
    if (!row) throw new AuthyError("NOT_FOUND", `no token ${id}`, { hint: "see `authy tokens list`" });
    const t = open(ctx, row);
    if (ctx.actor.kind !== "owner" && !(ctx.actor.kind === "token" && (ctx.actor.id === id || t.parent === ctx.actor.id))) {
      throw new AuthyError("ACCESS_DENIED", "only the owner can revoke other tokens");
    }
    const now = ctx.clock.now();
    const all = await tx.listTokens();
    const doomed = new Set([id]);
    // Children, grandchildren…: revoking a token revokes what it issued.
    for (let grew = true; grew; ) {
      grew = false;
      for (const r of all) {
        if (r.parent !== null && doomed.has(r.parent) && !doomed.has(r.id)) {
          doomed.add(r.id);
          grew = true;
        }
      }
    }
    for (const r of all) {
      if (!doomed.has(r.id) || r.revokedAt !== null) continue;
      open(ctx, r);
      const { mac: _mac, ...rest } = r;
      await tx.putToken(seal(ctx, { ...rest, revokedAt: now }));
    }
    await audit(tx, ctx, "token.revoke", `token:${id}`, { revoked: [...doomed] });
    return { ...t, revokedAt: t.revokedAt ?? now };
  });
}
