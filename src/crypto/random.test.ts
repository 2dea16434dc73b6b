import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { randomBytes, randomChars, randomId, randomToken } from "./index.js";
import { expectCodeSync } from "./crypto.test-helpers.js";

describe("randomBytes", () => {
  it("returns exactly n bytes, and different bytes each time", () => {
    expect(randomBytes(0)).toHaveLength(0);
    expect(randomBytes(33)).toHaveLength(33);
    expect(Buffer.from(randomBytes(32)).equals(Buffer.from(randomBytes(32)))).toBe(false);
  });

  it("refuses a negative or fractional count", () => {
    expectCodeSync(() => randomBytes(-1), "INTERNAL");
    expectCodeSync(() => randomBytes(1.5), "INTERNAL");
  });
});

describe("randomToken", () => {
  it("is 32 random bytes as unpadded base64url by default", () => {
    const t = randomToken();
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(t, "base64url")).toHaveLength(32);
    expect(randomToken()).not.toBe(t);
  });

  it("takes a size in bytes", () => {
    expect(Buffer.from(randomToken(16), "base64url")).toHaveLength(16);
  });
});

describe("randomId", () => {
  it("is the prefix and 16 lowercase base32 characters (10 bytes) by default", () => {
    expect(randomId("apr_")).toMatch(/^apr_[a-z2-7]{16}$/);
  });

  it("encodes other sizes without padding", () => {
    expect(randomId("x", 1)).toMatch(/^x[a-z2-7]{2}$/);
    expect(randomId("tok_", 32)).toMatch(/^tok_[a-z2-7]{52}$/);
  });

  it("does not repeat across many draws", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => randomId("a_")));
    expect(ids.size).toBe(10_000);
  });
});

describe("randomChars", () => {
  it("draws only from the alphabet, at the asked length", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 200 }),
        (symbols, length) => {
          const alphabet = symbols.join("");
          const points = new Set(Array.from(alphabet));
          fc.pre(points.size === Array.from(alphabet).length);
          const out = Array.from(randomChars(length, alphabet));
          expect(out).toHaveLength(length);
          for (const c of out) expect(points.has(c)).toBe(true);
        },
      ),
    );
  });

  it("is unbiased where modulo reduction would not be (200 symbols from 256 byte values)", () => {
    // Reducing a byte modulo 200 makes symbols 0–55 twice as likely as the rest. With 400,000
    // draws each symbol expects 2,000; a chi-square over 199 degrees of freedom stays far
    // below 300 when uniform, and runs into the tens of thousands with that bias.
    const alphabet = Array.from({ length: 200 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join("");
    const counts = new Map<string, number>();
    for (let i = 0; i < 8; i++) {
      for (const c of randomChars(50_000, alphabet)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    const expected = 400_000 / 200;
    let chi2 = 0;
    for (const c of alphabet) chi2 += ((counts.get(c) ?? 0) - expected) ** 2 / expected;
    expect(counts.size).toBe(200);
    expect(chi2).toBeLessThan(300);
  });

  it("handles alphabets wider than one byte", () => {
    const alphabet = Array.from({ length: 300 }, (_, i) => String.fromCodePoint(0x100 + i)).join("");
    expect(Array.from(randomChars(1000, alphabet))).toHaveLength(1000);
  });

  it("refuses an empty alphabet, a duplicate character, or a length below 1", () => {
    expectCodeSync(() => randomChars(8, ""), "INVALID_INPUT", /empty/);
    expectCodeSync(() => randomChars(8, "abca"), "INVALID_INPUT", /duplicate/);
    expectCodeSync(() => randomChars(0, "abc"), "INVALID_INPUT");
    expectCodeSync(() => randomChars(-3, "abc"), "INVALID_INPUT");
    expectCodeSync(() => randomChars(2.5, "abc"), "INVALID_INPUT");
    expectCodeSync(() => randomChars(10_000_000, "abc"), "INVALID_INPUT");
  });
});
