import { describe, expect, it } from "vitest";
import { deriveKey, generateVaultKey, VAULT_KEY_BYTES, type KeyPurpose } from "./index.js";
import { expectCodeSync, toHex } from "./crypto.test-helpers.js";

// HKDF-SHA-256(ikm = 00 01 … 1f, salt = empty, info = "authy/v1/" + purpose, L = 32), computed
// with Python's hmac module (an implementation independent of node:crypto); the same helper
// reproduces RFC 5869 test case 3.
const VECTORS: Record<KeyPurpose, string> = {
  "dek-wrap": "a1563cd93b618df8b37dbfa3eb49c5e8466700be5b97b7f0f706772cfbc191b7",
  "row-mac": "41dbaa0b25e8bd093af3e58b3d50b097ae35726246139feca6de7b1ca79dfd49",
  "audit-mac": "0ac418fca1ae3f1cb616cb9029dddf8056ff914e7fc406b326b7e55a473d9b7f",
  "slot-mac": "66894df5573d1bd46e23ea6085c3871348b00acdcdb1191ebfa8895be4961367",
  "token-hash": "0cb0b0906aad7b94c380d5bf242f5b387ff039458998264350500c9050e71cae",
  session: "192ae4e246f22e943623781a44c2b5156cdaef51e7e0f3e8b603619625d89f7a",
};

describe("deriveKey", () => {
  const vaultKey = Uint8Array.from({ length: 32 }, (_, i) => i);

  it("derives each purpose key as HKDF-SHA-256 with info authy/v1/<purpose>", () => {
    for (const [purpose, expected] of Object.entries(VECTORS)) {
      expect(toHex(deriveKey(vaultKey, purpose as KeyPurpose)), purpose).toBe(expected);
    }
  });

  it("gives every purpose a different key", () => {
    const keys = new Set(Object.keys(VECTORS).map((p) => toHex(deriveKey(generateVaultKey(), p as KeyPurpose))));
    expect(keys.size).toBe(6);
  });

  it("refuses a vault key that is not 32 bytes", () => {
    expectCodeSync(() => deriveKey(new Uint8Array(31), "row-mac"), "INTERNAL");
    expectCodeSync(() => deriveKey(new Uint8Array(33), "row-mac"), "INTERNAL");
  });

  it("refuses an unknown purpose from untyped callers", () => {
    expectCodeSync(() => deriveKey(vaultKey, "other" as KeyPurpose), "INTERNAL");
  });
});

describe("generateVaultKey", () => {
  it("returns 32 fresh random bytes", () => {
    expect(VAULT_KEY_BYTES).toBe(32);
    const a = generateVaultKey();
    expect(a).toHaveLength(32);
    expect(toHex(a)).not.toBe(toHex(generateVaultKey()));
  });
});
