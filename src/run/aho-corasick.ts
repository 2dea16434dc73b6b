/**
 * Aho–Corasick automaton over bytes. It answers, one byte at a time and whatever the patterns:
 * how many of the last bytes of a stream could still grow into an occurrence (reading the last
 * `maxLength - 1` bytes from the root answers it exactly, since a partial occurrence is shorter
 * than its pattern), and where the occurrences in a window are, for the stretches of output
 * the gram index cannot sort out cheaply (see gram-index.ts). The masker asks it only the
 * second; the first is PartialMatch's job (partial-match.ts, whose tests use this as the oracle).
 *
 * Layout: a trie in flat typed arrays. The root, its children and every node with many
 * children get a dense 256-entry row of the complete transition function (no failure links
 * to follow); the other nodes, deep in the trie and almost always with a single child, keep
 * a sibling list and a failure link. Memory stays proportional to the total pattern length
 * (a 4 KiB PEM key with all its encodings is about 40,000 nodes), and the hot loop is one
 * table lookup per byte for input that does not resemble any pattern.
 */

/** A node with at least this many children gets a dense row. */
const DENSE_MIN_CHILDREN = 4;

export class AhoCorasick {
  /**
   * Length of the longest suffix of the input read so far that could still grow into a match:
   * the depth of the first node with children on the node's failure chain. Bytes before it can
   * never be part of a match that is not complete yet.
   */
  private readonly holdLen: Int32Array;
  /** Length of the longest pattern that ends at the node (0 if none does). */
  private readonly out: Int32Array;
  private readonly label: Uint8Array;
  private readonly firstChild: Int32Array;
  private readonly nextSibling: Int32Array;
  private readonly fail: Int32Array;
  /** Start of the node's row in `dense` (a multiple of 256), or -1 for a sparse node. */
  private readonly denseAt: Int32Array;
  private readonly dense: Int32Array;

  readonly nodeCount: number;

  constructor(patterns: readonly Uint8Array[]) {
    const label: number[] = [0];
    const firstChild: number[] = [-1];
    const nextSibling: number[] = [-1];
    const depth: number[] = [0];
    const childCount: number[] = [0];
    const terminal: number[] = [0];

    for (const pattern of patterns) {
      if (pattern.length === 0) continue;
      let node = 0;
      for (const byte of pattern) {
        let child = firstChild[node]!;
        while (child >= 0 && label[child] !== byte) child = nextSibling[child]!;
        if (child < 0) {
          child = label.length;
          label.push(byte);
          firstChild.push(-1);
          nextSibling.push(firstChild[node]!);
          depth.push(depth[node]! + 1);
          childCount.push(0);
          terminal.push(0);
          firstChild[node] = child;
          childCount[node]!++;
        }
        node = child;
      }
      terminal[node] = pattern.length;
    }

    const n = label.length;
    this.nodeCount = n;
    this.label = Uint8Array.from(label);
    this.firstChild = Int32Array.from(firstChild);
    this.nextSibling = Int32Array.from(nextSibling);
    this.fail = new Int32Array(n);
    this.holdLen = new Int32Array(n);
    this.out = new Int32Array(n);
    this.denseAt = new Int32Array(n).fill(-1);
    let rows = 0;
    for (let v = 0; v < n; v++) {
      if (depth[v]! <= 1 || childCount[v]! >= DENSE_MIN_CHILDREN) this.denseAt[v] = 256 * rows++;
    }
    this.dense = new Int32Array(256 * rows);

    // Breadth first, so that a node's failure target (always shallower) is complete before it.
    const queue = new Int32Array(n);
    let head = 0;
    let tail = 0;
    queue[tail++] = 0;
    while (head < tail) {
      const v = queue[head++]!;
      const f = this.fail[v]!;
      this.holdLen[v] = this.firstChild[v]! >= 0 ? depth[v]! : this.holdLen[f]!;
      this.out[v] = terminal[v]! > 0 ? terminal[v]! : this.out[f]!;
      const row = this.denseAt[v]!;
      if (row >= 0) {
        for (let b = 0; b < 256; b++) this.dense[row + b] = v === 0 ? 0 : this.step(f, b);
      }
      for (let c = this.firstChild[v]!; c >= 0; c = this.nextSibling[c]!) {
        if (row >= 0) this.dense[row + this.label[c]!] = c;
        this.fail[c] = v === 0 ? 0 : this.step(f, this.label[c]!);
        queue[tail++] = c;
      }
    }
  }

  /** The state after reading `byte` in state `state`. */
  private step(state: number, byte: number): number {
    let s = state;
    for (;;) {
      const row = this.denseAt[s]!;
      if (row >= 0) return this.dense[row + byte]!;
      let c = this.firstChild[s]!;
      while (c >= 0 && this.label[c] !== byte) c = this.nextSibling[c]!;
      if (c >= 0) return c;
      s = this.fail[s]!;
    }
  }

  /** The state after reading `bytes` from `state` (0 is the start state). */
  run(bytes: Uint8Array, state: number): number {
    let s = state;
    for (let i = 0; i < bytes.length; i++) s = this.step(s, bytes[i]!);
    return s;
  }

  /**
   * Appends to `found` a (start, end) pair of stream offsets for each position in `bytes`
   * (whose first byte is at stream offset `offset`) where an occurrence starting before
   * `maxStart` ends: the longest one, since shorter ones ending there lie inside it.
   */
  findAll(bytes: Uint8Array, offset: number, maxStart: number, found: number[]): void {
    // Hot loop when the gram index falls back to it: `step` inlined by hand, locals only.
    const { denseAt, dense, label, firstChild, nextSibling, fail, out } = this;
    let s = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      for (;;) {
        const row = denseAt[s]!;
        if (row >= 0) {
          s = dense[row + b]!;
          break;
        }
        let c = firstChild[s]!;
        while (c >= 0 && label[c] !== b) c = nextSibling[c]!;
        if (c >= 0) {
          s = c;
          break;
        }
        s = fail[s]!;
      }
      const length = out[s]!;
      if (length !== 0 && offset + i + 1 - length < maxStart) found.push(offset + i + 1 - length, offset + i + 1);
    }
  }

  /** How many of the last bytes read could still be the start of a match (see `holdLen`). */
  hold(state: number): number {
    return this.holdLen[state]!;
  }
}
