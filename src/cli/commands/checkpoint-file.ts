import { AuthyError } from "../../errors.js";
import { CHECKPOINT_FORMAT, type AuditCheckpoint } from "../../vault/audit-checkpoint.js";
import { jsonTime } from "../json-output.js";

/**
 * The audit checkpoint file as `authy audit checkpoint` writes it (and prints it with --json):
 *
 *   { "format": "authy-audit-checkpoint/v2", "vaultId": "<32 hex>", "seq": 1234,
 *     "hash": "<64 hex>", "time": "2026-01-31T09:30:00.123Z", "mac": "<64 hex>" }
 *
 * Version 2 differs from version 1 only in writing when it was taken as an ISO time (`time`),
 * as every --json time is, instead of epoch ms (`ts`). The MAC is the same one, over the same
 * fields with the time in epoch ms (src/vault/audit-checkpoint.ts), so a file of either
 * version, kept from any release, is read and checked.
 */
const CHECKPOINT_FILE_FORMAT = "authy-audit-checkpoint/v2";

/** ISO 8601 in UTC with milliseconds, exactly as jsonTime() writes it: nothing is guessed. */
const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function checkpointFileJson(cp: AuditCheckpoint) {
  return { format: CHECKPOINT_FILE_FORMAT, vaultId: cp.vaultId, seq: cp.seq, hash: cp.hash, time: jsonTime(cp.ts), mac: cp.mac };
}

function notACheckpoint(why: string): AuthyError {
  return new AuthyError("INVALID_INPUT", `not an authy audit checkpoint: ${why}`, { hint: "give the file written by `authy audit checkpoint`" });
}

/** A parsed checkpoint file as the core reads it (version 1's fields); the core checks the rest. */
export function fromCheckpointFile(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw notACheckpoint("not a JSON object");
  const v = value as Record<string, unknown>;
  if (v.format === CHECKPOINT_FORMAT) return v;
  if (v.format !== CHECKPOINT_FILE_FORMAT)
    throw notACheckpoint(`format is ${JSON.stringify(v.format)}, expected ${JSON.stringify(CHECKPOINT_FILE_FORMAT)} (or ${JSON.stringify(CHECKPOINT_FORMAT)})`);
  const ts = typeof v.time === "string" && ISO_MS_UTC.test(v.time) ? Date.parse(v.time) : NaN;
  if (!Number.isSafeInteger(ts) || jsonTime(ts) !== v.time) throw notACheckpoint("time is not an ISO 8601 UTC time with milliseconds");
  const { time: _time, ...rest } = v;
  return { ...rest, format: CHECKPOINT_FORMAT, ts };
}
