import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AhoCorasick } from "./aho-corasick.js";
import { PartialMatch } from "./partial-match.js";

/** The longest suffix of `tail` that is a proper prefix of a pattern, by brute force. */
function naiveHold(patterns: readonly Buffer[], tail: Buffer): number {
  for (let from = 0; from < tail.length; from++) {
    const s = tail.subarray(from);
    if (patterns.some((p) => p.length > s.length && p.subarray(0, s.length).equals(s))) return s.length;
  }
  return 0;
}

describe("PartialMatch", () => {
  it("holds the longest suffix that a longer pattern starts with, as the automaton does", () => {
    const bytes = (min: number, max: number) =>
      fc.array(fc.constantFrom(0x61, 0x62, 0x63, 0xff), { minLength: min, maxLength: max }).map((a) => Buffer.from(a));
    fc.assert(
      fc.property(fc.array(bytes(1, 9), { minLength: 1, maxLength: 6 }), bytes(0, 12), (patterns, tail) => {
        const partial = new PartialMatch(patterns);
        const maxLength = Math.max(...patterns.map((p) => p.length));
        // The masker asks about the last maxLength - 1 bytes only; a partial match is shorter.
        const window = tail.subarray(Math.max(0, tail.length - maxLength + 1));
        const automaton = new AhoCorasick(patterns);
        expect(partial.hold(window)).toBe(automaton.hold(automaton.run(window, 0)));
        expect(partial.hold(window)).toBe(naiveHold(patterns, window));
      }),
      { numRuns: 2000 },
    );
  });

  it("holds nothing after a newline when no pattern has one", () => {
    const partial = new PartialMatch([Buffer.from("secret-value")]);
    expect(partial.hold(Buffer.from("log line\n"))).toBe(0);
    expect(partial.hold(Buffer.from("token=secret-va"))).toBe("secret-va".length);
    expect(partial.hold(Buffer.from("token=secret-value"))).toBe(0);
  });
});
