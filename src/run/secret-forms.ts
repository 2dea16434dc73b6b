/**
 * The byte strings under which a secret value can show up in a child's output: the value
 * itself and the encodings programs commonly apply before printing it. The masker searches
 * for all of them.
 *
 * Not covered (documented limits of masking, which is a convenience, not a boundary): base64
 * wrapped at a line length (MIME, PEM bodies), double encodings, compression, and any
 * transformation a program invents.
 */

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The forms of one value, deduplicated, each at least `minLength` bytes long. */
export function secretForms(value: Uint8Array, minLength: number): Uint8Array[] {
  const raw = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const forms: (string | Buffer)[] = [raw];
  const hex = raw.toString("hex");
  forms.push(hex, hex.toUpperCase());
  const cores = base64Cores(raw, "base64");
  // base64url differs from base64 only in two characters (and padding, which no core holds).
  forms.push(...cores, ...cores.map((core) => core.replace(/[+/]/g, (c) => (c === "+" ? "-" : "_"))));
  forms.push(...percentEncodings(raw));
  const text = decodeUtf8(raw);
  if (text !== null) {
    forms.push(...jsonEscapes(text));
    if (text.includes("\n")) {
      // A terminal (and so a PTY) turns "\n" into "\r\n" on output.
      forms.push(text.replace(/\r?\n/g, "\r\n"));
      forms.push(...text.split(/\r?\n/));
    }
  }
  const seen = new Map<string, Uint8Array>();
  for (const form of forms) {
    const bytes = typeof form === "string" ? Buffer.from(form, "utf8") : form;
    if (bytes.length === 0 || bytes.length < minLength) continue;
    seen.set(bytes.toString("latin1"), bytes);
  }
  return [...seen.values()];
}

/**
 * The part of a value's base64 that does not depend on its neighbours, for each of the three
 * positions (offset mod 3) the value can start at inside a longer encoded stream. Character k
 * of an encoding carries bits [6k, 6k+6) of the input; it belongs to the value alone when
 * those bits lie inside the value's bits [8a, 8(a+n)).
 */
export function base64Cores(value: Buffer, alphabet: "base64" | "base64url"): string[] {
  const cores: string[] = [];
  const n = value.length;
  for (let a = 0; a < 3; a++) {
    const encoded = Buffer.concat([Buffer.alloc(a), value, Buffer.alloc(3)]).toString(alphabet);
    const first = Math.ceil((8 * a) / 6);
    const last = Math.floor((8 * (a + n)) / 6) - 1;
    if (last >= first) cores.push(encoded.slice(first, last + 1));
  }
  return cores;
}

// Bytes left as they are by each flavour of percent-encoding in common use.
const URI_COMPONENT_SAFE = /[A-Za-z0-9\-_.!~*'()]/; // encodeURIComponent
const RFC3986_SAFE = /[A-Za-z0-9\-_.~]/; // Python quote(safe=""), Go url.QueryEscape
const FORM_SAFE = /[A-Za-z0-9*\-._]/; // WHATWG application/x-www-form-urlencoded
const EVERYWHERE_SAFE = /^[A-Za-z0-9\-_.]*$/;

/**
 * Each flavour with upper-case hex digits (RFC 3986's recommendation, and what most encoders
 * write) and with lower-case ones (`%2f`: RFC 3986 makes them equivalent, and some encoders and
 * proxies write them). A value encoded with mixed-case digits is not covered.
 */
function percentEncodings(value: Buffer): string[] {
  // Letters, digits and "-_." are left as they are by every flavour: then every form is the value.
  if (EVERYWHERE_SAFE.test(value.toString("latin1"))) return [];
  const upper = [
    percentEncode(value, URI_COMPONENT_SAFE, false),
    percentEncode(value, RFC3986_SAFE, false),
    percentEncode(value, RFC3986_SAFE, true),
    percentEncode(value, FORM_SAFE, true),
  ];
  return [...upper, ...upper.map((form) => form.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()))];
}

function percentEncode(value: Buffer, safe: RegExp, spaceAsPlus: boolean): string {
  let out = "";
  for (const byte of value) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && safe.test(ch)) out += ch;
    else if (byte === 0x20 && spaceAsPlus) out += "+";
    else out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** JSON string bodies (without the quotes): JSON.stringify's, and the variants of other
 * languages' encoders: PHP escapes "/", Python escapes all non-ASCII, Go escapes <, > and &. */
function jsonEscapes(text: string): string[] {
  const plain = JSON.stringify(text).slice(1, -1);
  // Nothing any of the variants escapes differently: one form (most values).
  if (!/[/\u0080-\uffff<>&]/.test(plain)) return [plain];
  const unicodeEscape = (ch: string) => "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0");
  return [plain, plain.replace(/\//g, "\\/"), plain.replace(/[\u0080-\uffff]/g, unicodeEscape), plain.replace(/[<>&\u2028\u2029]/g, unicodeEscape)];
}

function decodeUtf8(bytes: Buffer): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}
