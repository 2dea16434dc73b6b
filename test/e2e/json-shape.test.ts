import { describe, expect, it } from "vitest";
import { check, shapesOf } from "./json-shape.js";

/** The checker behind test/e2e/json.test.ts: it must be able to fail, and say where. */
const shapes = shapesOf(
  [
    "```json shape=thing",
    '{ "id": "string", "at": "time", "until": "time | null", "kind": "\'a\' | \'b\'", "tags": ["string"], "note?": "string" }',
    "```",
    "```json shape=more",
    '{ "...": "@thing", "extra": "integer" }',
    "```",
    "```json shape=map",
    '{ "*": "@thing" }',
    "```",
  ].join("\n"),
);
const ok = { id: "x", at: "2026-01-31T09:30:00.123Z", until: null, kind: "a", tags: ["t"] };

describe("the docs/json.md shape checker", () => {
  it("accepts what fits, with an optional key absent or present", () => {
    expect(check(ok, "@thing", shapes)).toEqual([]);
    expect(check({ ...ok, note: "n" }, "@thing", shapes)).toEqual([]);
    expect(check({ ...ok, extra: 3 }, "@more", shapes)).toEqual([]);
    expect(check({ a: ok, b: ok }, "@map", shapes)).toEqual([]);
  });

  it("refuses epoch milliseconds, and ISO times without milliseconds or not in UTC, where a time belongs", () => {
    expect(check({ ...ok, at: 1769851800123 }, "@thing", shapes)).toEqual(["$.at: 1769851800123 is not time"]);
    expect(check({ ...ok, at: "2026-01-31T09:30:00Z" }, "@thing", shapes)).toHaveLength(1);
    expect(check({ ...ok, until: "2026-01-31T10:30:00.000+01:00" }, "@thing", shapes)).toHaveLength(1);
  });

  it("names a missing key, a key the doc does not list, a wrong literal and a bad element", () => {
    const { id: _, ...noId } = ok;
    expect(check(noId, "@thing", shapes)).toEqual(["$.id: missing"]);
    expect(check({ ...ok, ts: 1 }, "@thing", shapes)).toEqual(["$.ts: not in docs/json.md"]);
    expect(check({ ...ok, kind: "c" }, "@thing", shapes)).toEqual([`$.kind: "c" is not 'a' | 'b'`]);
    expect(check({ ...ok, tags: ["t", 2] }, "@thing", shapes)).toEqual(["$.tags[1]: 2 is not string"]);
    expect(check({ ...ok }, "@more", shapes)).toEqual(["$.extra: missing"]);
    expect(check({ a: { ...ok, at: 0 } }, "@map", shapes)).toEqual(["$.a.at: 0 is not time"]);
  });

  it("refuses a shape that names no documented shape", () => {
    expect(() => check(ok, "@nothing", shapes)).toThrow(/no shape named nothing/);
  });
});
