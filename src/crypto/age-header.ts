/**
 * The header of an age v1 file (https://c2sp.org/age): a strict parser, the encoder, and the
 * contracts between the file and its recipient types. Every file authy opens is parsed here
 * first, so that anything malformed is refused with INTEGRITY before any key is tried, and so
 * that a slot's scrypt work factor can be read without running scrypt.
 *
 *   age-encryption.org/v1 LF
 *   1* ( "-> " arg *(SP arg) LF  *(64 base64 chars LF)  (0-63 base64 chars) LF )
 *   "--- " 43 base64 chars (HMAC-SHA-256) LF
 *   payload: nonce (16 bytes) ‖ STREAM chunks (ChaCha20-Poly1305, 64 KiB each + 16-byte tag)
 *
 * Base64 is unpadded and must be canonical. Header lines are printable ASCII, LF-terminated.
 */
import { AuthyError, integrityError } from "../errors.js";

export interface AgeStanza {
  readonly args: readonly string[];
  readonly body: Uint8Array;
}

/**
 * The sending side of a recipient type: wraps a fresh file key into its stanzas. Throws only
 * if the recipient itself is unusable.
 */
export interface Recipient {
  wrapFileKey(fileKey: Uint8Array): Promise<AgeStanza[]>;
}

/**
 * The receiving side of a recipient type. Returns the 16-byte file key, or `null` if no stanza
 * is for this identity (or none opens under it); throws INTEGRITY only if a stanza is of its
 * type and malformed. Sees every stanza, so that a type may refuse to be mixed with others.
 */
export interface Identity {
  unwrapFileKey(stanzas: readonly AgeStanza[]): Promise<Uint8Array | null>;
}

interface AgeHeader {
  readonly stanzas: readonly AgeStanza[];
  /** The header up to and including "---", which the MAC covers. */
  readonly headerNoMac: Uint8Array;
  readonly mac: Uint8Array;
  /** Offset of the payload (its 16-byte nonce) in the file. */
  readonly payloadOffset: number;
}

const VERSION_LINE = "age-encryption.org/v1";
const STANZA_PREFIX = "-> ";
const MAC_PREFIX = "--- ";
/** Stanza bodies are wrapped at 64 columns; the last line is shorter, possibly empty. */
const BODY_COLUMNS = 64;
const MAC_BYTES = 32;
const PAYLOAD_NONCE_BYTES = 16;
/** An empty payload still has one final chunk: its 16-byte tag. */
const MIN_PAYLOAD_BYTES = PAYLOAD_NONCE_BYTES + 16;
const LF = 0x0a;
const BASE64_CHARS = /^[A-Za-z0-9+/]*$/;
/** A stanza argument: one or more visible ASCII characters (VCHAR). */
const ARGUMENT = /^[\x21-\x7e]+$/;

/** Parses an age header strictly; throws INTEGRITY if it is malformed in any way. */
export function parseAgeHeader(file: Uint8Array): AgeHeader {
  let pos = 0;
  const nextLine = (): string => {
    const end = file.indexOf(LF, pos);
    if (end === -1) throw malformed();
    let line = "";
    for (let i = pos; i < end; i++) {
      const c = file[i]!;
      if (c < 0x20 || c > 0x7e) throw malformed();
      line += String.fromCharCode(c);
    }
    pos = end + 1;
    return line;
  };

  if (nextLine() !== VERSION_LINE) throw malformed();
  const stanzas: AgeStanza[] = [];
  for (;;) {
    const lineStart = pos;
    const line = nextLine();
    if (line.startsWith(MAC_PREFIX)) {
      if (stanzas.length === 0) throw malformed();
      const mac = decodeBase64(line.slice(MAC_PREFIX.length));
      if (mac === null || mac.length !== MAC_BYTES) throw malformed();
      checkScryptAlone(stanzas);
      if (file.length - pos < MIN_PAYLOAD_BYTES) throw integrityError("age file payload is truncated");
      return {
        stanzas,
        headerNoMac: file.subarray(0, lineStart + MAC_PREFIX.length - 1),
        mac,
        payloadOffset: pos,
      };
    }
    if (!line.startsWith(STANZA_PREFIX)) throw malformed();
    const args = line.slice(STANZA_PREFIX.length).split(" ");
    if (args.some((a) => a.length === 0)) throw malformed();
    const chunks: Uint8Array[] = [];
    for (;;) {
      const bodyLine = nextLine();
      if (bodyLine.length > BODY_COLUMNS) throw malformed();
      const chunk = decodeBase64(bodyLine);
      if (chunk === null) throw malformed();
      chunks.push(chunk);
      if (bodyLine.length < BODY_COLUMNS) break;
    }
    stanzas.push({ args, body: Buffer.concat(chunks) });
  }
}

/**
 * The header for `stanzas`, ending with the MAC that `mac` computes over the header up to and
 * including "---" (the file key schedule is age-file.ts's business, not the header's).
 */
export function encodeAgeHeader(stanzas: readonly AgeStanza[], mac: (headerNoMac: Uint8Array) => Uint8Array): Uint8Array {
  if (stanzas.length === 0) throw new AuthyError("INTERNAL", "an age header needs at least one stanza");
  if (stanzas.length > 1 && stanzas.some((s) => s.args[0] === "scrypt")) {
    throw new AuthyError("INTERNAL", "an age scrypt stanza must be the only stanza in the header");
  }
  let text = VERSION_LINE + "\n";
  for (const stanza of stanzas) {
    if (stanza.args.length === 0 || !stanza.args.every((a) => ARGUMENT.test(a))) {
      throw new AuthyError("INTERNAL", "age stanza argument is not printable ASCII");
    }
    text += STANZA_PREFIX + stanza.args.join(" ") + "\n";
    const body = encodeBase64(stanza.body);
    for (let i = 0; i < body.length; i += BODY_COLUMNS) text += body.slice(i, i + BODY_COLUMNS) + "\n";
    // The body ends with a line shorter than 64 columns; after a full line that is an empty one.
    if (body.length % BODY_COLUMNS === 0) text += "\n";
  }
  const headerNoMac = Buffer.from(text + MAC_PREFIX.trimEnd(), "latin1");
  const macLine = Buffer.from(" " + encodeBase64(mac(headerNoMac)) + "\n", "latin1");
  return new Uint8Array(Buffer.concat([headerNoMac, macLine]));
}

/**
 * An scrypt stanza must be the only stanza: password-based encryption implies that whoever
 * knows the passphrase wrote the file, which another recipient would silently break.
 */
function checkScryptAlone(stanzas: readonly AgeStanza[]): void {
  if (stanzas.length > 1 && stanzas.some((s) => s.args[0] === "scrypt")) {
    throw integrityError("an age scrypt stanza must be the only stanza in the header");
  }
}

/** Canonical unpadded base64, or null. */
export function decodeBase64(s: string): Uint8Array | null {
  if (!BASE64_CHARS.test(s) || s.length % 4 === 1) return null;
  const bytes = Buffer.from(s, "base64");
  // Re-encoding catches non-zero padding bits, the one non-canonical form Buffer accepts.
  if (bytes.toString("base64").replace(/=+$/, "") !== s) return null;
  return new Uint8Array(bytes);
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64").replace(/=+$/, "");
}

function malformed() {
  return integrityError("age file header is malformed");
}
