import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse as parseYaml, parseDocument } from "yaml";
import { parseDotenv } from "./dotenv.js";
import { EXPORT_FORMATS, serializeEnv, type EnvEntry, type ExportFormat } from "./export-formats.js";
import { thrown } from "../errors.test-helpers.js";

/** Runs the shell output in a real POSIX sh and reads the variables back, NUL-separated. */
function shellRoundTrip(entries: readonly EnvEntry[]): string[] {
  if (entries.length === 0) return [];
  const script = `${serializeEnv(entries, "shell")}printf '%s\\0' ${entries.map((e) => `"$${e.key}"`).join(" ")}`;
  const r = spawnSync("sh", ["-c", script], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split("\0").slice(0, -1);
}

const TRICKY: EnvEntry[] = [
  { key: "YES", value: "yes" },
  { key: "ZIP", value: "0123" },
  { key: "NULLISH", value: "null" },
  { key: "TILDE", value: "~" },
  { key: "BOOL", value: "true" },
  { key: "FLOAT", value: "1e3" },
  { key: "EMPTY", value: "" },
  { key: "SPACES", value: "  padded  " },
  { key: "QUOTES", value: `it's "quoted" \`too\`` },
  { key: "SHELLY", value: "$(rm -rf /) `id` $HOME ${X} \\ ; | & > <" },
  { key: "PEM", value: "-----BEGIN KEY-----\nabc\r\ndef\n-----END KEY-----\n" },
  { key: "UNICODE", value: "héllo 🔑 \u2028 \u00a0" },
  { key: "HASH", value: "a # b #c" },
  { key: "YAML_ISH", value: "- item: {a: [1]} &anchor *ref !tag | >" },
  { key: "LONG", value: "x".repeat(500) },
];

const safeKey = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/);
const trickyChar = fc.constantFrom("'", '"', "`", "\\", "$", "\n", "\r", "\t", " ", "#", "a", "é", "🔑", "!", "*", "'\\''");
const valueArb = fc.oneof(
  fc.string({ unit: "binary" }).filter((v) => !v.includes("\0")),
  fc.array(trickyChar, { maxLength: 12 }).map((a) => a.join("")),
);
const entriesArb = fc.uniqueArray(fc.record({ key: safeKey, value: valueArb }), {
  selector: (e) => e.key,
  maxLength: 8,
});

describe("serializeEnv", () => {
  it("lists every format", () => {
    expect(EXPORT_FORMATS).toEqual(["dotenv", "json", "yaml", "shell", "docker-env"]);
  });

  it("refuses an unknown format", () => {
    const e = thrown(() => serializeEnv([], "toml" as ExportFormat));
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.hint).toContain("docker-env");
  });

  it.each(EXPORT_FORMATS)("%s refuses a duplicate key", (format) => {
    const e = thrown(() =>
      serializeEnv(
        [
          { key: "A", value: "1" },
          { key: "A", value: "2" },
        ],
        format,
      ),
    );
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.message).toContain("duplicate key");
  });

  it.each(EXPORT_FORMATS)("%s refuses an empty key", (format) => {
    expect(thrown(() => serializeEnv([{ key: "", value: "1" }], format)).code).toBe("INVALID_INPUT");
  });

  describe("dotenv", () => {
    it("round-trips the tricky values through parseDotenv", () => {
      const back = parseDotenv(serializeEnv(TRICKY, "dotenv")).map(({ key, value }) => ({ key, value }));
      expect(back).toEqual(TRICKY);
    });
  });

  describe("json", () => {
    it("writes an object in the given order with 2-space indent and a trailing newline", () => {
      const out = serializeEnv(
        [
          { key: "B", value: "2" },
          { key: "10", value: "ten" },
          { key: "A", value: 'q"\n' },
        ],
        "json",
      );
      expect(out).toBe('{\n  "B": "2",\n  "10": "ten",\n  "A": "q\\"\\n"\n}\n');
    });

    it("writes {} for no entries", () => {
      expect(serializeEnv([], "json")).toBe("{}\n");
      expect(JSON.parse(serializeEnv([], "json"))).toEqual({});
    });

    it("round-trips through JSON.parse", () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.record({ key: fc.string({ minLength: 1 }), value: fc.string({ unit: "binary" }) }), {
            selector: (e) => e.key,
            maxLength: 8,
          }),
          (entries) => {
            const parsed = JSON.parse(serializeEnv(entries, "json")) as Record<string, string>;
            expect(Object.entries(parsed).sort()).toEqual(entries.map((e) => [e.key, e.value]).sort());
          },
        ),
        { numRuns: 500 },
      );
    });

    it("keeps a __proto__ key as data", () => {
      const parsed = JSON.parse(serializeEnv([{ key: "__proto__", value: "x" }], "json")) as object;
      expect(Object.entries(parsed)).toEqual([["__proto__", "x"]]);
    });
  });

  describe("yaml", () => {
    it("quotes every value so that YAML-looking strings stay strings", () => {
      const out = serializeEnv(TRICKY.slice(0, 6), "yaml");
      expect(out).toBe('"YES": "yes"\nZIP: "0123"\nNULLISH: "null"\nTILDE: "~"\nBOOL: "true"\nFLOAT: "1e3"\n');
    });

    it("quotes keys that a YAML 1.1 reader would take for booleans or numbers", () => {
      const out = serializeEnv(
        [
          { key: "ON", value: "1" },
          { key: "Y", value: "2" },
          { key: "123", value: "3" },
          { key: "null", value: "4" },
          { key: "API_KEY", value: "5" },
        ],
        "yaml",
      );
      expect(out).toBe('"ON": "1"\n"Y": "2"\n"123": "3"\n"null": "4"\nAPI_KEY: "5"\n');
    });

    it("never folds a long value across lines", () => {
      expect(serializeEnv([{ key: "T", value: "x ".repeat(200) }], "yaml").split("\n")).toHaveLength(2);
    });

    it("writes {} for no entries", () => {
      expect(parseYaml(serializeEnv([], "yaml"))).toEqual({});
    });

    it.each(["1.2", "1.1"] as const)("round-trips through a YAML %s parser, keeping order", (version) => {
      const check = (entries: readonly EnvEntry[]) => {
        const doc = parseDocument(serializeEnv(entries, "yaml"), { version });
        expect(doc.errors).toEqual([]);
        const back = [...(doc.toJS({ mapAsMap: true }) as Map<unknown, unknown>)];
        expect(back).toEqual(entries.map((e) => [e.key, e.value]));
      };
      check(TRICKY);
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.record({ key: fc.oneof(safeKey, fc.constantFrom("ON", "no", "123", "~", "null", "a b", "x: y")), value: valueArb }), {
            selector: (e) => e.key,
            maxLength: 8,
          }),
          check,
        ),
        { numRuns: 300 },
      );
    });
  });

  describe("shell", () => {
    it("writes export lines with POSIX single quoting", () => {
      expect(
        serializeEnv(
          [
            { key: "A", value: "it's $x" },
            { key: "B", value: "" },
          ],
          "shell",
        ),
      ).toBe("export A='it'\\''s $x'\nexport B=''\n");
    });

    it("round-trips the tricky values through a real sh", () => {
      expect(shellRoundTrip(TRICKY)).toEqual(TRICKY.map((e) => e.value));
    });

    it("round-trips arbitrary values through a real sh", () => {
      fc.assert(
        fc.property(entriesArb, (entries) => {
          expect(shellRoundTrip(entries)).toEqual(entries.map((e) => e.value));
        }),
        { numRuns: 60 },
      );
    });

    it.each([["1A"], ["A-B"], ["A.B"], ["A B"], ["é"]])("refuses the non-shell name %j, naming it", (key) => {
      const e = thrown(() => serializeEnv([{ key, value: "x" }], "shell"));
      expect(e.code).toBe("INVALID_INPUT");
      expect(e.message).toContain(JSON.stringify(key));
    });

    it("refuses a value containing NUL without echoing it", () => {
      const e = thrown(() => serializeEnv([{ key: "A", value: "CANARY\0" }], "shell"));
      expect(e.message).toBe("A: shell cannot represent a value containing a NUL character");
    });
  });

  describe("docker-env", () => {
    it("writes KEY=value literally, quotes and spaces included", () => {
      expect(
        serializeEnv(
          [
            { key: "A", value: `"quoted" 'x' $HOME # not a comment ` },
            { key: "B", value: "" },
            { key: "my.key-1", value: " lead" },
          ],
          "docker-env",
        ),
      ).toBe(`A="quoted" 'x' $HOME # not a comment \nB=\nmy.key-1= lead\n`);
    });

    it.each([
      ["a newline", "line1\nline2"],
      ["a carriage return", "a\rb"],
      ["a NUL character", "a\0b"],
    ])("refuses a value containing %s, naming the key and not the value", (what, value) => {
      const e = thrown(() =>
        serializeEnv(
          [
            { key: "OK", value: "1" },
            { key: "PEM", value: `CANARY${value}` },
          ],
          "docker-env",
        ),
      );
      expect(e.code).toBe("INVALID_INPUT");
      expect(e.message).toBe(`PEM: docker-env cannot represent a value containing ${what}`);
      expect(e.hint).toBe("use --format dotenv or json");
    });

    it.each([["A=B"], ["A B"], ["#A"], ["A\nB"]])("refuses the variable name %j", (key) => {
      expect(thrown(() => serializeEnv([{ key, value: "x" }], "docker-env")).code).toBe("INVALID_INPUT");
    });
  });
});
