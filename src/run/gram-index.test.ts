import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GramIndex } from "./gram-index.js";

/** Which bytes of `buf` some occurrence of some pattern covers: what masking hides. */
function coveredNaively(buf: Buffer, patterns: readonly Buffer[]): boolean[] {
  const covered = new Array<boolean>(buf.length).fill(false);
  for (const p of patterns) {
    for (let at = buf.indexOf(p); at !== -1; at = buf.indexOf(p, at + 1)) covered.fill(true, at, at + p.length);
  }
  return covered;
}

function coveredBy(index: GramIndex, buf: Buffer): boolean[] {
  const found: number[] = [];
  index.find(buf, 0, Infinity, found);
  const covered = new Array<boolean>(buf.length).fill(false);
  for (let i = 0; i < found.length; i += 2) covered.fill(true, found[i], found[i + 1]);
  return covered;
}

describe("GramIndex", () => {
  // 40 secrets that share their "sss…" runs: every gram of those runs has 40 entries, more than
  // a sample is worth comparing, so such samples go to the automaton once they are frequent.
  const secrets = Array.from({ length: 40 }, (_, i) => Buffer.from(`sk-${i}-${"s".repeat(24)}-${i % 7}`));
  const text = fc
    .array(fc.oneof(fc.nat({ max: 39 }), fc.constantFrom("s", "ssss", "sk-1", " ", "s".repeat(30))), { maxLength: 30 })
    .map((parts) => Buffer.from(parts.map((p) => (typeof p === "number" ? secrets[p]!.toString() : p)).join("")));

  for (const [way, compares] of [
    ["comparing every entry of a hot gram", Infinity],
    ["handing hot samples to the automaton at once", 0],
    ["switching to the automaton part way", 200],
  ] as const) {
    it(`finds every occurrence ${way}`, () => {
      fc.assert(
        fc.property(text, (buf) => {
          expect(coveredBy(new GramIndex(secrets, compares), buf)).toEqual(coveredNaively(buf, secrets));
        }),
        { numRuns: 300 },
      );
    });
  }
});
