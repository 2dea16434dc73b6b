import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AuthyError } from "../errors.js";
import { dotenvText, KEY_PATTERN, parseDotenv, serializeDotenv } from "./dotenv.js";
import { thrown } from "../errors.test-helpers.js";

const pairs = (text: string, source?: string) => parseDotenv(text, source === undefined ? {} : { source }).map(({ key, value }) => [key, value]);

const REALISTIC = [
  "# Application settings", //                                               1
  "", //                                                                     2
  "NODE_ENV=production", //                                                  3
  "export PORT=8080", //                                                     4
  "   INDENTED = padded value   ", //                                        5
  "DATABASE_URL=postgres://app:p%40ss@db.internal:5432/app?sslmode=require", // 6
  "OPENAI_API_KEY=sk-proj-abc123 # rotated 2024-05-01", //                   7
  "URL_WITH_FRAGMENT=https://example.com/#section", //                       8
  "EMPTY=", //                                                               9
  "EMPTY_WITH_COMMENT= # nothing here", //                                   10
  "SINGLE='literal $HOME \\n \"quoted\" # not a comment'", //                11
  'DOUBLE="tab\\there\\nnewline \\"q\\" back\\\\slash \\$HOME ${HOME} unknown\\q"', // 12
  'BACKTICK=`it\'s "both" kinds`', //                                       13
  'QUOTED_WITH_COMMENT="value" # trailing comment', //                       14
  "QUOTED_HASH='a # b'#comment right after", //                              15
  'PRIVATE_KEY="-----BEGIN PRIVATE KEY-----', //                             16
  "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", //                                     17
  '-----END PRIVATE KEY-----"', //                                           18
  "MULTI_SINGLE='line one", //                                               19
  "line two'", //                                                            20
  "MULTI_BACKTICK=`a", //                                                    21
  "", //                                                                     22
  "b`", //                                                                   23
  "\t# indented comment", //                                                 24
  "dotted.key-name=ok", //                                                   25
  "_UNDERSCORE=1", //                                                        26
  "BASE64=dGVzdA==", //                                                      27
  "UNICODE=héllo wörld 🔑", //                                              28
  'INNER_QUOTES=it\'s a "value"', //                                        29
  "export=not-a-prefix", //                                                  30
  "SPACES_AROUND   =   spaced", //                                           31
  "HASH_NO_SPACE=abc#def", //                                                32
  "TEMPLATE=${OTHER}-$USER", //                                              33
].join("\n");

describe("parseDotenv", () => {
  it("reads every syntax feature of a realistic file", () => {
    expect(pairs(REALISTIC)).toEqual([
      ["NODE_ENV", "production"],
      ["PORT", "8080"],
      ["INDENTED", "padded value"],
      ["DATABASE_URL", "postgres://app:p%40ss@db.internal:5432/app?sslmode=require"],
      ["OPENAI_API_KEY", "sk-proj-abc123"],
      ["URL_WITH_FRAGMENT", "https://example.com/#section"],
      ["EMPTY", ""],
      ["EMPTY_WITH_COMMENT", ""],
      ["SINGLE", 'literal $HOME \\n "quoted" # not a comment'],
      ["DOUBLE", 'tab\there\nnewline "q" back\\slash $HOME ${HOME} unknown\\q'],
      ["BACKTICK", `it's "both" kinds`],
      ["QUOTED_WITH_COMMENT", "value"],
      ["QUOTED_HASH", "a # b"],
      ["PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"],
      ["MULTI_SINGLE", "line one\nline two"],
      ["MULTI_BACKTICK", "a\n\nb"],
      ["dotted.key-name", "ok"],
      ["_UNDERSCORE", "1"],
      ["BASE64", "dGVzdA=="],
      ["UNICODE", "héllo wörld 🔑"],
      ["INNER_QUOTES", 'it\'s a "value"'],
      ["export", "not-a-prefix"],
      ["SPACES_AROUND", "spaced"],
      ["HASH_NO_SPACE", "abc#def"],
      ["TEMPLATE", "${OTHER}-$USER"],
    ]);
  });

  it("reports the line of each key, counting lines inside multi-line values", () => {
    const lines = Object.fromEntries(parseDotenv(REALISTIC).map((e) => [e.key, e.line]));
    expect(lines).toMatchObject({ NODE_ENV: 3, PORT: 4, PRIVATE_KEY: 16, MULTI_SINGLE: 19, MULTI_BACKTICK: 21 });
    expect(lines["dotted.key-name"]).toBe(25);
    expect(lines.TEMPLATE).toBe(33);
  });

  it("reads a CRLF file exactly like an LF file, joining multi-line values with \\n", () => {
    expect(parseDotenv(REALISTIC.replaceAll("\n", "\r\n"))).toEqual(parseDotenv(REALISTIC));
  });

  it("reads a file with lone CR line endings like an LF file", () => {
    expect(parseDotenv(REALISTIC.replaceAll("\n", "\r"))).toEqual(parseDotenv(REALISTIC));
  });

  it("ignores a UTF-8 byte order mark at the start", () => {
    expect(parseDotenv("\uFEFFA=1\nB=2\n")).toEqual([
      { key: "A", value: "1", line: 1 },
      { key: "B", value: "2", line: 2 },
    ]);
  });

  it("keeps \\r escapes inside double quotes even though raw CRs are line endings", () => {
    expect(pairs('A="x\\r\\ny"\r\n')).toEqual([["A", "x\r\ny"]]);
  });

  it.each([
    ["empty text", "", []],
    ["only comments and blanks", "# a\n\n   \n\t# b\n", []],
    ["no trailing newline", "A=1", [["A", "1"]]],
    ["spaces around =", "A = 1", [["A", "1"]]],
    ["tabs around =", "A\t=\t1", [["A", "1"]]],
    ["export with several spaces", "export   A=1", [["A", "1"]]],
    ["export with a tab", "export\tA=1", [["A", "1"]]],
    ["a key named export", "export = 1", [["export", "1"]]],
    ["a key starting with export", "exportA=1", [["exportA", "1"]]],
    ["= inside unquoted value", "A=b=c", [["A", "b=c"]]],
    ["tab before # comment", "A=b\t# c", [["A", "b"]]],
    ["# directly after =", "A=#b", [["A", "#b"]]],
    ["no-break space is not trimmed", "A=\u00a0b\u00a0", [["A", "\u00a0b\u00a0"]]],
    ["quote in the middle of an unquoted value", "A=b'c", [["A", "b'c"]]],
    ["empty double quotes", 'A=""', [["A", ""]]],
    ["empty single quotes", "A=''", [["A", ""]]],
    ["spaces kept inside quotes", "A='  b  '", [["A", "  b  "]]],
    ["whitespace after closing quote", "A='b'   ", [["A", "b"]]],
    ["escaped backslash before the closing quote", 'A="b\\\\"', [["A", "b\\"]]],
    ["escaped quote", 'A="say \\"hi\\""', [["A", 'say "hi"']]],
    ["backslashes are literal in single quotes", "A='\\n\\t\\\\'", [["A", "\\n\\t\\\\"]]],
    ["unknown escape kept with its backslash", 'A="C:\\dir\\x"', [["A", "C:\\dir\\x"]]],
    ["escaped dollar", 'A="\\${X}"', [["A", "${X}"]]],
    ["escaped newline (backslash + line break) is kept", 'A="a\\\nb"', [["A", "a\\\nb"]]],
    ["hash inside double quotes", 'A="a # b"', [["A", "a # b"]]],
    ["indented key", "    A=1", [["A", "1"]]],
    ["dots and dashes in keys", "a.b-c_d=1", [["a.b-c_d", "1"]]],
  ])("parses %s", (_name, text, expected) => {
    expect(pairs(text)).toEqual(expected);
  });

  it.each([
    ["a line with no =", "A=1\nB=2\nJUST_A_WORD\n", 3, "expected KEY=value"],
    ["a key starting with a digit", "1A=x", 1, "invalid key name"],
    ["a key with a space", "\n\nMY KEY=x", 3, "invalid key name"],
    ["a key with a dollar", "A$=x", 1, "invalid key name"],
    ["a missing key", "=x", 1, "invalid key name"],
    ["export without an assignment", "export A", 1, "expected KEY=value"],
    ["junk after a closing double quote", 'A="x"y', 1, "unexpected characters after the closing quote of A"],
    ["junk after a closing single quote", "A='x' y", 1, "unexpected characters after the closing quote of A"],
    ["a NUL character", "A=1\nB=x\0y", 2, "NUL"],
  ])("rejects %s", (_name, text, line, what) => {
    const e = thrown(() => parseDotenv(text, { source: "app.env" }));
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.message).toMatch(new RegExp(`^app\\.env:${line}: `));
    expect(e.message).toContain(what);
    expect(e.details).toEqual({ source: "app.env", line });
  });

  it.each(['"', "'", "`"])("reports an unterminated %s quote at the line it opens (line 7)", (q) => {
    const text = ["A=1", "B=2", "", "# c", "C=3", "D=4", `SECRET=${q}never closed`, "E=5", "F=6"].join("\n");
    const e = thrown(() => parseDotenv(text, { source: ".env" }));
    expect(e.message).toMatch(/^\.env:7: unterminated .*-quoted value$/);
  });

  it("reports an unclosed quote at its own line when a later quote closes it by accident", () => {
    const text = ["A=1", "B=2", "C=3", "D=4", "E=5", "F=6", 'SECRET="oops', 'NEXT="fine"'].join("\n");
    const e = thrown(() => parseDotenv(text, { source: ".env" }));
    expect(e.message).toMatch(/^\.env:7: double-quoted value of SECRET is not terminated properly/);
    expect(e.message).toContain("closes on line 8");
    expect(e.hint).toContain('missing closing " on line 7');
  });

  it("refuses a duplicate key, naming both lines", () => {
    const e = thrown(() => parseDotenv("A=1\nB=2\n\nA=3\n", { source: "x.env" }));
    expect(e.message).toBe("x.env:4: duplicate key A (first defined on line 1)");
  });

  it("names the source 'dotenv' when none is given", () => {
    expect(thrown(() => parseDotenv("nope")).message).toBe("dotenv:1: expected KEY=value");
  });

  describe("never puts a value in an error message", () => {
    const CANARY = "CANARY_s3cr3t_V4lue";
    it.each([
      ["an unterminated double quote", `A="${CANARY}`],
      ["an unterminated single quote", `A='${CANARY}`],
      ["junk after the quote", `A="${CANARY}"${CANARY}`],
      ["a multi-line value closed by accident", `A="${CANARY}\nB="${CANARY}"${CANARY}`],
      ["a pasted secret line", `A=1\n${CANARY}`],
      ["a pasted base64 line with padding", `A=1\n${CANARY}+/a==`],
      ["a secret with spaces and =", `A=1\n${CANARY} x=${CANARY}`],
      ["a duplicate", `A=${CANARY}\nA=${CANARY}`],
      ["a NUL byte", `A=${CANARY}\0`],
    ])("%s", (_name, text) => {
      const e = thrown(() => parseDotenv(text));
      expect(e.message).not.toContain("CANARY");
      expect(e.hint ?? "").not.toContain("CANARY");
      expect(JSON.stringify(e.details ?? {})).not.toContain("CANARY");
    });
  });

  it("throws only INVALID_INPUT AuthyErrors, whatever the input", () => {
    const chars = fc.constantFrom("A", "b", "_", "=", " ", "\t", "\n", "\r", "#", '"', "'", "`", "\\", "$", "1", "é", "\0", "export ");
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 60 }), (parts) => {
        try {
          parseDotenv(parts.join(""));
        } catch (e) {
          expect(e).toBeInstanceOf(AuthyError);
          expect((e as AuthyError).code).toBe("INVALID_INPUT");
        }
      }),
      { numRuns: 2000 },
    );
  });
});

const keyArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,20}$/);
const trickyChar = fc.constantFrom(
  '"',
  "'",
  "`",
  "\\",
  "\n",
  "\r",
  "\r\n",
  "#",
  " #",
  "$",
  "${X}",
  " ",
  "\t",
  "=",
  "a",
  "Z",
  "é",
  "🔑",
  "\u00a0",
  "\uFEFF",
  "\\n",
);
const valueArb = fc.oneof(
  fc.string({ unit: "binary" }).filter((v) => !v.includes("\0")),
  fc.array(trickyChar, { maxLength: 12 }).map((a) => a.join("")),
  fc.string({ unit: "grapheme-ascii" }).filter((v) => !v.includes("\0")),
);
const entriesArb = fc.uniqueArray(fc.record({ key: keyArb, value: valueArb }), {
  selector: (e) => e.key,
  maxLength: 8,
});

describe("dotenvText", () => {
  it("decodes UTF-8 as is, and names the first line that is not UTF-8", () => {
    expect(dotenvText(Buffer.from("A=h\u00e9\nB=\u2603\n"), "f.env")).toBe("A=h\u00e9\nB=\u2603\n");
    for (const [bytes, line] of [
      [Buffer.from([0xff]), 1],
      [Buffer.concat([Buffer.from("A=1\nB=2\nC="), Buffer.from([0xc3])]), 3],
      [Buffer.concat([Buffer.from("A=1\n"), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from("\nB=2")]), 2],
    ] as const) {
      expect(thrown(() => dotenvText(bytes, "f.env")).message).toBe(`f.env:${line}: not valid UTF-8 text`);
    }
  });
});

describe("serializeDotenv", () => {
  it("round-trips through parseDotenv for any keys and values", () => {
    fc.assert(
      fc.property(entriesArb, (entries) => {
        expect(pairs(serializeDotenv(entries))).toEqual(entries.map(({ key, value }) => [key, value]));
      }),
      { numRuns: 1000 },
    );
  });

  it("still round-trips when the output is saved with CRLF line endings", () => {
    fc.assert(
      fc.property(entriesArb, (entries) => {
        const crlf = serializeDotenv(entries).replaceAll("\n", "\r\n");
        expect(pairs(crlf)).toEqual(entries.map(({ key, value }) => [key, value]));
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ["a simple token", "sk-abc_123", "A=sk-abc_123\n"],
    ["base64 with padding", "dGVzdA==", "A=dGVzdA==\n"],
    ["a URL", "https://x.io/a?b=c", "A='https://x.io/a?b=c'\n"],
    ["the empty string", "", "A=\n"],
    ["spaces", " a b ", "A=' a b '\n"],
    ["a dollar", "pa$$word", "A='pa$$word'\n"],
    ["a hash", "a #b", "A='a #b'\n"],
    ["a backslash", "C:\\dir", "A='C:\\dir'\n"],
    ["a single quote", "it's", 'A="it\'s"\n'],
    ["a newline", "a\nb", 'A="a\\nb"\n'],
    ["a quote, a dollar and a backslash", `'"$\\`, `A="'\\"\\$\\\\"\n`],
  ])("writes %s as expected", (_name, value, expected) => {
    expect(serializeDotenv([{ key: "A", value }])).toBe(expected);
  });

  it("writes nothing for no entries", () => {
    expect(serializeDotenv([])).toBe("");
  });

  it.each([["1A"], ["A B"], [""], ["A$"], ["é"]])("refuses the key %j", (key) => {
    const e = thrown(() => serializeDotenv([{ key, value: "x" }]));
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.message).toContain(JSON.stringify(key));
    expect(KEY_PATTERN.test(key)).toBe(false);
  });

  it("refuses a value containing NUL without echoing it", () => {
    const e = thrown(() => serializeDotenv([{ key: "TOKEN", value: "CANARY\0" }]));
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.message).toBe("TOKEN: dotenv cannot represent a value containing a NUL character");
  });

  it("refuses a duplicate key rather than writing a file it cannot read back", () => {
    const e = thrown(() =>
      serializeDotenv([
        { key: "A", value: "1" },
        { key: "A", value: "2" },
      ]),
    );
    expect(e.message).toBe("A: duplicate key");
  });
});
