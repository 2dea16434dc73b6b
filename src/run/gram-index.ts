/**
 * A q-gram filter for finding many patterns at once faster than one step per byte.
 *
 * Every pattern is at least `GRAM + step - 1` bytes long, so any occurrence contains a 4-byte
 * gram starting at a stream offset that is a multiple of `step`. Looking only at those grams
 * (one in `step` bytes), a 32 KiB bitmap of gram hashes rejects almost all of them; the rest
 * are looked up in an exact table listing (pattern, offset) pairs, which are then compared.
 * With secrets of ordinary length the step is tens of bytes, which is what lets masking keep
 * up with a pipe (a byte-at-a-time automaton in JavaScript cannot).
 *
 * Sampling offsets are absolute in the stream, so the same gram is never the only witness of
 * two different chunkings, and the result does not depend on how the stream is cut.
 */

/** Gram length in bytes: one 32-bit word. Patterns must be at least this long. */
export const GRAM = 4;

/** log2 of the bitmap size in bits: 2^18 bits = 32 KiB, small enough to stay in L1/L2. */
const BITMAP_BITS = 18;
const HASH_MULTIPLIER = 0x9e3779b1; // Fibonacci hashing

function hashGram(gram: number, bits: number): number {
  return Math.imul(gram, HASH_MULTIPLIER) >>> (32 - bits);
}

export class GramIndex {
  /** Distance between sampled offsets. */
  readonly step: number;
  private readonly patterns: readonly Uint8Array[];
  private readonly bitmap = new Int32Array(1 << (BITMAP_BITS - 5));
  // Open-addressing table from gram to the head of a list of (pattern, offset) entries.
  private readonly tableBits: number;
  private readonly keys: Int32Array;
  private readonly heads: Int32Array;
  private readonly entryPattern: Int32Array;
  private readonly entryOffset: Int32Array;
  private readonly entryNext: Int32Array;

  constructor(patterns: readonly Uint8Array[]) {
    if (patterns.some((p) => p.length < GRAM)) throw new RangeError(`patterns must be at least ${GRAM} bytes`);
    this.patterns = patterns;
    const minLength = patterns.reduce((min, p) => Math.min(min, p.length), Infinity);
    this.step = patterns.length === 0 ? 1 : minLength - GRAM + 1;

    const entries = patterns.reduce((n, p) => n + p.length - GRAM + 1, 0);
    this.tableBits = Math.max(4, Math.ceil(Math.log2(entries * 2 + 1)));
    this.keys = new Int32Array(1 << this.tableBits);
    this.heads = new Int32Array(1 << this.tableBits).fill(-1);
    this.entryPattern = new Int32Array(entries);
    this.entryOffset = new Int32Array(entries);
    this.entryNext = new Int32Array(entries);
    const mask = (1 << this.tableBits) - 1;
    let e = 0;
    patterns.forEach((p, id) => {
      for (let o = 0; o + GRAM <= p.length; o++) {
        const gram = p[o]! | (p[o + 1]! << 8) | (p[o + 2]! << 16) | (p[o + 3]! << 24);
        const bit = hashGram(gram, BITMAP_BITS);
        this.bitmap[bit >>> 5]! |= 1 << (bit & 31);
        let slot = hashGram(gram, this.tableBits);
        while (this.heads[slot] !== -1 && this.keys[slot] !== gram) slot = (slot + 1) & mask;
        this.keys[slot] = gram;
        this.entryPattern[e] = id;
        this.entryOffset[e] = o;
        this.entryNext[e] = this.heads[slot]!;
        this.heads[slot] = e++;
      }
    });
  }

  /**
   * Appends to `found` a (start, end) pair of stream offsets for every occurrence lying wholly
   * inside `buf` (whose first byte is at stream offset `offset`) and starting before `maxStart`.
   * `lastStart[id]` is the start of the last occurrence of pattern `id` reported; a repeat is
   * skipped, which keeps a long pattern from being compared once per gram it contains.
   */
  find(
    buf: Uint8Array,
    offset: number,
    maxStart: number,
    lastStart: Float64Array,
    found: number[],
  ): void {
    const { step, bitmap, keys, heads, entryPattern, entryOffset, entryNext, patterns } = this;
    if (patterns.length === 0) return;
    const tableShift = 32 - this.tableBits;
    const mask = (1 << this.tableBits) - 1;
    const last = buf.length - GRAM;
    // Hot loop: one gram per `step` bytes, rejected by the bitmap almost always.
    for (let i = (step - (offset % step)) % step; i <= last; i += step) {
      const gram = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
      const bit = Math.imul(gram, HASH_MULTIPLIER) >>> (32 - BITMAP_BITS);
      if ((bitmap[bit >>> 5]! & (1 << (bit & 31))) === 0) continue;
      let slot = Math.imul(gram, HASH_MULTIPLIER) >>> tableShift;
      while (heads[slot] !== -1 && keys[slot] !== gram) slot = (slot + 1) & mask;
      for (let e = heads[slot]!; e !== -1; e = entryNext[e]!) {
        const id = entryPattern[e]!;
        const p = patterns[id]!;
        const start = i - entryOffset[e]!;
        if (start < 0 || start + p.length > buf.length || offset + start >= maxStart) continue;
        if (lastStart[id] === offset + start) continue;
        let j = 0;
        while (j < p.length && buf[start + j] === p[j]) j++;
        if (j === p.length) {
          lastStart[id] = offset + start;
          found.push(offset + start, offset + start + p.length);
        }
      }
    }
  }
}
