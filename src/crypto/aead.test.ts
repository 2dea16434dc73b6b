import * as nodeCrypto from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seal } from "./index.js";
import { nodeGcmDecrypt, openWith } from "./aead.js";
import { opensslGcmDecrypt, type GcmDecrypt } from "./openssl.js";
import { expectCodeSync, flipBit, hex, toHex, utf8 } from "./crypto.test-helpers.js";

const key = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
const aad = utf8("vault-1/prod/API_KEY/v3");

// McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13, 14 and 16 (AES-256),
// checked against Python's cryptography package.
const GCM_VECTORS = [
  {
    name: "test case 13 (empty plaintext)",
    key: "00".repeat(32),
    nonce: "00".repeat(12),
    aad: "",
    plaintext: "",
    ciphertext: "",
    tag: "530f8afbc74536b9a963b4f1c4cb738b",
  },
  {
    name: "test case 14",
    key: "00".repeat(32),
    nonce: "00".repeat(12),
    aad: "",
    plaintext: "00".repeat(16),
    ciphertext: "cea7403d4d606b6e074ec5d3baf39d18",
    tag: "d0d1c8a799996bf0265b98b5d48ab919",
  },
  {
    name: "test case 16 (with additional data)",
    key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
    nonce: "cafebabefacedbaddecaf888",
    aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
    plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
    tag: "76fc6ece0f4e1768cddf8853bb2d551b",
  },
];

const openssl = opensslGcmDecrypt();
/** open() decrypts with OpenSSL directly where it can, node:crypto otherwise: both are held to everything below. */
const DECRYPTS: [string, GcmDecrypt | null][] = [
  ["OpenSSL called directly", openssl],
  ["node:crypto", nodeGcmDecrypt],
];

it("calls OpenSSL directly on Linux (where koffi and Node.js's own OpenSSL are there)", () => {
  expect(openssl !== null).toBe(process.platform === "linux");
});

it("decrypts exactly as node:crypto does, tampered or not", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.boolean(), (plaintext, ad, at, tamper) => {
      const sealed = seal(key, plaintext, ad);
      const nonce = sealed.subarray(1, 13);
      const body = Uint8Array.from(sealed.subarray(13, sealed.length - 16));
      const tag = sealed.subarray(sealed.length - 16);
      if (tamper && body.length > 0) body[at % body.length]! ^= 1;
      const viaNode = nodeGcmDecrypt(key, nonce, body, tag, ad);
      const viaOpenssl = (openssl ?? nodeGcmDecrypt)(key, nonce, body, tag, ad);
      expect(viaOpenssl && toHex(viaOpenssl)).toBe(viaNode && toHex(viaNode));
      expect(viaNode === null).toBe(tamper && body.length > 0);
    }),
  );
});

describe.each(DECRYPTS)("with %s", (_name, decrypt) => {
  const open = (k: Uint8Array, sealed: Uint8Array, ad: Uint8Array) => openWith(decrypt ?? nodeGcmDecrypt, k, sealed, ad);

  it("returns plaintext in memory of its own, so that wiping one result touches nothing else", () => {
    const sealed = seal(key, utf8("wipe me"), aad);
    const first = open(key, sealed, aad);
    const second = open(key, sealed, aad);
    expect(Object.getPrototypeOf(first)).toBe(Uint8Array.prototype);
    expect(first.byteOffset).toBe(0);
    expect(first.buffer.byteLength).toBe(first.length);
    first.fill(0);
    expect(Buffer.from(second).toString()).toBe("wipe me");
    expect(Buffer.from(open(key, sealed, aad)).toString()).toBe("wipe me");
  });

  it("refuses a key that is not 32 bytes (a bug, not tampering)", () => {
    expectCodeSync(() => open(new Uint8Array(16), seal(key, utf8("x"), aad), aad), "INTERNAL");
  });

  describe("open", () => {
    for (const v of GCM_VECTORS) {
      it(`opens the GCM ${v.name} vector in the 0x01 | nonce | ciphertext | tag layout`, () => {
        const sealed = hex("01" + v.nonce + v.ciphertext + v.tag);
        expect(toHex(open(hex(v.key), sealed, hex(v.aad)))).toBe(v.plaintext);
      });
    }

    it("opens what seal wrote, for any plaintext and additional data", () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 64 }), (plaintext, ad) => {
          expect(toHex(open(key, seal(key, plaintext, ad), ad))).toBe(toHex(plaintext));
        }),
      );
    });
  });

  describe("tampering with sealed data", () => {
    const plaintext = utf8("correct horse battery staple");
    const sealed = seal(key, plaintext, aad);

    it("fails INTEGRITY for every single-bit flip of every byte", () => {
      for (let i = 0; i < sealed.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          expectCodeSync(() => open(key, flipBit(sealed, i, bit), aad), "INTEGRITY");
        }
      }
    });

    it("fails INTEGRITY when truncated to any length", () => {
      for (let n = 0; n < sealed.length; n++) {
        expectCodeSync(() => open(key, sealed.subarray(0, n), aad), "INTEGRITY");
      }
    });

    it("fails INTEGRITY with garbage appended", () => {
      for (const extra of [hex("00"), hex("ffff"), new Uint8Array(16), nodeCrypto.randomBytes(100)]) {
        expectCodeSync(() => open(key, Buffer.concat([sealed, extra]), aad), "INTEGRITY");
      }
    });

    it("refuses a tag cut to 4 or 15 bytes, which GCM without a tag length would accept", () => {
      const body = sealed.subarray(0, sealed.length - 16);
      const tag = sealed.subarray(sealed.length - 16);
      for (const n of [4, 8, 12, 15]) {
        // Node 20 really does accept the short tag when no length is pinned:
        const lax = nodeCrypto.createDecipheriv("aes-256-gcm", key, sealed.subarray(1, 13));
        lax.setAAD(aad);
        lax.setAuthTag(tag.subarray(0, n));
        expect(Buffer.concat([lax.update(body.subarray(13)), lax.final()]).toString()).toBe("correct horse battery staple");
        expectCodeSync(() => open(key, Buffer.concat([body, tag.subarray(0, n)]), aad), "INTEGRITY");
      }
    });

    it("fails INTEGRITY for another version byte", () => {
      for (const v of [0x00, 0x02, 0xff]) {
        const other = Uint8Array.from(sealed);
        other[0] = v;
        expectCodeSync(() => open(key, other, aad), "INTEGRITY");
      }
    });

    it("fails INTEGRITY under another key", () => {
      const otherKey = Uint8Array.from(key);
      otherKey[31]! ^= 1;
      expectCodeSync(() => open(otherKey, sealed, aad), "INTEGRITY");
    });

    it("binds the additional data: any other aad fails INTEGRITY", () => {
      expectCodeSync(() => open(key, sealed, utf8("vault-1/prod/API_KEY/v4")), "INTEGRITY");
      expectCodeSync(() => open(key, sealed, new Uint8Array(0)), "INTEGRITY");
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 40 }), (other) => {
          fc.pre(toHex(other) !== toHex(aad));
          expectCodeSync(() => open(key, sealed, other), "INTEGRITY");
        }),
        { numRuns: 200 },
      );
    });

    it("never puts key or plaintext in the error", () => {
      const e = expectCodeSync(() => open(key, flipBit(sealed, 20, 0), aad), "INTEGRITY");
      expect(e.message).not.toContain("correct horse");
      expect(e.message).not.toContain(toHex(key));
    });
  });
});

describe("seal", () => {
  it("writes version 1, a 12-byte nonce, the ciphertext and a 16-byte tag", () => {
    const plaintext = utf8("sk-live-123");
    const sealed = seal(key, plaintext, aad);
    expect(sealed).toHaveLength(1 + 12 + plaintext.length + 16);
    expect(sealed[0]).toBe(0x01);
    // Decrypting the parts with a plain AES-256-GCM gives the plaintext back.
    const d = nodeCrypto.createDecipheriv("aes-256-gcm", key, sealed.subarray(1, 13), { authTagLength: 16 });
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    expect(Buffer.concat([d.update(sealed.subarray(13, sealed.length - 16)), d.final()]).toString()).toBe("sk-live-123");
  });

  it("uses a fresh nonce every time", () => {
    const nonces = new Set(Array.from({ length: 1000 }, () => toHex(seal(key, utf8("x"), aad).subarray(1, 13))));
    expect(nonces.size).toBe(1000);
  });

  it("refuses a key that is not 32 bytes (a bug, not tampering)", () => {
    expectCodeSync(() => seal(new Uint8Array(16), utf8("x"), aad), "INTERNAL");
  });
});
