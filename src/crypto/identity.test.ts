import { identityToRecipient as typageIdentityToRecipient } from "age-encryption";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bech32Decode, bech32Encode } from "./bech32.js";
import { generateIdentity, identityToRecipient, parseIdentityFile, parseRecipient } from "./index.js";
import { expectCodeSync, toHex } from "./crypto.test-helpers.js";

// The example pair from the age specification (c2sp.org/age, "The X25519 recipient type").
const SPEC_IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
const SPEC_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";

describe("identityToRecipient", () => {
  it("derives the age specification's example recipient", async () => {
    expect(await identityToRecipient(SPEC_IDENTITY)).toBe(SPEC_RECIPIENT);
  });

  it("agrees with typage for generated identities", async () => {
    for (let i = 0; i < 20; i++) {
      const identity = await generateIdentity();
      expect(await identityToRecipient(identity)).toBe(await typageIdentityToRecipient(identity));
    }
  });

  it("refuses something that is not an identity, without echoing it", async () => {
    await expect(identityToRecipient(SPEC_RECIPIENT)).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(identityToRecipient(SPEC_IDENTITY.slice(0, -1) + "Y")).rejects.toSatisfy((e: Error) => !e.message.includes("GFPYYSJZ"));
  });
});

describe("generateIdentity", () => {
  it("writes an uppercase AGE-SECRET-KEY-1 identity holding 32 fresh bytes", async () => {
    const a = await generateIdentity();
    expect(a).toMatch(/^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/);
    expect(bech32Decode(a)?.data).toHaveLength(32);
    expect(await generateIdentity()).not.toBe(a);
  });
});

describe("parseRecipient", () => {
  it("accepts an X25519 recipient and trims whitespace", () => {
    expect(parseRecipient(SPEC_RECIPIENT)).toBe(SPEC_RECIPIENT);
    expect(parseRecipient(`  ${SPEC_RECIPIENT}\n`)).toBe(SPEC_RECIPIENT);
  });

  it("refuses anything else with INVALID_INPUT", () => {
    const bad = [
      "",
      "age1",
      SPEC_RECIPIENT.toUpperCase(),
      SPEC_RECIPIENT.slice(0, -1) + (SPEC_RECIPIENT.endsWith("j") ? "k" : "j"), // checksum
      SPEC_RECIPIENT.slice(0, 20) + SPEC_RECIPIENT.slice(21), // length
      SPEC_IDENTITY,
      bech32Encode("age", new Uint8Array(31)),
      bech32Encode("age", new Uint8Array(33)),
      bech32Encode("age1pq", new Uint8Array(32)),
      bech32Encode("agex", new Uint8Array(32)),
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN",
    ];
    for (const s of bad) expectCodeSync(() => parseRecipient(s), "INVALID_INPUT", /^not an age X25519 recipient$/);
  });
});

describe("parseIdentityFile", () => {
  it("reads an age-keygen file, skipping comments and blank lines, with LF or CRLF", () => {
    const file = [
      "# created: 2024-01-01T00:00:00Z",
      `# public key: ${SPEC_RECIPIENT}`,
      SPEC_IDENTITY,
      "",
      "   ",
      "# another",
      "AGE-SECRET-KEY-1XMWWC06LY3EE5RYTXM9MFLAZ2U56JJJ36S0MYPDRWSVLUL66MV4QX3S7F6  ",
      "",
    ];
    const expected = [SPEC_IDENTITY, "AGE-SECRET-KEY-1XMWWC06LY3EE5RYTXM9MFLAZ2U56JJJ36S0MYPDRWSVLUL66MV4QX3S7F6"];
    expect(parseIdentityFile(file.join("\n"))).toEqual(expected);
    expect(parseIdentityFile(file.join("\r\n"))).toEqual(expected);
  });

  it("names the bad line but never repeats it", () => {
    const secretish = SPEC_IDENTITY.slice(0, -2) + "XX";
    const e = expectCodeSync(
      () => parseIdentityFile(`# key\n${SPEC_IDENTITY}\n${secretish}\n`),
      "INVALID_INPUT",
      /^identity file line 3 is not an age X25519 identity$/,
    );
    expect(`${e.message} ${e.hint}`).not.toContain("GFPYYSJZ");
  });

  it("refuses lowercase, plugin and post-quantum identities", () => {
    for (const line of [
      SPEC_IDENTITY.toLowerCase(),
      "AGE-PLUGIN-YUBIKEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQ0V3DUT",
      "AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR",
      SPEC_RECIPIENT,
    ]) {
      expectCodeSync(() => parseIdentityFile(line), "INVALID_INPUT", /line 1/);
    }
  });

  it("refuses a file with no identities", () => {
    expectCodeSync(() => parseIdentityFile(""), "INVALID_INPUT", /no identities/);
    expectCodeSync(() => parseIdentityFile("# only a comment\n\n"), "INVALID_INPUT", /no identities/);
  });
});

describe("bech32", () => {
  it("round-trips any data, in either case", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), (data, upper) => {
        const hrp = upper ? "AGE-SECRET-KEY-" : "age";
        const s = bech32Encode(hrp, data);
        expect(s).toBe(upper ? s.toUpperCase() : s.toLowerCase());
        const d = bech32Decode(s);
        expect(d?.hrp).toBe(hrp);
        expect(toHex(d!.data)).toBe(toHex(data));
      }),
    );
  });

  it("rejects mixed case and any single changed character", () => {
    expect(bech32Decode("Age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj")).toBeNull();
    const alphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    for (let i = 4; i < SPEC_RECIPIENT.length; i++) {
      const c = SPEC_RECIPIENT[i]!;
      const other = alphabet[(alphabet.indexOf(c) + 1) % 32]!;
      expect(bech32Decode(SPEC_RECIPIENT.slice(0, i) + other + SPEC_RECIPIENT.slice(i + 1))).toBeNull();
    }
  });
});
