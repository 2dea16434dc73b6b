import { describe, expect, it } from "vitest";
import { isAuthyError } from "../errors.js";
import { CHARSETS, generateValue } from "./generate.js";

function refusal(fn: () => unknown): { code: string; message: string; hint?: string } {
  try {
    fn();
  } catch (e) {
    if (isAuthyError(e)) return { code: e.code, message: e.message, hint: e.hint };
    throw e;
  }
  throw new Error("expected a refusal, but it succeeded");
}

describe("generateValue", () => {
  it("draws from a named set, or from the characters given", () => {
    for (const name of Object.keys(CHARSETS) as (keyof typeof CHARSETS)[]) {
      for (const c of generateValue(64, name)) expect(CHARSETS[name]).toContain(c);
    }
    expect(generateValue(32, "ab")).toMatch(/^[ab]{32}$/);
    expect(Array.from(generateValue(8, "é€👍"))).toHaveLength(8);
  });

  it("refuses a set's name in other letter case instead of drawing from its letters", () => {
    for (const [given, meant] of [
      ["Hex", "hex"],
      ["ALNUM", "alnum"],
      ["Numeric", "numeric"],
    ]) {
      const r = refusal(() => generateValue(16, given!));
      expect(r.code).toBe("INVALID_INPUT");
      expect(r.message).toBe(`unknown character set "${given}": set names are lower case`);
      expect(r.hint).toContain(`did you mean --charset ${meant}?`);
    }
  });

  it("refuses a one-character alphabet, which would give the same value every time", () => {
    for (const one of ["a", "€", "👍"]) {
      const r = refusal(() => generateValue(16, one));
      expect(r.code).toBe("INVALID_INPUT");
      expect(r.message).toBe(`password alphabet "${one}" has one character: every value would be the same`);
    }
  });
});
