import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeFields, FieldWriter, type Field } from "./index.js";
import { expectCodeSync, toHex } from "./crypto.test-helpers.js";

describe("encodeFields", () => {
  it("writes the documented bytes", () => {
    expect(toHex(encodeFields([]))).toBe("01");
    expect(toHex(encodeFields([null]))).toBe("01" + "00" + "00000000");
    expect(toHex(encodeFields(["ab"]))).toBe("01" + "01" + "00000002" + "6162");
    expect(toHex(encodeFields(["é"]))).toBe("01" + "01" + "00000002" + "c3a9");
    expect(toHex(encodeFields([""]))).toBe("01" + "01" + "00000000");
    expect(toHex(encodeFields([1]))).toBe("01" + "02" + "00000008" + "0000000000000001");
    expect(toHex(encodeFields([-1]))).toBe("01" + "02" + "00000008" + "ffffffffffffffff");
    expect(toHex(encodeFields([2n ** 63n - 1n]))).toBe("01" + "02" + "00000008" + "7fffffffffffffff");
    expect(toHex(encodeFields([-(2n ** 63n)]))).toBe("01" + "02" + "00000008" + "8000000000000000");
    expect(toHex(encodeFields([Uint8Array.of(0xff, 0)]))).toBe("01" + "03" + "00000002" + "ff00");
    expect(toHex(encodeFields([true, false]))).toBe("01" + "04" + "00000001" + "01" + "04" + "00000001" + "00");
    expect(toHex(encodeFields(["v", 7, null]))).toBe("01" + "0100000001" + "76" + "0200000008" + "0000000000000007" + "0000000000");
  });

  it("encodes a number and the equal bigint the same way (both are integers)", () => {
    expect(toHex(encodeFields([42]))).toBe(toHex(encodeFields([42n])));
    expect(toHex(encodeFields([-0]))).toBe(toHex(encodeFields([0])));
  });

  it("never gives two different field lists the same bytes", () => {
    const field: fc.Arbitrary<Field> = fc.oneof(
      // A small pool of look-alikes makes equal and near-equal lists common.
      fc.constantFrom<Field>(null, "", "0", "a", 0, 0n, 1, false, true, new Uint8Array(0), Uint8Array.of(0)),
      fc.constant(null),
      fc.string({ unit: "binary", maxLength: 6 }),
      fc.integer(),
      fc.maxSafeInteger(),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.uint8Array({ maxLength: 6 }),
      fc.boolean(),
    );
    // Integers compare by value (5 and 5n are the same integer), everything else by identity.
    const key = (fields: readonly Field[]): string =>
      JSON.stringify(
        fields.map((f) =>
          typeof f === "number" || typeof f === "bigint" ? ["int", String(BigInt(f))] : f instanceof Uint8Array ? ["bytes", toHex(f)] : [typeof f, f],
        ),
      );
    fc.assert(
      fc.property(fc.array(field, { maxLength: 4 }), fc.array(field, { maxLength: 4 }), (a, b) => {
        const same = Buffer.from(encodeFields(a)).equals(Buffer.from(encodeFields(b)));
        return same === (key(a) === key(b));
      }),
      { numRuns: 1000 },
    );
  });

  it("keeps boundaries: splitting a string differently changes the bytes", () => {
    expect(toHex(encodeFields(["ab", "c"]))).not.toBe(toHex(encodeFields(["a", "bc"])));
    expect(toHex(encodeFields(["", ""]))).not.toBe(toHex(encodeFields([""])));
    expect(toHex(encodeFields(["1"]))).not.toBe(toHex(encodeFields([1])));
    expect(toHex(encodeFields([Uint8Array.of(0x61)]))).not.toBe(toHex(encodeFields(["a"])));
  });

  it("refuses numbers that are not safe integers", () => {
    for (const bad of [1.5, NaN, Infinity, -Infinity, 2 ** 53]) {
      expectCodeSync(() => encodeFields([bad]), "INTERNAL");
    }
  });

  it("refuses bigints outside signed 64 bits", () => {
    expectCodeSync(() => encodeFields([2n ** 63n]), "INTERNAL");
    expectCodeSync(() => encodeFields([-(2n ** 63n) - 1n]), "INTERNAL");
  });

  it("refuses a lone surrogate, which UTF-8 would turn into U+FFFD", () => {
    expectCodeSync(() => encodeFields(["a\uD800"]), "INVALID_INPUT");
    expectCodeSync(() => encodeFields(["\uDC00b"]), "INVALID_INPUT");
    expect(toHex(encodeFields(["\uD83D\uDE00"]))).toBe("01" + "01" + "00000004" + "f09f9880");
  });
});

describe("FieldWriter", () => {
  type Spec =
    | { kind: "string"; v: string }
    | { kind: "integer"; v: number }
    | { kind: "blob"; v: Uint8Array }
    | { kind: "hex"; v: Uint8Array }
    | { kind: "null"; v: null };
  const spec: fc.Arbitrary<Spec> = fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 40 }).map((v) => ({ kind: "string" as const, v })),
    fc
      .string({ unit: "binary", maxLength: 8 })
      .filter((v) => !/[\uD800-\uDFFF]/.test(v))
      .map((v) => ({ kind: "string" as const, v })),
    fc
      .oneof(fc.maxSafeInteger(), fc.integer(), fc.constantFrom(0, -1, 2 ** 32, -(2 ** 32), 2 ** 32 - 1, Number.MIN_SAFE_INTEGER))
      .map((v) => ({ kind: "integer" as const, v })),
    fc.uint8Array({ maxLength: 40 }).map((v) => ({ kind: "blob" as const, v })),
    fc.uint8Array({ maxLength: 40 }).map((v) => ({ kind: "hex" as const, v })),
    fc.constant({ kind: "null" as const, v: null }),
  );
  const write = (w: FieldWriter, s: Spec) =>
    s.kind === "string"
      ? w.string(s.v)
      : s.kind === "integer"
        ? w.integer(s.v)
        : s.kind === "blob"
          ? w.blob(s.v)
          : s.kind === "null"
            ? w.nul()
            : w.hexBlob(toHex(s.v));

  /** The documented layout, built the slow and obvious way, independently of both encoders. */
  const reference = (fields: (string | number | Uint8Array | null)[]): string => {
    const parts = [Buffer.of(1)];
    for (const f of fields) {
      const body = f === null ? Buffer.alloc(0) : typeof f === "string" ? Buffer.from(f, "utf8") : typeof f === "number" ? Buffer.alloc(8) : Buffer.from(f);
      if (typeof f === "number") body.writeBigInt64BE(BigInt(f));
      const head = Buffer.alloc(5);
      head[0] = f === null ? 0 : typeof f === "string" ? 1 : typeof f === "number" ? 2 : 3;
      head.writeUInt32BE(body.length, 1);
      parts.push(head, body);
    }
    return Buffer.concat(parts).toString("hex");
  };

  it("writes the documented layout, and what encodeFields writes, prefix and all, row after row", () => {
    fc.assert(
      fc.property(fc.array(spec, { maxLength: 4 }), fc.array(fc.array(spec, { maxLength: 8 }), { minLength: 1, maxLength: 4 }), (prefix, rows) => {
        const w = new FieldWriter();
        for (const s of prefix) write(w, s);
        w.mark();
        for (const row of rows) {
          w.reset();
          for (const s of row) write(w, s);
          const fields = [...prefix, ...row].map((s) => s.v);
          expect(toHex(w.bytes())).toBe(reference(fields));
          expect(toHex(w.bytes())).toBe(toHex(encodeFields(fields)));
        }
      }),
    );
  });

  it("grows past its first buffer for long fields", () => {
    const long = "ключ😀".repeat(2000);
    const w = new FieldWriter().string(long).blob(new Uint8Array(10_000).fill(7)).integer(-5);
    expect(toHex(w.bytes())).toBe(toHex(encodeFields([long, new Uint8Array(10_000).fill(7), -5])));
  });

  it("refuses what encodeFields refuses", () => {
    expectCodeSync(() => new FieldWriter().string("a\uD800b"), "INVALID_INPUT", /lone surrogate/);
    expectCodeSync(() => new FieldWriter().integer(2 ** 53), "INTERNAL");
    expectCodeSync(() => new FieldWriter().integer(1.5), "INTERNAL");
    expectCodeSync(() => new FieldWriter().hexBlob("abc"), "INTERNAL");
    expectCodeSync(() => new FieldWriter().hexBlob("zz"), "INTERNAL");
  });
});
