import { describe, expect, it } from "vitest";
import { isAuthyError } from "../errors.js";
import { decodeAttributes, encodeAttributes, generateWith } from "./secret-attributes.js";

describe("secret attributes (the tags column)", () => {
  it("keeps the array form byte for byte for a secret without a generator", () => {
    expect(encodeAttributes(["a", "b,c"], null)).toBe('["a","b,c"]');
    expect(decodeAttributes('["a","b,c"]', "x/Y")).toEqual({ tags: ["a", "b,c"], generator: null });
  });

  it("round-trips a generator with the tags", () => {
    const text = encodeAttributes(["db"], { length: 24, charset: "hex" });
    expect(decodeAttributes(text, "x/Y")).toEqual({ tags: ["db"], generator: { length: 24, charset: "hex" } });
  });

  it.each([
    "",
    "{",
    "null",
    "3",
    '{"tags":[]}',
    '{"tags":[],"generator":{"length":0,"charset":"hex"}}',
    '{"tags":[],"generator":{"length":5,"charset":""}}',
    '{"generator":{"length":5,"charset":"hex"}}',
  ])("refuses malformed attributes %j as an integrity failure", (text) => {
    try {
      decodeAttributes(text, "x/Y");
      expect.unreachable();
    } catch (e) {
      expect(isAuthyError(e) && e.code).toBe("INTEGRITY");
    }
  });

  it("checks a caller's generator before making a value", () => {
    expect(generateWith({ length: 10, charset: "numeric" })).toMatch(/^\d{10}$/);
    expect(() => generateWith({ length: 0, charset: "alnum" })).toThrow(/length/);
    expect(() => generateWith({ length: 8, charset: "x".repeat(2000) })).toThrow(/at most 1024/);
  });
});
