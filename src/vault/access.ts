import { AuthyError } from "../errors.js";
import type { VaultContext } from "./context.js";
import type { Capability } from "./policy/capability.js";
import { decide } from "./policy/scope.js";
import { actsAsOwner } from "./types.js";
import { tryAudit } from "./audit-log.js";
import { appendAudit } from "./audit-chain.js";

/**
 * The one place that says whether the acting principal may do something to a path. The owner
 * may do everything, and so may an admin member of a server; a token, a member of role
 * `member`, or an agent key used directly on a team server, only what its scope allows
 * (deny beats allow, default deny).
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
  if (actsAsOwner(ctx.actor)) return undefined;
  return authorizeOther(ctx, path, capability, action);
}

async function authorizeOther(ctx: VaultContext, path: string, capability: Capability, action: string): Promise<void> {
  const actor = ctx.actor;
  if (actsAsOwner(actor)) return;
  if (actor.kind === "agent" && !actor.direct) {
    await tryAudit(ctx, `${action}.denied`, path, { reason: "agent keys only obtain tokens" }, "denied");
    throw new AuthyError("ACCESS_DENIED", "an agent key can only be exchanged for a token", {
      hint: "create a token with `authy tokens create` and use AUTHY_TOKEN",
    });
  }
  const d = decide(actor.scope, path, capability);
  if (d.allowed) return;
  await tryAudit(ctx, `${action}.denied`, path, { capability, rule: d.rule.kind === "default" ? "default" : `${d.rule.kind} ${d.rule.path}` }, "denied");
  throw new AuthyError("ACCESS_DENIED", `not allowed to ${capability} ${path}`, {
    hint: actor.kind === "member" ? `member ${actor.name}'s scope does not allow it` : "the token's scope does not allow it",
  });
}

/** Whether the actor may list this path (listing never reveals what it may not list). */
export function mayList(ctx: VaultContext, path: string): boolean {
  const actor = ctx.actor;
  if (actsAsOwner(actor)) return true;
  if (actor.kind === "agent" && !actor.direct) return false;
  return decide(actor.scope, path, "list").allowed;
}

/** Whether the actor's scope lets it read this path (no audit: for deciding what to show, never to refuse). */
export function mayRead(ctx: VaultContext, path: string): boolean {
  const actor = ctx.actor;
  if (actsAsOwner(actor)) return true;
  if (actor.kind === "agent" && !actor.direct) return false;
  return decide(actor.scope, path, "read").allowed;
}

/** The owner, or an admin member of a server (who holds the owner's rights there). */
export function requireOwner(ctx: VaultContext, what: string): void {
  if (actsAsOwner(ctx.actor)) return;
  if (ctx.actor.kind === "member")
    throw new AuthyError("ACCESS_DENIED", `only an admin can ${what}`, { hint: `member ${ctx.actor.name} has the role member; an admin can do it` });
  throw new AuthyError("ACCESS_DENIED", `only the owner can ${what}`, { hint: "use the owner session (AUTHY_SESSION) or the passphrase" });
}

/**
 * Deciding an approval request for `path`: the owner or an admin, or a member whose scope
 * grants `approve` on the path. A refused member is audited, as a refused read is.
 */
export async function requireApprover(ctx: VaultContext, path: string, action: string): Promise<void> {
  const actor = ctx.actor;
  if (actor.kind !== "member" || actor.role === "admin") {
    requireOwner(ctx, "decide approval requests");
    return;
  }
  await authorize(ctx, path, "approve", action);
}

/** Whether the actor may see (and so decide) approval requests for `path`. */
export function mayApprove(ctx: VaultContext, path: string): boolean {
  const actor = ctx.actor;
  if (actsAsOwner(actor)) return true;
  return actor.kind === "member" && decide(actor.scope, path, "approve").allowed;
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
