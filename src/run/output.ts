/**
 * Where a child's output goes when authy stands in the middle (masking, a PTY, a stream that
 * is not a file descriptor): through the mask session, then to `dest`, with backpressure.
 *
 * A reader that goes away (`authy run -- yes | head -1`) makes writes fail with EPIPE. That
 * is not an error of the run: the sink stops writing, discards what follows, and calls
 * `onClosed`, whose job is to make the child notice too, as it would have writing to `head`
 * directly. Any other write error ends the output the same way, once.
 */
import type { Writable } from "node:stream";
import type { MaskSession } from "./masker.js";

const EMPTY = Buffer.alloc(0);

export class OutputSink {
  /** The destination is gone; output is discarded. */
  closed = false;
  /** The caller's `resume`, while it waits for the destination to drain. */
  private waiting: (() => void) | null = null;
  private readonly onError = (e: NodeJS.ErrnoException) => this.close(e);
  private readonly onDrain = () => this.wake();

  constructor(
    private readonly dest: Writable,
    private readonly session: MaskSession | null,
    private readonly onClosed: (error: NodeJS.ErrnoException) => void,
  ) {
    dest.on("error", this.onError);
  }

  /**
   * Writes a chunk of output, which the sink takes over: it may be rewritten in place. Returns
   * false when the destination is full: the caller pauses its source, and `resume` is called
   * once it has drained.
   */
  write(chunk: Uint8Array, resume: () => void): boolean {
    if (this.closed) return true;
    const out = this.output(chunk);
    if (out === null || this.dest.write(out)) return true;
    this.waiting = resume;
    this.dest.once("drain", this.onDrain);
    return false;
  }

  /**
   * Like `write`, for a chunk whose memory the caller reuses for its next read: returns false
   * while the destination still holds a reference to it (a write the kernel did not take at
   * once is queued as it is, not copied), and `resume` is called once that write is done.
   * Only for destinations that are done with what they were given once their write is
   * (authy's own stdout and stderr), not for streams that keep it.
   */
  writeBorrowed(chunk: Uint8Array, resume: () => void): boolean {
    if (this.closed) return true;
    const out = this.output(chunk);
    if (out === null) return true;
    let paused = false;
    this.dest.write(out, () => {
      if (paused) resume();
    });
    if (this.dest.writableLength === 0) return true;
    paused = true;
    return false;
  }

  /** The chunk, masked: one buffer to write, or null when there is nothing to write yet. */
  private output(chunk: Uint8Array): Uint8Array | null {
    if (!this.session) return chunk;
    const pieces: Uint8Array[] = [];
    this.session.write(chunk, pieces);
    // One write per chunk: masking splits a chunk into pieces, and a write call per piece
    // (a syscall each on a pipe or file) cost more than the search itself. The pieces are
    // put back together inside the chunk where they fit, else copied into a new buffer.
    if (pieces.length === 0) return null;
    return pieces.length === 1 ? pieces[0]! : (compactInto(chunk, pieces) ?? Buffer.concat(pieces));
  }

  /** The source has ended: writes what the mask session still holds, waits until written. */
  async end(): Promise<void> {
    if (!this.closed) {
      const pieces: Uint8Array[] = [];
      this.session?.end(pieces);
      if (pieces.length > 0) this.dest.write(Buffer.concat(pieces));
      await new Promise<void>((resolve) => this.dest.write(EMPTY, () => resolve()));
    }
    // A destination that failed may still report errors; keep swallowing them then.
    if (!this.closed) this.dest.off("error", this.onError);
  }

  private close(error: NodeJS.ErrnoException): void {
    if (this.closed) return;
    this.closed = true;
    this.dest.off("drain", this.onDrain);
    this.onClosed(error);
    this.wake(); // a paused source would wait forever for a drain that never comes
  }

  private wake(): void {
    const resume = this.waiting;
    this.waiting = null;
    resume?.();
  }
}

/**
 * Writes `pieces` (in order) back into `chunk` and returns the view of `chunk` that holds
 * them, or null, with `chunk` untouched, when they do not fit. A masked chunk's pieces are
 * views of the chunk itself in increasing order, with placeholders (and bytes held over from
 * the previous chunk) between them; where a placeholder is shorter than what it replaces, the
 * output is shorter than the chunk and can be moved into place, front to back or back to
 * front, without overwriting a byte before it is moved. That spares a copy into a new buffer
 * for every chunk, a tenth of what masking costs.
 */
export function compactInto(chunk: Uint8Array, pieces: readonly Uint8Array[]): Uint8Array | null {
  // Where each piece is read from in the chunk, or -1 for bytes from elsewhere. A piece that
  // only partly lies in the chunk could be overwritten before it is read: no compaction then.
  const start = chunk.byteOffset;
  const end = start + chunk.length;
  const from: number[] = [];
  for (const p of pieces) {
    const inside = p.buffer === chunk.buffer && p.byteOffset < end && p.byteOffset + p.length > start;
    if (inside && (p.byteOffset < start || p.byteOffset + p.length > end)) return null;
    from.push(inside ? p.byteOffset - start : -1);
  }
  if (fitsForward(chunk.length, pieces, from)) {
    let at = 0;
    pieces.forEach((p, i) => {
      if (from[i]! >= 0) chunk.copyWithin(at, from[i]!, from[i]! + p.length);
      else chunk.set(p, at);
      at += p.length;
    });
    return chunk.subarray(0, at);
  }
  if (fitsBackward(chunk.length, pieces, from)) {
    let at = chunk.length;
    for (let i = pieces.length - 1; i >= 0; i--) {
      const p = pieces[i]!;
      at -= p.length;
      if (from[i]! >= 0) chunk.copyWithin(at, from[i]!, from[i]! + p.length);
      else chunk.set(p, at);
    }
    return chunk.subarray(at);
  }
  return null;
}

/*
 * Moving pieces one by one, the bytes written so far cover [0, at) front to back, or
 * [at + length of the piece, end) back to front. A piece read from the chunk is intact, and
 * moving it overwrites nothing still to be read, exactly when it is read from at or after `at`
 * (front to back) or at or before `at` (back to front): memmove does the rest. Any other
 * order of writes that clobbers a piece still to be moved makes that test fail for it, so the
 * test on the chunk's own pieces is the whole plan.
 */
function fitsForward(length: number, pieces: readonly Uint8Array[], from: readonly number[]): boolean {
  let at = 0;
  for (let i = 0; i < pieces.length; i++) {
    if (from[i]! >= 0 && from[i]! < at) return false;
    at += pieces[i]!.length;
  }
  return at <= length;
}

function fitsBackward(length: number, pieces: readonly Uint8Array[], from: readonly number[]): boolean {
  let at = length;
  for (let i = pieces.length - 1; i >= 0; i--) {
    at -= pieces[i]!.length;
    if (at < 0 || (from[i]! >= 0 && from[i]! > at)) return false;
  }
  return true;
}
