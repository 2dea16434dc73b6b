import { AuthyError } from "../errors.js";
import type { VaultContext } from "./context.js";
import type { Capability } from "./policy/capability.js";
import { decide } from "./policy/scope.js";
import { tryAudit } from "./audit-log.js";
import { appendAudit } from "./audit-chain.js";

/**
 * The one place that says whether the acting principal may do something to a path. The owner
 * may do everything; a token (or an agent key used directly on a team server) only what its
 * scope allows (deny beats allow, default deny).
 * A refusal is audited as `<action>.denied` before it is reported.
 */
export async function authorize(ctx: VaultContext, path: string, capability: Capability, action: string): Promise<void> {
  await authorizeEach(ctx, path, capability, action);
}

/**
 * authorize() for loops over many secrets: undefined at once when allowed, so that a thousand
 * owner reads wait for nothing; otherwise the promise to await (which throws on a denial).
 */
export function authorizeEach(ctx: VaultContext, path: string, capability: Capability, action: string): Promise<void> | undefined {
  if (ctx.actor.kind === "owner") return undefined;
  return authorizeOther(ctx, path, capability, action);
}

async function authorizeOther(ctx: VaultContext, path: string, capability: Capability, action: string): Promise<void> {
  const actor = ctx.actor;
  if (actor.kind === "owner") return;
  if (actor.kind === "agent" && !actor.direct) {
    await tryAudit(ctx, `${action}.denied`, path, { reason: "agent keys only obtain tokens" }, "denied");
    throw new AuthyError("ACCESS_DENIED", "an agent key can only be exchanged for a token", {
      hint: "create a token with `authy tokens create` and use AUTHY_TOKEN",
    });
  }
  const d = decide(actor.scope, path, capability);
  if (d.allowed) return;
  await tryAudit(ctx, `${action}.denied`, path, { capability, rule: d.rule.kind === "default" ? "default" : `${d.rule.kind} ${d.rule.path}` }, "denied");
  throw new AuthyError("ACCESS_DENIED", `not allowed to ${capability} ${path}`, { hint: "the token's scope does not allow it" });
}

/** Whether the actor may list this path (listing never reveals what it may not list). */
export function mayList(ctx: VaultContext, path: string): boolean {
  const actor = ctx.actor;
  if (actor.kind === "owner") return true;
  if (actor.kind === "agent" && !actor.direct) return false;
  return decide(actor.scope, path, "list").allowed;
}

/** Whether the actor's scope lets it read this path (no audit: for deciding what to show, never to refuse). */
export function mayRead(ctx: VaultContext, path: string): boolean {
  const actor = ctx.actor;
  if (actor.kind === "owner") return true;
  if (actor.kind === "agent" && !actor.direct) return false;
  return decide(actor.scope, path, "read").allowed;
}

export function requireOwner(ctx: VaultContext, what: string): void {
  if (ctx.actor.kind !== "owner")
    throw new AuthyError("ACCESS_DENIED", `only the owner can ${what}`, { hint: "use the owner session (AUTHY_SESSION) or the passphrase" });
}

/**
 * Best-effort audit of a refused credential (unknown, expired or revoked token or agent key)
 * or of a request refused before the core. The acting context is the daemon's own (the
 * owner), which is not who knocked, so the entry names the presented credential instead.
 */
export async function auditRefusedCredential(
  ctx: VaultContext,
  who: string,
  action: string,
  resource: string,
  details: Record<string, unknown>,
): Promise<void> {
  requireOwner(ctx, "record refusals");
  try {
    await ctx.store.write((tx) => appendAudit(tx, ctx.keys, [{ ts: ctx.clock.now(), actor: who, action, resource, outcome: "denied", details }]));
  } catch {
    // The log is not writable; the refusal stands either way.
  }
}
