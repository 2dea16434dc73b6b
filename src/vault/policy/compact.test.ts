import { describe, expect, it } from "vitest";
import { AuthyError } from "../../errors.js";
import { formatCompactScope, isCompactScope, parseCompactScope } from "./compact.js";

describe("parseCompactScope", () => {
  it("reads one rule", () => {
    expect(parseCompactScope("secrets:read:production/*")).toEqual([{ path: "production/*", capabilities: ["read"] }]);
  });

  it("reads several comma-separated rules, in order, ignoring spaces around commas", () => {
    expect(parseCompactScope("secrets:read:prod/*, secrets:list:prod/*")).toEqual([
      { path: "prod/*", capabilities: ["read"] },
      { path: "prod/*", capabilities: ["list"] },
    ]);
  });

  it("joins capabilities with +", () => {
    expect(parseCompactScope("secrets:read+list:staging/**")).toEqual([{ path: "staging/**", capabilities: ["read", "list"] }]);
  });

  const bad: [string, RegExp][] = [
    ["", /empty/],
    ["secrets:read:prod/*,", /item 2 is empty/],
    ["secrets:read", /not resource:capability:pattern/],
    ["secrets:read:prod/*:x", /not resource:capability:pattern/],
    ["keys:read:prod/*", /unknown resource/],
    ["Secrets:read:prod/*", /unknown resource/],
    ["secrets:reed:prod/*", /unknown capability "reed"/],
    ["secrets:READ:prod/*", /unknown capability/],
    ["secrets::prod/*", /unknown capability ""/],
    ["secrets:read+:prod/*", /unknown capability ""/],
    ["secrets:read+read:prod/*", /repeated/],
    ["secrets:read:prod", /can never match/],
    ["secrets:read:prod/a?", /contains/],
    ["secrets:read:prod/../x", /segment/],
    ["secrets:read: prod/*", /contains " "/],
  ];
  it.each(bad)("rejects %j", (spec, message) => {
    let error: unknown;
    try {
      parseCompactScope(spec);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthyError);
    expect((error as AuthyError).code).toBe("INVALID_INPUT");
    expect((error as AuthyError).message).toMatch(message);
  });

  it("tells the compact form from a scope name", () => {
    expect(isCompactScope("secrets:read:prod/*")).toBe(true);
    expect(isCompactScope("deploy")).toBe(false);
  });

  it("formats back to what it parses", () => {
    const spec = "secrets:read+list:prod/*,secrets:write:staging/**";
    expect(formatCompactScope(parseCompactScope(spec))).toBe(spec);
  });
});
