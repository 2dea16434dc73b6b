import { actsAsOwner } from "../vault/types.js";
import { AuthyError } from "../errors.js";
import { parseDuration } from "../formats/duration.js";
import type { Caller } from "../api/auth.js";
import type { AgentInfo } from "../vault/agents.js";
import type { Scope } from "../vault/policy/scope.js";
import type { TokenInfo } from "../vault/tokens.js";
import type { Vault } from "../vault/vault.js";
import { agentScopeSpec, assAgent, narrowedScope, scopeWordsOf, withoutAss } from "./ass.js";
import { op, type IssuedToken } from "./operation.js";
import { shapes } from "./shapes.js";

/** Agents (the owner's) and tokens (issued to the owner, to agents by their key, and by tokens to narrower tokens). */

function onlyOne(what: string, ...given: unknown[]): void {
  if (given.filter((v) => v !== undefined).length > 1) throw new AuthyError("INVALID_INPUT", `give only one of ${what}`);
}

/**
 * The scope of a new token: as asked (a stored scope name or compact scopes), else the
 * caller's own (a token or an agent), else the named agent's (the owner issuing for an agent).
 * The core then refuses anything wider than the issuer's own scope.
 */
async function scopeFor(vault: Vault, caller: Caller, spec: string | undefined, agent: string | undefined): Promise<Scope> {
  if (spec !== undefined) return vault.resolveScope(spec);
  if (!actsAsOwner(caller.actor)) return caller.actor.scope;
  if (agent !== undefined) {
    const found = (await vault.listAgents()).find((a) => a.name === agent && a.revokedAt === null);
    if (!found) throw new AuthyError("NOT_FOUND", `no agent ${agent}`, { hint: "see `authy agents list`" });
    return vault.resolveScope(found.scope);
  }
  throw new AuthyError("INVALID_INPUT", "a token needs a scope", { hint: "give a stored scope name or a compact scope such as secrets:read:prod/*" });
}

const items = <T>(json: { items: T }): T => json.items;

/** An agent as both clients read it: authy's fields, and the Agent Secret Store's (its rules, its last request). */
async function agentBoth(vault: Vault, a: AgentInfo, withActivity: boolean) {
  let rules = null;
  try {
    rules = (await vault.resolveScope(a.scope)).allow;
  } catch {
    // A scope since removed from the policy: the agent can do nothing, which is what an empty list says.
  }
  const last = withActivity && a.revokedAt === null ? (await vault.queryAudit({ agent: a.name, limit: 1 })).entries[0]?.ts : undefined;
  // Server side only: authy's client, which loads this table, never loads the agents module.
  const { AGENT_KEY_PREFIX } = await import("../vault/agents.js");
  return { ...a, ...assAgent(a, rules, last ?? null, AGENT_KEY_PREFIX) };
}

/** The agent a URL names: by name, else (the Agent Secret Store's `ass agents revoke <id>`) by id. */
async function agentNamed(vault: Vault, nameOrId: string): Promise<string> {
  const agents = await vault.listAgents();
  if (agents.some((a) => a.name === nameOrId)) return nameOrId;
  return agents.find((a) => a.id === nameOrId && a.revokedAt === null)?.name ?? nameOrId;
}

export const accessOperations = [
  op({
    name: "listAgents",
    method: "GET",
    path: "/v1/agents",
    callers: ["owner"],
    result: (json: { items: AgentInfo[] }) => json.items.map(withoutAss),
    decode: async ({ vault }) => {
      const v = vault();
      return { items: await Promise.all((await v.listAgents()).map((a) => agentBoth(v, a, true))) };
    },
  }),
  op({
    name: "createAgent",
    method: "POST",
    path: "/v1/agents",
    callers: ["owner"],
    created: true,
    // The Agent Secret Store sends `allowed_namespaces` and `allowed_scopes` (its scope words) instead of a scope.
    body: (z) =>
      z.strictObject({
        name: z.string(),
        scope: z.string().optional(),
        allowed_namespaces: z.array(z.string().max(255)).max(256).optional(),
        allowed_scopes: z.array(z.string().max(64)).max(16).optional(),
        description: shapes(z).text.optional(),
      }),
    what: "agent",
    encode: (name, o) => ({ body: { name, scope: o.scope, description: o.description } }),
    result: (json: { agent: AgentInfo; key: string }) => ({ agent: withoutAss(json.agent), key: json.key }),
    decode: async ({ vault, body: b }) => {
      const words = b.allowed_namespaces !== undefined || b.allowed_scopes !== undefined;
      if (words === (b.scope !== undefined)) throw new AuthyError("INVALID_INPUT", "give a scope, or allowed_namespaces and allowed_scopes");
      const scope = b.scope ?? agentScopeSpec(b.allowed_namespaces ?? [], b.allowed_scopes ?? []);
      const v = vault();
      const made = await v.createAgent(b.name, { scope, ...(b.description === undefined ? {} : { description: b.description }) });
      const agent = await agentBoth(v, made.agent, false);
      // The Agent Secret Store's client reads the new agent at the top level, its key as api_key.
      return { agent, key: made.key, ...agent, api_key: made.key };
    },
  }),
  op({
    // Its tokens stop working at once.
    name: "revokeAgent",
    method: "DELETE",
    path: "/v1/agents/:name",
    callers: ["owner"],
    encode: (name) => ({ params: { name } }),
    result: withoutAss<AgentInfo>,
    decode: async ({ vault, params }) => {
      const v = vault();
      return agentBoth(v, await v.revokeAgent(await agentNamed(v, params.name!)), false);
    },
  }),
  op({
    // The exchange: an agent key (or the owner, or a token) gets a new short-lived token.
    // Agent Secret Store sends `{ scopes: [...], ttl: "1h", max_uses }`; authy's client sends
    // `{ scope, ttlMs, uses }`. `ttl` is seconds when a number, a duration ("15m") when a string.
    name: "issueToken",
    method: "POST",
    path: "/v1/tokens",
    callers: ["owner", "token", "agent"],
    // Issuing spends no use: a child shares its family's one budget (src/vault/tokens.ts).
    free: true,
    created: true,
    body: (z) =>
      z.strictObject({
        scope: z.string().optional(),
        scopes: z.union([z.string(), z.array(z.string()).min(1).max(256)]).optional(),
        ttl: z.union([z.number(), z.string().max(64)]).optional(),
        ttlMs: z.number().optional(),
        uses: z.number().optional(),
        max_uses: z.number().optional(),
        agent: z.string().optional(),
        label: shapes(z).text.optional(),
        description: shapes(z).text.optional(),
        pid: z.number().int().positive().optional(),
        /** Only `pid`'s descendants may use it (`run --pass-token`); see daemon/process-tokens.ts. */
        processTree: z.boolean().optional(),
        /** With processTree: only `pid` itself may use it, relaying for a sandboxed child (`run --sandbox --pass-token`). */
        relayed: z.boolean().optional(),
      }),
    what: "token request",
    encode: (req) => ({
      body: {
        scope: req.scope,
        ttlMs: req.ttlMs,
        uses: req.uses,
        agent: req.agent,
        label: req.label,
        pid: req.pid,
        processTree: req.processTree,
        relayed: req.relayed,
      },
    }),
    result: (t: IssuedToken) => ({ token: t.token, id: t.id, expiresAt: t.expiresAt, scope: t.scope, notices: t.notices }),
    decode: async ({ vault: vaultOf, caller, body: b, server: { opts } }) => {
      onlyOne("scope and scopes", b.scope, b.scopes);
      onlyOne("ttl and ttlMs", b.ttl, b.ttlMs);
      onlyOne("uses and max_uses", b.uses, b.max_uses);
      onlyOne("label and description", b.label, b.description);
      const list = typeof b.scopes === "string" ? [b.scopes] : b.scopes;
      // The Agent Secret Store's words (`read:secrets`): the caller's own scope narrowed to them.
      const words = scopeWordsOf(list);
      const spec = words ? undefined : (b.scope ?? list?.join(","));
      const ttlMs = b.ttlMs ?? (typeof b.ttl === "number" ? b.ttl * 1000 : typeof b.ttl === "string" ? parseDuration(b.ttl) : undefined);
      const vault = vaultOf();
      if (b.relayed && !b.processTree) throw new AuthyError("INVALID_INPUT", "a relayed token is a process-tree token: give processTree too");
      if (b.processTree && (b.pid === undefined || !opts.processTokens)) {
        throw new AuthyError("INVALID_INPUT", "a token for a process tree needs a pid and the local daemon");
      }
      const { token, secret, notices } = await vault.createToken({
        scope: words ? narrowedScope(actsAsOwner(caller.actor) ? null : caller.actor.scope, words) : await scopeFor(vault, caller, spec, b.agent),
        ttlMs,
        uses: b.uses ?? b.max_uses,
        agent: b.agent,
        label: b.label ?? b.description,
        pid: b.pid,
        instance: opts.instance,
      });
      if (b.processTree) opts.processTokens!.track(token.id, b.pid!, { relayed: b.relayed === true });
      return {
        token: secret,
        id: token.id,
        expiresAt: token.expiresAt,
        // Agent Secret Store's clients read an ISO time under this name.
        expires_at: new Date(token.expiresAt).toISOString(),
        scope: token.scope.name,
        scopes: words ?? [token.scope.name],
        agent: token.agent,
        agent_id: token.agent,
        maxUses: token.maxUses,
        notices,
      };
    },
  }),
  op({
    // `authy run --pass-token` names its child, which (with its descendants) alone may use the token from then on.
    name: "bindToken",
    method: "POST",
    path: "/v1/tokens/:id/process",
    callers: ["owner", "token"],
    body: (z) => z.strictObject({ pid: z.number().int().positive() }),
    what: "token process",
    encode: (id, pid) => ({ params: { id }, body: { pid } }),
    result: () => undefined,
    decode: async ({ params, body, server: { opts }, peer }) => {
      if (!opts.processTokens) throw new AuthyError("INVALID_INPUT", "only the local daemon binds tokens to processes");
      opts.processTokens.bind(params.id!, body.pid, peer());
      return { bound: true };
    },
  }),
  op({
    // This instance's tokens, each with its status (active, spent, expired, revoked).
    name: "listTokens",
    method: "GET",
    path: "/v1/tokens",
    callers: ["owner"],
    result: items<TokenInfo[]>,
    decode: async ({ vault, server: { opts } }) => ({ items: await vault().listTokens(opts.instance) }),
  }),
  op({
    // The owner revokes any token; a token itself and the tokens it issued (and every token they issued).
    name: "revokeToken",
    method: "DELETE",
    path: "/v1/tokens/:id",
    callers: ["owner", "token"],
    free: true,
    encode: (id) => ({ params: { id } }),
    decode: async ({ vault, params }) => vault().revokeToken(params.id!),
  }),
] as const;
