/**
 * age X25519 identities (`AGE-SECRET-KEY-1…`, secret) and recipients (`age1…`, public):
 * parsing, generation and derivation. Error messages never echo an identity.
 */
import { AuthyError } from "../errors.js";
import { bech32Decode, bech32Encode } from "./bech32.js";
import { randomBytes } from "./random.js";
import { x25519PrivateKey, x25519PublicBytes } from "./x25519-stanza.js";

const RECIPIENT_HRP = "age";
const IDENTITY_HRP = "AGE-SECRET-KEY-";
const KEY_BYTES = 32;
const IDENTITY_HINT =
  "an age identity is one line starting with AGE-SECRET-KEY-1, as written by age-keygen; plugin and post-quantum identities are not supported";

/** Validates an age X25519 recipient (surrounding whitespace ignored) and returns it trimmed. */
export function parseRecipient(s: string): string {
  decodeRecipient(s);
  return s.trim();
}

/** The 32-byte X25519 point of a recipient; INVALID_INPUT if malformed. */
export function decodeRecipient(s: string): Uint8Array {
  const text = s.trim();
  const decoded = bech32Decode(text);
  if (decoded === null || !text.startsWith(RECIPIENT_HRP + "1") || decoded.hrp !== RECIPIENT_HRP || decoded.data.length !== KEY_BYTES) {
    throw notARecipient();
  }
  return decoded.data;
}

function notARecipient(): AuthyError {
  return new AuthyError("INVALID_INPUT", "not an age X25519 recipient", {
    hint: "an age recipient starts with age1 and is 62 characters long; age-keygen -y KEYFILE prints one",
  });
}

/** The 32-byte X25519 scalar of an identity; INVALID_INPUT if malformed. */
export function parseIdentity(s: string): Uint8Array {
  const text = s.trim();
  const decoded = bech32Decode(text);
  if (decoded === null || !text.startsWith(IDENTITY_HRP + "1") || decoded.hrp !== IDENTITY_HRP || decoded.data.length !== KEY_BYTES) {
    throw new AuthyError("INVALID_INPUT", "not an age X25519 identity", { hint: IDENTITY_HINT });
  }
  return decoded.data;
}

/** The identities in an age identity file: one per line; blank lines and `#` comments ignored. */
export function parseIdentityFile(text: string): string[] {
  const identities: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    try {
      parseIdentity(line);
    } catch {
      throw new AuthyError("INVALID_INPUT", `identity file line ${i + 1} is not an age X25519 identity`, {
        hint: IDENTITY_HINT,
      });
    }
    identities.push(line);
  }
  if (identities.length === 0) {
    throw new AuthyError("INVALID_INPUT", "identity file has no identities", { hint: IDENTITY_HINT });
  }
  return identities;
}

export async function identityToRecipient(identity: string): Promise<string> {
  const publicKey = x25519PublicBytes(x25519PrivateKey(parseIdentity(identity)));
  return bech32Encode(RECIPIENT_HRP, publicKey);
}

export async function generateIdentity(): Promise<string> {
  return bech32Encode(IDENTITY_HRP, randomBytes(KEY_BYTES));
}
