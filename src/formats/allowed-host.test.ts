import { describe, expect, it } from "vitest";
import { formatAllowedHost, hostAllowed, parseAllowedHost } from "./allowed-host.js";

describe("allowed hosts", () => {
  it.each([
    ["api.openai.com", { host: "api.openai.com", port: null }],
    ["API.OpenAI.com.:443", { host: "api.openai.com", port: 443 }],
    ["*.anthropic.com", { host: "*.anthropic.com", port: null }],
    ["127.0.0.2:8080", { host: "127.0.0.2", port: 8080 }],
    ["[::1]:443", { host: "::1", port: 443 }],
  ])("reads %s", (spec, parsed) => {
    expect(parseAllowedHost(spec)).toEqual(parsed);
  });

  it.each(["", "a b", "host:0", "host:65536", "host:x", "::1", "[::1", "[zz]:1", "a..b", "*", "*.", "ex*mple.com"])("refuses %j", (spec) => {
    expect(() => parseAllowedHost(spec)).toThrow(/allowed host/);
  });

  it("matches names, subdomains, ports and addresses, and nothing near them", () => {
    const allow = ["api.openai.com:443", "*.example.com", "127.0.0.2:8080", "[::1]"].map(parseAllowedHost);
    expect(hostAllowed(allow, "API.openai.com", 443)).toBe(true);
    expect(hostAllowed(allow, "api.openai.com", 80)).toBe(false);
    expect(hostAllowed(allow, "evil-api.openai.com", 443)).toBe(false);
    expect(hostAllowed(allow, "a.b.example.com", 22)).toBe(true);
    expect(hostAllowed(allow, "example.com", 443)).toBe(false);
    expect(hostAllowed(allow, "notexample.com", 443)).toBe(false);
    expect(hostAllowed(allow, "127.0.0.2", 8080)).toBe(true);
    expect(hostAllowed(allow, "127.0.0.3", 8080)).toBe(false);
    expect(hostAllowed(allow, "[::1]", 9)).toBe(true);
    expect(formatAllowedHost(parseAllowedHost("[::1]:443"))).toBe("[::1]:443");
  });
});
