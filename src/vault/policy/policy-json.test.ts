import { describe, expect, it } from "vitest";
import { AuthyError } from "../../errors.js";
import { canonicalPolicyJson, policyFromCanonicalJson } from "./policy-json.js";
import { parsePolicyYaml } from "./policy-yaml.js";

const A = `scopes:
  zeta:
    allow: [{ path: "z/*", capabilities: [list, read] }]
  alpha:
    description: first
    allow: [{ path: "a/**", capabilities: [write, read] }]
    deny: [{ path: "a/ROOT" }]
`;
// The same policy, written differently.
const B = `scopes:
  alpha:
    allow:
      - capabilities: [read, write]
        path: "a/**"
    deny:
      - path: a/ROOT
        capabilities: [approve, rotate, delete, write, list, read]
    description: first
  zeta:
    allow: [{ capabilities: [read, list], path: z/* }]
`;

describe("canonicalPolicyJson", () => {
  it("is the same for the same policy however it was written", () => {
    expect(canonicalPolicyJson(parsePolicyYaml(A))).toBe(canonicalPolicyJson(parsePolicyYaml(B)));
  });

  it("has a version, sorted scopes and a fixed key order", () => {
    expect(canonicalPolicyJson(parsePolicyYaml(A))).toBe(
      '{"v":1,"scopes":[' +
        '{"name":"alpha","description":"first","allow":[{"path":"a/**","capabilities":["read","write"]}],' +
        '"deny":[{"path":"a/ROOT","capabilities":["read","list","write","delete","rotate","approve"]}]},' +
        '{"name":"zeta","allow":[{"path":"z/*","capabilities":["read","list"]}],"deny":[]}]}',
    );
  });

  it("sorts numeric-looking scope names like any other", () => {
    const doc = parsePolicyYaml(
      'scopes:\n  "9": { allow: [{ path: "a/*", capabilities: [read] }] }\n  "10": { allow: [{ path: "a/*", capabilities: [read] }] }\n',
    );
    expect(canonicalPolicyJson(doc)).toMatch(/^\{"v":1,"scopes":\[\{"name":"10".*\{"name":"9"/);
  });
});

describe("policyFromCanonicalJson", () => {
  it("reads back what canonicalPolicyJson wrote", () => {
    const json = canonicalPolicyJson(parsePolicyYaml(A));
    expect(canonicalPolicyJson(policyFromCanonicalJson(json))).toBe(json);
    expect(policyFromCanonicalJson(json).scopes.alpha?.description).toBe("first");
  });

  const json = canonicalPolicyJson(parsePolicyYaml(A));
  const bad: [string, string][] = [
    ["not JSON", json.slice(0, -1)],
    ["another version", json.replace('"v":1', '"v":2')],
    ["extra whitespace", json.replace('"v":1,', '"v": 1,')],
    ["unsorted capabilities", json.replace('["read","write"]', '["write","read"]')],
    ["unsorted scopes", json.replace('{"name":"alpha"', '{"name":"zz"')],
    ["an unknown capability", json.replace('"write"]', '"admin"]')],
    ["an invalid pattern", json.replace('"a/**"', '"a/../b"')],
    ["an unknown key", json.replace('"v":1,', '"v":1,"x":0,')],
  ];
  it.each(bad)("treats %s as corruption", (_what, text) => {
    let error: unknown;
    try {
      policyFromCanonicalJson(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthyError);
    expect((error as AuthyError).code).toBe("INTEGRITY");
  });
});
