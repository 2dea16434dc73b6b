import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { thrown } from "../errors.test-helpers.js";
import { joinPath, MAX_PATH_BYTES, validateNamespace, validatePath } from "./path.js";

/** The rule, written out plainly: what validatePath must accept, and nothing else. */
function canonical(path: string): boolean {
  const segments = path.split("/");
  return (
    Buffer.byteLength(path, "utf8") <= MAX_PATH_BYTES && segments.length >= 2 && segments.every((s) => /^[A-Za-z0-9._-]+$/.test(s) && s !== "." && s !== "..")
  );
}

describe("validatePath", () => {
  it("splits a canonical path on its last /", () => {
    expect(validatePath("prod/API_KEY")).toEqual({ path: "prod/API_KEY", namespace: "prod", key: "API_KEY" });
    expect(validatePath("prod/openai/v1.2/KEY-x_y")).toEqual({ path: "prod/openai/v1.2/KEY-x_y", namespace: "prod/openai/v1.2", key: "KEY-x_y" });
    expect(validatePath(`a/${"K".repeat(MAX_PATH_BYTES - 2)}`).key).toHaveLength(MAX_PATH_BYTES - 2);
  });

  it("refuses every other spelling, saying what is wrong", () => {
    const cases: [string, RegExp][] = [
      ["", /secret path is empty/],
      ["KEY", /has no namespace/],
      ["/prod/KEY", /must not start or end with \//],
      ["prod/KEY/", /must not start or end with \//],
      ["prod//KEY", /has an empty segment/],
      ["prod/../KEY", /has a "\.\." segment/],
      ["./KEY", /has a "\." segment/],
      ["prod/KEY ", /may only use letters, digits/],
      ["prod/KÉY", /may only use letters, digits/],
      ["prod/\u0000", /may only use letters, digits/],
      [`a/${"K".repeat(MAX_PATH_BYTES - 1)}`, /longer than 255 bytes/],
    ];
    for (const [path, message] of cases) {
      const e = thrown(() => validatePath(path));
      expect(e.code, path).toBe("INVALID_INPUT");
      expect(e.message, path).toMatch(message);
    }
  });

  it("accepts exactly the canonical paths (property, with the characters that matter)", () => {
    const char = fc.constantFrom("a", "Z", "0", ".", "_", "-", "/", " ", "é", "\u0000", "\\", "*");
    fc.assert(
      fc.property(
        fc.array(char, { maxLength: 12 }).map((cs) => cs.join("")),
        (path) => {
          let accepted = true;
          try {
            validatePath(path);
          } catch {
            accepted = false;
          }
          expect(accepted).toBe(canonical(path));
        },
      ),
      { numRuns: 5_000 },
    );
  });
});

describe("validateNamespace and joinPath", () => {
  it("take one or more segments, and join a key to them", () => {
    expect(validateNamespace("prod/openai")).toBe("prod/openai");
    expect(joinPath("prod", "KEY")).toEqual({ path: "prod/KEY", namespace: "prod", key: "KEY" });
    expect(thrown(() => validateNamespace("prod/")).code).toBe("INVALID_INPUT");
    expect(thrown(() => joinPath("prod", "a/..")).code).toBe("INVALID_INPUT");
  });
});
