/**
 * ASCII armor for age files (https://c2sp.org/age, "ASCII armor"): strict PEM (RFC 7468,
 * section 3) with the label "AGE ENCRYPTED FILE" and padded base64, 48 bytes (64 columns) per
 * line, as age and typage write it:
 *
 *   -----BEGIN AGE ENCRYPTED FILE----- LF
 *   *(64 base64 chars LF)  (4–64 base64 chars, "=" padded) LF
 *   -----END AGE ENCRYPTED FILE----- LF
 *
 * Reading accepts whitespace around the block and CRLF line endings, as age does, and nothing
 * else: every line but the last is full and the base64 is canonical, so armor is not malleable.
 */
import { integrityError } from "../errors.js";

const BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";
const END = "-----END AGE ENCRYPTED FILE-----";
const BYTES_PER_LINE = 48;
const COLUMNS = 64;
const PADDED_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);

export function armor(file: Uint8Array): Uint8Array {
  let text = BEGIN + "\n";
  for (let i = 0; i < file.length; i += BYTES_PER_LINE) {
    text += Buffer.from(file.subarray(i, i + BYTES_PER_LINE)).toString("base64") + "\n";
  }
  return new Uint8Array(Buffer.from(text + END + "\n", "latin1"));
}

/** Whether `file` starts, after any whitespace, with the armor's BEGIN line. */
export function isArmored(file: Uint8Array): boolean {
  let start = 0;
  while (start < file.length && WHITESPACE.has(file[start]!)) start++;
  return Buffer.from(file.buffer, file.byteOffset + start, file.length - start)
    .subarray(0, BEGIN.length)
    .equals(Buffer.from(BEGIN, "latin1"));
}

/** The binary file inside the armor; throws INTEGRITY if the armor is not exactly as above. */
export function dearmor(file: Uint8Array): Uint8Array {
  let start = 0;
  let end = file.length;
  while (start < end && WHITESPACE.has(file[start]!)) start++;
  while (end > start && WHITESPACE.has(file[end - 1]!)) end--;
  const lines = Buffer.from(file.subarray(start, end))
    .toString("latin1")
    .split("\n")
    .map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  if (lines.length < 3 || lines[0] !== BEGIN || lines[lines.length - 1] !== END) throw malformed();
  const body = lines.slice(1, -1);
  const bytes = body.map((line, i) => {
    const final = i === body.length - 1;
    if (final ? line.length === 0 || line.length > COLUMNS : line.length !== COLUMNS) throw malformed();
    if (!PADDED_BASE64.test(line) || line.length % 4 !== 0 || (!final && line.endsWith("="))) throw malformed();
    const decoded = Buffer.from(line, "base64");
    // Re-encoding catches non-zero padding bits, the one non-canonical form Buffer accepts.
    if (decoded.toString("base64") !== line) throw malformed();
    return decoded;
  });
  return new Uint8Array(Buffer.concat(bytes));
}

function malformed() {
  return integrityError("age armor is malformed");
}
