/**
 * Key slots: the vault key, wrapped in a standard binary age file that the stock `age` tool
 * decrypts. A passphrase slot has one scrypt stanza; an identity slot one X25519 stanza per
 * recipient. The age payload is exactly the 32-byte vault key. (The layout is age's, written by
 * age-file.ts; the vault authenticates each slot separately with its slot-mac key.)
 */
import { AuthyError, integrityError } from "../errors.js";
import { parseAgeHeader } from "./age-header.js";
import { decryptFile, encryptFile } from "./age-file.js";
import { parseIdentity, parseRecipient } from "./identity.js";
import { VAULT_KEY_BYTES } from "./keys.js";
import {
  SCRYPT_LOG_N_DEFAULT,
  SCRYPT_LOG_N_MAX,
  SCRYPT_LOG_N_MIN,
  ScryptIdentity,
  ScryptRecipient,
  parseScryptStanza,
  unacceptableWorkFactor,
} from "./scrypt-stanza.js";
import { X25519Identity } from "./x25519-stanza.js";

export { SCRYPT_LOG_N_DEFAULT, SCRYPT_LOG_N_MAX, SCRYPT_LOG_N_MIN };

export async function wrapWithPassphrase(vaultKey: Uint8Array, passphrase: string, logN: number = SCRYPT_LOG_N_DEFAULT): Promise<Uint8Array> {
  checkVaultKey(vaultKey);
  if (!Number.isInteger(logN) || logN < SCRYPT_LOG_N_MIN || logN > SCRYPT_LOG_N_MAX) {
    throw new AuthyError("INVALID_INPUT", `scrypt work factor must be an integer from ${SCRYPT_LOG_N_MIN} to ${SCRYPT_LOG_N_MAX}`);
  }
  if (passphrase.length === 0) {
    throw new AuthyError("INVALID_INPUT", "passphrase is empty", { hint: "choose a passphrase of several words" });
  }
  return await encryptFile(vaultKey, [new ScryptRecipient(passphrase, logN)]);
}

/**
 * The vault key in a passphrase slot. A work factor outside 15–20 is refused (INTEGRITY)
 * before scrypt runs; a wrong passphrase is LOCKED "wrong passphrase or identity".
 */
export async function unwrapWithPassphrase(slot: Uint8Array, passphrase: string): Promise<Uint8Array> {
  return checkUnwrapped(await decryptFile(slot, [new ScryptIdentity(passphrase)]));
}

/** The scrypt work factor (log2 N) of a passphrase slot, or null for another kind of slot. */
export function slotScryptLogN(slot: Uint8Array): number | null {
  const stanza = parseAgeHeader(slot).stanzas.find((s) => s.args[0] === "scrypt");
  if (stanza === undefined) return null;
  const { logN } = parseScryptStanza(stanza);
  if (!Number.isFinite(logN)) throw unacceptableWorkFactor();
  return logN;
}

export async function wrapToRecipient(vaultKey: Uint8Array, recipient: string): Promise<Uint8Array> {
  checkVaultKey(vaultKey);
  return await encryptFile(vaultKey, [parseRecipient(recipient)]);
}

/** The vault key in an identity slot; LOCKED "wrong passphrase or identity" if none fits. */
export async function unwrapWithIdentities(slot: Uint8Array, identities: readonly string[]): Promise<Uint8Array> {
  if (identities.length === 0) {
    throw new AuthyError("INVALID_INPUT", "no identities given", { hint: "pass at least one AGE-SECRET-KEY-1… identity" });
  }
  const parsed = identities.map((i) => new X25519Identity(parseIdentity(i)));
  return checkUnwrapped(await decryptFile(slot, parsed));
}

function checkVaultKey(vaultKey: Uint8Array): void {
  if (vaultKey.length !== VAULT_KEY_BYTES) {
    throw new AuthyError("INTERNAL", `vault key must be ${VAULT_KEY_BYTES} bytes`);
  }
}

function checkUnwrapped(vaultKey: Uint8Array): Uint8Array {
  if (vaultKey.length !== VAULT_KEY_BYTES) {
    vaultKey.fill(0);
    throw integrityError("key slot does not hold a vault key");
  }
  return vaultKey;
}
