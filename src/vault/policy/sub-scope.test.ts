import { describe, expect, it } from "vitest";
import { CAPABILITIES } from "./capability.js";
import { decide, type Scope } from "./scope.js";
import { intersectScopes, isSubScope } from "./sub-scope.js";

const ALL = [...CAPABILITIES];
const parent: Scope = {
  name: "deploy",
  allow: [
    { path: "production/*", capabilities: ["read", "list"] },
    { path: "staging/**", capabilities: ["read", "list", "write"] },
  ],
  deny: [{ path: "production/ROOT_*", capabilities: ALL }],
};

describe("isSubScope", () => {
  const table: [string, Scope["allow"], boolean][] = [
    ["the same staging rule", [{ path: "staging/**", capabilities: ["read", "list", "write"] }], true],
    ["a narrower pattern", [{ path: "staging/app/*", capabilities: ["read"] }], true],
    ["a literal name", [{ path: "production/DB_URL", capabilities: ["read"] }], true],
    ["a suffix glob inside an allowed tree", [{ path: "staging/app/*_URL", capabilities: ["read"] }], true],
    ["a suffix glob that might reach a denied name (ROOT_URL)", [{ path: "production/*_URL", capabilities: ["read"] }], false],
    ["nothing at all", [], true],
    ["a capability the parent lacks", [{ path: "production/DB_URL", capabilities: ["write"] }], false],
    ["a wider pattern", [{ path: "production/**", capabilities: ["read"] }], false],
    ["a neighbouring namespace", [{ path: "productionX/*", capabilities: ["read"] }], false],
    ["another case", [{ path: "Production/DB_URL", capabilities: ["read"] }], false],
    ["an overlap with a deny", [{ path: "production/*", capabilities: ["read"] }], false],
    ["a denied name", [{ path: "production/ROOT_KEY", capabilities: ["list"] }], false],
    ["a glob that might reach a denied name", [{ path: "production/R*", capabilities: ["read"] }], false],
    ["a glob that cannot reach a denied name", [{ path: "production/DB_*", capabilities: ["read"] }], true],
  ];
  it.each(table.map(([w, r, e]) => [w, e, r] as const))("%s → %s", (_what, expected, rules) => {
    expect(isSubScope(rules, parent)).toBe(expected);
  });

  it("accepts an overlap with a parent deny that the child denies too", () => {
    const child: Scope = {
      name: "c",
      allow: [{ path: "production/*", capabilities: ["read"] }],
      deny: [{ path: "production/ROOT_*", capabilities: ["read"] }],
    };
    expect(isSubScope(child, parent)).toBe(true);
    expect(isSubScope({ ...child, deny: [{ path: "production/ROOT_A", capabilities: ["read"] }] }, parent)).toBe(false);
  });

  it("needs one parent rule to cover a child rule (conservative: a union is not enough)", () => {
    const split: Scope = {
      name: "p",
      allow: [
        { path: "a/x*", capabilities: ["read"] },
        { path: "a/y*", capabilities: ["read"] },
      ],
      deny: [],
    };
    expect(isSubScope([{ path: "a/x1", capabilities: ["read"] }], split)).toBe(true);
    expect(isSubScope([{ path: "a/*", capabilities: ["read"] }], split)).toBe(false);
  });
});

describe("intersectScopes", () => {
  it("keeps the narrower pattern and the common capabilities, and every deny", () => {
    const child = [
      { path: "production/**", capabilities: ["read" as const, "write" as const] },
      { path: "staging/app/*", capabilities: ["read" as const, "delete" as const] },
    ];
    const s = intersectScopes(child, parent, "token");
    expect(s).toEqual({
      name: "token",
      allow: [
        { path: "production/*", capabilities: ["read"] },
        { path: "staging/app/*", capabilities: ["read"] },
      ],
      deny: [{ path: "production/ROOT_*", capabilities: ALL }],
    });
    expect(isSubScope(s, parent)).toBe(true);
    expect(decide(s, "production/ROOT_A", "read").allowed).toBe(false);
    expect(decide(s, "production/DB", "read").allowed).toBe(true);
    expect(decide(s, "production/DB", "write").allowed).toBe(false);
    expect(decide(s, "staging/app/K", "delete").allowed).toBe(false);
  });

  it("drops overlaps it cannot express as a pattern (narrower, never wider)", () => {
    const p: Scope = { name: "p", allow: [{ path: "a/x*", capabilities: ["read"] }], deny: [] };
    const s = intersectScopes([{ path: "a/*y", capabilities: ["read"] }], p);
    expect(s.allow).toEqual([]);
    expect(s.name).toBe("p");
  });
});
