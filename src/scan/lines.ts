import type { Readable } from "node:stream";

const NL = 0x0a;

/**
 * Line and column (1-based; the column counts bytes) of each offset, in one more pass over
 * the stream counting line breaks. `offsets` must be sorted.
 */
export async function locate(stream: Readable, offsets: readonly number[]): Promise<{ line: number; column: number }[]> {
  const out: { line: number; column: number }[] = [];
  let line = 1;
  let lineStart = 0;
  let pos = 0;
  let next = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const chunkStart = pos;
    pos += chunk.length;
    let from = 0;
    while (next < offsets.length && offsets[next]! < pos) {
      const target = offsets[next]! - chunkStart;
      for (let i = chunk.indexOf(NL, from); i !== -1 && i < target; i = chunk.indexOf(NL, i + 1)) {
        line++;
        lineStart = chunkStart + i + 1;
        from = i + 1;
      }
      if (from < target) from = target;
      out.push({ line, column: offsets[next]! - lineStart + 1 });
      next++;
    }
    if (next >= offsets.length) {
      stream.destroy();
      break;
    }
    for (let i = chunk.indexOf(NL, from); i !== -1; i = chunk.indexOf(NL, i + 1)) {
      line++;
      lineStart = chunkStart + i + 1;
    }
  }
  return out;
}
