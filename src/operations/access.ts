import { actsAsOwner } from "../vault/types.js";
import { AuthyError } from "../errors.js";
import { parseDuration } from "../formats/duration.js";
import type { Caller } from "../api/auth.js";
import type { AgentInfo } from "../vault/agents.js";
import type { Scope } from "../vault/policy/scope.js";
import type { TokenInfo } from "../vault/tokens.js";
import type { Vault } from "../vault/vault.js";
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

export const accessOperations = [
  op({
    name: "listAgents",
    method: "GET",
    path: "/v1/agents",
    callers: ["owner"],
    result: items<AgentInfo[]>,
    decode: async ({ vault }) => ({ items: await vault().listAgents() }),
  }),
  op({
    name: "createAgent",
    method: "POST",
    path: "/v1/agents",
    callers: ["owner"],
    created: true,
    body: (z) => z.strictObject({ name: z.string(), scope: z.string(), description: shapes(z).text.optional() }),
    what: "agent",
    encode: (name, o) => ({ body: { name, scope: o.scope, description: o.description } }),
    decode: async ({ vault, body: b }) =>
      vault().createAgent(b.name, { scope: b.scope, ...(b.description === undefined ? {} : { description: b.description }) }),
  }),
  op({
    // Its tokens stop working at once.
    name: "revokeAgent",
    method: "DELETE",
    path: "/v1/agents/:name",
    callers: ["owner"],
    encode: (name) => ({ params: { name } }),
    decode: async ({ vault, params }) => vault().revokeAgent(params.name!),
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
      const spec = b.scope ?? (Array.isArray(b.scopes) ? b.scopes.join(",") : b.scopes);
      const ttlMs = b.ttlMs ?? (typeof b.ttl === "number" ? b.ttl * 1000 : typeof b.ttl === "string" ? parseDuration(b.ttl) : undefined);
      const vault = vaultOf();
      if (b.relayed && !b.processTree) throw new AuthyError("INVALID_INPUT", "a relayed token is a process-tree token: give processTree too");
      if (b.processTree && (b.pid === undefined || !opts.processTokens)) {
        throw new AuthyError("INVALID_INPUT", "a token for a process tree needs a pid and the local daemon");
      }
      const { token, secret, notices } = await vault.createToken({
        scope: await scopeFor(vault, caller, spec, b.agent),
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
        agent: token.agent,
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
