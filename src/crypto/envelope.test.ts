import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deriveKey, encodeFields, generateVaultKey, open, openValue, rewrapDek, seal, sealValue } from "./index.js";
import { expectCodeSync, flipBit, toHex, utf8 } from "./crypto.test-helpers.js";

const wrapKey = deriveKey(generateVaultKey(), "dek-wrap");
const aadFor = (vault: string, path: string, version: number, type = "api_key", tier = "standard") => encodeFields([1, vault, path, version, type, tier]);
const aad = aadFor("vlt_1", "prod/openai/API_KEY", 3);

describe("sealValue / openValue", () => {
  it("round-trips any value under any additional data", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), fc.uint8Array({ maxLength: 64 }), (value, ad) => {
        const { sealed, wrappedDek } = sealValue(wrapKey, value, ad);
        expect(toHex(openValue(wrapKey, sealed, wrappedDek, ad))).toBe(toHex(value));
      }),
    );
  });

  it("uses a fresh data key per call", () => {
    const a = sealValue(wrapKey, utf8("v"), aad);
    const b = sealValue(wrapKey, utf8("v"), aad);
    expect(toHex(a.sealed)).not.toBe(toHex(b.sealed));
    expect(toHex(a.wrappedDek)).not.toBe(toHex(b.wrappedDek));
    // Each half opens only with its own other half.
    expectCodeSync(() => openValue(wrapKey, a.sealed, b.wrappedDek, aad), "INTEGRITY");
  });

  it("stores both halves in the version-1 aead layout", () => {
    const { sealed, wrappedDek } = sealValue(wrapKey, utf8("abc"), aad);
    expect(sealed[0]).toBe(0x01);
    expect(sealed).toHaveLength(1 + 12 + 3 + 16);
    expect(wrappedDek[0]).toBe(0x01);
    expect(wrappedDek).toHaveLength(1 + 12 + 32 + 16);
  });

  it("domain-separates the two halves: neither opens with the bare aad or in the other's place", () => {
    const { sealed, wrappedDek } = sealValue(wrapKey, utf8("abc"), aad);
    expectCodeSync(() => open(wrapKey, wrappedDek, aad), "INTEGRITY");
    expectCodeSync(() => openValue(wrapKey, wrappedDek, sealed, aad), "INTEGRITY");
    // A value sealed directly under the wrap key with the DEK's aad is still not a DEK for it.
    const fake = seal(wrapKey, utf8("x"), aad);
    expectCodeSync(() => openValue(wrapKey, sealed, fake, aad), "INTEGRITY");
  });

  it("fails to open in another row, version, vault, type or tier", () => {
    const { sealed, wrappedDek } = sealValue(wrapKey, utf8("sk-live"), aad);
    for (const other of [
      aadFor("vlt_1", "prod/openai/OTHER", 3),
      aadFor("vlt_1", "prod/openai/API_KEY", 2),
      aadFor("vlt_2", "prod/openai/API_KEY", 3),
      aadFor("vlt_1", "prod/openai/API_KEY", 3, "custom"),
      aadFor("vlt_1", "prod/openai/API_KEY", 3, "api_key", "critical"),
    ]) {
      expectCodeSync(() => openValue(wrapKey, sealed, wrappedDek, other), "INTEGRITY");
    }
  });

  it("fails INTEGRITY for every bit flip of the sealed value and of the wrapped data key", () => {
    const { sealed, wrappedDek } = sealValue(wrapKey, utf8("hunter2 hunter2"), aad);
    for (let i = 0; i < sealed.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        expectCodeSync(() => openValue(wrapKey, flipBit(sealed, i, bit), wrappedDek, aad), "INTEGRITY");
      }
    }
    for (let i = 0; i < wrappedDek.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        expectCodeSync(() => openValue(wrapKey, sealed, flipBit(wrappedDek, i, bit), aad), "INTEGRITY");
      }
    }
  });

  it("fails INTEGRITY when either half is truncated or extended", () => {
    const { sealed, wrappedDek } = sealValue(wrapKey, utf8("value"), aad);
    for (let n = 0; n < sealed.length; n++) {
      expectCodeSync(() => openValue(wrapKey, sealed.subarray(0, n), wrappedDek, aad), "INTEGRITY");
    }
    for (let n = 0; n < wrappedDek.length; n++) {
      expectCodeSync(() => openValue(wrapKey, sealed, wrappedDek.subarray(0, n), aad), "INTEGRITY");
    }
    expectCodeSync(() => openValue(wrapKey, Buffer.concat([sealed, Buffer.of(0)]), wrappedDek, aad), "INTEGRITY");
    expectCodeSync(() => openValue(wrapKey, sealed, Buffer.concat([wrappedDek, Buffer.of(0)]), aad), "INTEGRITY");
  });

  it("fails INTEGRITY under another wrap key", () => {
    const { sealed, wrappedDek } = sealValue(wrapKey, utf8("value"), aad);
    expectCodeSync(() => openValue(deriveKey(generateVaultKey(), "dek-wrap"), sealed, wrappedDek, aad), "INTEGRITY");
  });
});

describe("rewrapDek", () => {
  it("moves a data key to a new wrap key without touching the sealed value", () => {
    const newWrapKey = deriveKey(generateVaultKey(), "dek-wrap");
    const { sealed, wrappedDek } = sealValue(wrapKey, utf8("rotate me"), aad);
    const rewrapped = rewrapDek(wrapKey, newWrapKey, wrappedDek, aad);
    expect(new TextDecoder().decode(openValue(newWrapKey, sealed, rewrapped, aad))).toBe("rotate me");
    expectCodeSync(() => openValue(wrapKey, sealed, rewrapped, aad), "INTEGRITY");
  });

  it("fails INTEGRITY if the old key or the aad is wrong", () => {
    const { wrappedDek } = sealValue(wrapKey, utf8("x"), aad);
    const other = deriveKey(generateVaultKey(), "dek-wrap");
    expectCodeSync(() => rewrapDek(other, wrapKey, wrappedDek, aad), "INTEGRITY");
    expectCodeSync(() => rewrapDek(wrapKey, other, wrappedDek, aadFor("vlt_1", "a/B", 1)), "INTEGRITY");
  });
});
