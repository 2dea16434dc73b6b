/**
 * The only door to node:crypto and age-encryption. Everything else in authy asks for crypto
 * through these names.
 */
export { randomBytes, randomToken, randomId, randomChars } from "./random.js";
export { sha256, hmacSha256, constantTimeEqual } from "./hash.js";
export { deriveKey, generateVaultKey, VAULT_KEY_BYTES, type KeyPurpose } from "./keys.js";
export { encodeFields, type Field } from "./fields.js";
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
