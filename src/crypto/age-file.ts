/**
 * Standard age files (https://c2sp.org/age): key slots and `authy export --to age1…`. typage
 * writes them and runs the header MAC and STREAM payload; the stanzas are unwrapped by our own
 * node:crypto identities (scrypt-stanza.ts, x25519-stanza.ts), and every file is parsed
 * strictly (age-header.ts) before any key is tried.
 *
 * Failures are sorted into two answers and no more:
 *   LOCKED     no identity or passphrase opens any stanza ("wrong passphrase or identity")
 *   INTEGRITY  anything malformed, a bad header MAC, a bad or truncated payload
 * Nothing is returned unless the whole payload authenticated.
 */
import { Decrypter, Encrypter, armor, type Identity, type Recipient } from "age-encryption";
import { AuthyError, integrityError, isAuthyError } from "../errors.js";
import { parseAgeHeader } from "./age-header.js";
import { parseIdentity, parseRecipient } from "./identity.js";
import { X25519Identity } from "./x25519-stanza.js";

const ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";

/** One error for every key that does not fit, so that callers cannot tell which was tried. */
export function wrongKeyError(): AuthyError {
  return new AuthyError("LOCKED", "wrong passphrase or identity", {
    hint: "check the passphrase or identity file; it does not open this vault",
  });
}

export async function encryptFile(plaintext: Uint8Array, recipients: readonly (string | Recipient)[]): Promise<Uint8Array> {
  const encrypter = new Encrypter();
  for (const r of recipients) encrypter.addRecipient(r);
  return await encrypter.encrypt(plaintext);
}

/** Decrypts a binary age file with the given identities; see the top of this file for errors. */
export async function decryptFile(file: Uint8Array, identities: readonly Identity[]): Promise<Uint8Array> {
  parseAgeHeader(file);
  let consulted = false;
  let matched = false;
  const anyOf: Identity = {
    async unwrapFileKey(stanzas) {
      consulted = true;
      for (const identity of identities) {
        const fileKey = await identity.unwrapFileKey(stanzas);
        if (fileKey !== null) {
          matched = true;
          return fileKey;
        }
      }
      return null;
    },
  };
  const decrypter = new Decrypter();
  decrypter.addIdentity(anyOf);
  try {
    return await decrypter.decrypt(file);
  } catch (e) {
    if (isAuthyError(e)) throw e;
    if (consulted && !matched) throw wrongKeyError();
    throw integrityError(matched ? "age file failed authentication" : "age file header is malformed");
  }
}

export async function encryptToRecipients(
  plaintext: Uint8Array,
  recipients: readonly string[],
  opts: { armor?: boolean } = {},
): Promise<Uint8Array> {
  if (recipients.length === 0) {
    throw new AuthyError("INVALID_INPUT", "no recipients given", { hint: "pass at least one age1… recipient" });
  }
  const file = await encryptFile(plaintext, recipients.map(parseRecipient));
  return opts.armor ? new TextEncoder().encode(armor.encode(file)) : file;
}

/** Decrypts a binary or ASCII-armored age file with X25519 identities (`AGE-SECRET-KEY-1…`). */
export async function decryptWithIdentities(file: Uint8Array, identities: readonly string[]): Promise<Uint8Array> {
  if (identities.length === 0) {
    throw new AuthyError("INVALID_INPUT", "no identities given", { hint: "pass at least one AGE-SECRET-KEY-1… identity" });
  }
  const parsed = identities.map((i) => new X25519Identity(parseIdentity(i)));
  return await decryptFile(dearmor(file), parsed);
}

/** The binary file inside ASCII armor, or `file` itself if it is not armored. */
function dearmor(file: Uint8Array): Uint8Array {
  const start = file.findIndex((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d);
  const begin = new TextEncoder().encode(ARMOR_BEGIN);
  if (start === -1 || !begin.every((b, i) => file[start + i] === b)) return file;
  try {
    return armor.decode(new TextDecoder("utf-8", { fatal: true }).decode(file));
  } catch {
    throw integrityError("age armor is malformed");
  }
}
