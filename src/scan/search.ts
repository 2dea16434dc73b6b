/**
 * Finding patterns in a stream with bounded memory: each chunk is searched, and so is the seam
 * between it and the one before (the last longest pattern - 1 bytes before it, and as many of
 * its own), so an occurrence cut by a chunk boundary is found once, and nothing older is kept.
 * Only offsets are returned; line and column are worked out afterwards, and only for the
 * streams that had a finding (lines.ts).
 */
import type { Readable } from "node:stream";
import type { ScanPatterns } from "./patterns.js";

/** Findings kept per file: past this a file is a dump of secrets, and the count says so. */
const MAX_FINDINGS_PER_FILE = 10_000;

export interface Hit {
  start: number;
  end: number;
  path: string;
  form: string;
}

interface StreamResult {
  hits: Hit[];
  bytes: number;
  /** Hits beyond MAX_FINDINGS_PER_FILE, counted and not kept. */
  dropped: number;
}

export async function searchStream(stream: Readable, patterns: ScanPatterns): Promise<StreamResult> {
  const { index, maxLength, patternCount } = patterns.search();
  const hits: Hit[] = [];
  let dropped = 0;
  let carry: Buffer = Buffer.alloc(0);
  let pos = 0;
  const found: number[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const chunkStart = pos;
    pos += chunk.length;
    if (patternCount === 0) continue;
    // An occurrence that starts in the carried bytes ends within maxLength - 1 bytes of the
    // chunk: the seam is searched on its own, not the whole chunk copied behind the carry.
    const seam = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, maxLength - 1)]) : null;
    const seamStart = chunkStart - carry.length;
    found.length = 0;
    if (seam) index.find(seam, seamStart, chunkStart, found);
    const inSeam = found.length;
    index.find(chunk, chunkStart, Infinity, found);
    if (found.length > 0) {
      const spans: [number, number][] = [];
      for (let i = 0; i < found.length; i += 2) {
        // Wholly inside the carried bytes: found with the previous chunk already.
        if (i < inSeam && found[i + 1]! <= chunkStart) continue;
        spans.push([found[i]!, found[i + 1]!]);
      }
      // Longest first at each start, and nothing inside a span already reported (a line of a
      // multi-line secret inside the whole value, a secret inside another).
      spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
      let coveredTo = hits.length > 0 ? hits[hits.length - 1]!.end : -1;
      for (const [start, end] of spans) {
        if (end <= coveredTo) continue;
        const bytes = start >= chunkStart ? chunk.subarray(start - chunkStart, end - chunkStart) : seam!.subarray(start - seamStart, end - seamStart);
        const info = patterns.byBytes.get(bytes.toString("latin1"));
        if (!info) continue;
        if (hits.length >= MAX_FINDINGS_PER_FILE) dropped++;
        else hits.push({ start, end, path: info.path, form: info.form });
        coveredTo = end;
      }
    }
    const keep = Math.min(maxLength - 1, carry.length + chunk.length);
    carry =
      keep <= chunk.length ? Buffer.from(chunk.subarray(chunk.length - keep)) : Buffer.concat([carry.subarray(carry.length - (keep - chunk.length)), chunk]);
  }
  return { hits, bytes: pos, dropped };
}
