import { describe, expect, it } from "vitest";
import { AuthyError } from "../../errors.js";
import { canonicalPolicyJson, policyFromCanonicalJson } from "./policy-json.js";
import { parsePolicyYaml, serializePolicy } from "./policy-yaml.js";

const BOXED = `scopes:
  agent:
    allow:
      - { path: "dev/*", capabilities: [read] }
    sandbox:
      required: true
      write: ["~/.claude", "/srv/cache"]
      read: ["~/.ssh/known_hosts"]
      hosts: ["api.anthropic.com:443", "*.example.com"]
`;

describe("a scope's sandbox block", () => {
  it("is read, stored canonically and shown again", () => {
    const doc = parsePolicyYaml(BOXED);
    expect(doc.scopes.agent!.sandbox).toEqual({
      required: true,
      write: ["~/.claude", "/srv/cache"],
      read: ["~/.ssh/known_hosts"],
      hosts: ["api.anthropic.com:443", "*.example.com"],
    });
    const json = canonicalPolicyJson(doc);
    expect(policyFromCanonicalJson(json)).toEqual(doc);
    expect(parsePolicyYaml(serializePolicy(doc))).toEqual(doc);
    expect(serializePolicy(doc)).toMatch(/sandbox:\n\s+required: true/);
  });

  it("leaves the stored form of a policy without one as it was", () => {
    const doc = parsePolicyYaml(`scopes:\n  a:\n    allow:\n      - { path: "x/*", capabilities: [read] }\n`);
    expect(canonicalPolicyJson(doc)).toBe('{"v":1,"scopes":[{"name":"a","allow":[{"path":"x/*","capabilities":["read"]}],"deny":[]}]}');
  });

  it("defaults to not required, with nothing added", () => {
    const doc = parsePolicyYaml(`scopes:\n  a:\n    allow:\n      - { path: "x/*", capabilities: [read] }\n    sandbox: {}\n`);
    expect(doc.scopes.a!.sandbox).toEqual({ required: false, write: [], read: [], hosts: [] });
  });

  it("rejects unknown keys, bad hosts and non-boolean required, with their lines", () => {
    const bad = `scopes:\n  a:\n    allow:\n      - { path: "x/*", capabilities: [read] }\n    sandbox:\n      required: yes please\n      hosts: ["bad host!"]\n      network: none\n`;
    let message = "";
    try {
      parsePolicyYaml(bad, "p.yaml");
    } catch (e) {
      expect((e as AuthyError).code).toBe("INVALID_INPUT");
      message = (e as Error).message;
    }
    expect(message).toMatch(/p\.yaml:6: scopes\.a\.sandbox\.required: expected a boolean/);
    expect(message).toMatch(/p\.yaml:7: .*not a host name or address/);
    expect(message).toMatch(/p\.yaml:8: .*unknown key "network" \(expected required, write, read, hosts\)/);
  });
});
