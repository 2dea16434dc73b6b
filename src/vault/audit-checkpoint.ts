import { constantTimeEqual } from "../crypto/index.js";
import { AuthyError } from "../errors.js";
import { GENESIS_HASH_HEX, verifyEntryRow } from "./audit-chain.js";
import { requireOwner } from "./access.js";
import type { VaultContext } from "./context.js";
import type { Keyring } from "./keyring.js";
import { CHECKPOINT_FORMAT, parseCheckpoint, type AuditCheckpoint } from "./checkpoint-format.js";

export { CHECKPOINT_FORMAT, parseCheckpoint, type AuditCheckpoint } from "./checkpoint-format.js";

/**
 * An audit checkpoint: the head of the log (its seq and hash) at one moment, MACed with the
 * audit key, to be kept somewhere the vault's user cannot rewrite (another machine, a ticket,
 * a commit). A hash chain shows any edit, insertion or deletion *before* its head, but not
 * that its newest entries were cut off; a checkpoint does: the log must still hold entry
 * `seq` with exactly `hash`, so it reaches at least that far, unchanged up to there.
 *
 * The file (JSON, written by `authy audit checkpoint`):
 *
 *   { "format": "authy-audit-checkpoint/v1", "vaultId": "<32 hex>", "seq": 1234,
 *     "hash": "<64 hex>", "ts": 1767225600000, "mac": "<64 hex>" }
 *
 *   mac = HMAC-SHA-256(audit key, encodeFields(["authy/audit-checkpoint/v1", vault id,
 *                                               seq, hash (32 bytes), ts]))
 *
 * `ts` is when the checkpoint was taken (epoch ms). The MAC stops a checkpoint from being
 * edited to fit a shortened log; entry MACs are over exactly 32 bytes and this one is over a
 * longer encoding, so neither can stand in for the other.
 */
function macOf(keys: Keyring, seq: number, hash: string, ts: number): Uint8Array {
  return keys.macAuditCheckpoint([seq, Buffer.from(hash, "hex"), ts]);
}

/** The current head, MACed. The head entry is verified first: a forged head is never vouched for. */
export async function makeCheckpoint(ctx: VaultContext): Promise<AuditCheckpoint> {
  requireOwner(ctx, "checkpoint the audit log");
  const head = await ctx.store.auditHead();
  if (head) verifyEntryRow(ctx.keys, head);
  const seq = head?.seq ?? 0;
  const hash = head ? Buffer.from(head.hash).toString("hex") : GENESIS_HASH_HEX;
  const ts = ctx.clock.now();
  const vaultId = Buffer.from(ctx.keys.vaultId).toString("hex");
  return { format: CHECKPOINT_FORMAT, vaultId, seq, hash, ts, mac: Buffer.from(macOf(ctx.keys, seq, hash, ts)).toString("hex") };
}

/** A checkpoint of another vault says nothing about this one; an edited one is refused. */
export function verifyCheckpointMac(keys: Keyring, cp: AuditCheckpoint): void {
  const c = parseCheckpoint(cp);
  const ours = Buffer.from(keys.vaultId).toString("hex");
  if (c.vaultId !== ours) {
    throw new AuthyError("INVALID_INPUT", `the checkpoint is for vault ${c.vaultId}, not this one (${ours})`, {
      hint: "check --home, or give this vault's checkpoint",
    });
  }
  if (!constantTimeEqual(macOf(keys, c.seq, c.hash, c.ts), Buffer.from(c.mac, "hex"))) {
    throw new AuthyError("INTEGRITY", "the audit checkpoint was edited, or was not made by this vault", {
      hint: "use a checkpoint written by `authy audit checkpoint` and kept unchanged",
    });
  }
}

/**
 * Whether the verified chain still holds the checkpoint: `headSeq` is the last entry that
 * verified, `hashAtSeq` the hash the chain has at the checkpoint's seq (null if never reached).
 */
export function checkpointHolds(
  cp: AuditCheckpoint,
  headSeq: number,
  hashAtSeq: string | null,
  firstBad: { seq: number } | null,
): { ok: boolean; reason: string | null } {
  const at = cp.seq === 0 ? GENESIS_HASH_HEX : hashAtSeq;
  if (at !== null) {
    return at === cp.hash ? { ok: true, reason: null } : { ok: false, reason: `entry ${cp.seq} is not the one checkpointed: the log was rewritten` };
  }
  if (firstBad) return { ok: false, reason: `not reached: the chain breaks at entry ${firstBad.seq}, before entry ${cp.seq}` };
  return { ok: false, reason: `the log ends at entry ${headSeq} but the checkpoint names entry ${cp.seq}: the newest entries were deleted` };
}
