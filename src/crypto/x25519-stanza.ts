/**
 * The age X25519 recipient type, identity side, on node:crypto (typage encrypts to X25519
 * recipients itself; decryption is ours so that malformed stanzas are told apart from stanzas
 * for someone else).
 *
 *   -> X25519 <ephemeral share: 32 bytes, base64>
 *   <ChaCha20-Poly1305(key = HKDF-SHA-256(ikm = X25519(identity, share),
 *                                         salt = share ‖ recipient,
 *                                         info = "age-encryption.org/v1/X25519"), file key)>
 */
import * as nodeCrypto from "node:crypto";
import type { Identity } from "age-encryption";
import { integrityError } from "../errors.js";
import { decodeBase64, type AgeStanza } from "./age-header.js";
import { STANZA_BODY_BYTES, openFileKey } from "./file-key.js";

const STANZA_TYPE = "X25519";
const HKDF_INFO = "age-encryption.org/v1/X25519";
const POINT_BYTES = 32;
/** DER framing that turns a raw 32-byte X25519 key into what node:crypto imports (RFC 8410). */
const PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");

export function x25519PrivateKey(scalar: Uint8Array): nodeCrypto.KeyObject {
  return nodeCrypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, scalar]), format: "der", type: "pkcs8" });
}

/** The public point for a private key, as 32 raw bytes. */
export function x25519PublicBytes(privateKey: nodeCrypto.KeyObject): Uint8Array {
  const spki = nodeCrypto.createPublicKey(privateKey).export({ format: "der", type: "spki" });
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
}

export class X25519Identity implements Identity {
  readonly #privateKey: nodeCrypto.KeyObject;
  readonly #recipient: Uint8Array;

  constructor(scalar: Uint8Array) {
    this.#privateKey = x25519PrivateKey(scalar);
    this.#recipient = x25519PublicBytes(this.#privateKey);
  }

  /**
   * Returns the file key from the first X25519 stanza addressed to this identity, or null if
   * none is; throws INTEGRITY if an X25519 stanza is malformed or uses a low-order share.
   */
  async unwrapFileKey(stanzas: readonly AgeStanza[]): Promise<Uint8Array | null> {
    for (const stanza of stanzas) {
      if (stanza.args[0] !== STANZA_TYPE) continue;
      if (stanza.args.length !== 2) throw integrityError("age X25519 stanza is malformed");
      const share = decodeBase64(stanza.args[1]!);
      if (share === null || share.length !== POINT_BYTES) throw integrityError("age X25519 stanza is malformed");
      if (stanza.body.length !== STANZA_BODY_BYTES) throw integrityError("age stanza body has the wrong length");
      const secret = this.#sharedSecret(share);
      const salt = Buffer.concat([share, this.#recipient]);
      const key = new Uint8Array(nodeCrypto.hkdfSync("sha256", secret, salt, HKDF_INFO, 32));
      const fileKey = openFileKey(key, stanza.body);
      if (fileKey !== null) return fileKey;
    }
    return null;
  }

  #sharedSecret(share: Uint8Array): Uint8Array {
    let secret: Uint8Array;
    try {
      const peer = nodeCrypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, share]), format: "der", type: "spki" });
      secret = new Uint8Array(nodeCrypto.diffieHellman({ privateKey: this.#privateKey, publicKey: peer }));
    } catch {
      // OpenSSL refuses to derive from a low-order point (an all-zero shared secret).
      throw integrityError("age X25519 stanza has a low-order share");
    }
    if (secret.every((b) => b === 0)) throw integrityError("age X25519 stanza has a low-order share");
    return secret;
  }
}
