import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createMasker, MASK_MIN_LENGTH, MASK_PLACEHOLDER, maskStream, type Masker } from "./masker.js";
import { secretForms } from "./secret-forms.js";

const P = MASK_PLACEHOLDER;

/** Masking by definition: mark every byte covered by an occurrence, one placeholder per run. */
function referenceMask(data: Uint8Array, values: readonly (string | Uint8Array)[], minLength = MASK_MIN_LENGTH): Buffer {
  const buf = Buffer.from(data);
  const covered = new Uint8Array(buf.length);
  for (const value of values) {
    const bytes = typeof value === "string" ? Buffer.from(value) : value;
    if (bytes.length < minLength) continue;
    for (const form of secretForms(bytes, minLength)) {
      for (let i = buf.indexOf(form); i !== -1; i = buf.indexOf(form, i + 1)) covered.fill(1, i, i + form.length);
    }
  }
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length;) {
    let j = i;
    while (j < buf.length && covered[j] === covered[i]) j++;
    out.push(covered[i] ? Buffer.from(P) : buf.subarray(i, j));
    i = j;
  }
  return Buffer.concat(out);
}

/** Feeds `data` to a fresh session cut at `cuts` (offsets), returning the whole output. */
function maskChunked(masker: Masker, data: Uint8Array, cuts: readonly number[]): Buffer {
  const session = masker.session();
  const out: Buffer[] = [];
  let prev = 0;
  for (const cut of [...cuts].sort((a, b) => a - b).concat(data.length)) {
    out.push(session.push(data.subarray(prev, cut)));
    prev = cut;
  }
  out.push(session.flush());
  return Buffer.concat(out);
}

function byteByByte(masker: Masker, data: Uint8Array): Buffer {
  return maskChunked(
    masker,
    data,
    Array.from({ length: data.length }, (_, i) => i),
  );
}

const text = (b: Buffer) => b.toString("utf8");

describe("masker: forms", () => {
  const secret = "s3cr3t/Value+with spaces&more=é!";
  const masker = createMasker([secret]);
  const masked = (s: string) => text(masker.mask(Buffer.from(s)));

  it("masks the value itself", () => {
    expect(masked(`token=${secret};`)).toBe(`token=${P};`);
  });

  it("masks lowercase and uppercase hex", () => {
    const hex = Buffer.from(secret).toString("hex");
    expect(masked(`x ${hex} y`)).toBe(`x ${P} y`);
    expect(masked(`x ${hex.toUpperCase()} y`)).toBe(`x ${P} y`);
  });

  for (const alphabet of ["base64", "base64url"] as const) {
    for (const align of [0, 1, 2]) {
      it(`masks ${alphabet} inside a longer encoded stream at offset ${align} mod 3`, () => {
        const before = Buffer.from("header-bytes:".slice(0, 9 + align)); // 9 + align ≡ align (mod 3)
        const value = Buffer.from(secret);
        const encoded = Buffer.concat([before, value, Buffer.from("trailer")]).toString(alphabet);
        // Character k carries input bits [6k, 6k+6); those inside the value's bits are its own.
        const first = Math.ceil((8 * before.length) / 6);
        const end = Math.floor((8 * (before.length + value.length)) / 6);
        expect(end - first).toBeGreaterThanOrEqual((4 * value.length) / 3 - 2);
        expect(masked(encoded)).toBe(encoded.slice(0, first) + P + encoded.slice(end));
      });
    }
  }

  it("masks URL-encoded forms: encodeURIComponent, form encoding, RFC 3986", () => {
    expect(masked(`?q=${encodeURIComponent(secret)}&x=1`)).toBe(`?q=${P}&x=1`);
    expect(masked(new URLSearchParams({ q: secret }).toString())).toBe(`q=${P}`);
    const rfc3986 = encodeURIComponent(secret).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
    expect(masked(`/path/${rfc3986}`)).toBe(`/path/${P}`);
  });

  it("masks lower-case percent-encoding (%2f), which RFC 3986 makes equivalent to %2F", () => {
    const lower = (t: string) => t.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
    expect(masked(`?q=${lower(encodeURIComponent(secret))}&x=1`)).toBe(`?q=${P}&x=1`);
    expect(masked(lower(new URLSearchParams({ q: secret }).toString()))).toBe(`q=${P}`);
    const rfc3986 = encodeURIComponent(secret).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16));
    expect(masked(`/path/${lower(rfc3986)}`)).toBe(`/path/${P}`);
  });

  it("masks JSON-escaped forms, including escaped slashes and \\u escapes", () => {
    const value = 'ab"c\\d/e\tfé\u2028'; // quote, backslash, slash, tab, non-ASCII, U+2028
    const m = createMasker([value]);
    const json = JSON.stringify({ key: value });
    expect(text(m.mask(Buffer.from(json)))).toBe(`{"key":"${P}"}`);
    const php = json.replace(/\//g, "\\/");
    expect(text(m.mask(Buffer.from(php)))).toBe(`{"key":"${P}"}`);
    const python = json.replace(/[\u0080-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
    expect(text(m.mask(Buffer.from(python)))).toBe(`{"key":"${P}"}`);
  });

  it("masks each line of a multi-line secret, and the whole with CRLF line ends", () => {
    const pem = "-----BEGIN KEY-----\nMIIBVQIBADANBgkqhkiG9w0B\nAQEFAASCAT8wggE7AgEAAkEA\n-----END KEY-----\n";
    const m = createMasker([pem]);
    expect(text(m.mask(Buffer.from(`line 2 is MIIBVQIBADANBgkqhkiG9w0B here`)))).toBe(`line 2 is ${P} here`);
    expect(text(m.mask(Buffer.from(pem.replace(/\n/g, "\r\n"))))).toBe(P);
    expect(text(m.mask(Buffer.from(JSON.stringify(pem))))).toBe(`"${P}"`);
  });

  it("lets the longest secret win when one contains another", () => {
    const m = createMasker(["inner-secret", "outer-inner-secret-value"]);
    expect(text(m.mask(Buffer.from("a outer-inner-secret-value b inner-secret c")))).toBe(`a ${P} b ${P} c`);
  });

  it("merges overlapping and touching occurrences into one placeholder", () => {
    const m = createMasker(["abcdef1234", "1234567890"]);
    expect(text(m.mask(Buffer.from("<abcdef1234567890>")))).toBe(`<${P}>`);
    expect(text(m.mask(Buffer.from("<abcdef1234abcdef1234>")))).toBe(`<${P}>`);
    expect(text(m.mask(Buffer.from("<abcdef1234-abcdef1234>")))).toBe(`<${P}-${P}>`);
  });

  it("does not mask values shorter than MASK_MIN_LENGTH and reports them", () => {
    expect(MASK_MIN_LENGTH).toBe(6);
    const m = createMasker(["12345", "", "123456", "abc"]);
    expect(m.unmasked).toEqual([0, 3]);
    expect(text(m.mask(Buffer.from("12345 123456 abc")))).toBe(`12345 ${P} abc`);
  });

  it("uses the placeholder given", () => {
    const m = createMasker(["hunter2hunter2"], { placeholder: "***" });
    expect(text(m.mask(Buffer.from("pw=hunter2hunter2")))).toBe("pw=***");
  });

  it("masks binary values and leaves the other bytes exact", () => {
    const secretBytes = Uint8Array.from([0, 255, 10, 13, 0x80, 0xc3, 7, 9]);
    const m = createMasker([secretBytes]);
    const data = Buffer.concat([Buffer.from([0xff, 0xfe]), secretBytes, Buffer.from([0xc3])]);
    expect(m.mask(data)).toEqual(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(P), Buffer.from([0xc3])]));
  });

  it("passes everything through when there is nothing to mask", () => {
    const m = createMasker([]);
    const data = Buffer.from("anything at all");
    expect(byteByByte(m, data)).toEqual(data);
  });
});

describe("masker: streaming", () => {
  it("masks a secret written byte by byte", () => {
    const m = createMasker(["correct-horse-battery"]);
    const data = Buffer.from("before correct-horse-battery after");
    expect(text(byteByByte(m, data))).toBe(`before ${P} after`);
  });

  it("masks a UTF-8 secret split inside its multi-byte sequences", () => {
    const secret = "pässwörd-ü-€-𝄞";
    const m = createMasker([secret]);
    const data = Buffer.from(`«${secret}» and «${secret}»`);
    expect(text(byteByByte(m, data))).toBe(`«${P}» and «${P}»`);
    for (let cut = 0; cut < data.length; cut++) expect(text(maskChunked(m, data, [cut]))).toBe(`«${P}» and «${P}»`);
  });

  it("emits output that cannot start a secret at once, and holds a possible beginning", () => {
    const m = createMasker(["Zq9-very-secret"]);
    const session = m.session();
    expect(text(session.push(Buffer.from("Password: ")))).toBe("Password: ");
    expect(text(session.push(Buffer.from("done\n")))).toBe("done\n");
    expect(text(session.push(Buffer.from("value=Zq9-ve")))).toBe("value=");
    expect(session.heldBytes).toBe(6);
    expect(text(session.push(Buffer.from("ry-secret")))).toBe(P);
    expect(session.heldBytes).toBe(0);
    expect(text(session.push(Buffer.from(" Zq9")))).toBe(" ");
    expect(text(session.flush())).toBe("Zq9");
  });

  it("holds back no more than the longest pattern minus one byte", () => {
    const m = createMasker(["aaaaaaaaab"]);
    const session = m.session();
    for (let i = 0; i < 100; i++) {
      session.push(Buffer.from("a"));
      expect(session.heldBytes).toBeLessThan(m.maxLength);
    }
    expect(session.heldBytes).toBe("aaaaaaaaa".length);
    expect(text(session.push(Buffer.from("b")))).toBe(P);
  });

  it("matches whole-buffer masking for random binary output, secrets and chunking", () => {
    const secretArb = fc.oneof(
      fc.uint8Array({ minLength: 6, maxLength: 24 }),
      fc.string({ unit: "grapheme", minLength: 2, maxLength: 12 }).map((s) => Buffer.from(s)),
      fc.constantFrom(Buffer.from("abcabcabcabc"), Buffer.from("aaaaaaa"), Buffer.from("abcdefgh")),
    );
    fc.assert(
      fc.property(
        fc.array(secretArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.nat({ max: 40 })), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.boolean(),
        (secrets, parts, cutSeeds, bytewise) => {
          const m = createMasker(secrets);
          // Output: random bytes interleaved with secrets in random encoded forms.
          const pieces = parts.map((part) => {
            if (part instanceof Uint8Array) return Buffer.from(part);
            const value = secrets[part % secrets.length]!;
            const forms = value.length >= MASK_MIN_LENGTH ? secretForms(value, MASK_MIN_LENGTH) : [value];
            return Buffer.from(forms[part % forms.length]!);
          });
          const data = Buffer.concat(pieces);
          const expected = referenceMask(data, secrets);
          const cuts = cutSeeds.map((c) => c % (data.length + 1));
          const actual = bytewise ? byteByByte(m, data) : maskChunked(m, data, cuts);
          expect(actual.equals(expected)).toBe(true);
        },
      ),
      { numRuns: Number(process.env.MASK_RUNS ?? 400) },
    );
  });

  it("matches whole-buffer masking when secrets overlap, repeat and contain each other", () => {
    const ab = (min: number, max: number) => fc.array(fc.constantFrom("a", "b"), { minLength: min, maxLength: max }).map((a) => a.join(""));
    fc.assert(
      fc.property(ab(0, 200), fc.array(ab(6, 10), { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 30 }), (data, secrets, cutSeeds) => {
        const bytes = Buffer.from(data);
        const m = createMasker(secrets);
        const expected = referenceMask(bytes, secrets);
        expect(byteByByte(m, bytes).equals(expected)).toBe(true);
        expect(
          maskChunked(
            m,
            bytes,
            cutSeeds.map((c) => c % (bytes.length + 1)),
          ).equals(expected),
        ).toBe(true);
      }),
      { numRuns: Number(process.env.MASK_RUNS ?? 400) },
    );
  });

  it("matches whole-buffer masking when many secrets share the same runs of bytes", () => {
    // Every gram of the "sss…" runs is shared by all 40 secrets (gram-index.test.ts holds the
    // index's two ways with such samples, comparing and the automaton, to the same results).
    const secrets = Array.from({ length: 40 }, (_, i) => `sk-${i}-${"s".repeat(24)}-${i % 7}`);
    const m = createMasker(secrets);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.nat({ max: 39 }), fc.constantFrom("s", "ssss", "sk-1", " ", "s".repeat(30))), { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (parts, cutSeeds) => {
          const data = Buffer.from(parts.map((p) => (typeof p === "number" ? secrets[p]! : p)).join(""));
          expect(
            maskChunked(
              m,
              data,
              cutSeeds.map((c) => c % (data.length + 1)),
            ).equals(referenceMask(data, secrets)),
          ).toBe(true);
        },
      ),
      { numRuns: Number(process.env.MASK_RUNS ?? 200) },
    );
  });

  it("masks through a Transform stream", async () => {
    const m = createMasker(["stream-secret-1"]);
    const chunks: Buffer[] = [];
    await pipeline(
      Readable.from(["a stream-se", "cret-1 b", " stream-secret-1"].map((s) => Buffer.from(s))),
      maskStream(m),
      new Writable({
        write(chunk: Buffer, _e, cb) {
          chunks.push(chunk);
          cb();
        },
      }),
    );
    expect(text(Buffer.concat(chunks))).toBe(`a ${P} b ${P}`);
  });

  it("streams 256 MiB through the Transform with bounded memory", { timeout: 60_000 }, async () => {
    const secrets = Array.from({ length: 50 }, (_, i) => `secret-number-${i}-${"x".repeat(i)}`);
    const m = createMasker(secrets);
    const block = Buffer.alloc(1 << 20);
    for (let i = 0; i < block.length; i++) block[i] = 32 + ((i * 7919) % 95);
    Buffer.from(`..${secrets[7]}..`).copy(block, 1000);
    const total = 256;
    let sent = 0;
    let received = 0;
    let masks = 0;
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    await pipeline(
      new Readable({
        read() {
          if (sent++ === total) this.push(null);
          else this.push(Buffer.from(block)); // a fresh buffer per read, as from a pipe
        },
      }),
      maskStream(m),
      new Writable({
        highWaterMark: 1 << 16,
        write(chunk: Buffer, _e, cb) {
          received += chunk.length;
          if (chunk.equals(Buffer.from(P))) masks++;
          if ((received & 0xfffff) < chunk.length) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
          cb();
        },
      }),
    );
    expect(masks).toBe(total);
    expect(received).toBe(total * (block.length - secrets[7]!.length + P.length));
    expect(rssPeak - rssBefore).toBeLessThan(100 * 1024 * 1024);
  });
});
