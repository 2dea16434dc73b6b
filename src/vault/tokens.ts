import { TOKEN_FORM, tokenIdOf } from "./token-id.js";
import { actsAsOwner } from "./types.js";
import { constantTimeEqual, randomId, randomToken } from "../crypto/index.js";
import { AuthyError, integrityError, isAuthyError } from "../errors.js";
import type { StoreWriter, TokenRow } from "../store/store.js";
import { EntryVerifier } from "./audit-chain.js";
import { requireOwner } from "./access.js";
import { secretHash, openAgentRow } from "./agents.js";
import { audit, tryAudit } from "./audit-log.js";
import type { VaultContext } from "./context.js";
import { canonicalPolicyJson, isSubScope, policyFromCanonicalJson, type Scope } from "./policy/index.js";

/**
 * Tokens: short-lived, scoped, revocable, optionally limited in uses or bound to a process.
 * Shown once (`authy_tk_<id>_<secret>`), stored as an HMAC. A token is valid only on the
 * daemon or server instance that issued it, so a restarted daemon honours none from before.
 */
const TOKEN_DEFAULT_TTL_MS = 15 * 60_000;
/** Tokens are for a session of work, not for configuration files: one day at most. */
export const TOKEN_MAX_TTL_MS = 24 * 60 * 60_000;
export const TOKEN_PREFIX = "authy_tk_";
const TOKEN_DOMAIN = "authy/token/v1";

export interface TokenInfo {
  id: string;
  /** The agent it was issued to (its name), and that agent's id. */
  agent: string | null;
  agentId: string | null;
  scope: Scope;
  label: string;
  createdAt: number;
  expiresAt: number;
  maxUses: number | null;
  uses: number;
  revokedAt: number | null;
  parent: string | null;
  pid: number | null;
  /** What `tokens list` shows; `spent` when its uses, or its family's, are all spent. */
  status?: TokenStatus;
}

type TokenStatus = "active" | "spent" | "expired" | "revoked";

/**
 * Tokens issue tokens; a chain longer than this is refused rather than walked (each use walks
 * it, to spend from every limited ancestor).
 */
const MAX_TOKEN_DEPTH = 16;

/**
 * The agent a token was issued to, as stored in its row: `<name>#<id>`. The id tells apart
 * agents that had the same name: revoking agent `x` and creating a new `x` must not bring the
 * old one's tokens back. A row without an id (written before ids were kept) names no agent
 * that can be checked, and is refused.
 */
function agentRef(name: string, id: string): string {
  return `${name}#${id}`;
}

function parseAgentRef(ref: string | null): { name: string; id: string | null } | null {
  if (ref === null) return null;
  const hash = ref.lastIndexOf("#");
  return hash < 0 ? { name: ref, id: null } : { name: ref.slice(0, hash), id: ref.slice(hash + 1) };
}

/** `limited`: the token, or one of its ancestors, has a number of uses (so a use is spent per request). */
export type TokenCheck =
  { ok: true; token: TokenInfo; limited: boolean } | { ok: false; reason: "unknown" | "expired" | "revoked" | "exhausted" | "agent-revoked" };

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
  const agent = parseAgentRef(r.agent);
  return {
    id: r.id,
    agent: agent?.name ?? null,
    agentId: agent?.id ?? null,
    scope,
    label: r.label,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    maxUses: r.maxUses,
    uses: r.uses,
    revokedAt: r.revokedAt,
    parent: r.parent,
    pid: r.pid,
  };
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
 * Issues a token. The owner (or an admin member) may issue any scope; a member of role
 * member at most its own scope, never for an agent; an agent (by its key) at most its own
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
  if (opts.uses !== undefined && (!Number.isSafeInteger(opts.uses) || opts.uses < 1))
    throw new AuthyError("INVALID_INPUT", "--uses must be a whole number of at least 1");
  let expiresAt = now + ttl;
  /** The agent as stored in the row (`name#id`), and its name alone. */
  let agent: string | null = null;
  let agentName: string | null = opts.agent ?? null;
  let parent: string | null = null;
  let maxUses = opts.uses ?? null;
  const actor = ctx.actor;
  if (actor.kind === "member" && actor.role === "member") {
    // A member may hand its own work to a token, never more than its scope, never for an agent.
    if (!isSubScope(opts.scope, actor.scope)) {
      await tryAudit(ctx, "token.issue.denied", "token", { reason: "wider scope" }, "denied");
      throw new AuthyError("ACCESS_DENIED", "a token can only be issued for a scope within the issuer's own", { hint: "ask an admin for a wider token" });
    }
    if (opts.agent !== undefined) {
      await tryAudit(ctx, "token.issue.denied", "token", { reason: "for an agent" }, "denied");
      throw new AuthyError("ACCESS_DENIED", "only an admin can issue a token for an agent");
    }
    agentName = null;
  }
  if (actor.kind === "token" || actor.kind === "agent") {
    if (!isSubScope(opts.scope, actor.scope)) {
      await tryAudit(ctx, "token.issue.denied", "token", { reason: "wider scope" }, "denied");
      throw new AuthyError("ACCESS_DENIED", "a token can only be issued for a scope within the issuer's own", { hint: "ask the owner for a wider token" });
    }
    agentName = actor.kind === "agent" ? actor.name : (actor.agent ?? null);
    const agentId = actor.kind === "agent" ? actor.id : (actor.agentId ?? null);
    if (opts.agent !== undefined && opts.agent !== agentName) throw new AuthyError("ACCESS_DENIED", "cannot issue a token for another agent");
    agent = agentName !== null && agentId !== null ? agentRef(agentName, agentId) : null;
  }
  if (actor.kind === "token") {
    parent = actor.id;
    if (expiresAt > actor.expiresAt) {
      expiresAt = actor.expiresAt;
      notices.push("lifetime clamped to the issuing token's");
    }
    // One budget for the family: a child can never have more uses than its ancestors have
    // left, and every use it makes is spent from them too (useToken).
    const left = familyUsesLeft(await family(ctx, (id) => ctx.store.getToken(id), actor.id));
    if (left !== null && (maxUses === null || maxUses > left)) {
      maxUses = left;
      notices.push(`uses clamped to the ${left} left to the issuing token`);
    }
  }
  if (agentName !== null && actsAsOwner(actor)) {
    const row = await ctx.store.getAgent(agentName);
    const found = row ? openAgentRow(ctx, row) : null;
    if (!found || found.revokedAt !== null) throw new AuthyError("NOT_FOUND", `no agent ${agentName}`);
    agent = agentRef(found.name, found.id);
  }
  const id = randomId("", 10);
  const secret = randomToken(32);
  const row = seal(ctx, {
    id,
    secretHash: secretHash(ctx, secret),
    agent,
    scope: scopeJson(opts.scope),
    label: opts.label ?? "",
    createdAt: now,
    expiresAt,
    maxUses,
    uses: 0,
    revokedAt: null,
    instance: opts.instance,
    parent,
    pid: opts.pid ?? null,
  });
  await ctx.store.write(async (tx) => {
    if (actor.kind === "member") {
      // Revoked since its key was recognised: the revocation swept this member's tokens in an
      // earlier write (revokeTokensOfMember), so a token issued now would escape it. Only a
      // refusal is read here; the row was verified when the key was.
      const m = await tx.getMember(actor.name);
      if (!m || m.id !== actor.id || m.revokedAt !== null) throw new AuthyError("ACCESS_DENIED", "this key belongs to a revoked member");
    }
    await tx.putToken(row);
    await audit(tx, ctx, "token.issue", `token:${id}`, { agent: agentName, scope: opts.scope.name, expiresAt, maxUses, parent, pid: opts.pid ?? null });
  });
  return { token: open(ctx, row), secret: `${TOKEN_PREFIX}${id}_${secret}`, notices };
}

function parseToken(token: string): { id: string; secret: string } | null {
  const m = TOKEN_FORM.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/**
 * A token and its ancestors, nearest first, each verified (the token issued by a token issued
 * by …). Null when the token, or one of its ancestors, is gone.
 */
async function family(ctx: VaultContext, get: (id: string) => Promise<TokenRow | null>, id: string): Promise<{ row: TokenRow; token: TokenInfo }[] | null> {
  const chain: { row: TokenRow; token: TokenInfo }[] = [];
  for (let next: string | null = id; next !== null;) {
    if (chain.length >= MAX_TOKEN_DEPTH) return null;
    const row = await get(next);
    if (!row) return null;
    const token = open(ctx, row);
    chain.push({ row, token });
    next = token.parent;
  }
  return chain;
}

/** The uses the family has left: the fewest left to any limited member; null when none is limited. */
function familyUsesLeft(chain: { token: TokenInfo }[] | null): number | null {
  let left: number | null = null;
  for (const { token: t } of chain ?? []) if (t.maxUses !== null) left = Math.min(left ?? Infinity, Math.max(0, t.maxUses - t.uses));
  return left;
}

/** Why a token (with its ancestors) cannot be used now, or null when it can. */
async function refusal(ctx: VaultContext, chain: { token: TokenInfo }[] | null): Promise<Exclude<TokenCheck, { ok: true }>["reason"] | null> {
  if (!chain) return "revoked";
  const now = ctx.clock.now();
  for (const { token: t } of chain) {
    if (t.revokedAt !== null) return "revoked";
    if (now >= t.expiresAt) return "expired";
    if (t.maxUses !== null && t.uses >= t.maxUses) return "exhausted";
  }
  const t = chain[0]!.token;
  if (t.agent !== null) {
    if (t.agentId === null) return "agent-revoked";
    const agentRow = await ctx.store.getAgentById(t.agentId);
    const agent = agentRow ? openAgentRow(ctx, agentRow) : null;
    if (!agent || agent.name !== t.agent || agent.revokedAt !== null) return "agent-revoked";
  }
  return null;
}

/** The id of a presented token, when it has the shape of one. */
export function presentedTokenId(presented: string): string | null {
  const parsed = parseToken(presented);
  return parsed && parsed.id.length <= 32 ? parsed.id : null;
}

/**
 * Checks a presented token and, with `spend` (the default), spends one use of it and of every
 * limited ancestor, atomically: a family of tokens shares one budget, and a single-use token
 * used 100 times at once succeeds exactly once. Callers must answer every failure the same
 * way; the reason is for the audit log only (which the caller writes: see src/api). With
 * `spend: false` (status, approval polls, issuing a child) nothing is spent.
 */
export async function useToken(ctx: VaultContext, presented: string, instance: string, opts: { spend?: boolean } = {}): Promise<TokenCheck> {
  const parsed = parseToken(presented);
  const hash = secretHash(ctx, parsed ? parsed.secret : presented);
  const check = async (get: (id: string) => Promise<TokenRow | null>): Promise<{ result: TokenCheck; chain: { row: TokenRow; token: TokenInfo }[] }> => {
    const row = parsed ? await get(parsed.id) : null;
    const match = constantTimeEqual(hash, row ? row.secretHash : new Uint8Array(hash.length));
    if (!row || !match || row.instance !== instance) return { result: { ok: false, reason: "unknown" }, chain: [] };
    // The row just read is the family's first: read once, not twice.
    const chain = await family(ctx, (id) => (id === row.id ? Promise.resolve(row) : get(id)), row.id);
    const reason = await refusal(ctx, chain);
    return reason
      ? { result: { ok: false, reason }, chain: [] }
      : { result: { ok: true, token: chain![0]!.token, limited: familyUsesLeft(chain) !== null }, chain: chain! };
  };
  const first = await check((id) => ctx.store.getToken(id));
  if (!first.result.ok || opts.spend === false || !first.result.limited) return first.result;
  return ctx.store.write(async (tx): Promise<TokenCheck> => {
    const again = await check((id) => tx.getToken(id));
    if (!again.result.ok) return again.result;
    for (const { row } of again.chain) {
      if (row.maxUses === null) continue;
      const { mac: _mac, ...rest } = row;
      await tx.putToken(seal(ctx, { ...rest, uses: rest.uses + 1 }));
    }
    const t = again.result.token;
    return { ok: true, limited: true, token: { ...t, uses: t.uses + (t.maxUses === null ? 0 : 1) } };
  });
}

/**
 * Gives back the use a request spent when it released nothing (refused, not found, waiting
 * for an approval): what a token's uses count is what it obtained.
 */
export async function refundUse(ctx: VaultContext, id: string): Promise<void> {
  await ctx.store.write(async (tx) => {
    for (const { row } of (await family(ctx, (t) => tx.getToken(t), id)) ?? []) {
      if (row.maxUses === null || row.uses === 0) continue;
      const { mac: _mac, ...rest } = row;
      await tx.putToken(seal(ctx, { ...rest, uses: rest.uses - 1 }));
    }
  });
}

/** This instance's tokens, each with its status as of now (a spent family shows as spent). */
export async function listTokens(ctx: VaultContext, instance: string): Promise<TokenInfo[]> {
  requireOwner(ctx, "list tokens");
  const rows = new Map((await ctx.store.listTokens()).filter((r) => r.instance === instance).map((r) => [r.id, r]));
  const out: TokenInfo[] = [];
  for (const row of rows.values()) {
    const chain = await family(ctx, async (id) => rows.get(id) ?? null, row.id);
    const why = await refusal(ctx, chain);
    const status: TokenStatus = why === null ? "active" : why === "exhausted" ? "spent" : why === "expired" ? "expired" : "revoked";
    out.push({ ...open(ctx, row), status });
  }
  return out;
}

/** The ids in `ids` and every token issued from them, children and grandchildren alike. */
function withDescendants(all: readonly TokenRow[], ids: Iterable<string>): Set<string> {
  const doomed = new Set(ids);
  for (let grew = true; grew;) {
    grew = false;
    for (const r of all) {
      if (r.parent !== null && doomed.has(r.parent) && !doomed.has(r.id)) {
        doomed.add(r.id);
        grew = true;
      }
    }
  }
  return doomed;
}

/**
 * Inside a write that revokes a member or replaces its key: revokes every token the member
 * issued until `until` (and what those issued), so that none outlives the key it came from.
 * Token rows do not record who issued them; the audit log does (`token.issue` by
 * `member:NAME`), and each entry read is verified before it is believed. Only the last
 * TOKEN_MAX_TTL_MS can hold a token still alive.
 */
export async function revokeTokensOfMember(tx: StoreWriter, ctx: VaultContext, member: { name: string; createdAt: number }, until: number): Promise<string[]> {
  const entries = await tx.listAudit({
    actor: `member:${member.name}`,
    action: "token.issue",
    since: Math.max(member.createdAt, until - TOKEN_MAX_TTL_MS),
    until,
  });
  const issued: string[] = [];
  const v = new EntryVerifier(ctx.keys);
  try {
    for (const e of entries) {
      v.check(e);
      if (e.resource.startsWith("token:")) issued.push(e.resource.slice("token:".length));
    }
  } finally {
    v.wipe();
  }
  if (issued.length === 0) return [];
  const all = await tx.listTokens();
  const doomed = withDescendants(all, issued);
  return revokeRows(
    tx,
    ctx,
    all.filter((r) => doomed.has(r.id) && r.expiresAt > until),
    until,
  );
}

/** Marks each row not revoked yet as revoked at `at` (each verified first); the ids it revoked. */
async function revokeRows(tx: StoreWriter, ctx: VaultContext, rows: readonly TokenRow[], at: number): Promise<string[]> {
  const revoked: string[] = [];
  for (const r of rows) {
    if (r.revokedAt !== null) continue;
    open(ctx, r);
    const { mac: _mac, ...rest } = r;
    await tx.putToken(seal(ctx, { ...rest, revokedAt: at }));
    revoked.push(r.id);
  }
  return revoked;
}

/** Revokes a token and every token it issued. The owner may revoke any; a token itself and its children. */
export async function revokeToken(ctx: VaultContext, given: string): Promise<TokenInfo> {
  const id = tokenIdOf(given);
  try {
    return await revokeTokenTree(ctx, id);
  } catch (e) {
    // Refused inside the write, which undoes everything in it: the refusal is written after.
    if (isAuthyError(e) && e.code === "ACCESS_DENIED") await tryAudit(ctx, "token.revoke.denied", `token:${id}`, {}, "denied");
    throw e;
  }
}

function revokeTokenTree(ctx: VaultContext, id: string): Promise<TokenInfo> {
  return ctx.store.write(async (tx) => {
    const row = await tx.getToken(id);
    if (!row) throw new AuthyError("NOT_FOUND", `no token ${id}`, { hint: "see `authy tokens list`" });
    const t = open(ctx, row);
    if (!actsAsOwner(ctx.actor) && !(ctx.actor.kind === "token" && (ctx.actor.id === id || t.parent === ctx.actor.id))) {
      throw new AuthyError("ACCESS_DENIED", "only the owner can revoke other tokens");
    }
    const now = ctx.clock.now();
    const all = await tx.listTokens();
    // Children, grandchildren…: revoking a token revokes what it issued.
    const doomed = withDescendants(all, [id]);
    await revokeRows(
      tx,
      ctx,
      all.filter((r) => doomed.has(r.id)),
      now,
    );
    await audit(tx, ctx, "token.revoke", `token:${id}`, { revoked: [...doomed] });
    return { ...t, revokedAt: t.revokedAt ?? now };
  });
}
