import { requireOwner } from "./access.js";
import { audit, tryAudit } from "./audit-log.js";
import { actsAsOwner } from "./types.js";
import type { VaultContext } from "./context.js";

/** Events a token may record itself: what its sandbox refused (hosts, callers of the run's socket), and its own MCP tool calls. */
const TOKEN_EVENTS: ReadonlySet<string> = new Set(["run.network.denied", "run.socket.denied", "mcp.tool"]);

/**
 * Records an owner-level event that is not a secret operation (backup, restore, export). Every
 * other event is the owner's to write (a run's end goes through endRun, with its ticket).
 */
export async function recordEvent(ctx: VaultContext, action: string, resource: string, details?: Record<string, unknown>): Promise<void> {
  if (!(TOKEN_EVENTS.has(action) && ctx.actor.kind === "token")) {
    if (!actsAsOwner(ctx.actor)) await tryAudit(ctx, "event.denied", "vault", { action }, "denied");
    requireOwner(ctx, "record events");
  }
  await ctx.store.write((tx) => audit(tx, ctx, action, resource, details));
}
