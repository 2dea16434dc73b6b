import { AuthyError } from "../../errors.js";
import { actorName } from "../../vault/types.js";
import { VERSION } from "../../version.js";
import type { RouteDeps, RouteSpec } from "../route-spec.js";
import type { Caller } from "../auth.js";

/**
 * The server's own routes, which are not operations of the vault (src/operations/ has those):
 *
 *  GET   /v1/health    anyone          → { status, locked, version }   (the process answers)
 *  GET   /v1/ready     anyone          → { ready: true }       (it can serve: unlocked, store reachable; else 503)
 *  GET   /v1/status    owner, token    → daemon status + { locked, vaultId, actor, token? }
 *  POST  /v1/lock      owner           → { locked: true }
 *  GET   /v1/whoami    owner, token, agent → { principal, kind, via, why, … }
 */

function whoami(caller: Caller): Record<string, unknown> {
  const a = caller.actor;
  switch (a.kind) {
    case "owner":
      return caller.via === "session"
        ? { principal: "owner", kind: "owner", via: "session", why: "this process proved the exported owner session (AUTHY_SESSION)" }
        : { principal: "owner", kind: "owner", via: "terminal", why: "this process is in the terminal session that ran `authy unlock`" };
    case "member":
      return {
        principal: `member ${a.name}`,
        kind: "member",
        member: a.name,
        role: a.role,
        ...(a.role === "member" ? { scope: a.scope.name } : {}),
        via: "member-key",
        why: `this process holds the personal key of member ${a.name} (authy login)`,
      };
    case "agent":
      return {
        principal: `agent ${a.name}`,
        kind: "agent",
        agent: a.name,
        scope: a.scope.name,
        via: "agent-key",
        why: `this process holds the key of agent ${a.name} (AUTHY_AGENT_KEY)`,
      };
    case "token":
      return {
        principal: `token ${a.id}`,
        kind: "token",
        token: a.id,
        agent: a.agent ?? null,
        scope: a.scope.name,
        expiresAt: a.expiresAt,
        via: "token",
        why: `this process holds token ${a.id}${a.agent ? ` of agent ${a.agent}` : ""} (AUTHY_TOKEN)`,
      };
  }
}

export function serverRoutes({ opts }: RouteDeps): RouteSpec[] {
  return [
    { method: "GET", url: "/v1/health", callers: [], handler: async () => ({ status: "ok", locked: opts.vault() === null, version: VERSION }) },
    {
      method: "GET",
      url: "/v1/ready",
      callers: [],
      handler: async () => {
        if (opts.vault() === null) throw new AuthyError("UNAVAILABLE", "the vault is locked", { hint: "unlock it; the server unlocks at start" });
        await opts.ready?.();
        return { ready: true };
      },
    },
    {
      method: "GET",
      url: "/v1/status",
      callers: ["owner", "token"],
      handler: async (_req, caller) => {
        const t = caller.token;
        return {
          ...opts.status(),
          locked: opts.vault() === null,
          vaultId: caller.vault?.vaultId ?? null,
          actor: actorName(caller.actor),
          ...(t
            ? { token: { id: t.id, agent: t.agent, scope: t.scope.name, mcp: t.scope.mcp ?? null, expiresAt: t.expiresAt, maxUses: t.maxUses, uses: t.uses } }
            : {}),
        };
      },
    },
    {
      // lock() must not wait for this server to close: this very request is still open.
      method: "POST",
      url: "/v1/lock",
      callers: ["owner"],
      refusal: "vault.lock.denied",
      handler: async () => {
        if (!opts.lock) throw new AuthyError("UNAVAILABLE", "this server cannot be locked over the API");
        await opts.lock();
        return { locked: true };
      },
    },
    {
      // Which principal the caller is, and why; spends nothing.
      method: "GET",
      url: "/v1/whoami",
      callers: ["owner", "token", "agent"],
      free: true,
      handler: async (_req, caller) => whoami(caller),
    },
  ];
}
