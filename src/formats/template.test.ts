import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseTemplate, renderTemplate, templateReferences } from "./template.js";
import { thrown } from "../errors.test-helpers.js";

const render = (text: string, values: Record<string, string>) =>
  renderTemplate(parseTemplate(text), (path) => {
    const v = values[path];
    if (v === undefined) throw new Error(`unexpected lookup of ${path}`);
    return v;
  });

describe("templates", () => {
  it("substitutes references with and without spaces inside the braces", () => {
    const values = { "ns/A": "1", "prod/openai/API_KEY": "sk-x" };
    expect(render("a={{authy://ns/A}} b={{ authy://prod/openai/API_KEY }} c={{\tauthy://ns/A\t}}", values)).toBe("a=1 b=sk-x c=1");
  });

  it("splits text and references, with the position of each {{", () => {
    expect(parseTemplate("x: {{ authy://ns/A }}\r\ny: é{{authy://ns/B}}!")).toEqual([
      { kind: "text", text: "x: " },
      { kind: "ref", path: "ns/A", line: 1, column: 4 },
      { kind: "text", text: "\r\ny: é" },
      { kind: "ref", path: "ns/B", line: 2, column: 5 },
      { kind: "text", text: "!" },
    ]);
  });

  it("counts columns in code points and lines for LF, CRLF and lone CR", () => {
    const parts = parseTemplate("a\rb\r\nc\n🔑🔑{{ authy://ns/K }}");
    expect(parts[1]).toEqual({ kind: "ref", path: "ns/K", line: 4, column: 3 });
  });

  it("leaves every other {{…}} untouched, so Go and Jinja templates pass through", () => {
    const text = "{{ .Values.x }} {% if a %}{{ a | upper }}{% endif %} {{ 'authy://ns/A' }} {{}} {{ authy:/x }} }} {{";
    expect(parseTemplate(text)).toEqual([{ kind: "text", text }]);
    expect(render(text, {})).toBe(text);
  });

  it("finds a reference right after an extra opening brace", () => {
    expect(render("{{{ authy://ns/A }}}", { "ns/A": "v" })).toBe("{v}");
  });

  it("lists the distinct referenced paths in order of first appearance", () => {
    const parts = parseTemplate("{{ authy://b/B }} {{ authy://a/A }} {{ authy://b/B }} {{ authy://c/C }}");
    expect(templateReferences(parts)).toEqual(["b/B", "a/A", "c/C"]);
  });

  it("returns no parts for an empty template", () => {
    expect(parseTemplate("")).toEqual([]);
    expect(renderTemplate([], () => "x")).toBe("");
  });

  it("renders without escaping or re-reading the values", () => {
    expect(render("{{ authy://ns/A }}", { "ns/A": "{{ authy://ns/B }} $X \\n" })).toBe("{{ authy://ns/B }} $X \\n");
  });

  it.each([
    ["at the end of the text", "line1\nkey: {{ authy://ns/KEY", "template:2:6"],
    ["at the end of its line", "a\nb\n  {{authy://ns/KEY\n}}", "template:3:3"],
    ["at the end of a CRLF line", "a\r\n{{ authy://ns/KEY\r\n }}", "template:2:1"],
    ["before a later reference", "{{ authy://a/A\n{{ authy://b/B }}", "template:1:1"],
  ])("refuses a reference left open %s, with line:column", (_name, text, where) => {
    const e = thrown(() => parseTemplate(text));
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.message).toBe(`${where}: unterminated {{ authy://… }} reference`);
  });

  it("names the source in errors when given", () => {
    expect(thrown(() => parseTemplate("{{ authy://x", { source: "config.tpl" })).message).toMatch(/^config\.tpl:1:1: /);
  });

  it.each([
    ["a filter", "{{ authy://ns/KEY | base64 }}", "whitespace"],
    ["a query", "\n  {{ authy://ns/KEY?v=1 }}", "query"],
    ["an empty path", "{{ authy:// }}", "empty"],
  ])("refuses a malformed reference (%s) with its position", (_name, text, what) => {
    const e = thrown(() => parseTemplate(text));
    expect(e.code).toBe("INVALID_INPUT");
    expect(e.message).toMatch(/^template:\d+:\d+: invalid reference/);
    expect(e.message).toContain(what);
  });

  it("renders any text without references unchanged", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        fc.pre(!text.includes("authy://"));
        expect(renderTemplate(parseTemplate(text), () => "X")).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it("renders the text around references unchanged", () => {
    const textArb = fc.string().filter((t) => !t.includes("{") && !t.includes("}"));
    const pathArb = fc.stringMatching(/^[a-z]{1,5}\/[A-Z_]{1,8}$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(textArb, pathArb)), textArb, (pieces, tail) => {
        const template = pieces.map(([t, p]) => `${t}{{ authy://${p} }}`).join("") + tail;
        const expected = pieces.map(([t, p]) => `${t}<${p}>`).join("") + tail;
        expect(renderTemplate(parseTemplate(template), (p) => `<${p}>`)).toBe(expected);
      }),
    );
  });
});
