import { Readable } from "node:stream";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildPatterns } from "./patterns.js";
import { searchStream } from "./search.js";

const secrets = [
  { path: "prod/API_KEY", value: Buffer.from("sk-live-0123456789abcdef") },
  { path: "prod/DB", value: Buffer.from("hunter2-database-password") },
];
const patterns = buildPatterns(secrets);
const forms = [
  "sk-live-0123456789abcdef",
  Buffer.from("hunter2-database-password").toString("hex"),
  Buffer.from("sk-live-0123456789abcdef").toString("base64"),
];

/** `data` cut at the given points, as a stream of chunks. */
function chunked(data: Buffer, cuts: number[]): Readable {
  const bounds = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b).concat(data.length);
  let prev = 0;
  const chunks: Buffer[] = [];
  for (const b of bounds) {
    if (b > prev) chunks.push(data.subarray(prev, b));
    prev = b;
  }
  return Readable.from(chunks);
}

describe("searchStream", () => {
  it("finds the same occurrences however the stream is cut, chunks shorter than a pattern included", async () => {
    const text = fc.array(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom(...forms)), { maxLength: 12 }).map((parts) => Buffer.from(parts.join("")));
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.nat(), { maxLength: 40 }), async (data, cuts) => {
        const whole = await searchStream(Readable.from([data]), patterns);
        const cut = await searchStream(chunked(data, cuts), patterns);
        expect(cut).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it("reports an occurrence split over three chunks once, at its offsets", async () => {
    const data = Buffer.from(`xx ${forms[0]!} yy ${forms[1]!}`);
    const { hits } = await searchStream(chunked(data, [5, 9, 40, 41]), patterns);
    expect(hits.map((h) => [h.start, h.end, h.path, h.form])).toEqual([
      [3, 3 + forms[0]!.length, "prod/API_KEY", "plain"],
      [data.length - forms[1]!.length, data.length, "prod/DB", "hex"],
    ]);
  });
});
