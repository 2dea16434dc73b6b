import { AuthyError } from "../../errors.js";
import type { SecretMeta, SecretSummary } from "../../vault/types.js";
import { jsonTime } from "../json-output.js";

/**
 * The stable --json shapes of secrets (docs/json.md). Each carries the Agent Secret Store's
 * snake_case spellings beside authy's own (`secret_type`, `access_tier`, `created_at`,
 * `updated_at`), so that scripts written for its CLI work unchanged: a superset, never a fork.
 */
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
    expiresAt: jsonTime(m.expiresAt),
    deleted: m.deletedAt !== null,
    createdAt: jsonTime(m.createdAt),
    updatedAt: jsonTime(m.updatedAt),
    secret_type: m.type,
    access_tier: m.tier,
    created_at: jsonTime(m.createdAt),
    updated_at: jsonTime(m.updatedAt),
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
    updatedAt: jsonTime(s.updatedAt),
    expiresAt: jsonTime(s.expiresAt),
    secret_type: s.type,
    access_tier: s.tier,
    updated_at: jsonTime(s.updatedAt),
  };
}

export function parseVersion(s: string): number {
  if (!/^[1-9]\d{0,8}$/.test(s)) throw new AuthyError("INVALID_INPUT", `not a version number: ${JSON.stringify(s)}`);
  return Number(s);
}
