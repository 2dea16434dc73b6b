/**
 * The listing parser against the listing format (listingLine: one line per secret,
 * `<byte length>:<path>` then six fields separated by U+001F), and against every way a
 * listing line can be malformed.
 */
import { describe, expect, it } from "vitest";
import { thrown } from "../errors.test-helpers.js";
import { listedPaths, listingLine, parseListing } from "./secret-rows.js";
import type { SecretSummary } from "./types.js";

const F = "\u001f";

function line(s: SecretSummary): string {
  return `${s.path.length}:${s.path}${F}${s.type}${F}${s.tier}${F}${s.version}${F}${s.deletedAt ?? ""}${F}${s.updatedAt}${F}${s.expiresAt ?? ""}`;
}

function summary(path: string, over: Partial<SecretSummary> = {}): SecretSummary {
  const cut = path.lastIndexOf("/");
  return {
    path,
    namespace: path.slice(0, cut),
    key: path.slice(cut + 1),
    type: "api_key",
    tier: "standard",
    version: 1,
    deletedAt: null,
    updatedAt: 1_700_000_000_000,
    expiresAt: null,
    ...over,
  };
}

describe("parseListing", () => {
  it("reads every field back, nulls included", () => {
    const items = [
      summary("prod/API_KEY"),
      summary("prod/db/URL", { type: "db_credential", tier: "critical", version: 12, deletedAt: 1_700_000_000_001, expiresAt: 1_800_000_000_000 }),
      summary("a/b/c/d.e-f_G", { type: "custom", tier: "sensitive", version: 9_007_199_254_740_991, updatedAt: 0 }),
      summary("ns/K:with:colons", { expiresAt: -5 }),
    ];
    expect(parseListing(items.map(line).join("\n"))).toEqual(items);
    expect(parseListing("")).toEqual([]);
  });

  it("reads back what listingLine writes", () => {
    const rows = [summary("prod/API_KEY"), summary("prod/db/URL", { type: "db_credential", tier: "critical", version: 12, deletedAt: 1, expiresAt: 2 })];
    const text = rows.map((s) => listingLine({ ...s, currentVersion: s.version })).join("\n");
    expect(text).toBe(rows.map(line).join("\n"));
    expect(parseListing(text)).toEqual(rows);
  });

  it("reads 10,000 lines the same as one at a time", () => {
    const items = Array.from({ length: 10_000 }, (_, i) => summary(`ns${i % 7}/KEY_${i}`, { version: i + 1, deletedAt: i % 5 === 0 ? i : null }));
    const text = items.map(line).join("\n");
    expect(parseListing(text)).toEqual(items);
  });

  it("gives the same paths as the summaries, deleted ones only when asked", () => {
    const items = Array.from({ length: 2_000 }, (_, i) =>
      summary(`ns${i % 7}/KEY_${i}`, { deletedAt: i % 3 === 0 ? 1_700_000_000_000 + i : null, expiresAt: i % 5 === 0 ? i : null }),
    );
    const text = items.map(line).join("\n");
    expect(listedPaths(text)).toEqual(items.filter((i) => i.deletedAt === null).map((i) => i.path));
    expect(listedPaths(text, { includeDeleted: true })).toEqual(items.map((i) => i.path));
    expect(listedPaths("")).toEqual([]);
  });

  it("refuses every malformed line with INTEGRITY", () => {
    const good = line(summary("prod/API_KEY"));
    const bad = [
      good.replace("12:", "13:"), // length past the path
      good.replace("12:", "11:"), // length short of it
      good.replace("12:", "x:"),
      good.replace("12:", ":"),
      "prod/API_KEY",
      good.replace("api_key", "password"),
      good.replace("standard", "secret"),
      good.replace(`${F}1${F}`, `${F}${F}`), // a version is required
      good.replace(`${F}1${F}`, `${F}1.5${F}`),
      good.replace(`${F}1${F}`, `${F}1e3${F}`),
      good.replace(`${F}1${F}`, `${F}-${F}`),
      good.replace(`${F}1${F}`, `${F}99999999999999999${F}`),
      `${good}${F}`, // a seventh field
      good.slice(0, good.lastIndexOf(F)), // a field missing
      `${good}\n${good.slice(0, 20)}`, // a second line cut short
    ];
    for (const text of bad) expect(thrown(() => parseListing(text)).message, JSON.stringify(text)).toBe("integrity check failed: malformed listing");
    // Reading paths only, the line's frame is still checked.
    for (const text of [bad[0]!, bad[1]!, bad[2]!, bad[3]!, bad[4]!]) expect(thrown(() => listedPaths(text)).code, JSON.stringify(text)).toBe("INTEGRITY");
  });
});
