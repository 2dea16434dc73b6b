/**
 * Envelope encryption for secret versions: each version's value is sealed under its own fresh
 * 32-byte data key (DEK), and the DEK is sealed under the wrap key (derived from the vault key).
 * Rotating the vault key rewraps DEKs and never touches values.
 *
 * Stored values (both are aead.ts sealed layouts, version byte 0x01 first):
 *
 *   sealed     = seal(DEK,      value, encodeFields(["authy/value/v1", aad]))
 *   wrappedDek = seal(wrap key, DEK,   encodeFields(["authy/dek/v1",   aad]))
 *
 * The caller's `aad` (vault id, path, version, type, tier, …) is bound to both. The domain
 * labels keep a sealed value and a wrapped DEK from ever being accepted in each other's place.
 * (The domain-wrapped additional data is encoded without a copy: the cipher takes it at once.
 * `aad` itself must be a copy of its own, as encodeFields returns, never a transient view.)
 */
import { integrityError } from "../errors.js";
import { open, seal } from "./aead.js";
import { encodeFieldsTransient as encodeFields } from "./fields.js";
import { randomBytes } from "./random.js";

const DEK_BYTES = 32;
const VALUE_DOMAIN = "authy/value/v1";
const DEK_DOMAIN = "authy/dek/v1";

export function sealValue(wrapKey: Uint8Array, value: Uint8Array, aad: Uint8Array): { sealed: Uint8Array; wrappedDek: Uint8Array } {
  const dek = randomBytes(DEK_BYTES);
  try {
    const sealed = seal(dek, value, encodeFields([VALUE_DOMAIN, aad]));
    const wrappedDek = seal(wrapKey, dek, encodeFields([DEK_DOMAIN, aad]));
    return { sealed, wrappedDek };
  } finally {
    dek.fill(0);
  }
}

export function openValue(wrapKey: Uint8Array, sealed: Uint8Array, wrappedDek: Uint8Array, aad: Uint8Array): Uint8Array {
  const dek = unwrapDek(wrapKey, wrappedDek, aad);
  try {
    return open(dek, sealed, encodeFields([VALUE_DOMAIN, aad]));
  } finally {
    dek.fill(0);
  }
}

export function rewrapDek(oldWrapKey: Uint8Array, newWrapKey: Uint8Array, wrappedDek: Uint8Array, aad: Uint8Array): Uint8Array {
  const dek = unwrapDek(oldWrapKey, wrappedDek, aad);
  try {
    return seal(newWrapKey, dek, encodeFields([DEK_DOMAIN, aad]));
  } finally {
    dek.fill(0);
  }
}

function unwrapDek(wrapKey: Uint8Array, wrappedDek: Uint8Array, aad: Uint8Array): Uint8Array {
  const dek = open(wrapKey, wrappedDek, encodeFields([DEK_DOMAIN, aad]));
  if (dek.length !== DEK_BYTES) {
    dek.fill(0);
    throw integrityError("wrapped data key has the wrong length");
  }
  return dek;
}
