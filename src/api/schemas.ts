import { z } from "zod";
import { AuthyError } from "../errors.js";
import { CAPABILITIES } from "../vault/policy/index.js";
import { SECRET_TYPES, TIERS } from "../vault/types.js";
import { DISPATCH_PURPOSES } from "../vault/dispatch.js";
import { MAX_RUN_TICKET_LENGTH } from "../vault/run-record.js";

/**
 * Request shapes. These check only types and sizes; what the values mean (paths, scopes,
 * versions, lifetimes) is checked by the core, so that a mistake gets the same message in
 * direct mode and through the API. Unknown fields are refused rather than ignored: a
 * misspelled `expiresAt` or an `ip_allowlist` we do not enforce must not pass silently.
 */

/** Longest free-text field (descriptions, labels, audit resources). */
const MAX_TEXT = 4096;
/** Most items in one list field (tags, refs, keys). */
const MAX_ITEMS = 10_000;

const text = z.string().max(MAX_TEXT);
const base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, "must be standard base64");
/** An audit action name such as `vault.backup` or `run.start`. */
const action = z.string().regex(/^[a-z][a-z0-9_-]*(?:\.[a-z][a-z0-9_-]*)+$/, "must look like noun.verb").max(64);
const details = z.record(z.string(), z.unknown());

/** A value as UTF-8 text (`value`) or as bytes (`valueBase64`): exactly one of the two. */
const valueFields = { value: z.string().optional(), valueBase64: base64.optional() };
function oneValue(v: { value?: string | undefined; valueBase64?: string | undefined }): boolean {
  return (v.value === undefined) !== (v.valueBase64 === undefined);
}
const ONE_VALUE = { message: "give exactly one of value and valueBase64" };

export const secretWrite = z
  .strictObject({
    ...valueFields,
    type: z.enum(SECRET_TYPES).optional(),
    tier: z.enum(TIERS).optional(),
    description: text.optional(),
    tags: z.array(z.string().max(256)).max(256).optional(),
    expiresAt: z.number().nullable().optional(),
    /** Why, for the owner, when the write needs an approval. */
    reason: text.optional(),
    /** How the value was generated, remembered for `secrets rotate` (null forgets it). */
    generator: z.strictObject({ length: z.number().int(), charset: z.string().max(4096) }).nullable().optional(),
  })
  .refine(oneValue, ONE_VALUE);

export const secretRotate = z.strictObject(valueFields).refine(oneValue, ONE_VALUE);

/** `secrets rotate`: a new value made by the core from the secret's generator (or this one, then remembered). */
export const secretRotateGenerated = z.strictObject({
  generate: z.literal(true),
  length: z.number().int().optional(),
  charset: z.string().max(4096).optional(),
  show: z.boolean().optional(),
  reason: text.optional(),
});

/** `secrets mv` / `secrets cp`: the destination path (validated by the core). */
export const secretTransfer = z.strictObject({ to: z.string().max(4096), force: z.boolean().optional(), reason: text.optional() });

export const rollback = z.strictObject({ version: z.number() });

export const envImport = z.strictObject({
  namespace: z.string(),
  entries: z.array(z.strictObject({ key: z.string(), value: z.string(), description: text.optional() })).max(100_000),
  noOverwrite: z.boolean().optional(),
  /** Where the entries came from (dotenv, pass, passage, …), for the audit entry. */
  source: z.string().regex(/^[a-z]+$/).max(16).optional(),
  tier: z.enum(TIERS).optional(),
  dryRun: z.boolean().optional(),
});

export const policyApply = z.strictObject({ yaml: z.string(), source: text.optional() });
/** `authy config set KEY VALUE`; null puts the key back to its default. */
export const settingSet = z.strictObject({ value: z.string().max(4096).nullable() });

export const policyTest = z.strictObject({ scope: z.string(), path: z.string(), capability: z.enum(CAPABILITIES) });

export const dispatchRequest = z.strictObject({
  scope: z.string().optional(),
  refs: z.array(z.strictObject({ name: z.string(), path: z.string(), source: text })).max(MAX_ITEMS).optional(),
  only: z.array(z.string()).max(MAX_ITEMS).optional(),
  command: text,
  // The core writes its own command/scope/secrets into the run.start entry; a caller's
  // details must not overwrite the list of what it was given.
  details: details.refine((d) => !["command", "scope", "secrets", "sandboxed", "sandbox"].some((k) => Object.hasOwn(d, k)), "must not set command, scope, secrets or sandbox").optional(),
  // What the values are for; it fixes the audit action (run.start, secret.inject): a caller
  // never names the action of its own read.
  purpose: z.enum(DISPATCH_PURPOSES).optional(),
  reason: text.optional(),
  sandbox: z
    .strictObject({
      write: z.array(text).max(MAX_ITEMS),
      read: z.array(text).max(MAX_ITEMS),
      hosts: z.array(text).max(MAX_ITEMS),
      network: z.enum(["host", "none"]),
    })
    .optional(),
  ownScope: z.boolean().optional(),
});

/** `POST /v1/runs/end`: the ticket from the dispatch, and how the run ended. */
export const runEnd = z.strictObject({
  ticket: z.string().max(MAX_RUN_TICKET_LENGTH),
  exitCode: z.number().int(),
  signal: z.string().max(32).nullable(),
  durationMs: z.number().nonnegative(),
  pid: z.number().int().positive().optional(),
});

export const auditEvent = z.strictObject({ action, resource: text, details: details.optional() });

export const agentCreate = z.strictObject({ name: z.string(), scope: z.string(), description: text.optional() });

/**
 * `POST /v1/tokens`. Agent Secret Store sends `{ scopes: [...], ttl: "1h", max_uses }`; authy's
 * client sends `{ scope, ttlMs, uses }`. `ttl` is seconds when a number, a duration ("15m",
 * "1h30m") when a string.
 */
export const tokenIssue = z.strictObject({
  scope: z.string().optional(),
  scopes: z.union([z.string(), z.array(z.string()).min(1).max(256)]).optional(),
  ttl: z.union([z.number(), z.string().max(64)]).optional(),
  ttlMs: z.number().optional(),
  uses: z.number().optional(),
  max_uses: z.number().optional(),
  agent: z.string().optional(),
  label: text.optional(),
  description: text.optional(),
  pid: z.number().int().positive().optional(),
  /** Only `pid`'s descendants may use it (`run --pass-token`); see daemon/process-tokens.ts. */
  processTree: z.boolean().optional(),
  /** With processTree: only `pid` itself may use it, relaying for a sandboxed child (`run --sandbox --pass-token`). */
  relayed: z.boolean().optional(),
});

export const tokenProcess = z.strictObject({ pid: z.number().int().positive() });

export const keyAdd = z.strictObject({ recipient: z.string().max(MAX_TEXT), label: text.optional() });

const flag = z.enum(["1", "0", "true", "false", ""]).optional();
/** A query flag: `?recursive`, `?recursive=1` and `?recursive=true` are on; absent, `0` and `false` are off. */
export function isSet(v: string | undefined): boolean {
  return v === "1" || v === "true" || v === "";
}

export const listQuery = z.strictObject({
  namespace: z.string().optional(),
  recursive: flag,
  deleted: flag,
  type: z.enum(SECRET_TYPES).optional(),
  tier: z.enum(TIERS).optional(),
  /** A JSON array of tags, every one of which a listed secret carries. */
  tags: z.string().max(65_536).optional(),
});
export const getQuery = z.strictObject({ version: z.string().max(32).optional(), allowExpired: flag, encoding: z.enum(["utf8", "base64"]).optional(), reason: text.optional() });
export const deleteQuery = z.strictObject({ purge: flag });
export const envExportQuery = z.strictObject({ keys: z.string().optional(), reason: text.optional() });

/** Parses untrusted input, or throws INVALID_INPUT naming the first problem (never the value). */
export function parse<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const r = schema.safeParse(data ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  throw new AuthyError("INVALID_INPUT", `invalid ${what}: ${where}${issue?.message ?? "malformed"}`);
}
