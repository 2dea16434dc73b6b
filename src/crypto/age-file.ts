/**
 * Standard age v1 files (https://c2sp.org/age): key slots and `authy export --to age1…`,
 * written and read on node:crypto alone, so that no command pays to load an age library (see
 * age-interop.test.ts: the stock `age` tool and typage read what this writes, and back).
 *
 *   file       = header (age-header.ts) ‖ payload (age-stream.ts), or that in ASCII armor (age-armor.ts)
 *   file key   = 16 random bytes, wrapped once per recipient in a stanza (scrypt-stanza.ts, x25519-stanza.ts)
 *   header MAC = HMAC-SHA-256(key = HKDF-SHA-256(ikm = file key, salt = empty, info = "header"),
 *                             header up to and including "---")
 *
 * Every file is parsed strictly before any key is tried. Failures are sorted into two answers
 * and no more:
 *   LOCKED     no identity or passphrase opens any stanza ("wrong passphrase or identity")
 *   INTEGRITY  anything malformed, a bad header MAC, a bad or truncated payload
 * Nothing is returned unless the whole payload authenticated.
 */
import * as nodeCrypto from "node:crypto";
import { AuthyError, integrityError } from "../errors.js";
import { armor, dearmor, isArmored } from "./age-armor.js";
import { encodeAgeHeader, parseAgeHeader, type AgeStanza, type Identity, type Recipient } from "./age-header.js";
import { decryptPayload, encryptPayload } from "./age-stream.js";
import { FILE_KEY_BYTES } from "./file-key.js";
import { constantTimeEqual } from "./hash.js";
import { decodeRecipient, parseIdentity } from "./identity.js";
import { randomBytes } from "./random.js";
import { X25519Identity, X25519Recipient } from "./x25519-stanza.js";

const MAC_KEY_BYTES = 32;

/** One error for every key that does not fit, so that callers cannot tell which was tried. */
function wrongKeyError(): AuthyError {
  return new AuthyError("LOCKED", "wrong passphrase or identity", {
    hint: "check the passphrase or identity file; it does not open this vault",
  });
}

/** A binary age file for `recipients`; a string is an X25519 recipient (`age1…`). */
export async function encryptFile(plaintext: Uint8Array, recipients: readonly (string | Recipient)[]): Promise<Uint8Array> {
  const fileKey = randomBytes(FILE_KEY_BYTES);
  try {
    const stanzas: AgeStanza[] = [];
    for (const r of recipients) {
      const recipient = typeof r === "string" ? new X25519Recipient(decodeRecipient(r)) : r;
      stanzas.push(...(await recipient.wrapFileKey(fileKey)));
    }
    const header = encodeAgeHeader(stanzas, (headerNoMac) => headerMac(fileKey, headerNoMac));
    return new Uint8Array(Buffer.concat([header, encryptPayload(fileKey, plaintext)]));
  } finally {
    fileKey.fill(0);
  }
}

/** Decrypts a binary age file with the given identities; see the top of this file for errors. */
export async function decryptFile(file: Uint8Array, identities: readonly Identity[]): Promise<Uint8Array> {
  const header = parseAgeHeader(file);
  const fileKey = await unwrapFileKey(header.stanzas, identities);
  try {
    if (!constantTimeEqual(headerMac(fileKey, header.headerNoMac), header.mac)) {
      throw integrityError("age file failed authentication");
    }
    return decryptPayload(fileKey, file.subarray(header.payloadOffset));
  } finally {
    fileKey.fill(0);
  }
}

export async function encryptToRecipients(plaintext: Uint8Array, recipients: readonly string[], opts: { armor?: boolean } = {}): Promise<Uint8Array> {
  if (recipients.length === 0) {
    throw new AuthyError("INVALID_INPUT", "no recipients given", { hint: "pass at least one age1… recipient" });
  }
  const file = await encryptFile(plaintext, recipients);
  return opts.armor ? armor(file) : file;
}

/** Decrypts a binary or ASCII-armored age file with X25519 identities (`AGE-SECRET-KEY-1…`). */
export async function decryptWithIdentities(file: Uint8Array, identities: readonly string[]): Promise<Uint8Array> {
  if (identities.length === 0) {
    throw new AuthyError("INVALID_INPUT", "no identities given", { hint: "pass at least one AGE-SECRET-KEY-1… identity" });
  }
  const parsed = identities.map((i) => new X25519Identity(parseIdentity(i)));
  return await decryptFile(isArmored(file) ? dearmor(file) : file, parsed);
}

/** The file key from the first identity that opens a stanza, or LOCKED if none does. */
async function unwrapFileKey(stanzas: readonly AgeStanza[], identities: readonly Identity[]): Promise<Uint8Array> {
  for (const identity of identities) {
    const fileKey = await identity.unwrapFileKey(stanzas);
    if (fileKey === null) continue;
    if (fileKey.length !== FILE_KEY_BYTES) throw integrityError("age file key has the wrong length");
    return fileKey;
  }
  throw wrongKeyError();
}

function headerMac(fileKey: Uint8Array, headerNoMac: Uint8Array): Uint8Array {
  const key = new Uint8Array(nodeCrypto.hkdfSync("sha256", fileKey, new Uint8Array(0), "header", MAC_KEY_BYTES));
  try {
    return new Uint8Array(nodeCrypto.createHmac("sha256", key).update(headerNoMac).digest());
  } finally {
    key.fill(0);
  }
}
