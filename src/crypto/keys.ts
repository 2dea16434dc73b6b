/**
 * The vault key and the purpose keys derived from it. Every use of the vault key goes through
 * a derived key, so that a MAC key can never be confused with a wrapping key:
 *
 *   key(purpose) = HKDF-SHA-256(ikm = vault key, salt = empty, info = "authy/v1/" ‖ purpose, 32)
 *
 * (An empty salt is the RFC 5869 default; the vault key is already uniformly random.)
 */
import * as nodeCrypto from "node:crypto";
import { AuthyError } from "../errors.js";
import { randomBytes } from "./random.js";

export type KeyPurpose = "dek-wrap" | "row-mac" | "audit-mac" | "slot-mac" | "token-hash" | "session";

/** AES-256 and HMAC-SHA-256 both want 32-byte keys. */
export const VAULT_KEY_BYTES = 32;
/** Derived keys are as long as the vault key. */
const DERIVED_KEY_BYTES = 32;
/** Bump the "v1" only with a migration that re-derives everything. */
const INFO_PREFIX = "authy/v1/";

const PURPOSES: ReadonlySet<string> = new Set<KeyPurpose>(["dek-wrap", "row-mac", "audit-mac", "slot-mac", "token-hash", "session"]);

export function deriveKey(vaultKey: Uint8Array, purpose: KeyPurpose): Uint8Array {
  if (vaultKey.length !== VAULT_KEY_BYTES) {
    throw new AuthyError("INTERNAL", `vault key must be ${VAULT_KEY_BYTES} bytes`);
  }
  if (!PURPOSES.has(purpose)) {
    throw new AuthyError("INTERNAL", "unknown key purpose");
  }
  const info = Buffer.from(INFO_PREFIX + purpose, "utf8");
  return new Uint8Array(nodeCrypto.hkdfSync("sha256", vaultKey, new Uint8Array(0), info, DERIVED_KEY_BYTES));
}

export function generateVaultKey(): Uint8Array {
  return randomBytes(VAULT_KEY_BYTES);
}
