/**
 * How many of the last bytes of a stream could still grow into an occurrence of a pattern:
 * the length of the longest suffix that is a proper prefix of some pattern. The masker holds
 * back exactly those bytes at the end of each chunk.
 *
 * The patterns, sorted by their bytes, are binary-searched for each suffix of the last
 * (longest pattern - 1) bytes, longest first; a table of every pattern's first two bytes
 * turns almost every suffix away before any search. Setting this up is a sort, where an
 * Aho–Corasick automaton (which answers the same question) took most of the masker's set-up
 * time in a short run: for 50 secrets about 50 ms of CPU, the time `cat` takes to copy 40 MB.
 */
export class PartialMatch {
  private readonly sorted: Buffer[];
  /** Bit b0 + 256 * b1 is set when some pattern longer than two bytes starts with b0 b1. */
  private readonly pairs = new Int32Array(65536 / 32);
  /** Bit b is set when some pattern longer than one byte starts with b. */
  private readonly firsts = new Int32Array(256 / 32);
  private readonly maxLength: number;

  constructor(patterns: readonly Uint8Array[]) {
    this.sorted = patterns.filter((p) => p.length > 0).map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength));
    this.sorted.sort((a, b) => Buffer.compare(a, b));
    this.maxLength = this.sorted.reduce((max, p) => Math.max(max, p.length), 0);
    for (const p of this.sorted) {
      if (p.length > 1) this.firsts[p[0]! >>> 5]! |= 1 << (p[0]! & 31);
      if (p.length > 2) {
        const pair = p[0]! | (p[1]! << 8);
        this.pairs[pair >>> 5]! |= 1 << (pair & 31);
      }
    }
  }

  /** The length of the longest suffix of `tail` that a pattern longer than it starts with. */
  hold(tail: Uint8Array): number {
    const { pairs, firsts } = this;
    for (let from = Math.max(0, tail.length - this.maxLength + 1); from < tail.length; from++) {
      const left = tail.length - from;
      if (left === 1) {
        const b = tail[from]!;
        if ((firsts[b >>> 5]! & (1 << (b & 31))) === 0) continue;
      } else {
        const pair = tail[from]! | (tail[from + 1]! << 8);
        if ((pairs[pair >>> 5]! & (1 << (pair & 31))) === 0) continue;
      }
      if (this.startsLonger(tail.subarray(from))) return left;
    }
    return 0;
  }

  /** Whether some pattern longer than `s` starts with it. */
  private startsLonger(s: Uint8Array): boolean {
    const { sorted } = this;
    // The first pattern not below s: the patterns that start with s follow it, shortest (s itself) first.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Buffer.compare(sorted[mid]!, s) < 0) lo = mid + 1;
      else hi = mid;
    }
    // Patterns equal to s (one, unless given twice) come first, then the longer ones.
    for (let i = lo; i < sorted.length; i++) {
      const p = sorted[i]!;
      if (p.length < s.length || Buffer.compare(p.subarray(0, s.length), s) !== 0) return false;
      if (p.length > s.length) return true;
    }
    return false;
  }
}
