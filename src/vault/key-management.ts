import { AuthyError } from "../errors.js";
import { requireOwner } from "./access.js";
import { audit } from "./audit-log.js";
import type { VaultContext } from "./context.js";
import { recipientSlot, rewrapPassphrase, slotInfo, verifySlot, type SlotInfo } from "./key-slots.js";

/** The key slots that open the vault (owner only): list, add an identity, remove, change the passphrase. */

export async function listKeys(ctx: VaultContext): Promise<SlotInfo[]> {
  requireOwner(ctx, "manage keys");
  const rows = await ctx.store.listSlots();
  for (const r of rows) verifySlot(ctx.keys, r);
  return rows.map(slotInfo);
}

export async function addRecipient(ctx: VaultContext, recipient: string, label?: string): Promise<SlotInfo> {
  requireOwner(ctx, "manage keys");
  return ctx.store.write(async (tx) => {
    const existing = await tx.listSlots();
    const slot = await recipientSlot(ctx.keys, recipient, label ?? recipient, ctx.clock.now());
    if (existing.some((s) => s.recipient === slot.recipient)) {
      throw new AuthyError("ALREADY_EXISTS", `${slot.recipient} can already unlock this vault`);
    }
    await tx.putSlot(slot);
    await audit(tx, ctx, "key.add", slot.id, { kind: slot.kind, recipient: slot.recipient });
    return slotInfo(slot);
  });
}

/** Removes a slot by id or recipient; the last slot can never be removed. */
export async function removeKey(ctx: VaultContext, idOrRecipient: string): Promise<SlotInfo> {
  requireOwner(ctx, "manage keys");
  return ctx.store.write(async (tx) => {
    const slots = await tx.listSlots();
    const slot = slots.find((s) => s.id === idOrRecipient || s.recipient === idOrRecipient);
    if (!slot) throw new AuthyError("NOT_FOUND", `no key slot ${idOrRecipient}`, { hint: "see `authy keys list`" });
    if (slots.length === 1) throw new AuthyError("INVALID_INPUT", "refusing to remove the last key slot: the vault could never be opened again");
    await tx.deleteSlot(slot.id);
    await audit(tx, ctx, "key.remove", slot.id, { kind: slot.kind, recipient: slot.recipient });
    return slotInfo(slot);
  });
}

/** Rewraps the vault key under a new passphrase; secrets are untouched. */
export async function changePassphrase(ctx: VaultContext, passphrase: string, workFactor?: number): Promise<SlotInfo> {
  requireOwner(ctx, "change the passphrase");
  return ctx.store.write(async (tx) => {
    const slot = await rewrapPassphrase(tx, ctx.keys, passphrase, workFactor, ctx.clock.now());
    await audit(tx, ctx, "vault.passwd", slot.id, { workFactor: slotInfo(slot).workFactor });
    return slotInfo(slot);
  });
}
