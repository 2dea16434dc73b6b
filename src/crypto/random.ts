/**
 * Randomness: raw bytes, tokens, ids and generated passwords, all from the operating system's
 * CSPRNG (node:crypto). Nothing here is stored in a format of its own.
 */
import * as nodeCrypto from "node:crypto";
import { AuthyError } from "../errors.js";

/** Default token size: 256 bits, beyond any guessing. */
const TOKEN_BYTES_DEFAULT = 32;
/** Default id size: 80 bits is plenty to avoid collisions among a vault's approvals and tokens. */
const ID_BYTES_DEFAULT = 10;
/** A generated password longer than this is a typo, not a wish; refuse it before allocating. */
const RANDOM_CHARS_MAX = 65_536;

/** RFC 4648 base32 alphabet, lowercased: ids are case-insensitive and easy to read aloud. */
const BASE32_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

/**
 * Small requests (keys, nonces, ids) are served from a pool refilled 16 KiB at a time: one
 * call into the OS generator per ~300 secret versions instead of three per version, which is
 * most of the cost of importing 10,000 secrets. Bytes handed out are wiped from the pool.
 */
const POOL_BYTES = 16384;
const POOLED_MAX = 64;
let pool = Buffer.alloc(0);
let poolOffset = 0;

export function randomBytes(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new AuthyError("INTERNAL", "random byte count must be a non-negative integer");
  }
  if (n > POOLED_MAX) return new Uint8Array(nodeCrypto.randomBytes(n));
  return randomFill(new Uint8Array(n));
}

/** Fills `target` with random bytes (from the pool when it is small); returns it. */
export function randomFill<T extends Uint8Array>(target: T): T {
  const n = target.length;
  if (n > POOLED_MAX) return nodeCrypto.randomFillSync(target);
  if (poolOffset + n > pool.length) {
    pool = nodeCrypto.randomFillSync(Buffer.allocUnsafeSlow(POOL_BYTES));
    poolOffset = 0;
  }
  target.set(pool.subarray(poolOffset, poolOffset + n));
  pool.fill(0, poolOffset, poolOffset + n);
  poolOffset += n;
  return target;
}

/** A bearer token: `bytes` random bytes as base64url without padding. */
export function randomToken(bytes: number = TOKEN_BYTES_DEFAULT): string {
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new AuthyError("INTERNAL", "token size must be a positive integer");
  }
  return Buffer.from(randomBytes(bytes)).toString("base64url");
}

/** `prefix` followed by lowercase unpadded base32 of `bytes` random bytes: `apr_…`, `tok_…`. */
export function randomId(prefix: string, bytes: number = ID_BYTES_DEFAULT): string {
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new AuthyError("INTERNAL", "id size must be a positive integer");
  }
  return prefix + base32(randomBytes(bytes));
}

function base32(bytes: Uint8Array): string {
  let out = "";
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(acc >>> bits) & 31]!;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(acc << (5 - bits)) & 31]!;
  return out;
}

/**
 * `length` characters drawn uniformly from `alphabet` (by code point). Uniform because draws
 * that would favour the first characters are rejected rather than reduced modulo the size.
 */
export function randomChars(length: number, alphabet: string): string {
  if (!Number.isSafeInteger(length) || length < 1) {
    throw new AuthyError("INVALID_INPUT", "password length must be a positive integer");
  }
  if (length > RANDOM_CHARS_MAX) {
    throw new AuthyError("INVALID_INPUT", `password length must be at most ${RANDOM_CHARS_MAX}`);
  }
  const symbols = Array.from(alphabet);
  if (symbols.length === 0) {
    throw new AuthyError("INVALID_INPUT", "password alphabet is empty");
  }
  if (new Set(symbols).size !== symbols.length) {
    throw new AuthyError("INVALID_INPUT", "password alphabet has duplicate characters", {
      hint: "list each character once; duplicates would make some characters more likely",
    });
  }
  const size = symbols.length;
  // Draw integers of `width` bytes; accept only those below the largest multiple of `size`.
  const width = size <= 0x100 ? 1 : size <= 0x10000 ? 2 : 4;
  const range = 2 ** (8 * width);
  const limit = range - (range % size);
  let out = "";
  let produced = 0;
  while (produced < length) {
    // Ask for a little more than needed; at worst half of the draws are rejected.
    const pool = nodeCrypto.randomBytes((length - produced) * width * 2);
    for (let i = 0; i + width <= pool.length && produced < length; i += width) {
      const value = width === 1 ? pool[i]! : width === 2 ? pool.readUInt16BE(i) : pool.readUInt32BE(i);
      if (value >= limit) continue;
      out += symbols[value % size]!;
      produced++;
    }
  }
  return out;
}
