import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonVisible, MAX_VISIBLE_CHARS, visible } from "./visible-text.js";

/** Anything a terminal would act on, or that hides or moves text. */
const ACTS_ON_TERMINAL = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]|[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/u;

/** Strings rich in what an attacker would send: raw control bytes, escapes, padding, bidi overrides. */
const hostile = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
      fc.constantFrom(
        "\u001b[2J",
        "\u001b]0;title\u0007",
        "\u009b31m",
        "\u007f",
        "\r",
        "\n",
        "\u202e",
        "\u2028",
        "\u200b",
        "\ufeff",
        "\ud800",
        "\udfff",
        "\u00a0",
        "\\",
        "\\x1b",
      ),
      fc.constantFrom(" ", "  ", " ".repeat(80), " ".repeat(200)),
      fc.string({ unit: "grapheme", maxLength: 20 }),
      fc.string({ unit: "binary", maxLength: 20 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(""));

describe("visible", () => {
  it("leaves ordinary text as it is", () => {
    for (const s of ["prod/DB_URL", "agent:deploy-bot", "token:abc123(ci)", "run ./deploy.sh --env prod", "pässwörd 𝄞 ok", ""]) expect(visible(s)).toBe(s);
  });

  it("shows control characters and escapes as journalctl does", () => {
    expect(visible("a\u001b[31mred")).toBe("a\\x1b[31mred");
    expect(visible("line1\nline2\r\tend\u0000")).toBe("line1\\nline2\\r\\tend\\x00");
    expect(visible("\u007f\u009b\u202e\u2028\u200b")).toBe("\\x7f\\u009b\\u202e\\u2028\\u200b");
    expect(visible("\u{e0041}")).toBe("\\u{e0041}");
  });

  it("doubles a backslash, so a typed escape never looks like one authy wrote", () => {
    expect(visible("\\x1b")).toBe("\\\\x1b");
    expect(visible("\u001b")).not.toBe(visible("\\x1b"));
  });

  it("shows a run of spaces and any other space for what it is", () => {
    expect(visible("a b")).toBe("a b");
    expect(visible(`ok${" ".repeat(120)}apr_fake  pending`)).toBe("ok[120 spaces]apr_fake[2 spaces]pending");
    expect(visible("a\u00a0b\u3000c")).toBe("a\\u00a0b\\u3000c");
  });

  it("cuts long text with a marker that says how much was left out", () => {
    const long = "x".repeat(500);
    const shown = visible(long);
    expect(shown).toBe(`${"x".repeat(MAX_VISIBLE_CHARS)}…[+300 chars]`);
    expect(visible("\u001b".repeat(100), 10)).toBe("\\x1b\\x1b…[+98 chars]");
  });

  it("never prints a control, format or separator character, a run of spaces, or more than the limit", () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 1, max: 300 }), (s, max) => {
        const shown = visible(s, max);
        expect(ACTS_ON_TERMINAL.test(shown)).toBe(false);
        expect(shown).not.toMatch(/ {2}/);
        const marker = /…\[\+\d+ chars\]$/.exec(shown);
        expect(Array.from(shown).length - (marker ? Array.from(marker[0]).length : 0)).toBeLessThanOrEqual(max);
      }),
      { numRuns: 2000 },
    );
  });

  it("is one-to-one on what fits: different texts never look the same", () => {
    fc.assert(
      fc.property(hostile, hostile, (a, b) => {
        fc.pre(a !== b);
        expect(visible(a, 100_000)).not.toBe(visible(b, 100_000));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("jsonVisible", () => {
  it("keeps the JSON's meaning and leaves nothing a terminal would act on", () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const json = jsonVisible(JSON.stringify({ reason: s }));
        expect(ACTS_ON_TERMINAL.test(json)).toBe(false);
        expect((JSON.parse(json) as { reason: string }).reason).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });
});
