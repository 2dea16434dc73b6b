import { integrityError } from "../errors.js";
import { appendAudit } from "./audit-chain.js";
import { walkAuditChain } from "./audit-verify.js";
import type { VaultContext } from "./context.js";
import type { FreshStore } from "./fresh-store.js";
import { sealVaultRow, VAULT_FORMAT_BEFORE_STATE } from "./key-slots.js";
import { secretRowBucket, shardBucket } from "./state-digest.js";
import { actorName } from "./types.js";

export const ADOPT_ACTION = "vault.state.adopt";

/**
 * The migration of a vault written before fresh rows (format 1) to format 2, at its first
 * unlock by this version: the key is needed to MAC the state, so SQL migration 8 only adds the
 * columns. Every bucket is digested as it is then, which trusts the rows as they stand, once.
 * To keep an agent from getting that trust again later (by putting back the format-1 vault
 * row), adoption is refused when the audit log already records one, and the whole chain must
 * verify first, so that the record cannot have been cut out of the middle. (Cutting the newest
 * entries off is what a checkpoint catches.)
 */
export async function adoptState(ctx: VaultContext, store: FreshStore): Promise<void> {
  const vault = await store.getVault();
  if (!vault || vault.format !== VAULT_FORMAT_BEFORE_STATE) return;
  const walk = await walkAuditChain(ctx);
  if (walk.firstBad) throw integrityError(`cannot migrate the vault: audit entry ${walk.firstBad.seq} does not verify (${walk.firstBad.reason})`);
  if ((await store.listAudit({ action: ADOPT_ACTION, limit: 1 })).length > 0) {
    throw integrityError("the vault header was put back from before its migration to fresh rows");
  }
  await store.writeState("adopt", async (tx) => {
    const now = await tx.getVault();
    if (!now || now.format !== VAULT_FORMAT_BEFORE_STATE) return; // another process adopted it first
    const counter = await tx.unlockFailureCounter();
    await tx.putVault({ ...sealVaultRow(ctx.keys, now.createdAt, now.listingMac, counter) });
    // Failures not yet audited stay above the mark, for the unlock that follows to reconcile.
    const pending = (await tx.listUnlockFailures()).map((f) => f.id);
    tx.setUnlockMark(pending.length > 0 ? Math.min(...pending) - 1 : counter);
    for (const b of [{ table: "agents" }, { table: "members" }, { table: "policy" }, { table: "slots" }, { table: "settings" }] as const) await tx.include(b);
    for (const s of await tx.listSecrets()) await tx.include(secretRowBucket(s));
    for (const t of await tx.listTokens()) await tx.include(shardBucket("tokens", t.id));
    for (const a of await tx.listApprovals()) await tx.include(shardBucket("approvals", a.id));
    await appendAudit(tx, ctx.keys, [
      { ts: ctx.clock.now(), actor: actorName(ctx.actor), action: ADOPT_ACTION, resource: "vault", outcome: "ok", details: { format: 2 } },
    ]);
  });
}
