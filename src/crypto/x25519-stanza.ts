/**
 * The age X25519 recipient type, on node:crypto.
 *
 *   -> X25519 <ephemeral share: 32 bytes, base64>
 *   <ChaCha20-Poly1305(key = HKDF-SHA-256(ikm = X25519(ephemeral secret, recipient),
 *                                         salt = share ‖ recipient,
 *                                         info = "age-encryption.org/v1/X25519"), file key)>
 *
 * The identity tells stanzas for someone else (null) apart from malformed ones (INTEGRITY).
 */
import * as nodeCrypto from "node:crypto";
import { AuthyError, integrityError } from "../errors.js";
import { decodeBase64, encodeBase64, type AgeStanza, type Identity, type Recipient } from "./age-header.js";
import { STANZA_BODY_BYTES, openFileKey, sealFileKey } from "./file-key.js";
import { randomBytes } from "./random.js";

const STANZA_TYPE = "X25519";
const HKDF_INFO = "age-encryption.org/v1/X25519";
const POINT_BYTES = 32;
const KEY_BYTES = 32;
/** DER framing that turns a raw 32-byte X25519 key into what node:crypto imports (RFC 8410). */
const PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");

export function x25519PrivateKey(scalar: Uint8Array): nodeCrypto.KeyObject {
  return nodeCrypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, scalar]), format: "der", type: "pkcs8" });
}

function x25519PublicKey(point: Uint8Array): nodeCrypto.KeyObject {
  return nodeCrypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, point]), format: "der", type: "spki" });
}

/** The public point for a private key, as 32 raw bytes. */
export function x25519PublicBytes(privateKey: nodeCrypto.KeyObject): Uint8Array {
  const spki = nodeCrypto.createPublicKey(privateKey).export({ format: "der", type: "spki" });
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
}

export class X25519Recipient implements Recipient {
  readonly #recipient: Uint8Array;
  readonly #publicKey: nodeCrypto.KeyObject;

  /** `point` is the recipient's 32-byte public key, as decoded from `age1…`. */
  constructor(point: Uint8Array) {
    this.#recipient = point;
    this.#publicKey = x25519PublicKey(point);
  }

  /** Throws INVALID_INPUT if the recipient is a low-order point, which no age identity has. */
  async wrapFileKey(fileKey: Uint8Array): Promise<AgeStanza[]> {
    const ephemeral = randomBytes(POINT_BYTES);
    const privateKey = x25519PrivateKey(ephemeral);
    ephemeral.fill(0);
    const share = x25519PublicBytes(privateKey);
    let secret: Uint8Array;
    try {
      secret = new Uint8Array(nodeCrypto.diffieHellman({ privateKey, publicKey: this.#publicKey }));
    } catch {
      // OpenSSL refuses to derive from a low-order point (an all-zero shared secret).
      secret = new Uint8Array(POINT_BYTES);
    }
    if (secret.every((b) => b === 0)) {
      throw new AuthyError("INVALID_INPUT", "age recipient is not a usable X25519 public key", {
        hint: "check the age1… recipient; age-keygen -y KEYFILE prints the right one",
      });
    }
    const key = wrapKey(secret, share, this.#recipient);
    try {
      return [{ args: [STANZA_TYPE, encodeBase64(share)], body: sealFileKey(key, fileKey) }];
    } finally {
      key.fill(0);
    }
  }
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
      const key = wrapKey(this.#sharedSecret(share), share, this.#recipient);
      const fileKey = openFileKey(key, stanza.body);
      key.fill(0);
      if (fileKey !== null) return fileKey;
    }
    return null;
  }

  #sharedSecret(share: Uint8Array): Uint8Array {
    let secret: Uint8Array;
    try {
      const peer = x25519PublicKey(share);
      secret = new Uint8Array(nodeCrypto.diffieHellman({ privateKey: this.#privateKey, publicKey: peer }));
    } catch {
      // OpenSSL refuses to derive from a low-order point (an all-zero shared secret).
      throw integrityError("age X25519 stanza has a low-order share");
    }
    if (secret.every((b) => b === 0)) throw integrityError("age X25519 stanza has a low-order share");
    return secret;
  }
}

/** The stanza's wrap key; zeroes `secret`, which is used for nothing else. */
function wrapKey(secret: Uint8Array, share: Uint8Array, recipient: Uint8Array): Uint8Array {
  const salt = Buffer.concat([share, recipient]);
  const key = new Uint8Array(nodeCrypto.hkdfSync("sha256", secret, salt, HKDF_INFO, KEY_BYTES));
  secret.fill(0);
  return key;
}
