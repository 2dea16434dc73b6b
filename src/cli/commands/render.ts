import { AuthyError } from "../../errors.js";
import type { SecretMeta, SecretSummary } from "../../vault/types.js";
import { isoTime } from "../output.js";

/** The stable --json shapes of secrets (documented in the README). */
export function metaJson(m: SecretMeta) {
  return {
    path: m.path,
    namespace: m.namespace,
    key: m.key,
    type: m.type,
    tier: m.tier,
    description: m.description,
    tags: m.tags,
    version: m.version,
    expiresAt: m.expiresAt === null ? null : isoTime(m.expiresAt),
    deleted: m.deletedAt !== null,
    createdAt: isoTime(m.createdAt),
    updatedAt: isoTime(m.updatedAt),
  };
}

export function summaryJson(s: SecretSummary) {
  return {
    path: s.path,
    namespace: s.namespace,
    key: s.key,
    type: s.type,
    tier: s.tier,
    version: s.version,
    deleted: s.deletedAt !== null,
    updatedAt: isoTime(s.updatedAt),
    expiresAt: s.expiresAt === null ? null : isoTime(s.expiresAt),
  };
}

export function parseVersion(s: string): number {
  if (!/^[1-9]\d{0,8}$/.test(s)) throw new AuthyError("INVALID_INPUT", `not a version number: ${JSON.stringify(s)}`);
  return Number(s);
}
