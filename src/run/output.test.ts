import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compactInto } from "./output.js";

/** A chunk, and pieces cut from it in increasing order with other bytes between them: what a mask session returns. */
const layout = fc
  .record({
    chunk: fc.uint8Array({ minLength: 1, maxLength: 120 }),
    cuts: fc.array(fc.nat(), { maxLength: 20 }),
    foreign: fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 21 }),
    keep: fc.array(fc.boolean(), { maxLength: 21 }),
  })
  .map(({ chunk, cuts, foreign, keep }) => {
    const bounds = [...new Set(cuts.map((c) => c % (chunk.length + 1)))].sort((a, b) => a - b);
    const pieces: Uint8Array[] = [];
    let prev = 0;
    bounds.concat(chunk.length).forEach((b, i) => {
      if (foreign[i]) pieces.push(foreign[i]);
      // Some stretches are dropped, as a masked run is.
      if (keep[i] !== false && b > prev) pieces.push(chunk.subarray(prev, b));
      prev = b;
    });
    return { chunk, pieces };
  });

describe("compactInto", () => {
  it("gives the pieces' bytes in order, or null with the chunk untouched", () => {
    const seen = { compacted: 0, refused: 0 };
    fc.assert(
      fc.property(layout, ({ chunk, pieces }) => {
        const expected = Buffer.concat(pieces.map((p) => Buffer.from(p))); // copies, before anything moves
        const before = Buffer.from(chunk);
        const got = compactInto(chunk, pieces);
        seen[got === null ? "refused" : "compacted"]++;
        if (got === null) {
          expect(Buffer.from(chunk).equals(before)).toBe(true);
        } else {
          expect(got.buffer).toBe(chunk.buffer);
          expect(Buffer.from(got).equals(expected)).toBe(true);
        }
      }),
      { numRuns: 5000 },
    );
    // Both outcomes were exercised, many times.
    expect(seen.compacted).toBeGreaterThan(500);
    expect(seen.refused).toBeGreaterThan(500);
  });

  it("compacts a masked chunk, whose placeholders are shorter than what they replace", () => {
    const chunk = Buffer.from("aaa SECRET-VALUE-1 bbb SECRET-VALUE-2 ccc");
    const mask = Buffer.from("<m>");
    const pieces = [chunk.subarray(0, 4), mask, chunk.subarray(18, 23), mask, chunk.subarray(37)];
    const got = compactInto(chunk, pieces);
    expect(got && Buffer.from(got).toString()).toBe("aaa <m> bbb <m> ccc");
  });

  it("compacts back to front when bytes held over from the last chunk come first", () => {
    const chunk = Buffer.from("LUE-1 and more SECRET-VALUE-2 end");
    const held = Buffer.from("tail SECRET-VA");
    const pieces = [held.subarray(0, 5), Buffer.from("<m>"), chunk.subarray(5, 15), Buffer.from("<m>"), chunk.subarray(29)];
    const got = compactInto(chunk, pieces);
    expect(got && Buffer.from(got).toString()).toBe("tail <m> and more <m> end");
  });

  it("refuses a back-to-front plan that would read bytes it has already overwritten", () => {
    // Front to back fails at once (the first piece pushes the chunk's start along); back to
    // front would write the last piece over [60, 100) before moving [60, 70) from there.
    const chunk = Buffer.from("0123456789".repeat(10));
    const before = Buffer.from(chunk);
    expect(compactInto(chunk, [Buffer.from("HELD!"), chunk.subarray(0, 10), chunk.subarray(60, 70), Buffer.alloc(40, 0x2d)])).toBeNull();
    expect(chunk.equals(before)).toBe(true);
  });

  it("refuses output longer than the chunk, and a piece that only partly lies in it", () => {
    const chunk = Buffer.from("abcdef");
    expect(compactInto(chunk, [Buffer.from("0123456"), chunk])).toBeNull();
    const backing = Buffer.from("xxabcdefyy");
    const inner = backing.subarray(2, 8);
    expect(compactInto(inner, [backing.subarray(0, 4), inner.subarray(4)])).toBeNull();
    expect(backing.toString()).toBe("xxabcdefyy");
  });
});
