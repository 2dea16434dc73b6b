import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { utf8Text } from "./utf8-text.js";

describe("utf8Text", () => {
  it("decodes exactly the byte strings that round-trip through UTF-8", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = Buffer.from(bytes).toString("utf8");
        const roundTrips = Buffer.from(text, "utf8").equals(bytes);
        expect(utf8Text(bytes)).toBe(roundTrips ? text : null);
      }),
      { numRuns: 2000 },
    );
  });

  it("keeps a byte-order mark, NUL and every plane", () => {
    const text = "\uFEFFa\u0000é中😀";
    expect(utf8Text(Buffer.from(text, "utf8"))).toBe(text);
    expect(utf8Text(new Uint8Array(0))).toBe("");
  });

  it("refuses overlong forms, encoded surrogates, truncated sequences and stray continuation bytes", () => {
    for (const bad of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe4, 0xb8], [0x80], [0xff], [0xf4, 0x90, 0x80, 0x80]]) {
      expect(utf8Text(Uint8Array.from(bad))).toBeNull();
    }
  });
});
