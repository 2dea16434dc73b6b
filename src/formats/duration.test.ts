import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration, parseExpiry, parseTimeSpec } from "./duration.js";
import { thrown } from "../errors.test-helpers.js";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const NOW = Date.UTC(2024, 4, 1, 12, 0, 0); // 2024-05-01T12:00:00Z

describe("parseDuration", () => {
  it.each([
    ["0", 0],
    ["0s", 0],
    ["30s", 30 * S],
    ["15m", 15 * M],
    ["8h", 8 * H],
    ["7d", 7 * D],
    ["2w", 14 * D],
    ["1h30m", H + 30 * M],
    ["1d 12h", D + 12 * H],
    ["14m 59s", 14 * M + 59 * S],
    ["90m", 90 * M],
    ["  5m ", 5 * M],
    ["1w2d3h4m5s", 9 * D + 3 * H + 4 * M + 5 * S],
  ])("reads %j as %d ms", (s, ms) => {
    expect(parseDuration(s)).toBe(ms);
  });

  it.each([
    ["a bare number", "30"],
    ["the empty string", ""],
    ["a fraction", "1.5h"],
    ["a negative value", "-5m"],
    ["an unknown unit", "5y"],
    ["milliseconds", "500ms"],
    ["an upper-case unit", "5M"],
    ["units out of order", "30m1h"],
    ["a repeated unit", "1m1m"],
    ["a unit without a number", "h"],
    ["trailing junk", "5m later"],
    ["an overflow", "99999999999999999999d"],
  ])("refuses %s", (_name, s) => {
    const e = thrown(() => parseDuration(s));
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.message).toBe(`invalid duration ${JSON.stringify(s)}`);
    expect(e.hint).toContain("15m");
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [999, "0s"],
    [14 * M + 59 * S + 999, "14m 59s"],
    [H, "1h"],
    [D + 2 * H + 3 * M + 4 * S, "1d 2h 3m 4s"],
    [8 * D + 5 * S, "8d 5s"],
    [-5 * M, "-5m"],
  ])("formats %d ms as %j", (ms, s) => {
    expect(formatDuration(ms)).toBe(s);
  });

  it("refuses a non-finite duration", () => {
    expect(thrown(() => formatDuration(Number.POSITIVE_INFINITY)).code).toBe("INVALID_INPUT");
  });

  it("is read back by parseDuration for whole seconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000_000 }), (seconds) => {
        expect(parseDuration(formatDuration(seconds * S))).toBe(seconds * S);
      }),
    );
  });
});

describe("parseTimeSpec", () => {
  it.each([
    ["2024-04-01", Date.UTC(2024, 3, 1)],
    ["2024-04-01T09:30", Date.UTC(2024, 3, 1, 9, 30)],
    ["2024-04-01 09:30:15", Date.UTC(2024, 3, 1, 9, 30, 15)],
    ["2024-04-01T09:30:15Z", Date.UTC(2024, 3, 1, 9, 30, 15)],
    ["2024-04-01t09:30:15z", Date.UTC(2024, 3, 1, 9, 30, 15)],
    ["2024-04-01T09:30:15.25Z", Date.UTC(2024, 3, 1, 9, 30, 15, 250)],
    ["2024-04-01T09:30:15.123456789Z", Date.UTC(2024, 3, 1, 9, 30, 15, 123)],
    ["2024-04-01T11:30:15+02:00", Date.UTC(2024, 3, 1, 9, 30, 15)],
    ["2024-04-01T04:00-0530", Date.UTC(2024, 3, 1, 9, 30)],
    ["2024-02-29", Date.UTC(2024, 1, 29)],
    ["0099-01-01", Date.parse("0099-01-01T00:00:00Z")], // not 1999: Date.UTC maps years 0-99 to 19xx
  ])("reads the absolute time %j", (s, ms) => {
    expect(parseTimeSpec(s, NOW)).toBe(ms);
  });

  it("reads a date without an offset as UTC, whatever the machine's zone", () => {
    expect(parseTimeSpec("2024-04-01T09:30", NOW)).toBe(Date.parse("2024-04-01T09:30:00Z"));
  });

  it.each([
    ["1h", NOW - H],
    ["15m", NOW - 15 * M],
    ["7d", NOW - 7 * D],
    ["0", NOW],
    ["now", NOW],
  ])("reads %j as that long before now", (s, ms) => {
    expect(parseTimeSpec(s, NOW)).toBe(ms);
  });

  it.each([
    ["2024-02-30"],
    ["2023-02-29"],
    ["2024-13-01"],
    ["2024-04-01T24:00"],
    ["2024-04-01T09:60"],
    ["2024-04-01T09:30:60Z"],
    ["2024-04-01T09:30+25:00"],
    ["2024-4-1"],
    ["2024-04-01Z"],
    ["April 1, 2024"],
    ["yesterday"],
    ["30"],
    [""],
  ])("refuses %j", (s) => {
    const e = thrown(() => parseTimeSpec(s, NOW));
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.message).toBe(`invalid time ${JSON.stringify(s)}`);
    expect(e.hint).toContain("ISO-8601");
  });
});

describe("parseExpiry", () => {
  it.each([
    ["30d", NOW + 30 * D],
    ["1h30m", NOW + H + 30 * M],
    ["2024-06-01", Date.UTC(2024, 5, 1)],
    ["2024-05-01T12:00:01Z", NOW + S],
  ])("reads %j", (s, ms) => {
    expect(parseExpiry(s, NOW)).toBe(ms);
  });

  it.each([["2024-05-01T12:00:00Z"], ["2020-01-01"], ["0"], ["0s"]])("refuses %j, which is not in the future", (s) => {
    const e = thrown(() => parseExpiry(s, NOW));
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.message).toContain("is not in the future");
  });

  it.each([["now"], ["soon"], ["30"], ["-1d"]])("refuses %j", (s) => {
    const e = thrown(() => parseExpiry(s, NOW));
    expect(e.message).toBe(`invalid expiry ${JSON.stringify(s)}`);
  });
});
