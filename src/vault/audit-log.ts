import type { StoreWriter } from "../store/store.js";
import { appendAudit, type AuditEvent } from "./audit-chain.js";
import type { VaultContext } from "./context.js";
import { actorName } from "./types.js";

/** One audit entry for the acting principal, inside the caller's write transaction. */
export async function audit(
  tx: StoreWriter,
  ctx: VaultContext,
  action: string,
  resource: string,
  details?: Record<string, unknown>,
  outcome: AuditEvent["outcome"] = "ok",
): Promise<void> {
  await appendAudit(tx, ctx.keys, [{ ts: ctx.clock.now(), actor: actorName(ctx.actor), action, resource, outcome, details }]);
}

/** Best-effort audit of a failure: the failure itself is what the caller reports. */
export async function tryAudit(
  ctx: VaultContext,
  action: string,
  resource: string,
  details: Record<string, unknown>,
  outcome: AuditEvent["outcome"],
): Promise<void> {
  try {
    await ctx.store.write((tx) => audit(tx, ctx, action, resource, details, outcome));
  } catch {
    // The log is not writable; the original error still fails the operation closed.
  }
}
