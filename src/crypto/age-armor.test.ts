import { armor as typageArmor } from "age-encryption";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { armor, dearmor, isArmored } from "./age-armor.js";
import { randomBytes } from "./index.js";
import { expectCodeSync, toHex, utf8 } from "./crypto.test-helpers.js";

const text = (b: Uint8Array) => Buffer.from(b).toString("latin1");
const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));

describe("ASCII armor", () => {
  it("writes exactly what typage writes, and reads it back", () => {
    for (const size of [1, 47, 48, 49, 96, 200, 1000]) {
      const file = randomBytes(size);
      const armored = armor(file);
      expect(text(armored)).toBe(typageArmor.encode(file));
      expect(isArmored(armored)).toBe(true);
      expect(toHex(dearmor(armored))).toBe(toHex(file));
    }
  });

  it("round-trips any file", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 500 }), (file) => {
        expect(toHex(dearmor(armor(file)))).toBe(toHex(file));
        expect(toHex(typageArmor.decode(text(armor(file))))).toBe(toHex(file));
      }),
    );
  });

  it("accepts whitespace around the block and CRLF line endings", () => {
    const file = randomBytes(100);
    const armored = text(armor(file));
    for (const variant of [`\n \t${armored}\n\n  `, armored.replaceAll("\n", "\r\n"), armored.trimEnd()]) {
      expect(isArmored(bytes(variant))).toBe(true);
      expect(toHex(dearmor(bytes(variant)))).toBe(toHex(file));
    }
  });

  it("tells a binary age file from an armored one", () => {
    expect(isArmored(utf8("age-encryption.org/v1\n"))).toBe(false);
    expect(isArmored(utf8("-----BEGIN AGE ENCRYPTED FILE----"))).toBe(false);
    expect(isArmored(new Uint8Array(0))).toBe(false);
  });

  it("refuses anything looser with INTEGRITY", () => {
    const armored = text(armor(randomBytes(100))); // two full lines and a padded one of 8 chars
    const lines = armored.split("\n");
    const bad = [
      armored + "garbage\n",
      "garbage\n" + armored,
      armored.replace("-----END AGE ENCRYPTED FILE-----\n", ""),
      armored.replace("BEGIN AGE", "BEGIN age"),
      lines[0]! + "\n" + lines.at(-1)!, // no body
      [lines[0], lines[1], "", lines[2], lines[3], lines[4]].join("\n"), // empty line
      [lines[0], lines[1]!.slice(0, 60), lines[1]!.slice(60) + lines[2]!, lines[3], lines[4]].join("\n"), // rewrapped
      armored.replace(lines[3]!, lines[3]!.replace(/=+$/, "")), // unpadded
      armored.replace(lines[3]!, lines[3]!.slice(0, -3) + "B=="), // non-zero padding bits
      armored.replace(lines[1]!, lines[1]!.slice(0, -1) + "!"),
      armored.replace(lines[1]!, lines[1]! + " "),
      armored.replace("\n", "\r\r\n"),
    ];
    for (const variant of bad) expectCodeSync(() => dearmor(bytes(variant)), "INTEGRITY", /armor is malformed/);
  });
});
