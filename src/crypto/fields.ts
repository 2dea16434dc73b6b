/**
 * Canonical, unambiguous encoding of a list of fields: the bytes that additional data, row MACs
 * and audit hashes are computed over. Two different lists never encode to the same bytes.
 *
 * Layout (version 1):
 *
 *   0x01                                   version
 *   then for each field, in order:
 *     tag      1 byte   0 null, 1 UTF-8 string, 2 integer, 3 bytes, 4 boolean
 *     length   u32 big-endian, length of body
 *     body     null: empty; string: UTF-8; integer: signed 64-bit big-endian (8 bytes);
 *              bytes: as is; boolean: 0x00 or 0x01
 *
 * Integers come in as safe-integer numbers or as bigints in the signed 64-bit range; both are
 * the same integer type, so 5 and 5n encode identically. Strings must be well-formed Unicode
 * (a lone surrogate would otherwise be replaced by U+FFFD and collide with it).
 */
import { AuthyError } from "../errors.js";

export type Field = string | number | bigint | null | Uint8Array | boolean;

const VERSION = 0x01;
const TAG_NULL = 0;
const TAG_STRING = 1;
const TAG_INTEGER = 2;
const TAG_BYTES = 3;
const TAG_BOOLEAN = 4;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const utf8 = new TextEncoder();

export function encodeFields(fields: readonly Field[]): Uint8Array {
  // One reusable writer: encoding is synchronous, so nothing can interleave. Row MACs and
  // additional data are encoded several times per secret; allocating parts per field was
  // most of the cost of `env export` and `env import`.
  shared.reset();
  writeAll(fields);
  return Uint8Array.prototype.slice.call(shared.bytes());
}

/**
 * encodeFields without the copy: a view that is valid only until the next encoding, for bytes
 * that are consumed at once (a MAC computed over them, additional data handed to a cipher).
 */
export function encodeFieldsTransient(fields: readonly Field[]): Uint8Array {
  shared.reset();
  writeAll(fields);
  return shared.bytes();
}

/**
 * encodeFieldsTransient of `head` followed by `fields`, without building the joined list
 * first: a row MAC prefixes its domain and the vault id to every row's fields.
 */
export function encodeFieldsTransientAfter(head: readonly Field[], fields: readonly Field[]): Uint8Array {
  shared.reset();
  writeAll(head);
  writeAll(fields);
  return shared.bytes();
}

/**
 * Each field into the shared writer. An indexed loop: these run a few thousand times in a
 * command's short life, mostly before V8 optimizes them, and there `for…of` allocates an
 * iterator result per field (0.5 MB of the 17 MB that `run` of 1,000 secrets allocates).
 */
function writeAll(fields: readonly Field[]): void {
  for (let i = 0; i < fields.length; i++) shared.field(fields[i]!);
}

function encodeField(field: Field): [number, Uint8Array] {
  if (field === null) return [TAG_NULL, new Uint8Array(0)];
  if (typeof field === "string") {
    if (LONE_SURROGATE.test(field)) {
      throw new AuthyError("INVALID_INPUT", "text is not well-formed unicode (lone surrogate)");
    }
    return [TAG_STRING, utf8.encode(field)];
  }
  if (typeof field === "number") {
    if (!Number.isSafeInteger(field)) {
      throw new AuthyError("INTERNAL", "numeric field must be a safe integer");
    }
    return [TAG_INTEGER, int64(BigInt(field))];
  }
  if (typeof field === "bigint") {
    if (field < INT64_MIN || field > INT64_MAX) {
      throw new AuthyError("INTERNAL", "integer field must fit in signed 64 bits");
    }
    return [TAG_INTEGER, int64(field)];
  }
  if (typeof field === "boolean") return [TAG_BOOLEAN, Uint8Array.of(field ? 1 : 0)];
  if (field instanceof Uint8Array) return [TAG_BYTES, field];
  throw new AuthyError("INTERNAL", "unsupported field type");
}

function int64(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, value, false);
  return out;
}

const INITIAL_WRITER_BYTES = 4096;
const TWO_32 = 2 ** 32;

/**
 * The same layout as encodeFields, written field by field into one reusable buffer: for hot
 * loops that encode a million rows (the audit verifier), where encodeFields' per-field
 * arrays and copies cost more than the hashing. `mark()` remembers a prefix (the version byte
 * and any fields common to every row) that `reset()` goes back to; `bytes()` is a view that is
 * valid until the next write. Refuses exactly what encodeFields refuses.
 */
export class FieldWriter {
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_WRITER_BYTES);
  private len = 0;
  private markAt = 0;

  constructor() {
    this.buf[0] = VERSION;
    this.len = 1;
  }

  /** Remembers the current length as where reset() returns to. */
  mark(): this {
    this.markAt = this.len;
    return this;
  }

  reset(): this {
    this.len = this.markAt;
    return this;
  }

  string(s: string): this {
    if (!isWellFormed(s)) throw new AuthyError("INVALID_INPUT", "text is not well-formed unicode (lone surrogate)");
    // At most 3 UTF-8 bytes per UTF-16 unit; a surrogate pair is 2 units for 4 bytes.
    this.reserve(5 + s.length * 3);
    const n = writeUtf8(this.buf, s, this.len + 5);
    this.head(TAG_STRING, n);
    this.len += n;
    return this;
  }

  integer(v: number): this {
    if (!Number.isSafeInteger(v)) throw new AuthyError("INTERNAL", "numeric field must be a safe integer");
    this.reserve(13);
    this.head(TAG_INTEGER, 8);
    // Two's complement in two 32-bit halves: no BigInt per field, and byte stores rather than
    // Buffer's checked writers (a row MAC encodes a dozen fields, a thousand rows a command).
    const hi = Math.floor(v / TWO_32);
    const lo = v - hi * TWO_32;
    const buf = this.buf;
    const at = this.len;
    buf[at] = hi >>> 24;
    buf[at + 1] = hi >>> 16;
    buf[at + 2] = hi >>> 8;
    buf[at + 3] = hi;
    buf[at + 4] = lo >>> 24;
    buf[at + 5] = lo >>> 16;
    buf[at + 6] = lo >>> 8;
    buf[at + 7] = lo;
    this.len = at + 8;
    return this;
  }

  /** A null field. */
  nul(): this {
    this.reserve(5);
    this.head(TAG_NULL, 0);
    return this;
  }

  /** Any field, with the same bytes encodeFields gives it. */
  field(field: Field): this {
    if (typeof field === "string") return this.string(field);
    if (typeof field === "number") return this.integer(field);
    if (field === null) return this.nul();
    if (field instanceof Uint8Array) return this.blob(field);
    const [tag, body] = encodeField(field);
    this.reserve(5 + body.length);
    this.head(tag, body.length);
    this.buf.set(body, this.len);
    this.len += body.length;
    return this;
  }

  /** A bytes field. */
  blob(b: Uint8Array): this {
    this.reserve(5 + b.length);
    this.head(TAG_BYTES, b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** A bytes field given as hex (an even number of hex digits, nothing else). */
  hexBlob(hex: string): this {
    const n = hex.length >>> 1;
    this.reserve(5 + n);
    if (hex.length % 2 !== 0 || this.buf.write(hex, this.len + 5, "hex") !== n) throw new AuthyError("INTERNAL", "bytes field is not hex");
    this.head(TAG_BYTES, n);
    this.len += n;
    return this;
  }

  /** The bytes so far: a view into the buffer, valid until the next write. */
  bytes(): Uint8Array {
    // A plain Uint8Array view: Buffer's subarray() runs Buffer's JavaScript constructor, cold
    // code in a CLI process that encodes three of these per secret of `env export`.
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.len);
  }

  private head(tag: number, bodyLength: number): void {
    const buf = this.buf;
    const at = this.len;
    buf[at] = tag;
    buf[at + 1] = bodyLength >>> 24;
    buf[at + 2] = bodyLength >>> 16;
    buf[at + 3] = bodyLength >>> 8;
    buf[at + 4] = bodyLength;
    this.len = at + 5;
  }

  private reserve(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
}

/**
 * Buffer's own UTF-8 writer, without buf.write()'s argument handling in JavaScript: about 15
 * strings per secret of `run` of 1,000 secrets, cold code in a CLI process. 15,000 short
 * strings in a fresh process: 2.6-4.8 ms against 6.8-10.0 through write() (Node 20.20).
 * Undocumented, so looked for, with write() where it is missing; both give the same bytes
 * and count, and neither writes a partial character.
 */
type Utf8Write = (this: Buffer, s: string, offset: number) => number;
const nativeUtf8Write = (Buffer.prototype as { utf8Write?: Utf8Write }).utf8Write;
const writeUtf8: (buf: Buffer, s: string, offset: number) => number =
  typeof nativeUtf8Write === "function" ? (buf, s, offset) => nativeUtf8Write.call(buf, s, offset) : (buf, s, offset) => buf.write(s, offset, "utf8");

/** String.prototype.isWellFormed (Node 20+), which is far cheaper than the regular expression. */
const nativeWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;
function isWellFormed(s: string): boolean {
  return nativeWellFormed ? nativeWellFormed.call(s) : !LONE_SURROGATE.test(s);
}

const shared = new FieldWriter().mark();
