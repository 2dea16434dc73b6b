/**
 * Two primitives through the OpenSSL that Node.js itself links, called directly (koffi,
 * os/native.ts), for the loops that run them thousands of times in a fresh process: `run` and
 * `env export` of 1,000 secrets open 2,000 sealed blobs (each value and its data key) and
 * check 1,000 row MACs.
 *
 * Why by hand: node:crypto's createDecipheriv builds a stream object (and an OpenSSL context)
 * for every open, and its createHmac an object and the key pads for every MAC. Measured on
 * the 2-core build machine (Node 20.20, OpenSSL 3.0), in a fresh process:
 * - AES-256-GCM, 2,000 opens of 28-byte values (2026-12-05): 29.6 ms through node:crypto,
 *   9.6 µs each warm; these calls: 12.3 ms and 4.4 µs.
 * - HMAC-SHA-256, 1,000 MACs of 180-220 bytes (2026-12-06): 7.5 ms through createHmac,
 *   11.6 ms as two one-shot hashes over prebuilt pads (hash.ts's HmacKey before), 2.7 ms as
 *   one call of OpenSSL's HMAC(). `run` of 1,000 secrets: 288.7 -> 282.5 ms (medians of 25,
 *   interleaved, `node -e 0` 110.6 ms).
 * The work itself is the same OpenSSL code either way.
 *
 * Each GCM open is whole in itself: the context is set up with the cipher, key and nonce, and
 * reset afterwards (which clears the key schedule), so nothing of one key outlives its open.
 * JavaScript runs one open at a time, so one context serves them all. HMAC() keeps no state
 * between calls.
 *
 * Where the symbols or koffi are missing (not Linux, or a Node.js built otherwise),
 * `opensslGcmDecrypt()` and `opensslHmacSha256()` are null and aead.ts and hash.ts use
 * node:crypto. Both ways are tested on the same vectors (aead.test.ts, hash.test.ts).
 */
import { processSymbols } from "../os/native.js";

/** Decrypts and authenticates; null when the tag does not match. */
export type GcmDecrypt = (key: Uint8Array, nonce: Uint8Array, body: Uint8Array, tag: Uint8Array, aad: Uint8Array) => Uint8Array | null;

/** EVP_CTRL_AEAD_SET_TAG (= EVP_CTRL_GCM_SET_TAG), stable since OpenSSL 1.0.1. */
const EVP_CTRL_AEAD_SET_TAG = 0x11;
/** OpenSSL's default GCM nonce length, which aead.ts uses. */
const GCM_NONCE_BYTES = 12;
const SHA256_BYTES = 32;

/** `bind()` on first use, once: its function, or null when a symbol is missing (node:crypto does it then). */
function boundOnce<T>(bind: () => T | null): () => T | null {
  let bound: T | null | undefined;
  return () => {
    if (bound === undefined) {
      try {
        bound = bind();
      } catch {
        bound = null;
      }
    }
    return bound;
  };
}

export const opensslGcmDecrypt = boundOnce(bindGcm);

function bindGcm(): GcmDecrypt | null {
  const ffi = processSymbols();
  if (!ffi) return null;
  const { library } = ffi;
  // A plain `int *` written through an Int32Array: koffi's out-parameter arrays cost about
  // 1 µs more per call (2,000 opens: 12.4 against 14.9 ms in a fresh process).
  const outInt = "int *";
  const aes256Gcm = library.func("EVP_aes_256_gcm", "const void *", []);
  const ctxNew = library.func("EVP_CIPHER_CTX_new", "void *", []);
  const init = library.func("EVP_DecryptInit_ex", "int", ["void *", "const void *", "void *", "const uint8_t *", "const uint8_t *"]);
  const update = library.func("EVP_DecryptUpdate", "int", ["void *", "uint8_t *", outInt, "const uint8_t *", "int"]);
  const ctrl = library.func("EVP_CIPHER_CTX_ctrl", "int", ["void *", "int", "int", "uint8_t *"]);
  const final = library.func("EVP_DecryptFinal_ex", "int", ["void *", "uint8_t *", outInt]);
  const reset = library.func("EVP_CIPHER_CTX_reset", "int", ["void *"]);
  const cipher = (aes256Gcm as unknown as () => unknown)();
  const ctx = (ctxNew as unknown as () => unknown)();
  if (!cipher || !ctx) return null;
  const written = new Int32Array(1);
  /** GCM's final step writes nothing; OpenSSL still wants somewhere it could. */
  const finalOut = new Uint8Array(16);
  return (key, nonce, body, tag, aad) => {
    if (nonce.length !== GCM_NONCE_BYTES) return null;
    // A copy of its own for the plaintext, which callers may wipe.
    const out = new Uint8Array(body.length);
    try {
      if (init(ctx, cipher, null, key, nonce) !== 1) return null;
      if (aad.length > 0 && update(ctx, null, written, aad, aad.length) !== 1) return null;
      if (body.length > 0 && (update(ctx, out, written, body, body.length) !== 1 || written[0] !== body.length)) return wiped(out);
      if (ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, tag.length, tag) !== 1) return wiped(out);
      // Only here is the tag checked: before it, `out` holds unauthenticated bytes.
      return final(ctx, finalOut, written) === 1 ? out : wiped(out);
    } finally {
      reset(ctx);
    }
  };
}

function wiped(out: Uint8Array): null {
  out.fill(0);
  return null;
}

/** HMAC-SHA-256 of `message` under `key` into `out` (32 bytes); false when OpenSSL fails. */
export type HmacSha256Into = (key: Uint8Array, message: Uint8Array, out: Uint8Array) => boolean;

export const opensslHmacSha256 = boundOnce(bindHmac);

function bindHmac(): HmacSha256Into | null {
  const ffi = processSymbols();
  if (!ffi) return null;
  const { library } = ffi;
  const sha256 = (library.func("EVP_sha256", "const void *", []) as unknown as () => unknown)();
  // unsigned char *HMAC(md, key, key_len, data, data_len, out, out_len): NULL on failure.
  const hmac = library.func("HMAC", "void *", ["const void *", "const uint8_t *", "int", "const uint8_t *", "size_t", "uint8_t *", "void *"]) as unknown as (
    ...args: unknown[]
  ) => unknown;
  if (!sha256) return null;
  return (key, message, out) => out.length === SHA256_BYTES && hmac(sha256, key, key.length, message, message.length, out, null) !== null;
}
