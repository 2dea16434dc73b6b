/**
 * The only door to node:crypto. Everything else in authy asks for crypto through these names.
 * Importing this loads node:crypto and nothing else heavy: age files are read and written here
 * too (age-file.ts), so no command pays the startup cost of an age library.
 */
export { randomBytes, randomToken, randomId, randomChars } from "./random.js";
export { sha256, sha256Hex, hmacSha256, Hmac32, HmacKey, constantTimeEqual, constantTimeEqualHex } from "./hash.js";
export { deriveKey, generateVaultKey, VAULT_KEY_BYTES, type KeyPurpose } from "./keys.js";
export { encodeFields, encodeFieldsTransient, encodeFieldsTransientAfter, FieldWriter, type Field } from "./fields.js";
export { seal, open } from "./aead.js";
export { sealValue, openValue, rewrapDek } from "./envelope.js";
export {
  SCRYPT_LOG_N_DEFAULT,
  SCRYPT_LOG_N_MIN,
  SCRYPT_LOG_N_MAX,
  wrapWithPassphrase,
  unwrapWithPassphrase,
  slotScryptLogN,
  wrapToRecipient,
  unwrapWithIdentities,
} from "./slots.js";
export { parseRecipient, parseIdentityFile, identityToRecipient, generateIdentity } from "./identity.js";
export { encryptToRecipients, decryptWithIdentities } from "./age-file.js";
