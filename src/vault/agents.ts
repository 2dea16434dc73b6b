import { constantTimeEqual, randomId, randomToken } from "../crypto/index.js";
import { AuthyError } from "../errors.js";
import type { AgentRow } from "../store/store.js";
import type { VaultContext } from "./context.js";
import { resolveScope } from "./policies.js";
import { audit } from "./audit-log.js";
import { requireOwner } from "./access.js";
import { endGrantsOf } from "./approvals.js";
import { agentPrincipal } from "./approval-rows.js";

/**
 * Agents: named identities with a long-lived key and a maximum scope. The key is shown once
 * and stored only as an HMAC under a key derived from the vault key; it is exchanged for
 * short-lived tokens and never used directly for reads.
 *
 * Agent key format: `authy_ak_<id>_<secret>`; the id finds the row, the secret is compared in
 * constant time.
 */
const AGENT_DOMAIN = "authy/agent/v1";
const AGENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const AGENT_KEY_PREFIX = "authy_ak_";

export interface AgentInfo {
  name: string;
  id: string;
  scope: string;
  description: string;
  createdAt: number;
  revokedAt: number | null;
}

function agentFields(r: Omit<AgentRow, "mac">) {
  return [r.name, r.id, r.keyHash, r.scope, r.description, r.createdAt, r.revokedAt];
}

export function secretHash(ctx: VaultContext, secret: string): Uint8Array {
  return ctx.keys.hashTokenSecret(Buffer.from(secret, "utf8"));
}

export function openAgentRow(ctx: VaultContext, r: AgentRow): AgentInfo {
  ctx.keys.verifyRow(AGENT_DOMAIN, agentFields(r), r.mac, `agent ${JSON.stringify(r.name)} was modified outside authy`);
  return { name: r.name, id: r.id, scope: r.scope, description: r.description, createdAt: r.createdAt, revokedAt: r.revokedAt };
}

function sealAgent(ctx: VaultContext, r: Omit<AgentRow, "mac">): AgentRow {
  return { ...r, mac: ctx.keys.macRow(AGENT_DOMAIN, agentFields(r)) };
}

export async function createAgent(ctx: VaultContext, name: string, opts: { scope: string; description?: string }): Promise<{ agent: AgentInfo; key: string }> {
  requireOwner(ctx, "create agents");
  if (!AGENT_NAME.test(name))
    throw new AuthyError("INVALID_INPUT", `invalid agent name ${JSON.stringify(name.slice(0, 80))}`, { hint: "letters, digits, . _ - (up to 64)" });
  await resolveScope(ctx, opts.scope); // the scope must exist (or be a valid compact scope) now
  const id = randomId("", 8);
  const secret = randomToken(32);
  return ctx.store.write(async (tx) => {
    const existing = await tx.getAgent(name);
    if (existing && existing.revokedAt === null)
      throw new AuthyError("ALREADY_EXISTS", `agent ${name} already exists`, { hint: "revoke it first, or choose another name" });
    const row = sealAgent(ctx, {
      name,
      id,
      keyHash: secretHash(ctx, secret),
      scope: opts.scope,
      description: opts.description ?? "",
      createdAt: ctx.clock.now(),
      revokedAt: null,
    });
    await tx.putAgent(row);
    await audit(tx, ctx, "agent.create", `agent:${name}`, { scope: opts.scope });
    return { agent: openAgentRow(ctx, row), key: `${AGENT_KEY_PREFIX}${id}_${secret}` };
  });
}

export async function listAgents(ctx: VaultContext): Promise<AgentInfo[]> {
  requireOwner(ctx, "list agents");
  return (await ctx.store.listAgents()).map((r) => openAgentRow(ctx, r));
}

/**
 * Revokes an agent; its tokens stop working at once (token checks look at their agent by its
 * id), and its grants and pending requests end with it.
 */
export async function revokeAgent(ctx: VaultContext, name: string): Promise<AgentInfo> {
  requireOwner(ctx, "revoke agents");
  return ctx.store.write(async (tx) => {
    const row = await tx.getAgent(name);
    if (!row) throw new AuthyError("NOT_FOUND", `no agent ${name}`, { hint: "see `authy agents list`" });
    const agent = openAgentRow(ctx, row);
    if (agent.revokedAt !== null) throw new AuthyError("NOT_FOUND", `agent ${name} is already revoked`);
    const { mac: _mac, ...rest } = row;
    const updated = sealAgent(ctx, { ...rest, revokedAt: ctx.clock.now() });
    await tx.putAgent(updated);
    await audit(tx, ctx, "agent.revoke", `agent:${name}`, { id: agent.id });
    await endGrantsOf(tx, ctx, agentPrincipal(agent.name, agent.id));
    return openAgentRow(ctx, updated);
  });
}

export type AgentKeyCheck = { ok: true; agent: AgentInfo } | { ok: false; reason: "unknown" | "revoked"; who: string };

/**
 * Checks an agent key. Unknown agents, wrong secrets and revoked agents give the same
 * answer to the caller, so it learns nothing about which agents exist; `who` and `reason`
 * are for the audit entry the caller writes (an unknown key is `agent-key:unknown`: the id
 * in it was chosen by whoever sent it).
 */
export async function verifyAgentKey(ctx: VaultContext, key: string): Promise<AgentKeyCheck> {
  const m = /^authy_ak_([a-z2-7]+)_([A-Za-z0-9_-]+)$/.exec(key);
  const presented = secretHash(ctx, m ? m[2]! : key);
  const row = m && m[1]!.length <= 32 ? await ctx.store.getAgentById(m[1]!) : null;
  // Compare against something either way so that an unknown id costs the same.
  const ok = constantTimeEqual(presented, row ? row.keyHash : new Uint8Array(presented.length)) && row !== null;
  if (!row) return { ok: false, reason: "unknown", who: "agent-key:unknown" };
  const agent = openAgentRow(ctx, row);
  if (!ok) return { ok: false, reason: "unknown", who: `agent:${agent.name}` };
  if (agent.revokedAt !== null) return { ok: false, reason: "revoked", who: `agent:${agent.name}` };
  return { ok: true, agent };
}
