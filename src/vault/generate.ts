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
  if (alphabet === charset) checkGivenAlphabet(charset);
  return randomChars(length, alphabet);
}

/**
 * The characters given instead of a named set. A set's name in other letter case (`Hex`,
 * `ALNUM`) would otherwise be taken as its own three or five letters, and one character as an
 * alphabet gives the same value every time: both would be stored as a "random" value with
 * next to no entropy, without a word. Refused, saying what was meant.
 */
function checkGivenAlphabet(charset: string): void {
  const named = charset.toLowerCase();
  if (named in CHARSETS) {
    throw new AuthyError("INVALID_INPUT", `unknown character set "${charset}": set names are lower case`, {
      hint: `did you mean --charset ${named}? (${Object.keys(CHARSETS).join(", ")}, or the characters to use)`,
    });
  }
  if (Array.from(charset).length === 1) {
    throw new AuthyError("INVALID_INPUT", `password alphabet "${charset}" has one character: every value would be the same`, {
      hint: `give at least two characters, or a set: ${Object.keys(CHARSETS).join(", ")}`,
    });
  }
}
