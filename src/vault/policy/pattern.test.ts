import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AuthyError } from "../../errors.js";
import { compilePattern, matchGenerally, matchPattern, mayIntersect, patternCovers, patternProblem, validatePattern } from "./pattern.js";

describe("matchPattern", () => {
  // [pattern, path, matches]: the near misses from RELIABILITY.md first.
  const table: [string, string, boolean][] = [
    ["prod/*", "prod/a", true],
    ["prod/*", "prod/a/b", false], // * never crosses a /
    ["prod/**", "prod/a", true],
    ["prod/**", "prod/a/b", true],
    ["prod/**", "prod/a/b/c/d", true],
    ["prod/**", "prodX/a", false], // ** is whole segments only
    ["prod/**", "xprod/a", false],
    ["prod/**", "staging/prod/a", false],
    ["prod/*_KEY", "prod/_KEY", true], // * may match nothing
    ["prod/*_KEY", "prod/KEY", false], // ... but the _ is still needed
    ["prod/*_KEY", "prod/API_KEY", true],
    ["prod/*_KEY", "prod/API_KEYS", false],
    ["prod/*_KEY", "prod/x/API_KEY", false],
    ["prod/API_*", "prod/API_", true],
    ["prod/API_*", "prod/API", false],
    ["prod/API_*", "prod/API_KEY", true],
    ["prod/DB", "prod/DB", true],
    ["Prod/DB", "prod/DB", false], // case-sensitive
    ["prod/db", "prod/DB", false],
    ["prod/*", "Prod/DB", false],
    ["*/DB", "prod/DB", true],
    ["*/DB", "prod/x/DB", false],
    ["*/*", "a/b", true],
    ["*/*", "a/b/c", false],
    ["**", "a/b", true],
    ["**", "a/b/c/d", true],
    ["**/KEY", "a/KEY", true],
    ["**/KEY", "a/b/c/KEY", true],
    ["**/KEY", "a/KEYS", false],
    ["**/KEY", "a/KEY/b", false],
    ["prod/**/KEY", "prod/KEY", true], // ** may match no segment
    ["prod/**/KEY", "prod/x/KEY", true],
    ["prod/**/KEY", "prod/x/y/KEY", true],
    ["prod/**/KEY", "prod/x/y/KEYX", false],
    ["prod/*/KEY", "prod/KEY", false], // * is exactly one segment
    ["prod/*/KEY", "prod/x/KEY", true],
    ["a/**/b/**/c", "a/b/c", true],
    ["a/**/b/**/c", "a/x/b/y/z/c", true],
    ["a/**/b/**/c", "a/x/c", false],
    ["x/a*b*c", "x/abc", true],
    ["x/a*b*c", "x/aXbYc", true],
    ["x/a*b*c", "x/acb", false],
    ["x/*a*", "x/a", true],
    ["x/*.env", "x/.env", true],
    ["x/*.env", "x/prod.env", true],
    ["x/*.env", "x/prodXenv", false], // . is literal
    ["prod/openai/*", "prod/openai/API_KEY", true], // nested namespaces
    ["prod/*", "prod/openai/API_KEY", false],
    ["prod/*/API_KEY", "prod/openai/API_KEY", true],
  ];
  it.each(table)("%s vs %s → %s", (pattern, path, expected) => {
    expect(matchPattern(pattern, path)).toBe(expected);
  });

  it("compiles once and matches many", () => {
    const p = compilePattern("prod/*_KEY");
    expect(p.source).toBe("prod/*_KEY");
    expect(["prod/A_KEY", "prod/KEY", "dev/A_KEY"].map((x) => p.matches(x))).toEqual([true, false, false]);
  });
});

describe("the quick matcher of literal, /* and /** patterns", () => {
  it("answers as the general matcher for every pattern and valid path", () => {
    const segment = fc.constantFrom("a", "b", "ab", "a.b");
    const pattern = fc.array(fc.oneof(segment, fc.constantFrom("*", "**", "a*")), { minLength: 1, maxLength: 4 }).map((s) => s.join("/"));
    const path = fc.array(segment, { minLength: 2, maxLength: 5 }).map((s) => s.join("/"));
    let quick = 0;
    fc.assert(
      fc.property(pattern, path, (p, x) => {
        if (patternProblem(p) !== undefined) return;
        if (!p.slice(0, p.lastIndexOf("/")).includes("*")) quick++;
        expect(compilePattern(p).matches(x)).toBe(matchGenerally(p, x));
      }),
      { numRuns: 2000 },
    );
    expect(quick).toBeGreaterThan(200); // the quick shapes were really tried
  });

  it.each([
    ["prod/app/**", "prod/app", true], // ** matches zero segments
    ["prod/app/**", "prod/app/K", true],
    ["prod/app/**", "prod/apple/K", false],
    ["prod/*", "prod/K", true],
    ["prod/*", "prod/a/K", false],
    ["prod/*", "production/K", false],
    ["prod/K", "prod/K", true],
    ["prod/K", "prod/K2", false],
  ])("%s against %s: %s, as the general matcher says", (pattern, path, expected) => {
    expect(compilePattern(pattern).matches(path)).toBe(expected);
    expect(matchGenerally(pattern, path)).toBe(expected);
  });
});

describe("validatePattern", () => {
  const bad: [string, RegExp][] = [
    ["", /empty/],
    ["/prod/*", /start or end/],
    ["prod/*/", /start or end/],
    ["prod//a", /empty segment/],
    ["prod/./a", /"\." segment/],
    ["prod/../a", /"\.\." segment/],
    ["prod/a?", /contains "\?"/],
    ["prod/[ab]", /contains "\["/],
    ["prod/{a,b}", /contains "\{"/],
    ["prod/a\\b", /contains/],
    ["prod/a b", /contains " "/],
    ["prod/é", /contains/],
    ["prod/\u0000", /contains "\\u0000"/],
    ["prod/\u200b", /contains/],
    ["prod/%2e%2e", /contains "%"/],
    ["prod/***", /inside a segment/],
    ["prod/a**", /inside a segment/],
    ["prod/**b", /inside a segment/],
    ["production", /can never match/],
    ["*", /can never match/],
    ["prod/" + "a".repeat(2000), /longer than/],
  ];
  it.each(bad)("rejects %j", (pattern, message) => {
    let error: unknown;
    try {
      validatePattern(pattern);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthyError);
    expect((error as AuthyError).code).toBe("INVALID_INPUT");
    expect((error as AuthyError).message).toMatch(message);
  });

  it.each(["**", "prod/**", "*/KEY", "prod/*_KEY", "a/**/b", "a.b/c-d_e", "**/**"])("accepts %j", (pattern) => {
    expect(validatePattern(pattern)).toBe(pattern);
  });

  it("refuses to match with an invalid pattern rather than guess", () => {
    expect(() => matchPattern("prod/a?", "prod/ab")).toThrow(AuthyError);
  });
});

describe("adversarial patterns stay polynomial", () => {
  const FAST_MS = 200;
  it("*a*a*a*a*a*a*a*b against a 255-byte path", () => {
    const path = "x/" + "a".repeat(253);
    const start = performance.now();
    for (let i = 0; i < 100; i++) expect(matchPattern("x/*a*a*a*a*a*a*a*b", path)).toBe(false);
    expect(performance.now() - start).toBeLessThan(FAST_MS);
  });

  it("many ** around * segments against 128 segments", () => {
    const path = Array.from({ length: 128 }, () => "a").join("/");
    const pattern = "**/" + Array.from({ length: 30 }, () => "*a*").join("/**/") + "/**/b";
    const start = performance.now();
    for (let i = 0; i < 20; i++) expect(matchPattern(pattern, path)).toBe(false);
    expect(performance.now() - start).toBeLessThan(FAST_MS);
  });

  it("containment and intersection of long star patterns", () => {
    const a = "x/" + "*a".repeat(200) + "*";
    const b = "x/" + "*a".repeat(199) + "*b*";
    const start = performance.now();
    expect(patternCovers(a, b)).toBe(false);
    expect(mayIntersect(a, b)).toBe(true);
    expect(performance.now() - start).toBeLessThan(FAST_MS * 5);
  });
});

describe("patternCovers", () => {
  const table: [string, string, boolean][] = [
    // [parent, child, provably covered]
    ["prod/**", "prod/*", true],
    ["prod/*", "prod/a", true],
    ["prod/*", "prod/*_KEY", true],
    ["prod/*_KEY", "prod/*", false],
    ["prod/**", "prod/a/b", true],
    ["prod/**", "prod/**/KEY", true],
    ["prod/**", "prodX/a", false],
    ["prod/*", "prod/**", false],
    ["prod/*", "prod/a/b", false],
    ["**", "prod/**", true],
    ["**", "**", true],
    ["*/*", "**", false],
    ["prod/**/KEY", "prod/KEY", true],
    ["prod/*/KEY", "prod/**/KEY", false],
    ["prod/API_*", "prod/API_KEY_*", true],
    ["prod/*KEY*", "prod/*_KEY_*", true],
    ["prod/a*", "prod/*a", false],
    ["Prod/*", "prod/a", false],
    ["prod/a", "prod/a", true],
  ];
  it.each(table)("%s ⊇ %s → %s", (parent, child, expected) => {
    expect(patternCovers(parent, child)).toBe(expected);
  });
});

describe("mayIntersect", () => {
  const table: [string, string, boolean][] = [
    ["prod/*", "prod/ROOT_*", true],
    ["prod/*", "staging/*", false],
    ["prod/**", "prodX/*", false],
    ["prod/*", "prod/a/b", false],
    ["prod/a*", "prod/*b", true],
    ["prod/a*", "prod/b*", false],
    ["prod/*_KEY", "prod/*_TOKEN", false],
    ["**", "x/y", true],
    ["**/KEY", "prod/*", true],
    ["**/KEY", "prod/*/TOKEN", false],
    ["a/**/c", "a/b/**", true],
    ["Prod/*", "prod/*", false],
  ];
  it.each(table)("%s ∩ %s → %s", (a, b, expected) => {
    expect(mayIntersect(a, b)).toBe(expected);
    expect(mayIntersect(b, a)).toBe(expected);
  });
});
