/**
 * The age file key as carried in a native stanza body: ChaCha20-Poly1305 under a key derived
 * per stanza type, with a fixed all-zero nonce (each wrap key is used once).
 *
 *   body = ciphertext of the 16-byte file key (16 bytes) ‖ Poly1305 tag (16 bytes) = 32 bytes
 */
import * as nodeCrypto from "node:crypto";
import { integrityError } from "../errors.js";

export const FILE_KEY_BYTES = 16;
const TAG_BYTES = 16;
/** Native stanza bodies are exactly a sealed file key; anything else is refused unread. */
export const STANZA_BODY_BYTES = FILE_KEY_BYTES + TAG_BYTES;
const ZERO_NONCE = new Uint8Array(12);

export function sealFileKey(key: Uint8Array, fileKey: Uint8Array): Uint8Array {
  const cipher = nodeCrypto.createCipheriv("chacha20-poly1305", key, ZERO_NONCE, { authTagLength: TAG_BYTES });
  const body = Buffer.concat([cipher.update(fileKey), cipher.final(), cipher.getAuthTag()]);
  return new Uint8Array(body);
}

/**
 * Returns the file key, or null if the body does not open under `key` (not for us).
 * Throws INTEGRITY if the body is not 32 bytes: the spec requires checking that before
 * trying to decrypt, so that a crafted length cannot act as a partitioning oracle.
 */
export function openFileKey(key: Uint8Array, body: Uint8Array): Uint8Array | null {
  if (body.length !== STANZA_BODY_BYTES) {
    throw integrityError("age stanza body has the wrong length");
  }
  try {
    const decipher = nodeCrypto.createDecipheriv("chacha20-poly1305", key, ZERO_NONCE, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(body.subarray(FILE_KEY_BYTES));
    const head = decipher.update(body.subarray(0, FILE_KEY_BYTES));
    const tail = decipher.final();
    return new Uint8Array(Buffer.concat([head, tail]));
  } catch {
    return null;
  }
}
