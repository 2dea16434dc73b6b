import { AuthyError } from "../../errors.js";
import { parseDuration } from "../../formats/duration.js";
import type { Scope } from "../../vault/policy/index.js";
import type { Vault } from "../../vault/vault.js";
import { vaultOf, type RouteDeps, type RouteSpec } from "../route-spec.js";
import type { Caller } from "../auth.js";
import { agentCreate, parse, tokenIssue, tokenProcess } from "../schemas.js";

/** Agents (owner only) and tokens (issued to the owner, to agents by their key, and by tokens to narrower tokens). */

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
  if (caller.actor.kind !== "owner") return caller.actor.scope;
  if (agent !== undefined) {
    const found = (await vault.listAgents()).find((a) => a.name === agent && a.revokedAt === null);
    if (!found) throw new AuthyError("NOT_FOUND", `no agent ${agent}`, { hint: "see `authy agents list`" });
    return vault.resolveScope(found.scope);
  }
  throw new AuthyError("INVALID_INPUT", "a token needs a scope", { hint: "give a stored scope name or a compact scope such as secrets:read:prod/*" });
}

export function accessRoutes({ opts }: RouteDeps): RouteSpec[] {
  return [
    { method: "GET", url: "/v1/agents", callers: ["owner"], handler: async (_req, caller) => ({ items: await vaultOf(caller).listAgents() }) },
    {
      method: "POST",
      url: "/v1/agents",
      callers: ["owner"],
      handler: async (req, caller, reply) => {
        const b = parse(agentCreate, req.body, "agent");
        const created = await vaultOf(caller).createAgent(b.name, { scope: b.scope, ...(b.description === undefined ? {} : { description: b.description }) });
        reply.code(201);
        return created;
      },
    },
    {
      method: "DELETE",
      url: "/v1/agents/:name",
      callers: ["owner"],
      handler: async (req, caller) => vaultOf(caller).revokeAgent((req.params as { name: string }).name),
    },
    {
      // The exchange: an agent key (or the owner, or a token) gets a new short-lived token.
      method: "POST",
      url: "/v1/tokens",
      callers: ["owner", "token", "agent"],
      // Issuing spends no use: a child shares its family's one budget (src/vault/tokens.ts).
      free: true,
      handler: async (req, caller, reply) => {
        const b = parse(tokenIssue, req.body, "token request");
        onlyOne("scope and scopes", b.scope, b.scopes);
        onlyOne("ttl and ttlMs", b.ttl, b.ttlMs);
        onlyOne("uses and max_uses", b.uses, b.max_uses);
        onlyOne("label and description", b.label, b.description);
        const spec = b.scope ?? (Array.isArray(b.scopes) ? b.scopes.join(",") : b.scopes);
        const ttlMs = b.ttlMs ?? (typeof b.ttl === "number" ? b.ttl * 1000 : typeof b.ttl === "string" ? parseDuration(b.ttl) : undefined);
        const vault = vaultOf(caller);
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
        if (b.processTree) opts.processTokens!.track(token.id, b.pid!);
        reply.code(201);
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
    },
    {
      // `authy run --pass-token` names its child, which (with its descendants) alone may use the token from then on.
      method: "POST",
      url: "/v1/tokens/:id/process",
      callers: ["owner", "token"],
      handler: async (req) => {
        const b = parse(tokenProcess, req.body, "token process");
        if (!opts.processTokens) throw new AuthyError("INVALID_INPUT", "only the local daemon binds tokens to processes");
        opts.processTokens.bind((req.params as { id: string }).id, b.pid, opts.peer?.(req) ?? null);
        return { bound: true };
      },
    },
    { method: "GET", url: "/v1/tokens", callers: ["owner"], handler: async (_req, caller) => ({ items: await vaultOf(caller).listTokens(opts.instance) }) },
    {
      // The owner revokes any token; a token itself and the tokens it issued.
      method: "DELETE",
      url: "/v1/tokens/:id",
      callers: ["owner", "token"],
      free: true,
      handler: async (req, caller) => vaultOf(caller).revokeToken((req.params as { id: string }).id),
    },
  ];
}
