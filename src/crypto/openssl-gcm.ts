/**
 * AES-256-GCM decryption through the OpenSSL that Node.js itself links, called directly
 * (koffi, os/native.ts), for the loops that open thousands of values: `run` and `env export`
 * of 1,000 secrets open 2,000 sealed blobs (each value and its data key).
 *
 * Why by hand: node:crypto's createDecipheriv builds a stream object (and an OpenSSL context)
 * for every open. Measured on 2026-12-05 (Node 20.20, OpenSSL 3.0, the 2-core build machine),
 * 2,000 opens of 28-byte values: 29.6 ms in a fresh process and 9.6 µs each warm; these five
 * calls: 12.3 ms and 4.4 µs. The work itself is the same OpenSSL code either way.
 *
 * Each open is whole in itself: the context is set up with the cipher, key and nonce, and
 * reset afterwards (which clears the key schedule), so nothing of one key outlives its open.
 * JavaScript runs one open at a time, so one context serves them all.
 *
 * Where the symbols or koffi are missing (not Linux, or a Node.js built otherwise),
 * `opensslGcmDecrypt()` is null and aead.ts uses node:crypto. Both are tested on the same
 * vectors and tampering (aead.test.ts).
 */
import { processSymbols } from "../os/native.js";

/** Decrypts and authenticates; null when the tag does not match. */
export type GcmDecrypt = (key: Uint8Array, nonce: Uint8Array, body: Uint8Array, tag: Uint8Array, aad: Uint8Array) => Uint8Array | null;

/** EVP_CTRL_AEAD_SET_TAG (= EVP_CTRL_GCM_SET_TAG), stable since OpenSSL 1.0.1. */
const EVP_CTRL_AEAD_SET_TAG = 0x11;
/** OpenSSL's default GCM nonce length, which aead.ts uses. */
const GCM_NONCE_BYTES = 12;

let bound: GcmDecrypt | null | undefined;

export function opensslGcmDecrypt(): GcmDecrypt | null {
  if (bound === undefined) {
    try {
      bound = bind();
    } catch {
      bound = null; // a symbol is missing: node:crypto does it
    }
  }
  return bound;
}

function bind(): GcmDecrypt | null {
  const ffi = processSymbols();
  if (!ffi) return null;
  const { koffi, library } = ffi;
  const outInt = koffi.out(koffi.pointer("int")) as string;
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
  const written = [0];
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
