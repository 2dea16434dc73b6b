/**
 * AES-256-GCM with a random 96-bit nonce and a full 128-bit tag.
 *
 * Sealed layout (version 1):
 *
 *   0x01 | nonce (12 bytes, random) | ciphertext (same length as plaintext) | tag (16 bytes)
 *
 * The additional data is not stored; the caller supplies it again to open. Random nonces are
 * safe here: each key seals few messages (a DEK seals one value; the wrap key one DEK per
 * version), far below the 2^32 limit for random 96-bit nonces.
 */
import * as nodeCrypto from "node:crypto";
import { randomFill } from "./random.js";
import { AuthyError, integrityError } from "../errors.js";
import { opensslGcmDecrypt, type GcmDecrypt } from "./openssl.js";

const VERSION = 0x01;
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
/** Always the full tag: Node accepts a 4-byte GCM tag unless told the length. */
const TAG_BYTES = 16;
/** The shortest sealed value: an empty plaintext. */
const SEAL_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  checkKey(key);
  // Written in place: env import seals 20,000 of these, and every intermediate buffer costs.
  const out = new Uint8Array(SEAL_OVERHEAD + plaintext.length);
  out[0] = VERSION;
  const nonce = randomFill(out.subarray(1, 1 + NONCE_BYTES));
  const cipher = nodeCrypto.createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  out.set(cipher.update(plaintext), 1 + NONCE_BYTES);
  cipher.final(); // GCM is a stream mode: final() only computes the tag
  out.set(cipher.getAuthTag(), 1 + NONCE_BYTES + plaintext.length);
  return out;
}

/** Throws INTEGRITY on any failure; never returns unauthenticated bytes. */
export function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  return openWith((decrypt ??= opensslGcmDecrypt() ?? nodeGcmDecrypt), key, sealed, aad);
}

/** How open() decrypts: OpenSSL directly where it can (openssl.ts says why), node:crypto otherwise. */
let decrypt: GcmDecrypt | undefined;

/** open() with a given decryption, for the tests that hold both to the same vectors. */
export function openWith(gcmDecrypt: GcmDecrypt, key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  checkKey(key);
  if (sealed.length < SEAL_OVERHEAD || sealed[0] !== VERSION) {
    throw integrityError("sealed data is malformed");
  }
  // Views through a plain Uint8Array: a Buffer's subarray() runs Buffer's constructor each time.
  const bytes = new Uint8Array(sealed.buffer, sealed.byteOffset, sealed.length);
  const nonce = bytes.subarray(1, 1 + NONCE_BYTES);
  const body = bytes.subarray(1 + NONCE_BYTES, bytes.length - TAG_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  const plaintext = gcmDecrypt(key, nonce, body, tag, aad);
  if (!plaintext) throw integrityError("sealed data failed authentication");
  return plaintext;
}

/** node:crypto's AES-256-GCM: a plain Uint8Array over memory of its own, or null when the tag does not match. */
export const nodeGcmDecrypt: GcmDecrypt = (key, nonce, body, tag, aad) => {
  let plaintext: Buffer;
  try {
    const decipher = nodeCrypto.createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    plaintext = decipher.update(body);
    decipher.final(); // throws here if the tag does not match
  } catch {
    return null;
  }
  // A plain Uint8Array (not a Buffer, which serializes differently) over memory of its own
  // (not a slice of a shared pool), so that callers may wipe it.
  const own = plaintext.byteOffset === 0 && plaintext.byteLength === plaintext.buffer.byteLength;
  return own ? new Uint8Array(plaintext.buffer, 0, plaintext.length) : new Uint8Array(plaintext);
};

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES) {
    throw new AuthyError("INTERNAL", `aead key must be ${KEY_BYTES} bytes`);
  }
}
