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
   * Writes a chunk of output. Returns false when the destination is full: the caller pauses
   * its source, and `resume` is called once it has drained.
   */
  write(chunk: Uint8Array, resume: () => void): boolean {
    if (this.closed) return true;
    const pieces: Uint8Array[] = [];
    if (this.session) this.session.write(chunk, pieces);
    else pieces.push(chunk);
    // One write per chunk: masking splits a chunk into pieces, and a write call per piece
    // (a syscall each on a pipe or file) cost more than the search itself.
    const ok = pieces.length === 0 ? true : this.dest.write(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces));
    if (ok) return true;
    this.waiting = resume;
    this.dest.once("drain", this.onDrain);
    return false;
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
