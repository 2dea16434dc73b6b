/** SHA-256, HMAC-SHA-256 and constant-time comparison. */
import * as nodeCrypto from "node:crypto";

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = nodeCrypto.createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = nodeCrypto.createHmac("sha256", key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/**
 * Compares in time that depends only on the length. Different lengths return false at once:
 * lengths here are public (fixed-size MACs and token hashes), never the secret part.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return nodeCrypto.timingSafeEqual(a, b);
}
