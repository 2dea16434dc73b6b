/**
 * A q-gram filter for finding many patterns at once faster than one step per byte.
 *
 * Every pattern is at least `GRAM + step - 1` bytes long, so an occurrence always contains a
 * 4-byte gram starting at a stream offset that is a multiple of `step`. Looking only at those
 * grams (one in `step` bytes), a 32 KiB bitmap of gram hashes rejects almost all of them; the
 * rest are looked up in an exact table of (pattern, offset) entries, which are then compared.
 * With secrets of ordinary length the step is tens of bytes, which is what lets masking keep
 * up with a pipe (a byte-at-a-time automaton in JavaScript cannot).
 *
 * The sampled grams inside an occurrence sit at offsets of one residue class modulo `step`
 * (which one depends on where the occurrence starts), so each pattern needs one entry per
 * residue, not one per offset: we index the gram of that class that is rarest across all
 * patterns. Each occurrence is then compared exactly once, and a gram shared by many patterns
 * (runs like "ssss", common prefixes) is avoided where the pattern allows. Where it cannot be
 * (a gram with more than HOT_GRAM_ENTRIES entries), comparing every entry would be slow, so the
 * window around that sample is handed to an Aho–Corasick automaton instead: the worst case is
 * the automaton's speed, never worse. The automaton holds only the patterns with an entry under
 * such a gram (an occurrence is found through its one entry), and is built only once hot
 * samples have cost HOT_COMPARES_BEFORE_AUTOMATON comparisons: until then their entries are
 * compared like any other's. Most streams hit a hot gram rarely or never (128 MiB of
 * transcripts against 1,000 secrets' forms: 896 times), and building the automaton for
 * thousands of patterns cost more than that (50 ms for those 1,000 secrets).
 *
 * Sampling offsets are absolute in the stream, so results do not depend on how it is cut.
 */
import { AhoCorasick } from "./aho-corasick.js";

/** Gram length in bytes: one 32-bit word. Patterns must be at least this long. */
export const GRAM = 4;

/**
 * log2 of the bitmap's size in bits: about 16 bits per entry, so that it stays mostly empty
 * and rejects almost every sample; at least 2^18 bits (32 KiB, what a run's few secrets
 * need, small enough to stay in L1/L2), at most 2^23 (1 MiB). `authy scan` looks for every
 * form of every stored secret: 1,000 secrets made 160,000 entries, which filled a fixed 2^18
 * bits to almost half, and each sample that passed cost a table lookup.
 */
const MIN_BITMAP_BITS = 18;
const MAX_BITMAP_BITS = 23;
const BITMAP_BITS_PER_ENTRY_LOG2 = 4;
/** A gram with more entries than this is scanned by the automaton rather than compared... */
const HOT_GRAM_ENTRIES = 8;
/** ...once comparing the entries of such grams has cost this many comparisons (a few ms). */
const HOT_COMPARES_BEFORE_AUTOMATON = 1_000_000;
const HASH_MULTIPLIER = 0x9e3779b1; // Fibonacci hashing

export class GramIndex {
  /** Distance between sampled offsets. */
  readonly step: number;
  private readonly patterns: readonly Uint8Array[];
  private readonly maxLength: number;
  private readonly bitmapBits: number;
  private readonly bitmap: Int32Array;
  // Open-addressing table from gram to a list of (pattern, offset) entries.
  private readonly tableBits: number;
  private readonly keys: Int32Array;
  private readonly heads: Int32Array;
  private readonly counts: Int32Array;
  private readonly entryPattern: Int32Array;
  private readonly entryOffset: Int32Array;
  private readonly entryNext: Int32Array;

  /** Built once hot samples are frequent (see above); null until then. */
  private automaton: AhoCorasick | null = null;
  /** Entries of hot grams compared so far, while there is no automaton. */
  private hotCompares = 0;

  /**
   * `comparesBeforeAutomaton`: how many hot-gram comparisons come before the automaton takes
   * over (0: at the first hot sample). For the tests that hold both ways to the same results.
   */
  constructor(
    patterns: readonly Uint8Array[],
    private readonly comparesBeforeAutomaton: number = HOT_COMPARES_BEFORE_AUTOMATON,
  ) {
    if (patterns.some((p) => p.length < GRAM)) throw new RangeError(`patterns must be at least ${GRAM} bytes`);
    this.patterns = patterns;
    this.maxLength = patterns.reduce((max, p) => Math.max(max, p.length), 0);
    const minLength = patterns.reduce((min, p) => Math.min(min, p.length), Infinity);
    const step = patterns.length === 0 ? 1 : minLength - GRAM + 1;
    this.step = step;

    // Each pattern's grams, and how many times each gram occurs across all patterns (in an
    // open-addressing table: this runs once per run, before the JIT has compiled anything, and
    // typed arrays cost the interpreter far less than a Map). Flat: pattern `id`'s grams are
    // at [starts[id], starts[id + 1]), each with its slot in the count table, which a gram
    // keeps once placed (nothing is removed), so the second pass looks up nothing again.
    const starts = new Int32Array(patterns.length + 1);
    for (let id = 0; id < patterns.length; id++) starts[id + 1] = starts[id]! + patterns[id]!.length - GRAM + 1;
    const total = starts[patterns.length]!;
    const countBits = Math.max(4, Math.ceil(Math.log2(total * 2 + 1)));
    const countMask = (1 << countBits) - 1;
    const countKeys = new Int32Array(1 << countBits);
    const countOf = new Int32Array(1 << countBits); // 0: empty slot
    const gramAt = new Int32Array(total);
    const slotAt = new Int32Array(total);
    for (let id = 0, k = 0; id < patterns.length; id++) {
      const p = patterns[id]!;
      for (let o = 0; o + GRAM <= p.length; o++, k++) {
        const gram = p[o]! | (p[o + 1]! << 8) | (p[o + 2]! << 16) | (p[o + 3]! << 24);
        let slot = Math.imul(gram, HASH_MULTIPLIER) >>> (32 - countBits);
        while (countOf[slot] !== 0 && countKeys[slot] !== gram) slot = (slot + 1) & countMask;
        countKeys[slot] = gram;
        countOf[slot]!++;
        gramAt[k] = gram;
        slotAt[k] = slot;
      }
    }
    const entries = patterns.length * step;
    this.bitmapBits = Math.min(MAX_BITMAP_BITS, Math.max(MIN_BITMAP_BITS, Math.ceil(Math.log2(entries + 1)) + BITMAP_BITS_PER_ENTRY_LOG2));
    this.bitmap = new Int32Array(1 << (this.bitmapBits - 5));
    this.tableBits = Math.max(4, Math.ceil(Math.log2(entries * 2 + 1)));
    this.keys = new Int32Array(1 << this.tableBits);
    this.heads = new Int32Array(1 << this.tableBits).fill(-1);
    this.counts = new Int32Array(1 << this.tableBits);
    this.entryPattern = new Int32Array(entries);
    this.entryOffset = new Int32Array(entries);
    this.entryNext = new Int32Array(entries);
    // One entry under the gram at `offset` of `pattern` (locals, not fields: 160,000 of these for
    // `authy scan`, in code the JIT has not compiled yet).
    const { bitmap, keys, heads, counts, entryPattern, entryOffset, entryNext } = this;
    const bitmapShift = 32 - this.bitmapBits;
    const tableShift = 32 - this.tableBits;
    const tableMask = (1 << this.tableBits) - 1;
    const add = (entry: number, gram: number, pattern: number, offset: number): void => {
      const bit = Math.imul(gram, HASH_MULTIPLIER) >>> bitmapShift;
      bitmap[bit >>> 5]! |= 1 << (bit & 31);
      let slot = Math.imul(gram, HASH_MULTIPLIER) >>> tableShift;
      while (heads[slot] !== -1 && keys[slot] !== gram) slot = (slot + 1) & tableMask;
      keys[slot] = gram;
      entryPattern[entry] = pattern;
      entryOffset[entry] = offset;
      entryNext[entry] = heads[slot]!;
      heads[slot] = entry;
      counts[slot]!++;
    };
    let e = 0;
    for (let id = 0; id < patterns.length; id++) {
      const base = starts[id]!;
      const n = starts[id + 1]! - base;
      for (let residue = 0; residue < step; residue++) {
        let best = residue;
        for (let o = residue + step; o < n; o += step) {
          if (countOf[slotAt[base + o]!]! < countOf[slotAt[base + best]!]!) best = o;
        }
        add(e++, gramAt[base + best]!, id, best);
      }
    }
  }

  /**
   * Appends to `found` a (start, end) pair of stream offsets for every occurrence lying wholly
   * inside `buf` (whose first byte is at stream offset `offset`) and starting before
   * `maxStart`. An occurrence may be reported more than once.
   */
  find(buf: Uint8Array, offset: number, maxStart: number, found: number[]): void {
    const { step, bitmap, keys, heads, counts, entryPattern, entryOffset, entryNext, patterns } = this;
    if (patterns.length === 0) return;
    const bitmapShift = 32 - this.bitmapBits;
    const tableShift = 32 - this.tableBits;
    const mask = (1 << this.tableBits) - 1;
    const last = buf.length - GRAM;
    // The window [hotFrom, hotTo) of buf left to the automaton; windows of nearby hot samples merge.
    let hotFrom = 0;
    let hotTo = 0;
    // Hot loop: one gram per `step` bytes, rejected by the bitmap almost always.
    for (let i = (step - (offset % step)) % step; i <= last; i += step) {
      const gram = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
      const bit = Math.imul(gram, HASH_MULTIPLIER) >>> bitmapShift;
      if ((bitmap[bit >>> 5]! & (1 << (bit & 31))) === 0) continue;
      let slot = Math.imul(gram, HASH_MULTIPLIER) >>> tableShift;
      while (heads[slot] !== -1 && keys[slot] !== gram) slot = (slot + 1) & mask;
      if (counts[slot]! > HOT_GRAM_ENTRIES && this.automatonDue(counts[slot]!)) {
        // Any occurrence through this sample lies within maxLength bytes of it.
        const from = Math.max(0, i + GRAM - this.maxLength);
        const to = Math.min(buf.length, i + this.maxLength);
        if (from > hotTo) {
          this.scan(buf, hotFrom, hotTo, offset, maxStart, found);
          hotFrom = from;
        }
        hotTo = to;
        continue;
      }
      for (let e = heads[slot]!; e !== -1; e = entryNext[e]!) {
        const p = patterns[entryPattern[e]!]!;
        const start = i - entryOffset[e]!;
        if (start < 0 || start + p.length > buf.length || offset + start >= maxStart) continue;
        let j = 0;
        while (j < p.length && buf[start + j] === p[j]) j++;
        if (j === p.length) found.push(offset + start, offset + start + p.length);
      }
    }
    this.scan(buf, hotFrom, hotTo, offset, maxStart, found);
  }

  /** Whether a hot sample goes to the automaton; if not, counts the `entries` compared instead. */
  private automatonDue(entries: number): boolean {
    if (this.hotCompares >= this.comparesBeforeAutomaton) return true;
    this.hotCompares += entries;
    return false;
  }

  private scan(buf: Uint8Array, from: number, to: number, offset: number, maxStart: number, found: number[]): void {
    if (to > from) (this.automaton ??= this.hotAutomaton()).findAll(buf.subarray(from, to), offset + from, maxStart, found);
  }

  /** The automaton of the patterns that have an entry under a hot gram. */
  private hotAutomaton(): AhoCorasick {
    const hot = new Set<number>();
    for (let slot = 0; slot < this.heads.length; slot++) {
      if (this.counts[slot]! <= HOT_GRAM_ENTRIES) continue;
      for (let e = this.heads[slot]!; e !== -1; e = this.entryNext[e]!) hot.add(this.entryPattern[e]!);
    }
    return new AhoCorasick([...hot].map((id) => this.patterns[id]!));
  }
}
