/**
 * The age scrypt recipient type (passphrase slots), on node:crypto's native scrypt, which runs
 * off the main thread and is about 1.4x faster than typage's pure-JS scrypt.
 *
 *   -> scrypt <salt: 16 bytes, base64> <log2 N: decimal, no leading zero>
 *   <ChaCha20-Poly1305(key = scrypt(P = passphrase, S = "age-encryption.org/v1/scrypt" ‖ salt,
 *                                   N = 2^logN, r = 8, p = 1, dkLen = 32), file key)>
 */
import * as nodeCrypto from "node:crypto";
import { AuthyError, integrityError } from "../errors.js";
import { decodeBase64, encodeBase64, type AgeStanza, type Identity, type Recipient } from "./age-header.js";
import { STANZA_BODY_BYTES, openFileKey, sealFileKey } from "./file-key.js";

/** age's own default; about a second on a current laptop. */
export const SCRYPT_LOG_N_DEFAULT = 18;
/** Below this a stolen slot is too cheap to brute-force. */
export const SCRYPT_LOG_N_MIN = 15;
/** Above this unlocking needs over 1 GiB and many seconds: a slot asking for it is hostile. */
export const SCRYPT_LOG_N_MAX = 20;

const STANZA_TYPE = "scrypt";
const SALT_LABEL = "age-encryption.org/v1/scrypt";
const SALT_BYTES = 16;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const KEY_BYTES = 32;
const DECIMAL = /^[1-9][0-9]*$/;
/** Two digits hold every sane work factor; longer strings are rejected without parsing. */
const MAX_LOG_N_DIGITS = 2;

interface WorkFactorRange {
  min: number;
  max: number;
}

/** scrypt(passphrase, "age-encryption.org/v1/scrypt" ‖ salt, N = 2^logN, r = 8, p = 1) → 32 bytes. */
export type ScryptDerive = (passphrase: string, salt: Uint8Array, logN: number) => Promise<Uint8Array>;

interface ScryptIdentityOptions {
  /** Accepted work factors; authy's policy unless the age test vectors (work factor 10) say otherwise. */
  workFactors?: WorkFactorRange;
  /** The key derivation; tests memoize it to sweep hundreds of tampered slots in seconds. */
  derive?: ScryptDerive;
}

const POLICY: WorkFactorRange = { min: SCRYPT_LOG_N_MIN, max: SCRYPT_LOG_N_MAX };

export function unacceptableWorkFactor(): AuthyError {
  return new AuthyError("INTEGRITY", "key slot has an unacceptable scrypt work factor", {
    hint: `a passphrase slot must use an scrypt work factor between ${SCRYPT_LOG_N_MIN} and ${SCRYPT_LOG_N_MAX}; restore the slot from a backup`,
  });
}

/** Syntax of an scrypt stanza (not its work-factor policy). Throws INTEGRITY if malformed. */
export function parseScryptStanza(stanza: AgeStanza): { salt: Uint8Array; logN: number } {
  if (stanza.args.length !== 3) throw integrityError("age scrypt stanza is malformed");
  const salt = decodeBase64(stanza.args[1]!);
  if (salt === null || salt.length !== SALT_BYTES) throw integrityError("age scrypt stanza is malformed");
  const logNText = stanza.args[2]!;
  if (!DECIMAL.test(logNText)) throw integrityError("age scrypt stanza is malformed");
  // Anything longer than two digits is out of every range; report it as such without parsing.
  const logN = logNText.length > MAX_LOG_N_DIGITS ? Infinity : Number(logNText);
  return { salt, logN };
}

export class ScryptRecipient implements Recipient {
  readonly #passphrase: string;
  readonly #logN: number;

  constructor(passphrase: string, logN: number) {
    this.#passphrase = passphrase;
    this.#logN = logN;
  }

  async wrapFileKey(fileKey: Uint8Array): Promise<AgeStanza[]> {
    const salt = new Uint8Array(nodeCrypto.randomBytes(SALT_BYTES));
    const key = await scryptDerive(this.#passphrase, salt, this.#logN);
    try {
      return [{ args: [STANZA_TYPE, encodeBase64(salt), String(this.#logN)], body: sealFileKey(key, fileKey) }];
    } finally {
      key.fill(0);
    }
  }
}

export class ScryptIdentity implements Identity {
  readonly #passphrase: string;
  readonly #range: WorkFactorRange;
  readonly #derive: ScryptDerive;

  constructor(passphrase: string, options: ScryptIdentityOptions = {}) {
    this.#passphrase = passphrase;
    this.#range = options.workFactors ?? POLICY;
    this.#derive = options.derive ?? scryptDerive;
  }

  /**
   * Returns null if there is no scrypt stanza or the passphrase does not open it; throws
   * INTEGRITY if the stanza is malformed, not alone, or asks for an unacceptable work factor.
   * Every check happens before scrypt runs.
   */
  async unwrapFileKey(stanzas: readonly AgeStanza[]): Promise<Uint8Array | null> {
    const stanza = stanzas.find((s) => s.args[0] === STANZA_TYPE);
    if (stanza === undefined) return null;
    if (stanzas.length !== 1) throw integrityError("an age scrypt stanza must be the only stanza in the header");
    const { salt, logN } = parseScryptStanza(stanza);
    if (logN < this.#range.min || logN > this.#range.max) throw unacceptableWorkFactor();
    if (stanza.body.length !== STANZA_BODY_BYTES) throw integrityError("age stanza body has the wrong length");
    const key = await this.#derive(this.#passphrase, salt, logN);
    return openFileKey(key, stanza.body);
  }
}

export function scryptDerive(passphrase: string, salt: Uint8Array, logN: number): Promise<Uint8Array> {
  const N = 2 ** logN;
  const saltWithLabel = Buffer.concat([Buffer.from(SALT_LABEL, "latin1"), salt]);
  // OpenSSL needs 128·r·(N + p + 2) bytes; the default 32 MiB cap would refuse logN ≥ 15.
  const maxmem = 128 * SCRYPT_R * (N + SCRYPT_P + 2) + 1024 * 1024;
  return new Promise((resolve, reject) => {
    nodeCrypto.scrypt(passphrase, saltWithLabel, KEY_BYTES, { N, r: SCRYPT_R, p: SCRYPT_P, maxmem }, (err, key) => {
      if (err) reject(new AuthyError("INTERNAL", "scrypt failed", { cause: err }));
      else resolve(new Uint8Array(key));
    });
  });
}
