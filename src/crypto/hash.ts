/** SHA-256, HMAC-SHA-256 and constant-time comparison. */
import * as nodeCrypto from "node:crypto";
import { AuthyError } from "../errors.js";
import { opensslHmacSha256, type HmacSha256Into } from "./openssl.js";

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

type OneShot = (data: Uint8Array, encoding: "hex" | "binary") => string;
/** crypto.hash (Node 20.12+) hashes in one call with no Hash object; createHash elsewhere. */
const sha256OneShot: OneShot =
  typeof nodeCrypto.hash === "function"
    ? (data, encoding) => nodeCrypto.hash("sha256", data, encoding)
    : (data, encoding) => nodeCrypto.createHash("sha256").update(data).digest(encoding);

/** SHA-256 as lowercase hex, for hot loops that compare against hex anyway. */
export function sha256Hex(data: Uint8Array): string {
  return sha256OneShot(data, "hex");
}

const HMAC_BLOCK = 64;
const SHA256_BYTES = 32;

/** The HMAC inner and outer key pads (RFC 2104), into the first block of each buffer. */
function writePads(key: Uint8Array, inner: Uint8Array, outer: Uint8Array): void {
  const k = Buffer.alloc(HMAC_BLOCK);
  k.set(key.length > HMAC_BLOCK ? sha256(key) : key);
  for (let i = 0; i < HMAC_BLOCK; i++) {
    inner[i] = k[i]! ^ 0x36;
    outer[i] = k[i]! ^ 0x5c;
  }
  k.fill(0);
}

/**
 * HMAC-SHA-256 (RFC 2104) of many 32-byte messages under one key, in and out as lowercase
 * hex: the audit verifier's hot loop, a million MACs. createHmac per message builds an object
 * and the key pads every time; here the pads are built once and each MAC is two one-shot
 * hashes over preallocated blocks. Same output as hmacSha256 (tested against it). `wipe()`
 * clears the pads, which are as secret as the key.
 */
export class Hmac32 {
  private readonly inner = Buffer.alloc(HMAC_BLOCK + SHA256_BYTES);
  private readonly outer = Buffer.alloc(HMAC_BLOCK + SHA256_BYTES);

  constructor(key: Uint8Array) {
    writePads(key, this.inner, this.outer);
  }

  /** The MAC of the 32 bytes written as 64 hex digits. */
  macHex(messageHex: string): string {
    if (messageHex.length !== 2 * SHA256_BYTES || this.inner.write(messageHex, HMAC_BLOCK, "hex") !== SHA256_BYTES) {
      throw new AuthyError("INTERNAL", "an HMAC-32 message must be 32 bytes of hex");
    }
    // "binary" (latin1) moves the inner hash over as one char per byte, the cheapest way.
    this.outer.write(sha256OneShot(this.inner, "binary"), HMAC_BLOCK, "latin1");
    return sha256OneShot(this.outer, "hex");
  }

  wipe(): void {
    this.inner.fill(0);
    this.outer.fill(0);
  }
}

/** SHA-256 into a new Buffer, in one call where Node has crypto.hash. */
const sha256Buffer: (data: Uint8Array) => Buffer =
  typeof nodeCrypto.hash === "function" ? (data) => nodeCrypto.hash("sha256", data, "buffer") : (data) => nodeCrypto.createHash("sha256").update(data).digest();

/**
 * HMAC-SHA-256 (RFC 2104) of any message under one key: the row and audit MACs, thousands per
 * `env import` or `run` of 1,000 secrets. One call of OpenSSL's HMAC() where it can be called
 * directly (openssl.ts says why); elsewhere, as in Hmac32, the pads are built once and each
 * MAC is two one-shot hashes, where createHmac would build an object and the pads for every
 * row. Same output either way as hmacSha256 (tested against it). The scratch block holds the
 * last message (row metadata, never a value); `wipe()` clears it, the pads and the key.
 */
export class HmacKey {
  // Plain Uint8Arrays, not Buffers: a Buffer's subarray() runs Buffer's JavaScript constructor,
  // which is cold code in every short-lived CLI process.
  private inner = new Uint8Array(HMAC_BLOCK + 1024);
  private readonly outer = new Uint8Array(HMAC_BLOCK + SHA256_BYTES);

  private readonly key: Uint8Array;

  /** `direct`: OpenSSL's HMAC() where it can be called (openssl.ts), else the two hashes here. */
  constructor(
    key: Uint8Array,
    private readonly direct: HmacSha256Into | null = opensslHmacSha256(),
  ) {
    this.key = Uint8Array.from(key);
    writePads(key, this.inner, this.outer);
  }

  mac(message: Uint8Array): Uint8Array {
    if (this.direct) {
      const out = new Uint8Array(SHA256_BYTES);
      if (this.direct(this.key, message, out)) return out;
    }
    const length = HMAC_BLOCK + message.length;
    if (length > this.inner.length) {
      const bigger = new Uint8Array(Math.max(length, 2 * this.inner.length));
      bigger.set(this.inner.subarray(0, HMAC_BLOCK));
      this.inner.fill(0);
      this.inner = bigger;
    }
    this.inner.set(message, HMAC_BLOCK);
    this.outer.set(sha256Buffer(this.inner.subarray(0, length)), HMAC_BLOCK);
    return new Uint8Array(sha256Buffer(this.outer));
  }

  wipe(): void {
    this.key.fill(0);
    this.inner.fill(0);
    this.outer.fill(0);
  }
}

/**
 * Compares two hex strings in time that depends only on their length (MACs: a tag compared
 * byte by byte with an early exit would tell a patient caller how much of a guess was right).
 */
export function constantTimeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
