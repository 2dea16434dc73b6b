import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeAgeHeader, encodeBase64, parseAgeHeader, type AgeStanza } from "./age-header.js";
import { randomBytes } from "./index.js";
import { expectCodeSync, toHex } from "./crypto.test-helpers.js";

const MAC = new Uint8Array(32).fill(7);
/** A parseable file: the header and the shortest payload the parser lets through. */
const withPayload = (header: Uint8Array) => Buffer.concat([header, new Uint8Array(32)]);

describe("encodeAgeHeader", () => {
  it("writes the layout of the spec, wrapping bodies at 64 columns with a short final line", () => {
    const body = randomBytes(48); // exactly 64 base64 columns: a full line, then an empty one
    const header = encodeAgeHeader([{ args: ["X25519", "abc"], body }], () => MAC);
    expect(Buffer.from(header).toString("latin1")).toBe(`age-encryption.org/v1\n-> X25519 abc\n${encodeBase64(body)}\n\n--- ${encodeBase64(MAC)}\n`);
  });

  it("MACs the header up to and including ---", () => {
    let seen = "";
    const header = encodeAgeHeader([{ args: ["a"], body: new Uint8Array(0) }], (h) => {
      seen = Buffer.from(h).toString("latin1");
      return MAC;
    });
    expect(seen).toBe("age-encryption.org/v1\n-> a\n\n---");
    expect(toHex(parseAgeHeader(withPayload(header)).headerNoMac)).toBe(toHex(Buffer.from(seen, "latin1")));
  });

  it("round-trips through the strict parser for any stanzas", () => {
    const arg = fc.stringMatching(/^[\x21-\x7e]{1,12}$/).filter((a) => a !== "scrypt");
    const stanza = fc.record({ args: fc.array(arg, { minLength: 1, maxLength: 4 }), body: fc.uint8Array({ maxLength: 200 }) });
    fc.assert(
      fc.property(fc.array(stanza, { minLength: 1, maxLength: 4 }), (stanzas: AgeStanza[]) => {
        const parsed = parseAgeHeader(withPayload(encodeAgeHeader(stanzas, () => MAC)));
        expect(parsed.stanzas.map((s) => ({ args: s.args, body: toHex(s.body) }))).toEqual(stanzas.map((s) => ({ args: s.args, body: toHex(s.body) })));
        expect(toHex(parsed.mac)).toBe(toHex(MAC));
      }),
    );
  });

  it("refuses to write a header it would itself reject", () => {
    const body = new Uint8Array(32);
    expectCodeSync(() => encodeAgeHeader([], () => MAC), "INTERNAL");
    expectCodeSync(() => encodeAgeHeader([{ args: ["a b"], body }], () => MAC), "INTERNAL");
    expectCodeSync(() => encodeAgeHeader([{ args: [], body }], () => MAC), "INTERNAL");
    expectCodeSync(
      () =>
        encodeAgeHeader(
          [
            { args: ["scrypt", "x", "15"], body },
            { args: ["X25519", "y"], body },
          ],
          () => MAC,
        ),
      "INTERNAL",
    );
  });
});
