/**
 * The owner session: `authy_os_` + 256 random bits, printed once by `authy unlock` as
 * `export AUTHY_SESSION=…` (like `bw unlock`). The daemon keeps only its SHA-256 and compares
 * in constant time; a high-entropy secret needs no slow hash.
 */
import { constantTimeEqual, randomToken, sha256 } from "../crypto/index.js";

export const OWNER_SESSION_PREFIX = "authy_os_";
/** 256 bits: beyond guessing, like every other bearer secret authy issues. */
const OWNER_SESSION_BYTES = 32;

export function newOwnerSession(): string {
  return OWNER_SESSION_PREFIX + randomToken(OWNER_SESSION_BYTES);
}

export function sessionHash(session: string): Uint8Array {
  return sha256(Buffer.from(session, "utf8"));
}

export function sessionMatches(hash: Uint8Array, presented: string): boolean {
  return constantTimeEqual(sessionHash(presented), hash);
}
