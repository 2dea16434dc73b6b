/**
 * The payload of an age v1 file (https://c2sp.org/age, "Payload"): the STREAM construction
 * over ChaCha20-Poly1305, on node:crypto.
 *
 *   payload     = nonce (16 random bytes) ‖ chunk 0 ‖ chunk 1 ‖ … ‖ chunk n
 *   payload key = HKDF-SHA-256(ikm = file key, salt = nonce, info = "payload")
 *   chunk i     = ChaCha20-Poly1305(payload key, i as 11 bytes big-endian ‖ flag, plaintext i) ‖ tag
 *                 flag = 0x01 on the final chunk, 0x00 on every other
 *
 * Every chunk but the final one carries exactly 64 KiB of plaintext; the final one carries
 * 1 byte to 64 KiB, or nothing if the whole payload is empty. A plaintext that is an exact
 * multiple of 64 KiB therefore ends with a full chunk marked final, never an empty one.
 *
 * Files are small here (key slots, exports), so both directions work on whole buffers; the
 * chunk boundaries then follow from the length alone, and nothing is returned until every
 * chunk has authenticated.
 */
import * as nodeCrypto from "node:crypto";
import { integrityError } from "../errors.js";
import { randomBytes } from "./random.js";

const PAYLOAD_NONCE_BYTES = 16;
/** Plaintext per chunk. */
export const CHUNK_BYTES = 64 * 1024;
const TAG_BYTES = 16;
const ENCRYPTED_CHUNK_BYTES = CHUNK_BYTES + TAG_BYTES;
const KEY_BYTES = 32;
const CHUNK_NONCE_BYTES = 12;
const LAST_CHUNK_FLAG = 0x01;

/** nonce ‖ STREAM(plaintext) under a fresh nonce. */
export function encryptPayload(fileKey: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const nonce = randomBytes(PAYLOAD_NONCE_BYTES);
  const key = payloadKey(fileKey, nonce);
  try {
    const chunks = Math.max(1, Math.ceil(plaintext.length / CHUNK_BYTES));
    const out = new Uint8Array(PAYLOAD_NONCE_BYTES + plaintext.length + chunks * TAG_BYTES);
    out.set(nonce, 0);
    let pos = PAYLOAD_NONCE_BYTES;
    for (let i = 0; i < chunks; i++) {
      const last = i === chunks - 1;
      const chunk = plaintext.subarray(i * CHUNK_BYTES, last ? plaintext.length : (i + 1) * CHUNK_BYTES);
      const cipher = nodeCrypto.createCipheriv("chacha20-poly1305", key, chunkNonce(i, last), { authTagLength: TAG_BYTES });
      for (const part of [cipher.update(chunk), cipher.final(), cipher.getAuthTag()]) {
        out.set(part, pos);
        pos += part.length;
      }
    }
    return out;
  } finally {
    key.fill(0);
  }
}

/**
 * The plaintext of `payload` (nonce first). Throws INTEGRITY if any chunk fails to
 * authenticate, the final chunk is missing or misplaced, or an empty final chunk follows
 * others; returns nothing until all of it has authenticated.
 */
export function decryptPayload(fileKey: Uint8Array, payload: Uint8Array): Uint8Array {
  if (payload.length < PAYLOAD_NONCE_BYTES + TAG_BYTES) throw integrityError("age file payload is truncated");
  const key = payloadKey(fileKey, payload.subarray(0, PAYLOAD_NONCE_BYTES));
  const body = payload.subarray(PAYLOAD_NONCE_BYTES);
  const parts: Buffer[] = [];
  try {
    for (let i = 0, pos = 0; ; i++) {
      // Whatever no longer fills more than one chunk must be the final chunk: a full-size one
      // followed by nothing is final too.
      const last = body.length - pos <= ENCRYPTED_CHUNK_BYTES;
      const end = last ? body.length : pos + ENCRYPTED_CHUNK_BYTES;
      if (end - pos < TAG_BYTES) throw integrityError("age file payload is truncated");
      const plaintext = openChunk(key, chunkNonce(i, last), body.subarray(pos, end));
      parts.push(plaintext);
      if (!last) {
        pos = end;
        continue;
      }
      if (plaintext.length === 0 && i > 0) throw integrityError("age file payload ends with an empty chunk");
      return new Uint8Array(Buffer.concat(parts));
    }
  } finally {
    key.fill(0);
    for (const part of parts) part.fill(0);
  }
}

function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return new Uint8Array(nodeCrypto.hkdfSync("sha256", fileKey, nonce, "payload", KEY_BYTES));
}

/** The 11-byte big-endian chunk counter followed by the final-chunk flag. */
function chunkNonce(counter: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(CHUNK_NONCE_BYTES);
  // Counters stay far below 2^53 (that would be a 2^69-byte file), so plain arithmetic is exact.
  for (let i = CHUNK_NONCE_BYTES - 2, c = counter; i >= 0 && c > 0; i--, c = Math.floor(c / 256)) nonce[i] = c % 256;
  if (last) nonce[CHUNK_NONCE_BYTES - 1] = LAST_CHUNK_FLAG;
  return nonce;
}

function openChunk(key: Uint8Array, nonce: Uint8Array, chunk: Uint8Array): Buffer {
  const ciphertext = chunk.subarray(0, chunk.length - TAG_BYTES);
  let head: Buffer | undefined;
  try {
    const decipher = nodeCrypto.createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(chunk.subarray(chunk.length - TAG_BYTES));
    head = decipher.update(ciphertext);
    const tail = decipher.final(); // throws here if the tag does not match
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    head?.fill(0);
    throw integrityError("age file failed authentication");
  }
}
