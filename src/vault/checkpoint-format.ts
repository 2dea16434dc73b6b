import { AuthyError } from "../errors.js";

/** The shape of an audit checkpoint file (audit-checkpoint.ts makes and checks them), which the API reads too. */
export const CHECKPOINT_FORMAT = "authy-audit-checkpoint/v1";

export interface AuditCheckpoint {
  format: typeof CHECKPOINT_FORMAT;
  vaultId: string;
  seq: number;
  hash: string;
  ts: number;
  mac: string;
}

const VAULT_ID_HEX = /^[0-9a-f]{32}$/;
const HASH_HEX = /^[0-9a-f]{64}$/;

function notACheckpoint(why: string): AuthyError {
  return new AuthyError("INVALID_INPUT", `not an authy audit checkpoint: ${why}`, { hint: "give the file written by `authy audit checkpoint`" });
}

/** Checks the shape of a parsed checkpoint file; says what is wrong with it, never guesses. */
export function parseCheckpoint(value: unknown): AuditCheckpoint {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw notACheckpoint("not a JSON object");
  const v = value as Record<string, unknown>;
  if (v.format !== CHECKPOINT_FORMAT) throw notACheckpoint(`format is ${JSON.stringify(v.format)}, expected ${JSON.stringify(CHECKPOINT_FORMAT)}`);
  if (typeof v.vaultId !== "string" || !VAULT_ID_HEX.test(v.vaultId)) throw notACheckpoint("vaultId is not 32 hex digits");
  if (typeof v.seq !== "number" || !Number.isSafeInteger(v.seq) || v.seq < 0) throw notACheckpoint("seq is not a whole number");
  if (typeof v.hash !== "string" || !HASH_HEX.test(v.hash)) throw notACheckpoint("hash is not 64 hex digits");
  if (typeof v.ts !== "number" || !Number.isSafeInteger(v.ts)) throw notACheckpoint("ts is not a time in epoch milliseconds");
  if (typeof v.mac !== "string" || !HASH_HEX.test(v.mac)) throw notACheckpoint("mac is not 64 hex digits");
  return { format: CHECKPOINT_FORMAT, vaultId: v.vaultId, seq: v.seq, hash: v.hash, ts: v.ts, mac: v.mac };
}
