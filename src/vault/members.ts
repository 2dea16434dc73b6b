import { constantTimeEqual, randomId, randomToken } from "../crypto/index.js";
import { AuthyError } from "../errors.js";
import type { MemberRow } from "../store/store.js";
import type { VaultContext } from "./context.js";
import { resolveScope } from "./policies.js";
import { audit, tryAudit } from "./audit-log.js";
import { actsAsOwner } from "./types.js";
import { requireOwner } from "./access.js";
import { secretHash } from "./agents.js";
import { revokeTokensOfMember } from "./tokens.js";

/**
 * Members of a team server: the people who hold the owner's role there (DESIGN.md section 1).
 * An `admin` can do everything the local owner can; a `member` acts within its scope, and
 * decides approval requests only where that scope grants `approve`. Each has a personal API
 * key, shown once and stored only as an HMAC under a key derived from the vault key, like an
 * agent key; rows are MACed and fresh (the `members` bucket), so a revoked member put back by
 * hand is refused.
 *
 * Member key format: `authy_mk_<id>_<secret>`; the id finds the row (and survives a
 * rotation), the secret is compared in constant time.
 */
const MEMBER_DOMAIN = "authy/member/v1";
const MEMBER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const MEMBER_KEY_PREFIX = "authy_mk_";
const MEMBER_KEY = /^authy_mk_([a-z2-7]{1,32})_([A-Za-z0-9_-]+)$/;
const MEMBER_ROLES = ["admin", "member"] as const;
type MemberRole = (typeof MEMBER_ROLES)[number];

export interface MemberInfo {
  name: string;
  id: string;
  role: MemberRole;
  /** The scope of a member of role `member`; "" for an admin. */
  scope: string;
  createdAt: number;
  keyCreatedAt: number;
  revokedAt: number | null;
}

function memberFields(r: Omit<MemberRow, "mac">) {
  return [r.name, r.id, r.keyHash, r.role, r.scope, r.createdAt, r.keyCreatedAt, r.revokedAt];
}

export function openMemberRow(ctx: VaultContext, r: MemberRow): MemberInfo {
  ctx.keys.verifyRow(MEMBER_DOMAIN, memberFields(r), r.mac, `member ${JSON.stringify(r.name)} was modified outside authy`);
  if (!(MEMBER_ROLES as readonly string[]).includes(r.role)) throw new AuthyError("INTEGRITY", `member ${JSON.stringify(r.name)} has an unknown role`);
  return { name: r.name, id: r.id, role: r.role as MemberRole, scope: r.scope, createdAt: r.createdAt, keyCreatedAt: r.keyCreatedAt, revokedAt: r.revokedAt };
}

function sealMember(ctx: VaultContext, r: Omit<MemberRow, "mac">): MemberRow {
  return { ...r, mac: ctx.keys.macRow(MEMBER_DOMAIN, memberFields(r)) };
}

function checkRole(role: string): MemberRole {
  if (!(MEMBER_ROLES as readonly string[]).includes(role))
    throw new AuthyError("INVALID_INPUT", `unknown role ${JSON.stringify(role.slice(0, 40))}`, { hint: "--role admin or --role member" });
  return role as MemberRole;
}

export interface AddMemberOptions {
  role: string;
  /** Required for role `member` (a stored scope name or a compact scope); refused for an admin. */
  scope?: string;
}

/** Adds a member (admin only) and returns its key, which is never shown again. */
export async function addMember(ctx: VaultContext, name: string, opts: AddMemberOptions): Promise<{ member: MemberInfo; key: string }> {
  requireOwner(ctx, "add members");
  if (!MEMBER_NAME.test(name))
    throw new AuthyError("INVALID_INPUT", `invalid member name ${JSON.stringify(name.slice(0, 80))}`, { hint: "letters, digits, . _ @ - (up to 64)" });
  const role = checkRole(opts.role);
  const scope = opts.scope ?? "";
  if (role === "member" && scope === "")
    throw new AuthyError("INVALID_INPUT", "a member of role member needs a scope", {
      hint: "--scope deploy, or a compact scope such as secrets:read+approve:prod/**",
    });
  if (role === "admin" && scope !== "") throw new AuthyError("INVALID_INPUT", "an admin has no scope", { hint: "leave out --scope, or use --role member" });
  if (scope !== "") await resolveScope(ctx, scope); // the scope must exist (or be a valid compact scope) now
  const id = randomId("", 8);
  const secret = randomToken(32);
  return ctx.store.write(async (tx) => {
    const existing = await tx.getMember(name);
    if (existing && existing.revokedAt === null)
      throw new AuthyError("ALREADY_EXISTS", `member ${name} already exists`, { hint: "revoke it first, or choose another name" });
    const now = ctx.clock.now();
    const row = sealMember(ctx, { name, id, keyHash: secretHash(ctx, secret), role, scope, createdAt: now, keyCreatedAt: now, revokedAt: null });
    await tx.putMember(row);
    await audit(tx, ctx, "member.add", `member:${name}`, { role, scope });
    return { member: openMemberRow(ctx, row), key: `${MEMBER_KEY_PREFIX}${id}_${secret}` };
  });
}

export async function listMembers(ctx: VaultContext): Promise<MemberInfo[]> {
  requireOwner(ctx, "list members");
  return (await ctx.store.listMembers()).map((r) => openMemberRow(ctx, r));
}

/** Revokes a member (admin only): its key stops working at once, in every server process. The last admin stays. */
export async function revokeMember(ctx: VaultContext, name: string): Promise<MemberInfo> {
  requireOwner(ctx, "revoke members");
  return ctx.store.write(async (tx) => {
    const row = await tx.getMember(name);
    if (!row) throw new AuthyError("NOT_FOUND", `no member ${name}`, { hint: "see `authy members list`" });
    const member = openMemberRow(ctx, row);
    if (member.revokedAt !== null) throw new AuthyError("NOT_FOUND", `member ${name} is already revoked`);
    if (member.role === "admin") {
      const admins = (await tx.listMembers()).map((r) => openMemberRow(ctx, r)).filter((m) => m.role === "admin" && m.revokedAt === null);
      if (admins.length <= 1)
        throw new AuthyError("INVALID_INPUT", `${name} is the last admin`, { hint: "add another admin first (`authy members add NAME --role admin`)" });
    }
    const { mac: _mac, ...rest } = row;
    const now = ctx.clock.now();
    const updated = sealMember(ctx, { ...rest, revokedAt: now });
    await tx.putMember(updated);
    // What the member handed to tokens goes with it.
    const tokens = await revokeTokensOfMember(tx, ctx, member, now);
    await audit(tx, ctx, "member.revoke", `member:${name}`, { id: member.id, role: member.role, tokensRevoked: tokens });
    return openMemberRow(ctx, updated);
  });
}

/**
 * A new key for a member: a member rotates its own; an admin (or the owner) may rotate
 * anyone's by name. The old key stops working in the same transaction.
 */
export async function rotateMemberKey(ctx: VaultContext, name?: string): Promise<{ member: MemberInfo; key: string }> {
  const actor = ctx.actor;
  const own = actor.kind === "member" ? actor.name : undefined;
  const target = name ?? own;
  if (target === undefined) throw new AuthyError("INVALID_INPUT", "name the member whose key to rotate", { hint: "authy members rotate-key NAME" });
  if (target !== own) {
    if (!actsAsOwner(actor)) await tryAudit(ctx, "member.key.rotate.denied", `member:${target}`, {}, "denied");
    requireOwner(ctx, "rotate another member's key");
  }
  const secret = randomToken(32);
  return ctx.store.write(async (tx) => {
    const row = await tx.getMember(target);
    if (!row) throw new AuthyError("NOT_FOUND", `no member ${target}`, { hint: "see `authy members list`" });
    const member = openMemberRow(ctx, row);
    if (member.revokedAt !== null) throw new AuthyError("NOT_FOUND", `member ${target} is revoked`);
    // The acting member must still be this very member (not a new one under the same name).
    if (actor.kind === "member" && target === own && actor.id !== member.id) throw new AuthyError("ACCESS_DENIED", "this key belongs to a revoked member");
    const { mac: _mac, ...rest } = row;
    const now = ctx.clock.now();
    const updated = sealMember(ctx, { ...rest, keyHash: secretHash(ctx, secret), keyCreatedAt: now });
    await tx.putMember(updated);
    // A key is replaced when it may be known to someone else: tokens minted with it go too.
    const tokens = await revokeTokensOfMember(tx, ctx, member, now);
    await audit(tx, ctx, "member.key.rotate", `member:${target}`, { id: member.id, tokensRevoked: tokens });
    return { member: openMemberRow(ctx, updated), key: `${MEMBER_KEY_PREFIX}${member.id}_${secret}` };
  });
}

export type MemberKeyCheck = { ok: true; member: MemberInfo } | { ok: false; reason: "unknown" | "revoked"; who: string };

/**
 * Checks a member key, as verifyAgentKey does an agent key: unknown ids, wrong secrets and
 * revoked members give the caller the same answer; `who` and `reason` are for the audit entry.
 */
export async function verifyMemberKey(ctx: VaultContext, key: string): Promise<MemberKeyCheck> {
  const m = MEMBER_KEY.exec(key);
  const presented = secretHash(ctx, m ? m[2]! : key);
  const row = m ? await ctx.store.getMemberById(m[1]!) : null;
  // Compare against something either way so that an unknown id costs the same.
  const ok = constantTimeEqual(presented, row ? row.keyHash : new Uint8Array(presented.length)) && row !== null;
  if (!row) return { ok: false, reason: "unknown", who: "member-key:unknown" };
  const member = openMemberRow(ctx, row);
  if (!ok) return { ok: false, reason: "unknown", who: `member:${member.name}` };
  if (member.revokedAt !== null) return { ok: false, reason: "revoked", who: `member:${member.name}` };
  return { ok: true, member };
}
