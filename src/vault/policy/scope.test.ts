import { describe, expect, it } from "vitest";
import { AuthyError } from "../../errors.js";
import { CAPABILITIES } from "./capability.js";
import { canListNamespace, decide, filterListable, type Scope } from "./scope.js";

const ALL = [...CAPABILITIES];

const deploy: Scope = {
  name: "deploy",
  allow: [
    { path: "production/*", capabilities: ["read", "list"] },
    { path: "staging/**", capabilities: ["read", "list", "write"] },
  ],
  deny: [{ path: "production/ROOT_*", capabilities: ALL }],
};

describe("decide", () => {
  const table: [string, (typeof CAPABILITIES)[number], boolean, string][] = [
    ["production/DB_URL", "read", true, "allow"],
    ["production/DB_URL", "list", true, "allow"],
    ["production/DB_URL", "write", false, "default"],
    ["production/ROOT_TOKEN", "read", false, "deny"],
    ["production/ROOT_TOKEN", "list", false, "deny"], // deny beats allow for list too
    ["production/ROOT", "read", true, "allow"], // ROOT_* needs the underscore
    ["production/eu/DB_URL", "read", false, "default"], // * is one segment
    ["Production/DB_URL", "read", false, "default"], // case
    ["staging/a/b/KEY", "write", true, "allow"],
    ["staging/KEY", "delete", false, "default"],
    ["stagingX/KEY", "read", false, "default"],
  ];
  it.each(table)("%s %s → %s by %s", (path, cap, allowed, kind) => {
    const d = decide(deploy, path, cap);
    expect(d.allowed).toBe(allowed);
    expect(d.rule.kind).toBe(kind);
  });

  it("names the rule that decided", () => {
    expect(decide(deploy, "staging/x/KEY", "read").rule).toEqual({ kind: "allow", path: "staging/**", index: 1 });
    expect(decide(deploy, "production/ROOT_A", "read").rule).toEqual({ kind: "deny", path: "production/ROOT_*", index: 0 });
    expect(decide(deploy, "dev/KEY", "read").rule).toEqual({ kind: "default" });
  });

  it("a deny only withholds its own capabilities", () => {
    const scope: Scope = {
      name: "s",
      allow: [{ path: "prod/*", capabilities: ["read", "list"] }],
      deny: [{ path: "prod/SECRET", capabilities: ["read"] }],
    };
    expect(decide(scope, "prod/SECRET", "read").allowed).toBe(false);
    expect(decide(scope, "prod/SECRET", "list").allowed).toBe(true);
  });

  it("case variants cannot get around a deny, and do not inherit an allow", () => {
    const scope: Scope = {
      name: "s",
      allow: [{ path: "**", capabilities: ["read"] }],
      deny: [{ path: "prod/DB", capabilities: ALL }],
    };
    expect(decide(scope, "prod/DB", "read").allowed).toBe(false);
    // Prod/DB is a different secret: the deny does not name it, and it is allowed by **.
    expect(decide(scope, "Prod/DB", "read").rule.kind).toBe("allow");
    const narrow: Scope = { name: "n", allow: [{ path: "prod/DB", capabilities: ["read"] }], deny: [] };
    expect(decide(narrow, "Prod/DB", "read").allowed).toBe(false);
    expect(decide(narrow, "prod/db", "read").allowed).toBe(false);
  });

  it.each(["prod", "prod/../DB", "prod//DB", "/prod/DB", "prod/DB/", "./prod/DB", "prod/D B", "prod\\DB"])(
    "refuses to decide on the non-canonical path %j",
    (path) => {
      expect(() => decide(deploy, path, "read")).toThrow(AuthyError);
      try {
        decide(deploy, path, "read");
      } catch (e) {
        expect((e as AuthyError).code).toBe("INVALID_INPUT");
      }
    },
  );

  it("default deny for an empty scope", () => {
    expect(decide({ name: "e", allow: [], deny: [] }, "a/b", "list").allowed).toBe(false);
  });
});

describe("listing", () => {
  const names = ["production/DB_URL", "production/ROOT_TOKEN", "production/eu/DB_URL", "staging/KEY", "staging/deep/er/KEY", "dev/KEY", "Production/DB_URL"];

  it("hides every name the caller may not list", () => {
    expect(filterListable(deploy, names)).toEqual(["production/DB_URL", "staging/KEY", "staging/deep/er/KEY"]);
  });

  it("read alone does not make a name listable", () => {
    const readOnly: Scope = { name: "r", allow: [{ path: "**", capabilities: ["read"] }], deny: [] };
    expect(filterListable(readOnly, names)).toEqual([]);
  });

  it("deny on list hides a name that read still allows", () => {
    const scope: Scope = {
      name: "s",
      allow: [{ path: "prod/**", capabilities: ["read", "list"] }],
      deny: [{ path: "prod/hidden/*", capabilities: ["list"] }],
    };
    expect(filterListable(scope, ["prod/A", "prod/hidden/B", "prod/hidden/x/C"])).toEqual(["prod/A", "prod/hidden/x/C"]);
    expect(decide(scope, "prod/hidden/B", "read").allowed).toBe(true);
  });

  it("leaves out names that are not canonical instead of failing", () => {
    expect(filterListable(deploy, ["production/A", "production/../A", "production"])).toEqual(["production/A"]);
  });

  it("knows which namespaces could hold anything listable", () => {
    expect(canListNamespace(deploy, "production")).toBe(true);
    expect(canListNamespace(deploy, "staging")).toBe(true);
    expect(canListNamespace(deploy, "staging/deep")).toBe(true);
    expect(canListNamespace(deploy, "production/eu")).toBe(false); // production/* is one level
    expect(canListNamespace(deploy, "dev")).toBe(false);
    expect(canListNamespace(deploy, "Production")).toBe(false);
    expect(canListNamespace(deploy, "prod")).toBe(false);
  });

  it("a namespace wholly denied for list is not listable", () => {
    const scope: Scope = {
      name: "s",
      allow: [{ path: "**", capabilities: ["list"] }],
      deny: [
        { path: "secret/**", capabilities: ["list"] },
        { path: "x/A*", capabilities: ["list"] },
      ],
    };
    expect(canListNamespace(scope, "secret")).toBe(false);
    expect(canListNamespace(scope, "secret/inner")).toBe(false);
    expect(canListNamespace(scope, "public")).toBe(true);
    expect(canListNamespace(scope, "x")).toBe(true);
  });

  it("rejects an invalid namespace", () => {
    expect(() => canListNamespace(deploy, "a/../b")).toThrow(AuthyError);
    expect(() => canListNamespace(deploy, "")).toThrow(AuthyError);
  });
});
