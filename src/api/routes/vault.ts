import { AuthyError } from "../../errors.js";
import { actorName } from "../../vault/types.js";
import { vaultOf, type RouteDeps, type RouteSpec } from "../route-spec.js";
import type { Caller } from "../auth.js";
import { auditEvent, keyAdd, parse } from "../schemas.js";

/** The vault as a whole: health, status, lock, doctor, owner events, key slots. */

/** Operations that exist only in direct mode, answered with a pointer there rather than a 404. */
function directOnly(what: string, command: string, why: string): never {
  throw new AuthyError("INVALID_INPUT", `${what} is only possible in direct mode`, {
    hint: `lock the daemon (\`authy lock\`) and run \`${command}\`: ${why}`,
  });
}

function whoami(caller: Caller): Record<string, unknown> {
  const a = caller.actor;
  switch (a.kind) {
    case "owner":
      return caller.via === "session"
        ? { principal: "owner", kind: "owner", via: "session", why: "this process proved the exported owner session (AUTHY_SESSION)" }
        : { principal: "owner", kind: "owner", via: "terminal", why: "this process is in the terminal session that ran `authy unlock`" };
    case "agent":
      return { principal: `agent ${a.name}`, kind: "agent", agent: a.name, scope: a.scope.name, via: "agent-key", why: `this process holds the key of agent ${a.name} (AUTHY_AGENT_KEY)` };
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

export function vaultRoutes({ opts }: RouteDeps): RouteSpec[] {
  return [
    { method: "GET", url: "/v1/health", callers: [], handler: async () => ({ status: "ok", locked: opts.vault() === null }) },
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
          ...(t ? { token: { id: t.id, agent: t.agent, scope: t.scope.name, mcp: t.scope.mcp ?? null, expiresAt: t.expiresAt, maxUses: t.maxUses, uses: t.uses } } : {}),
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
    { method: "POST", url: "/v1/verify", callers: ["owner"], handler: async (_req, caller) => vaultOf(caller).verify() },
    {
      method: "POST",
      url: "/v1/events",
      // The core decides which events a token may record (its run.end and mcp.tool).
      callers: ["owner", "token"],
      handler: async (req, caller) => {
        const b = parse(auditEvent, req.body, "event");
        await vaultOf(caller).recordEvent(b.action, b.resource, b.details);
        return { recorded: true };
      },
    },
    { method: "GET", url: "/v1/keys", callers: ["owner"], handler: async (_req, caller) => ({ items: await vaultOf(caller).listKeys() }) },
    {
      method: "POST",
      url: "/v1/keys",
      callers: ["owner"],
      handler: async (req, caller, reply) => {
        const b = parse(keyAdd, req.body, "key");
        const slot = await vaultOf(caller).addRecipient(b.recipient, b.label);
        reply.code(201);
        return slot;
      },
    },
    { method: "DELETE", url: "/v1/keys/:id", callers: ["owner"], handler: async (req, caller) => vaultOf(caller).removeKey((req.params as { id: string }).id) },
    {
      method: "POST",
      url: "/v1/passwd",
      callers: ["owner"],
      handler: async () => directOnly("changing the passphrase", "authy passwd", "a passphrase never travels over the API"),
    },
    {
      method: "POST",
      url: "/v1/export",
      callers: ["owner"],
      handler: async () => directOnly("exporting the whole vault", "authy export", "every value at once never travels over the API"),
    },
  ];
}
