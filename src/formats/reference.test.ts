import { describe, expect, it } from "vitest";
import { isReference, parseReference, REFERENCE_SCHEME } from "./reference.js";
import { thrown } from "../errors.test-helpers.js";

describe("references", () => {
  it("uses the authy:// scheme", () => {
    expect(REFERENCE_SCHEME).toBe("authy://");
  });

  it.each([
    ["authy://ns/KEY", "ns/KEY"],
    ["authy://prod/openai/API_KEY", "prod/openai/API_KEY"],
    ["authy://a.b/c-d_e", "a.b/c-d_e"],
    // Returned as written: the vault's path validator is the one that refuses these.
    ["authy://KEY", "KEY"],
    ["authy:///ns/KEY", "/ns/KEY"],
    ["authy://ns/../KEY", "ns/../KEY"],
    ["authy://ns/%41", "ns/%41"],
  ])("parses %s to the path %s", (ref, path) => {
    expect(parseReference(ref)).toEqual({ path });
  });

  it.each([
    ["no scheme", "ns/KEY", "must start with authy://"],
    ["another scheme", "op://vault/item", "must start with authy://"],
    ["an upper-case scheme", "AUTHY://ns/KEY", "must start with authy://"],
    ["an empty path", "authy://", "the path is empty"],
    ["a query", "authy://ns/KEY?version=2", "query strings"],
    ["a fragment", "authy://ns/KEY#x", "fragments"],
    ["a space", "authy://ns/MY KEY", "whitespace"],
    ["a trailing newline", "authy://ns/KEY\n", "whitespace"],
    ["a tab", "authy://ns/\tKEY", "whitespace"],
    ["a control character", "authy://ns/K\u0007EY", "control character"],
  ])("refuses %s, quoting the reference", (_name, ref, what) => {
    const e = thrown(() => parseReference(ref));
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.message).toContain(JSON.stringify(ref));
    expect(e.message).toContain(what);
  });

  it("cuts a very long reference in the message", () => {
    const e = thrown(() => parseReference(`authy://ns/${"K".repeat(500)} x`));
    expect(e.message.length).toBeLessThan(250);
    expect(e.message).toContain("…");
  });

  it.each([
    ["authy://ns/KEY", true],
    ["authy://", true],
    ["authy:/ns/KEY", false],
    [" authy://ns/KEY", false],
    ["sk-abc", false],
    ["", false],
  ])("isReference(%j) is %s", (value, expected) => {
    expect(isReference(value)).toBe(expected);
  });
});
