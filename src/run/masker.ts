/**
 * Output masking for `authy run`: replaces every occurrence of a secret value, and of its
 * encoded forms (see secret-forms.ts), in a byte stream.
 *
 * Masking is a strong convenience, not a security boundary (DESIGN.md section 1): a program
 * that wants to leak a value can always transform it in a way no masker knows.
 *
 * Semantics, identical however the stream is chunked: find every occurrence of every form,
 * take the union of the byte ranges they cover, and replace each connected run of covered
 * bytes (overlapping or touching occurrences merge) by one placeholder. Bytes outside those
 * runs pass through unchanged, so binary output stays byte-exact; a secret inside another is
 * covered by the longer one.
 *
 * Latency: a chunk is emitted at once except for its last few bytes when, and only when, they
 * could be the beginning of a secret (the longest suffix that is a prefix of some form and can
 * still grow into a match). Those are released by the next chunk or at the end of the stream,
 * never by a timer: releasing them early is exactly how a secret written slowly, one byte at a
 * time, would leak. Output that ends in a newline is never held, since no form starts with one
 * (unless a secret itself does).
 */
import { Transform } from "node:stream";
import { GRAM, GramIndex } from "./gram-index.js";
import { PartialMatch } from "./partial-match.js";
import { secretForms } from "./secret-forms.js";

/**
 * Values shorter than this many bytes are not masked (and reported, so `run` can warn).
 * A shorter value is a word or a number that occurs in ordinary output (`true`, `8080`,
 * `admin`); masking it would shred the output and, by where the masks fall, reveal it anyway.
 */
export const MASK_MIN_LENGTH = 6;

/**
 * What a masked run of bytes becomes. One shell word with no spaces, so tools that split
 * output on whitespace keep their column count, and explicit about who removed what, so a
 * person or an agent reading the output does not take it for the real value.
 */
export const MASK_PLACEHOLDER = "<authy:masked>";

export interface MaskerOptions {
  /** Minimum value length in bytes (default MASK_MIN_LENGTH; never below 4, the gram size). */
  minLength?: number;
  /** Replacement text (default MASK_PLACEHOLDER). */
  placeholder?: string;
}

/** The multi-pattern search over a list of byte patterns (masking's, and `authy scan`'s). */
export interface PatternSearch {
  /** Finds complete occurrences. */
  index: GramIndex;
  maxLength: number;
  patternCount: number;
}

export function patternSearch(patterns: readonly Uint8Array[]): PatternSearch {
  return { index: new GramIndex(patterns), maxLength: patterns.reduce((max, p) => Math.max(max, p.length), 0), patternCount: patterns.length };
}

/** The compiled patterns of a set of secret values; shareable between streams. */
export class Masker {
  /** Indexes (into the values given) of non-empty values too short to be masked. */
  readonly unmasked: readonly number[];
  readonly placeholder: Buffer;
  private readonly values: readonly (string | Uint8Array)[];
  private readonly minLength: number;
  private compiled: (PatternSearch & { partial: PartialMatch }) | undefined;

  constructor(values: readonly (string | Uint8Array)[], options: MaskerOptions = {}) {
    this.minLength = Math.max(GRAM, options.minLength ?? MASK_MIN_LENGTH);
    this.placeholder = Buffer.from(options.placeholder ?? MASK_PLACEHOLDER, "utf8");
    this.values = values;
    const unmasked: number[] = [];
    values.forEach((value, index) => {
      const length = typeof value === "string" ? Buffer.byteLength(value, "utf8") : value.length;
      // Empty: nothing to hide, nothing to warn about.
      if (length > 0 && length < this.minLength) unmasked.push(index);
    });
    this.unmasked = unmasked;
  }

  /**
   * @internal The compiled search structures: `index` finds complete occurrences, `partial`
   * measures how much of a chunk's end could be the start of one. Built on first use: for
   * 1,000 secrets that costs more than starting a program that never prints anything.
   */
  search(): NonNullable<Masker["compiled"]> {
    if (this.compiled) return this.compiled;
    const patterns = new Map<string, Uint8Array>();
    for (const value of this.values) {
      const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
      if (bytes.length < this.minLength) continue;
      for (const form of secretForms(bytes, this.minLength)) patterns.set(Buffer.from(form).toString("latin1"), form);
    }
    const list = [...patterns.values()];
    this.compiled = { ...patternSearch(list), partial: new PartialMatch(list) };
    return this.compiled;
  }

  /** Number of distinct byte patterns searched for. */
  get patternCount(): number {
    return this.search().patternCount;
  }

  /** Length of the longest pattern. */
  get maxLength(): number {
    return this.search().maxLength;
  }

  /** A fresh streaming state over these patterns (one per output stream). */
  session(): MaskSession {
    return new MaskSession(this);
  }

  /** Masks a whole buffer at once. */
  mask(data: Uint8Array): Buffer {
    const session = this.session();
    return Buffer.concat([session.push(data), session.flush()]);
  }
}

export function createMasker(values: readonly (string | Uint8Array)[], options?: MaskerOptions): Masker {
  return new Masker(values, options);
}

interface Span {
  start: number;
  end: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * The masking state of one stream. Offsets are positions in the stream.
 * Everything before `emitted` has been returned, as bytes or as a placeholder; `held` keeps
 * the raw input from the start of the longest possible partial match to `pos`, which a match
 * completed by the next chunk is checked against.
 */
export class MaskSession {
  private pos = 0;
  private emitted = 0;
  private held: Buffer = EMPTY;
  /** End of the last run whose placeholder was returned; a match reaching it extends it. */
  private maskEnd = -1;
  /** Matches not returned yet: sorted, disjoint, not touching. */
  private pending: Span[] = [];
  private readonly found: number[] = [];

  constructor(private readonly masker: Masker) {}

  /** Bytes received but not returned yet (a possible partial match). */
  get heldBytes(): number {
    return this.pos - this.emitted;
  }

  /**
   * Takes the next chunk; returns the output that is final (possibly empty). The result may
   * share memory with `chunk`, which must not be modified afterwards.
   */
  push(chunk: Uint8Array): Buffer {
    const out: Uint8Array[] = [];
    this.write(chunk, out);
    return join(out);
  }

  /** Ends the stream: returns everything still held. The session can then start over. */
  flush(): Buffer {
    const out: Uint8Array[] = [];
    this.end(out);
    return join(out);
  }

  /** Like `push`, but appends the output pieces to `out` rather than copying them together. */
  write(chunk: Uint8Array, out: Uint8Array[]): void {
    if (chunk.length === 0) return;
    const { index, partial, maxLength, patternCount } = this.masker.search();
    const chunkStart = this.pos;
    this.pos += chunk.length;
    if (patternCount === 0) {
      out.push(chunk);
      this.emitted = this.pos;
      return;
    }
    const { held, found } = this;
    found.length = 0;
    if (held.length > 0) {
      // A match starting in the held bytes ends within maxLength - 1 bytes of the chunk.
      const seam = Buffer.concat([held, chunk.subarray(0, maxLength - 1)]);
      index.find(seam, chunkStart - held.length, chunkStart, found);
    }
    index.find(chunk, chunkStart, Infinity, found);
    for (let i = 0; i < found.length; i += 2) this.addMatch(found[i]!, found[i + 1]!);
    // A partial match is shorter than the longest pattern: look at the last maxLength - 1 bytes.
    const fromHeld = maxLength - 1 - chunk.length;
    const tail =
      fromHeld > 0 && held.length > 0
        ? Buffer.concat([held.subarray(Math.max(0, held.length - fromHeld)), chunk])
        : chunk.subarray(Math.max(0, chunk.length - maxLength + 1));
    this.emit(this.pos - partial.hold(tail), chunk, chunkStart, out);
  }

  /** Like `flush`, appending to `out`. */
  end(out: Uint8Array[]): void {
    this.emit(this.pos, EMPTY, this.pos, out);
    this.maskEnd = -1;
  }

  private addMatch(start: number, end: number): void {
    if (start <= this.maskEnd) {
      // Overlaps or touches the run already replaced by a placeholder: swallow it too.
      if (end > this.maskEnd) this.maskEnd = end;
      return;
    }
    const spans = this.pending;
    let lo = spans.length;
    while (lo > 0 && spans[lo - 1]!.start > start) lo--;
    let s = start;
    let e = end;
    if (lo > 0 && spans[lo - 1]!.end >= start) {
      lo--;
      s = spans[lo]!.start;
      e = Math.max(e, spans[lo]!.end);
    }
    let hi = lo;
    while (hi < spans.length && spans[hi]!.start <= e) {
      e = Math.max(e, spans[hi]!.end);
      hi++;
    }
    spans.splice(lo, hi - lo, { start: s, end: e });
  }

  /**
   * Outputs what lies before `safe` (no match found later can start before it) and any
   * masked run that starts before it; keeps the raw input from `safe` on.
   */
  private emit(safe: number, chunk: Uint8Array, chunkStart: number, out: Uint8Array[]): void {
    const held = this.held;
    const heldStart = chunkStart - held.length;
    const raw = (from: number, to: number) => {
      if (from < chunkStart) out.push(held.subarray(from - heldStart, Math.min(to, chunkStart) - heldStart));
      if (to > chunkStart) out.push(chunk.subarray(Math.max(from, chunkStart) - chunkStart, to - chunkStart));
    };
    let at = Math.max(this.emitted, this.maskEnd);
    const pending = this.pending;
    let done = 0;
    for (; done < pending.length; done++) {
      const span = pending[done]!;
      if (span.start <= this.maskEnd) {
        this.maskEnd = Math.max(this.maskEnd, span.end);
      } else if (span.start < safe) {
        if (span.start > at) raw(at, span.start);
        out.push(this.masker.placeholder);
        this.maskEnd = span.end;
      } else {
        break;
      }
      at = Math.max(at, this.maskEnd);
    }
    pending.splice(0, done);
    if (safe > at) {
      raw(at, safe);
      at = safe;
    }
    this.emitted = at;
    if (safe >= this.pos) this.held = EMPTY;
    else if (safe >= chunkStart) this.held = Buffer.from(chunk.subarray(safe - chunkStart));
    else this.held = Buffer.concat([held.subarray(safe - heldStart), chunk]);
  }
}

function join(pieces: Uint8Array[]): Buffer {
  if (pieces.length === 0) return EMPTY;
  if (pieces.length === 1) return Buffer.from(pieces[0]!.buffer, pieces[0]!.byteOffset, pieces[0]!.byteLength);
  return Buffer.concat(pieces);
}

/** A Transform that masks the bytes written to it (one session per stream). */
export function maskStream(masker: Masker): Transform {
  const session = masker.session();
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const out: Uint8Array[] = [];
      session.write(chunk, out);
      for (const piece of out) this.push(piece);
      callback();
    },
    flush(callback) {
      const out: Uint8Array[] = [];
      session.end(out);
      for (const piece of out) this.push(piece);
      callback();
    },
  });
}
