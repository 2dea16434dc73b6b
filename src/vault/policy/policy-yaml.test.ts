import { describe, expect, it } from "vitest";
import { AuthyError } from "../../errors.js";
import { CAPABILITIES } from "./capability.js";
import { getScope } from "./policy-document.js";
import { parsePolicyYaml, serializePolicy, type PolicyProblem } from "./policy-yaml.js";

const DESIGN_EXAMPLE = `scopes:
  deploy:
    description: CI deploys to production
    allow:
      - { path: "production/*", capabilities: [read, list] }
      - { path: "staging/**",  capabilities: [read, list, write] }
    deny:
      - { path: "production/ROOT_*" }
`;

function problems(text: string, source = "policy.yaml"): { message: string; errors: PolicyProblem[] } {
  try {
    parsePolicyYaml(text, source);
  } catch (e) {
    expect(e).toBeInstanceOf(AuthyError);
    expect((e as AuthyError).code).toBe("INVALID_INPUT");
    return { message: (e as AuthyError).message, errors: (e as AuthyError).details?.errors as PolicyProblem[] };
  }
  throw new Error("expected the policy to be rejected");
}

describe("parsePolicyYaml", () => {
  it("reads the example from the design, deny capabilities defaulting to all", () => {
    const doc = parsePolicyYaml(DESIGN_EXAMPLE);
    expect(Object.keys(doc.scopes)).toEqual(["deploy"]);
    expect(doc.scopes.deploy).toEqual({
      name: "deploy",
      description: "CI deploys to production",
      allow: [
        { path: "production/*", capabilities: ["read", "list"] },
        { path: "staging/**", capabilities: ["read", "list", "write"] },
      ],
      deny: [{ path: "production/ROOT_*", capabilities: [...CAPABILITIES] }],
    });
  });

  it("accepts block style and several scopes", () => {
    const doc = parsePolicyYaml(`scopes:
  a:
    allow:
      - path: x/*
        capabilities:
          - read
  b.c-d_e:
    allow: [{ path: "**", capabilities: [list] }]
`);
    expect(Object.keys(doc.scopes)).toEqual(["a", "b.c-d_e"]);
    expect(doc.scopes.a?.deny).toEqual([]);
  });

  it("accepts an explicitly empty policy", () => {
    expect(Object.keys(parsePolicyYaml("scopes: {}\n").scopes)).toEqual([]);
  });

  it("reports every problem at its line, one per line of the message", () => {
    const text = [
      /* 1 */ "scopes:",
      /* 2 */ "  deploy:",
      /* 3 */ "    description: x",
      /* 4 */ "    allow:",
      /* 5 */ '      - { path: "production/*", capabilities: [read, lisst] }',
      /* 6 */ '      - { path: "prod/[a]", capabilities: [read] }',
      /* 7 */ "    colour: blue",
      /* 8 */ '  "bad name!":',
      /* 9 */ '    allow: [{ path: "a/*", capabilities: [read] }]',
      /* 10 */ "  empty:",
      /* 11 */ "  nothing:",
      /* 12 */ '    deny: [{ path: "a/*" }]',
      /* 13 */ "  deploy:",
      /* 14 */ '    allow: [{ path: "a/*", capabilities: [read] }]',
      /* 15 */ "  rules:",
      /* 16 */ "    allow:",
      /* 17 */ "      - path: a/*",
      /* 18 */ "        capabilities: []",
      /* 19 */ "        extra: 1",
      /* 20 */ "      - capabilities: [read, read]",
      /* 21 */ "      - path: prod",
      /* 22 */ "        capabilities: [write]",
    ].join("\n");
    const { message, errors } = problems(text);
    expect(errors.map((e) => e.line)).toEqual([5, 6, 7, 8, 10, 11, 13, 18, 19, 20, 20, 21]);
    const lines = message.split("\n");
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatch(/^policy\.yaml:5: .*unknown capability "lisst"/);
    expect(lines[1]).toMatch(/^policy\.yaml:6: .*contains "\["/);
    expect(lines[2]).toMatch(/^policy\.yaml:7: .*unknown key "colour"/);
    expect(lines[3]).toMatch(/^policy\.yaml:8: scope name "bad name!"/);
    expect(lines[4]).toMatch(/^policy\.yaml:10: scope "empty" is empty/);
    expect(lines[5]).toMatch(/^policy\.yaml:11: scope "nothing" allows nothing/);
    expect(lines[6]).toMatch(/^policy\.yaml:13: duplicate scope name "deploy" \(first at line 2\)/);
    expect(lines[7]).toMatch(/^policy\.yaml:18: .*lists no capabilities/);
    expect(lines[8]).toMatch(/^policy\.yaml:19: .*unknown key "extra"/);
    expect(message).toMatch(/policy\.yaml:20: .*missing path/);
    expect(message).toMatch(/policy\.yaml:20: .*capability read is repeated/);
    expect(lines[11]).toMatch(/^policy\.yaml:21: .*can never match/);
  });

  const single: [string, string, number, RegExp][] = [
    ["an empty file", "", 1, /expected a mapping with a `scopes` key/],
    ["a list at the top", "- a\n", 1, /expected a mapping/],
    ["no scopes key", "version: 1\n", 1, /unknown key "version"/],
    ["scopes with nothing", "scopes:\n", 1, /scopes: expected a mapping/],
    ["scopes as a list", "\nscopes: [a]\n", 2, /scopes: expected a mapping/],
    ["a YAML syntax error", "scopes:\n  a: b: c\n", 2, /YAML: Nested mappings/],
    ["an unclosed flow list (reported where the input ends)", "scopes:\n  a: [\n", 3, /YAML/],
    ["an unquoted ** (an alias in YAML)", "scopes:\n  a:\n    allow:\n      - { path: **, capabilities: [read] }\n", 4, /alias/],
    ["an unquoted leading * in block style", "scopes:\n  a:\n    allow:\n      - path: */KEY\n        capabilities: [read]\n", 4, /alias/],
    ["a path that is a number", "scopes:\n  a:\n    allow:\n      - path: 12\n        capabilities: [read]\n", 4, /expected a string, got number 12/],
    ["capabilities that are not a list", "scopes:\n  a:\n    allow:\n      - path: a/*\n        capabilities: read\n", 5, /expected a list/],
    ["a scope that is a string", "scopes:\n  a: everything\n", 2, /scopes\.a: expected a mapping/],
    ["a missing path", "scopes:\n  a:\n    allow:\n\n      - capabilities: [read]\n", 5, /scopes\.a\.allow\[0\]: missing path/],
    [
      "a duplicate key inside a rule",
      'scopes:\n  a:\n    allow:\n      - path: "a/*"\n        path: "b/*"\n        capabilities: [read]\n',
      5,
      /duplicate key "path" \(first at line 4\)/,
    ],
    ["a scope named __proto__", 'scopes:\n  __proto__:\n    allow: [{ path: "a/*", capabilities: [read] }]\n', 2, /reserved/],
    ["a long scope name", `scopes:\n  ${"a".repeat(65)}:\n    allow: [{ path: "a/*", capabilities: [read] }]\n`, 2, /longer than 64/],
  ];
  it.each(single.map(([w, t, l, m]) => [w, l, t, m] as const))("rejects %s at line %i", (_what, line, text, message) => {
    const { errors, message: full } = problems(text);
    expect(errors[0]?.line).toBe(line);
    expect(full).toMatch(message);
  });

  it("uses the given source name", () => {
    expect(problems("scopes:\n", "team/policy.yaml").message).toMatch(/^team\/policy\.yaml:1: /);
  });

  it("refuses a billion-laughs file quickly", () => {
    const lol = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 10; i++) {
      const [name, prev] = [String.fromCharCode(97 + i), String.fromCharCode(96 + i)];
      lol.push(
        `${name}: &${name} [${Array(10)
          .fill("*" + prev)
          .join(", ")}]`,
      );
    }
    const text = `anchors:\n  ${lol.join("\n  ")}\nscopes:\n  s:\n    allow: [{ path: "a/*", capabilities: [read] }]\n    deny: *j\n`;
    const start = performance.now();
    expect(problems(text).message).toMatch(/policy\.yaml:13: YAML: Excessive alias count/);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it("allows anchors and aliases within bounds", () => {
    const doc = parsePolicyYaml('scopes:\n  s: &x\n    allow: [{ path: "a/*", capabilities: [read] }]\n  t: *x\n');
    expect(doc.scopes.t).toEqual({ ...doc.scopes.s, name: "t" });
  });

  it("scopes are looked up as own names only", () => {
    const doc = parsePolicyYaml(DESIGN_EXAMPLE);
    expect(getScope(doc, "deploy")?.name).toBe("deploy");
    expect(getScope(doc, "constructor")).toBeUndefined();
    expect(getScope(doc, "toString")).toBeUndefined();
    expect(doc.scopes["constructor"]).toBeUndefined();
  });
});

describe("serializePolicy", () => {
  it("writes the documented format back", () => {
    const doc = parsePolicyYaml(DESIGN_EXAMPLE);
    const text = serializePolicy(doc);
    expect(text).toContain('- { path: "production/ROOT_*" }');
    expect(text).toContain("description: CI deploys to production");
    expect(parsePolicyYaml(text)).toEqual(doc);
  });

  it("quotes patterns that YAML would read as aliases", () => {
    const doc = parsePolicyYaml('scopes:\n  a:\n    allow: [{ path: "**", capabilities: [read] }, { path: "*/K", capabilities: [list] }]\n');
    expect(parsePolicyYaml(serializePolicy(doc))).toEqual(doc);
  });
});
