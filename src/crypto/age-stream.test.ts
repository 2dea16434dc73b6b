/**
 * The age STREAM payload: chunk boundaries, against an independent reference written here from
 * the spec (c2sp.org/age, "Payload") and against typage; and every way a payload can be cut,
 * reordered or re-flagged. CCTV (cctv.test.ts) covers the community's stream_* vectors.
 */
import * as nodeCrypto from "node:crypto";
import { Decrypter, Encrypter } from "age-encryption";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decryptFile, encryptFile } from "./age-file.js";
import { CHUNK_BYTES, decryptPayload, encryptPayload } from "./age-stream.js";
import { generateIdentity, identityToRecipient, randomBytes, sha256 } from "./index.js";
import { parseIdentity } from "./identity.js";
import { X25519Identity } from "./x25519-stanza.js";
import { expectCodeSync, flipBit, toHex } from "./crypto.test-helpers.js";

const KIB64 = 64 * 1024;
const SIZES = [0, 1, KIB64 - 1, KIB64, KIB64 + 1, 2 * KIB64, 2 * KIB64 + 1];

/** One chunk as the spec describes it: 11-byte big-endian counter, then the final flag. */
function sealChunk(key: Uint8Array, counter: number, final: boolean, plaintext: Uint8Array): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(BigInt(counter), 3);
  nonce[11] = final ? 1 : 0;
  const cipher = nodeCrypto.createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** A payload built chunk by chunk: each entry is one chunk's plaintext and its final flag. */
function payload(fileKey: Uint8Array, chunks: readonly { data: Uint8Array; final: boolean }[]): Uint8Array {
  const nonce = nodeCrypto.randomBytes(16);
  const key = new Uint8Array(nodeCrypto.hkdfSync("sha256", fileKey, nonce, "payload", 32));
  return Buffer.concat([nonce, ...chunks.map((c, i) => sealChunk(key, i, c.final, c.data))]);
}

/** The spec's own chunking of `plaintext`. */
function referencePayload(fileKey: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const n = Math.max(1, Math.ceil(plaintext.length / KIB64));
  return payload(
    fileKey,
    Array.from({ length: n }, (_, i) => ({ data: plaintext.subarray(i * KIB64, (i + 1) * KIB64), final: i === n - 1 })),
  );
}

const chunkOf = (n: number) => randomBytes(n);

describe("STREAM payload", () => {
  it("uses 64 KiB chunks", () => {
    expect(CHUNK_BYTES).toBe(KIB64);
  });

  for (const size of SIZES) {
    it(`round-trips ${size} bytes, in ${Math.max(1, Math.ceil(size / KIB64))} chunk(s) with a tag each`, () => {
      const fileKey = randomBytes(16);
      const plaintext = randomBytes(size);
      const sealed = encryptPayload(fileKey, plaintext);
      expect(sealed.length).toBe(16 + size + 16 * Math.max(1, Math.ceil(size / KIB64)));
      expect(toHex(decryptPayload(fileKey, sealed))).toBe(toHex(plaintext));
    });

    it(`reads the reference chunking of ${size} bytes`, () => {
      const fileKey = randomBytes(16);
      const plaintext = randomBytes(size);
      expect(toHex(decryptPayload(fileKey, referencePayload(fileKey, plaintext)))).toBe(toHex(plaintext));
    });
  }

  it("marks an exactly 64 KiB payload's only chunk final, with no empty chunk after it", () => {
    const fileKey = randomBytes(16);
    const plaintext = randomBytes(KIB64);
    expect(toHex(decryptPayload(fileKey, payload(fileKey, [{ data: plaintext, final: true }])))).toBe(toHex(plaintext));
    expect(encryptPayload(fileKey, plaintext).length).toBe(16 + KIB64 + 16);
  });

  it("carries the chunk counter past one byte (257 chunks)", () => {
    const fileKey = randomBytes(16);
    const plaintext = randomBytes(256 * KIB64 + 3);
    expect(toHex(sha256(decryptPayload(fileKey, referencePayload(fileKey, plaintext))))).toBe(toHex(sha256(plaintext)));
    expect(toHex(sha256(decryptPayload(fileKey, encryptPayload(fileKey, plaintext))))).toBe(toHex(sha256(plaintext)));
  });

  it("round-trips any plaintext up to three chunks", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 * KIB64 }), (size) => {
        const fileKey = randomBytes(16);
        const plaintext = randomBytes(size);
        expect(toHex(decryptPayload(fileKey, encryptPayload(fileKey, plaintext)))).toBe(toHex(plaintext));
      }),
      { numRuns: 25 },
    );
  });
});

describe("STREAM payloads that must fail INTEGRITY", () => {
  const fileKey = randomBytes(16);
  const full = chunkOf(KIB64);
  const fails = (p: Uint8Array) => expectCodeSync(() => decryptPayload(fileKey, p), "INTEGRITY");

  it("has no final chunk: a full chunk not marked final, and nothing after", () => {
    fails(payload(fileKey, [{ data: full, final: false }]));
    fails(
      payload(fileKey, [
        { data: full, final: false },
        { data: full, final: false },
      ]),
    );
  });

  it("ends with an empty final chunk after a full one", () => {
    const e = fails(
      payload(fileKey, [
        { data: full, final: false },
        { data: new Uint8Array(0), final: true },
      ]),
    );
    expect(e.message).toMatch(/empty chunk/);
  });

  it("has a final chunk followed by another", () => {
    fails(
      payload(fileKey, [
        { data: full, final: true },
        { data: chunkOf(5), final: true },
      ]),
    );
    fails(
      payload(fileKey, [
        { data: full, final: true },
        { data: chunkOf(5), final: false },
      ]),
    );
  });

  it("has a short chunk before the final one", () => {
    fails(
      payload(fileKey, [
        { data: chunkOf(100), final: false },
        { data: chunkOf(5), final: true },
      ]),
    );
  });

  it("has its chunks reordered", () => {
    const p = payload(fileKey, [
      { data: full, final: false },
      { data: chunkOf(KIB64), final: false },
      { data: chunkOf(9), final: true },
    ]);
    const c = 16 + KIB64;
    fails(Buffer.concat([p.subarray(0, 16), p.subarray(16 + c, 16 + 2 * c), p.subarray(16, 16 + c), p.subarray(16 + 2 * c)]));
  });

  it("is cut at or near a chunk boundary, or extended past the final chunk", () => {
    const p = encryptPayload(fileKey, chunkOf(KIB64 + 1));
    const boundary = 16 + KIB64 + 16;
    for (const n of [0, 15, 16, 31, 32, boundary - 1, boundary, boundary + 1, boundary + 16, p.length - 1]) {
      fails(p.subarray(0, n));
    }
    for (const extra of [Buffer.of(0), Buffer.alloc(16), nodeCrypto.randomBytes(KIB64 + 16)]) {
      fails(Buffer.concat([p, extra]));
    }
  });

  it("has any bit flipped, in the nonce, either chunk or either tag", () => {
    const p = encryptPayload(fileKey, chunkOf(KIB64 + 100));
    const boundary = 16 + KIB64 + 16;
    const edges = [0, 15, 16, 17, boundary - 17, boundary - 16, boundary - 1, boundary, boundary + 1, p.length - 17, p.length - 1];
    for (const i of edges) fails(flipBit(p, i, i % 8));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: p.length - 1 }), fc.integer({ min: 0, max: 7 }), (i, bit) => {
        fails(flipBit(p, i, bit));
      }),
      { numRuns: 200 },
    );
  });

  it("is opened with another file key", () => {
    fails(encryptPayload(randomBytes(16), chunkOf(10)));
  });
});

describe("whole files at the chunk boundaries agree with typage", () => {
  for (const size of SIZES) {
    it(`${size} bytes, both ways`, async () => {
      const identity = await generateIdentity();
      const recipient = await identityToRecipient(identity);
      const plaintext = randomBytes(size);

      const d = new Decrypter();
      d.addIdentity(identity);
      expect(toHex(await d.decrypt(await encryptFile(plaintext, [recipient])))).toBe(toHex(plaintext));

      const e = new Encrypter();
      e.addRecipient(recipient);
      const theirs = await e.encrypt(plaintext);
      expect(toHex(await decryptFile(theirs, [new X25519Identity(parseIdentity(identity))]))).toBe(toHex(plaintext));
    });
  }
});
