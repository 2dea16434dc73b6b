import * as nodeCrypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { decryptFile, encryptFile } from "./age-file.js";
import {
  generateIdentity,
  generateVaultKey,
  identityToRecipient,
  SCRYPT_LOG_N_DEFAULT,
  SCRYPT_LOG_N_MAX,
  SCRYPT_LOG_N_MIN,
  slotScryptLogN,
  unwrapWithIdentities,
  unwrapWithPassphrase,
  wrapToRecipient,
  wrapWithPassphrase,
} from "./index.js";
import { ScryptIdentity, scryptDerive, type ScryptDerive } from "./scrypt-stanza.js";
import { caught, expectCode, flipBit, toHex } from "./crypto.test-helpers.js";

/** The cheapest work factor policy allows; every test but the default's uses it. */
const FAST = SCRYPT_LOG_N_MIN;
const PASSPHRASE = "correct horse battery staple";

/** A slot with its work factor argument rewritten (which also breaks its MAC). */
function withWorkFactor(slot: Uint8Array, logN: string): Uint8Array {
  const text = Buffer.from(slot).toString("latin1");
  return new Uint8Array(Buffer.from(text.replace(/^(-> scrypt \S+) \d+$/m, `$1 ${logN}`), "latin1"));
}

/**
 * Real scrypt, remembered per input: most tampered copies of one slot ask for the same
 * derivation, and each takes 100–200 ms. Everything else in the unwrap runs as in production.
 */
function rememberingScrypt(): ScryptDerive {
  const seen = new Map<string, Promise<Uint8Array>>();
  return (passphrase, salt, logN) => {
    const key = `${passphrase}\0${toHex(salt)}\0${logN}`;
    if (!seen.has(key)) seen.set(key, scryptDerive(passphrase, salt, logN));
    return seen.get(key)!;
  };
}

function scrypt15(): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) =>
    nodeCrypto.scrypt("x", "salt", 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (err) => (err ? reject(err) : resolve(performance.now() - start))),
  );
}

describe("passphrase slots", () => {
  it("round-trip the vault key", async () => {
    const vaultKey = generateVaultKey();
    const slot = await wrapWithPassphrase(vaultKey, PASSPHRASE, FAST);
    expect(Buffer.from(slot.subarray(0, 32)).toString()).toBe("age-encryption.org/v1\n-> scrypt ");
    expect(toHex(await unwrapWithPassphrase(slot, PASSPHRASE))).toBe(toHex(vaultKey));
  });

  it("use the passphrase's exact UTF-8 bytes (no normalization, like age)", async () => {
    const vaultKey = generateVaultKey();
    const nfc = "pässwörd ünïcode 🔑";
    const slot = await wrapWithPassphrase(vaultKey, nfc, FAST);
    expect(toHex(await unwrapWithPassphrase(slot, nfc))).toBe(toHex(vaultKey));
    await expectCode(() => unwrapWithPassphrase(slot, nfc.normalize("NFD")), "LOCKED");
  });

  it("use work factor 18 by default and report it without running scrypt", async () => {
    expect(SCRYPT_LOG_N_DEFAULT).toBe(18);
    const slot = await wrapWithPassphrase(generateVaultKey(), PASSPHRASE);
    expect(slotScryptLogN(slot)).toBe(18);
    expect(slotScryptLogN(await wrapWithPassphrase(generateVaultKey(), PASSPHRASE, 16))).toBe(16);
  });

  it("refuse a wrong passphrase with LOCKED 'wrong passphrase or identity'", async () => {
    const slot = await wrapWithPassphrase(generateVaultKey(), PASSPHRASE, FAST);
    const e = await expectCode(() => unwrapWithPassphrase(slot, PASSPHRASE + " "), "LOCKED");
    expect(e.message).toBe("wrong passphrase or identity");
    await expectCode(() => unwrapWithPassphrase(slot, ""), "LOCKED");
  });

  it("refuse to write a work factor outside 15–20, an empty passphrase or a short key", async () => {
    expect([SCRYPT_LOG_N_MIN, SCRYPT_LOG_N_MAX]).toEqual([15, 20]);
    for (const logN of [14, 21, 15.5, NaN, -1, 0]) {
      await expectCode(() => wrapWithPassphrase(generateVaultKey(), PASSPHRASE, logN), "INVALID_INPUT");
    }
    await expectCode(() => wrapWithPassphrase(generateVaultKey(), "", FAST), "INVALID_INPUT");
    await expectCode(() => wrapWithPassphrase(new Uint8Array(31), PASSPHRASE, FAST), "INTERNAL");
  });

  it("refuse work factors 14 and 21 (and absurd ones) before doing any scrypt work", async () => {
    const slot = await wrapWithPassphrase(generateVaultKey(), PASSPHRASE, FAST);
    const oneScrypt = await scrypt15();
    for (const logN of ["14", "21", "1", "99", "4294967296"]) {
      const hostile = withWorkFactor(slot, logN);
      const start = performance.now();
      const e = await expectCode(() => unwrapWithPassphrase(hostile, PASSPHRASE), "INTEGRITY");
      const elapsed = performance.now() - start;
      expect(e.message).toBe("key slot has an unacceptable scrypt work factor");
      // Rejected on parsing: a fraction of even the cheapest allowed derivation (work factor
      // 21 would take seconds and 2 GiB if it ran).
      expect(elapsed).toBeLessThan(oneScrypt);
    }
    expect(slotScryptLogN(withWorkFactor(slot, "21"))).toBe(21);
  });

  it("report a malformed work factor as INTEGRITY from slotScryptLogN", async () => {
    const slot = await wrapWithPassphrase(generateVaultKey(), PASSPHRASE, FAST);
    for (const logN of ["015", "0", "+16", "0x10", "123"]) {
      await expectCode(() => slotScryptLogN(withWorkFactor(slot, logN)), "INTEGRITY");
    }
  });
});

describe("identity slots", () => {
  it("round-trip the vault key, with any one of several identities", async () => {
    const vaultKey = generateVaultKey();
    const mine = await generateIdentity();
    const slot = await wrapToRecipient(vaultKey, await identityToRecipient(mine));
    expect(slotScryptLogN(slot)).toBeNull();
    expect(toHex(await unwrapWithIdentities(slot, [mine]))).toBe(toHex(vaultKey));
    const others = [await generateIdentity(), await generateIdentity()];
    expect(toHex(await unwrapWithIdentities(slot, [...others, mine]))).toBe(toHex(vaultKey));
  });

  it("refuse bad recipients and identities with INVALID_INPUT", async () => {
    await expectCode(() => wrapToRecipient(generateVaultKey(), "age1nope"), "INVALID_INPUT");
    const slot = await wrapToRecipient(generateVaultKey(), await identityToRecipient(await generateIdentity()));
    await expectCode(() => unwrapWithIdentities(slot, ["AGE-SECRET-KEY-1NOPE"]), "INVALID_INPUT");
    await expectCode(() => unwrapWithIdentities(slot, []), "INVALID_INPUT");
  });
});

describe("wrong keys all look the same", () => {
  it("gives a wrong passphrase, a wrong identity and the wrong kind of key one identical error", async () => {
    const passphraseSlot = await wrapWithPassphrase(generateVaultKey(), PASSPHRASE, FAST);
    const identitySlot = await wrapToRecipient(generateVaultKey(), await identityToRecipient(await generateIdentity()));
    const stranger = await generateIdentity();
    const errors = [
      await caught(() => unwrapWithPassphrase(passphraseSlot, "wrong")),
      await caught(() => unwrapWithIdentities(identitySlot, [stranger])),
      await caught(() => unwrapWithPassphrase(identitySlot, PASSPHRASE)),
      await caught(() => unwrapWithIdentities(passphraseSlot, [stranger])),
    ];
    for (const e of errors) {
      expect({ code: e.code, message: e.message, hint: e.hint }).toEqual({
        code: errors[0]!.code,
        message: errors[0]!.message,
        hint: errors[0]!.hint,
      });
    }
    expect(errors[0]!.code).toBe("LOCKED");
    expect(errors[0]!.message).toBe("wrong passphrase or identity");
  });
});

describe("tampered slots", () => {
  it("fail INTEGRITY or LOCKED for a bit flip in every byte of a passphrase slot", async () => {
    const slot = await wrapWithPassphrase(generateVaultKey(), PASSPHRASE, FAST);
    const derive = rememberingScrypt();
    // One bit per byte, cycling through all eight positions.
    for (let i = 0; i < slot.length; i++) {
      const tampered = flipBit(slot, i, i % 8);
      const e = await caught(() => decryptFile(tampered, [new ScryptIdentity(PASSPHRASE, { derive })]));
      expect(["INTEGRITY", "LOCKED"], `byte ${i}`).toContain(e.code);
    }
    // And through the public door, once in each part: salt, stanza body, MAC, nonce, payload.
    const text = Buffer.from(slot).toString("latin1");
    const header = text.indexOf("\n---") + 1;
    const positions = [text.indexOf("scrypt ") + 8, text.indexOf("\n", 25) + 5, header + 10, header + 50, slot.length - 1];
    await Promise.all(positions.map((i) => expectCode(() => unwrapWithPassphrase(flipBit(slot, i, 0), PASSPHRASE), "INTEGRITY", "LOCKED")));
  });

  it("fail INTEGRITY or LOCKED for bit flips in every byte of an identity slot", async () => {
    const identity = await generateIdentity();
    const slot = await wrapToRecipient(generateVaultKey(), await identityToRecipient(identity));
    for (let i = 0; i < slot.length; i++) {
      for (const bit of [i % 8, (i + 3) % 8, (i + 6) % 8]) {
        const e = await caught(() => unwrapWithIdentities(flipBit(slot, i, bit), [identity]));
        expect(["INTEGRITY", "LOCKED"], `byte ${i} bit ${bit}`).toContain(e.code);
      }
    }
  });

  it("fail INTEGRITY when truncated at any length or extended, for both kinds of slot", async () => {
    const identity = await generateIdentity();
    const identitySlot = await wrapToRecipient(generateVaultKey(), await identityToRecipient(identity));
    const passphraseSlot = await wrapWithPassphrase(generateVaultKey(), PASSPHRASE, FAST);
    const derive = rememberingScrypt();
    const viaPassphrase = (slot: Uint8Array) => () => decryptFile(slot, [new ScryptIdentity(PASSPHRASE, { derive })]);
    const garbage = [Buffer.of(0), Buffer.from("\n"), nodeCrypto.randomBytes(16), nodeCrypto.randomBytes(64 * 1024)];
    for (let n = 0; n < identitySlot.length; n++) {
      await expectCode(() => unwrapWithIdentities(identitySlot.subarray(0, n), [identity]), "INTEGRITY");
    }
    for (let n = 0; n < passphraseSlot.length; n++) {
      await expectCode(viaPassphrase(passphraseSlot.subarray(0, n)), "INTEGRITY");
    }
    for (const g of garbage) {
      await expectCode(() => unwrapWithIdentities(Buffer.concat([identitySlot, g]), [identity]), "INTEGRITY");
      await expectCode(viaPassphrase(Buffer.concat([passphraseSlot, g])), "INTEGRITY");
    }
    // The public door agrees.
    await Promise.all([
      expectCode(() => unwrapWithPassphrase(passphraseSlot.subarray(0, passphraseSlot.length - 1), PASSPHRASE), "INTEGRITY"),
      expectCode(() => unwrapWithPassphrase(Buffer.concat([passphraseSlot, Buffer.of(0)]), PASSPHRASE), "INTEGRITY"),
    ]);
  });

  it("refuse a valid age file whose payload is not a 32-byte key", async () => {
    const identity = await generateIdentity();
    const recipient = await identityToRecipient(identity);
    for (const size of [0, 31, 33]) {
      const file = await encryptFile(new Uint8Array(size), [recipient]);
      const e = await expectCode(() => unwrapWithIdentities(file, [identity]), "INTEGRITY");
      expect(e.message).toMatch(/does not hold a vault key/);
    }
  });

  it("refuse a passphrase slot that also carries a recipient stanza", async () => {
    const slot = Buffer.from(await wrapWithPassphrase(generateVaultKey(), PASSPHRASE, FAST)).toString("latin1");
    const extra = "-> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc\nhjabGXwSLQ9c3S6Lw2i+S2Tu2fiwQHHslbBN6B41FLE\n";
    const doubled = slot.replace("\n-> scrypt", "\n" + extra + "-> scrypt");
    await expectCode(() => unwrapWithPassphrase(Buffer.from(doubled, "latin1"), PASSPHRASE), "INTEGRITY");
  });
});
