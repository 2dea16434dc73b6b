import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { constantTimeEqual, constantTimeEqualHex, Hmac32, HmacKey, hmacSha256, sha256, sha256Hex } from "./index.js";
import { hex, toHex, utf8 } from "./crypto.test-helpers.js";
import { opensslHmacSha256, type HmacSha256Into } from "./openssl.js";

describe("sha256", () => {
  it("matches FIPS 180-2 vectors", () => {
    expect(toHex(sha256())).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(toHex(sha256(utf8("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("hashes several parts as their concatenation", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 5 }), (parts) => {
        expect(toHex(sha256(...parts))).toBe(toHex(sha256(Buffer.concat(parts))));
      }),
    );
  });
});

describe("hmacSha256", () => {
  it("matches RFC 4231 test cases 1, 2 and 6", () => {
    expect(toHex(hmacSha256(hex("0b".repeat(20)), utf8("Hi There")))).toBe("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    expect(toHex(hmacSha256(utf8("Jefe"), utf8("what do ya want "), utf8("for nothing?")))).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
    expect(toHex(hmacSha256(hex("aa".repeat(131)), utf8("Test Using Larger Than Block-Size Key - Hash Key First")))).toBe(
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    );
  });
});

describe("constantTimeEqual", () => {
  it("is true only for identical bytes", () => {
    expect(constantTimeEqual(hex("00ff"), hex("00ff"))).toBe(true);
    expect(constantTimeEqual(hex("00ff"), hex("00fe"))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });

  it("returns false for different lengths instead of throwing", () => {
    expect(constantTimeEqual(hex("00"), hex("0000"))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), hex("00"))).toBe(false);
  });

  it("agrees with a plain comparison", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (a, b) => {
        expect(constantTimeEqual(a, b)).toBe(Buffer.from(a).equals(Buffer.from(b)));
      }),
    );
  });
});

describe("sha256Hex", () => {
  it("is sha256 in lowercase hex", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        expect(sha256Hex(data)).toBe(toHex(sha256(data)));
      }),
    );
  });
});

describe("Hmac32", () => {
  it("gives hmacSha256's MAC for any key and any 32-byte message, call after call", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 150 }),
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 5 }),
        (key, messages) => {
          const mac = new Hmac32(key);
          for (const m of messages) expect(mac.macHex(toHex(m))).toBe(toHex(hmacSha256(key, m)));
        },
      ),
    );
  });

  it("refuses a message that is not 32 bytes of hex", () => {
    const mac = new Hmac32(new Uint8Array(32));
    expect(() => mac.macHex("00".repeat(31))).toThrow(/32 bytes/);
    expect(() => mac.macHex("zz".repeat(32))).toThrow(/32 bytes/);
  });

  it("forgets its key pads when wiped", () => {
    const key = hex("0b".repeat(32));
    const mac = new Hmac32(key);
    const before = mac.macHex("00".repeat(32));
    mac.wipe();
    expect(mac.macHex("00".repeat(32))).not.toBe(before);
  });
});

describe("OpenSSL's HMAC(), called directly", () => {
  it("is there on Linux, where authy's CLI runs it", () => {
    expect(process.platform !== "linux" || opensslHmacSha256() !== null).toBe(true);
  });
});

const ways: [string, HmacSha256Into | null][] = [
  ["through OpenSSL's HMAC()", opensslHmacSha256()],
  ["as two hashes over its pads", null],
];

describe.each(ways)("HmacKey %s", (_, direct) => {
  it("gives hmacSha256's MAC for any key and any message, call after call, short and long", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 150 }), fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 6 }), (key, messages) => {
        const mac = new HmacKey(key, direct);
        for (const m of messages) expect(toHex(mac.mac(m))).toBe(toHex(hmacSha256(key, m)));
      }),
    );
  });

  it("matches RFC 4231 test case 2", () => {
    const mac = new HmacKey(new TextEncoder().encode("Jefe"), direct);
    expect(toHex(mac.mac(new TextEncoder().encode("what do ya want for nothing?")))).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });

  it("returns a MAC of its own, not a view of its scratch space, and forgets its key when wiped", () => {
    const mac = new HmacKey(hex("0b".repeat(32)), direct);
    const first = mac.mac(hex("00"));
    const copy = Uint8Array.from(first);
    mac.mac(hex("ff".repeat(40)));
    expect(first).toEqual(copy);
    mac.wipe();
    expect(mac.mac(hex("00"))).not.toEqual(copy);
  });
});

describe("constantTimeEqualHex", () => {
  it("is true only for identical strings", () => {
    expect(constantTimeEqualHex("00ff", "00ff")).toBe(true);
    expect(constantTimeEqualHex("00ff", "00fe")).toBe(false);
    expect(constantTimeEqualHex("00ff", "00f")).toBe(false);
    expect(constantTimeEqualHex("", "")).toBe(true);
  });
});
