/** Generated secret values: random characters from a named or given alphabet. */
import { randomChars } from "../crypto/random.js";
import { AuthyError } from "../errors.js";

export const CHARSETS = {
  alnum: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
  alpha: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
  hex: "0123456789abcdef",
  numeric: "0123456789",
  symbols: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&()*+,-./:;<=>?@[]^_{|}~",
  base64url: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
} as const;
type Charset = keyof typeof CHARSETS;
export const MAX_GENERATED_LENGTH = 4096;

export function generateValue(length: number, charset: string): string {
  // a Charset name or the characters themselves
  if (!Number.isInteger(length) || length < 1 || length > MAX_GENERATED_LENGTH) {
    throw new AuthyError("INVALID_INPUT", `length must be a whole number from 1 to ${MAX_GENERATED_LENGTH}`);
  }
  const alphabet = charset in CHARSETS ? CHARSETS[charset as Charset] : charset;
  return randomChars(length, alphabet);
}
