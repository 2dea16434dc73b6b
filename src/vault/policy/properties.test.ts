import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CAPABILITIES } from "./capability.js";
import { canonicalPolicyJson, policyFromCanonicalJson } from "./policy-json.js";
import { emptyScopes } from "./policy-document.js";
import { parsePolicyYaml, serializePolicy } from "./policy-yaml.js";
import { matchPattern, mayIntersect, patternCovers, patternProblem } from "./pattern.js";
import { canListNamespace, decide, filterListable, type Rule, type Scope } from "./scope.js";
import { intersectScopes, isSubScope } from "./sub-scope.js";

// A tiny alphabet, so that random patterns and paths actually meet.
const CHARS = ["a", "b", "A", "_"];
const chunk = fc.array(fc.constantFrom(...CHARS), { minLength: 0, maxLength: 2 }).map((cs) => cs.join(""));
const segment = fc.array(fc.constantFrom(...CHARS), { minLength: 1, maxLength: 3 }).map((cs) => cs.join(""));
const path = fc.array(segment, { minLength: 2, maxLength: 5 }).map((s) => s.join("/"));

/** A glob segment: chunks joined by single stars, never empty. */
const glob = fc
  .array(chunk, { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join("*"))
  .filter((g) => g !== "" && !g.includes("**"));
const patternSegment = fc.oneof({ weight: 4, arbitrary: glob }, { weight: 1, arbitrary: fc.constant("**") });
const pattern = fc
  .array(patternSegment, { minLength: 1, maxLength: 4 })
  .map((segs) => (segs.length === 1 && segs[0] !== "**" ? [...segs, "*"] : segs).join("/"));

/** A path the pattern matches, made by filling in its wildcards. */
function instantiate(p: string): fc.Arbitrary<string> {
  const parts = p.split("/").map((seg) =>
    seg === "**"
      ? fc.array(segment, { maxLength: 2 })
      : fc
          .tuple(...seg.split("*").map((lit, i) => (i === 0 ? fc.constant(lit) : chunk.map((c) => c + lit))))
          .map((pieces) => pieces.join(""))
          .map((s) => [s === "" ? "a" : s]),
  );
  return fc.tuple(...parts).map((segs) => segs.flat().join("/"));
}
const patternAndPath = pattern.chain((p) => fc.tuple(fc.constant(p), fc.oneof(path, instantiate(p))));

/** Naive exponential reference matcher: obviously right, fine for tiny inputs. */
function reference(p: string, s: string): boolean {
  const seg = (g: string, x: string): boolean => new RegExp("^" + g.split("*").join("[^/]*") + "$").test(x);
  const go = (ps: string[], xs: string[]): boolean => {
    if (ps.length === 0) return xs.length === 0;
    const [head, ...rest] = ps as [string, ...string[]];
    if (head === "**") return go(rest, xs) || (xs.length > 0 && go(ps, xs.slice(1)));
    return xs.length > 0 && seg(head, xs[0] as string) && go(rest, xs.slice(1));
  };
  return go(p.split("/"), s.split("/"));
}

const capability = fc.constantFrom(...CAPABILITIES);
const capabilities = fc.subarray([...CAPABILITIES], { minLength: 1 });
const rule: fc.Arbitrary<Rule> = fc.record({ path: pattern, capabilities });
const scope: fc.Arbitrary<Scope> = fc.record({
  name: fc.constant("s"),
  allow: fc.array(rule, { minLength: 1, maxLength: 3 }),
  deny: fc.array(rule, { maxLength: 2 }),
});

/** A pattern no wider than `p`: replace ** by * or a literal, stars by literals. */
function narrow(p: string): fc.Arbitrary<string> {
  const parts = p
    .split("/")
    .map((seg) =>
      seg === "**"
        ? fc.constantFrom("**", "*", "a", "**/b")
        : fc
            .tuple(...seg.split("*").map((lit, i) => (i === 0 ? fc.constant(lit) : fc.constantFrom("*", "a", "*_").map((x) => x + lit))))
            .map((ps) => ps.join("")),
    );
  return fc
    .tuple(...parts)
    .map((segs) => segs.join("/"))
    .filter((x) => patternProblem(x) === undefined);
}
const parentAndChild = scope.chain((parent) =>
  fc.tuple(
    fc.constant(parent),
    fc.array(
      fc.constantFrom(...parent.allow).chain((r) => fc.record({ path: narrow(r.path), capabilities: fc.subarray(r.capabilities) })),
      { minLength: 1, maxLength: 2 },
    ),
  ),
);

const RUNS = { numRuns: 500 };

describe("pattern properties", () => {
  it("matchPattern agrees with a naive reference matcher", () => {
    fc.assert(
      fc.property(patternAndPath, ([p, s]) => {
        expect(matchPattern(p, s)).toBe(reference(p, s));
      }),
      { numRuns: 2000 },
    );
  });

  it("an instantiated pattern matches its pattern", () => {
    fc.assert(
      fc.property(
        pattern.chain((p) => fc.tuple(fc.constant(p), instantiate(p))),
        ([p, s]) => {
          fc.pre(s.split("/").length >= 2);
          expect(matchPattern(p, s)).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it("patternCovers is sound: covered ∧ child matches ⇒ parent matches", () => {
    const arb = fc.tuple(pattern, pattern).chain(([a, b]) => fc.tuple(fc.constant(a), fc.constant(b), fc.oneof(path, instantiate(b))));
    fc.assert(
      fc.property(arb, ([parent, child, s]) => {
        if (patternCovers(parent, child) && matchPattern(child, s)) expect(matchPattern(parent, s)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("a narrowed pattern is covered by the original, and a pattern covers itself", () => {
    fc.assert(
      fc.property(
        pattern.chain((p) => fc.tuple(fc.constant(p), narrow(p))),
        ([p, n]) => {
          expect(patternCovers(p, p)).toBe(true);
          expect(patternCovers(p, n)).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it("every path of a narrowed pattern matches the original", () => {
    const arb = pattern.chain((p) => fc.tuple(fc.constant(p), narrow(p))).chain(([p, n]) => fc.tuple(fc.constant(p), fc.constant(n), instantiate(n)));
    fc.assert(
      fc.property(arb, ([p, n, s]) => {
        fc.pre(s.split("/").length >= 2);
        expect(patternCovers(p, n)).toBe(true);
        expect(matchPattern(p, s)).toBe(true);
      }),
      RUNS,
    );
  });

  it("mayIntersect is sound: a path matching both ⇒ true", () => {
    const arb = fc.tuple(pattern, pattern).chain(([a, b]) => fc.tuple(fc.constant(a), fc.constant(b), fc.oneof(instantiate(a), instantiate(b))));
    fc.assert(
      fc.property(arb, ([a, b, s]) => {
        if (matchPattern(a, s) && matchPattern(b, s)) {
          expect(mayIntersect(a, b)).toBe(true);
          expect(mayIntersect(b, a)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("scope properties", () => {
  it("never allows when a deny pattern with that capability matches", () => {
    fc.assert(
      fc.property(scope, path, capability, (sc, p, cap) => {
        const denied = sc.deny.some((r) => r.capabilities.includes(cap) && matchPattern(r.path, p));
        if (denied) expect(decide(sc, p, cap).allowed).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it("allows exactly when some allow matches and no deny does", () => {
    fc.assert(
      fc.property(scope, fc.oneof(path, scope.chain(() => pattern).chain(instantiate)), capability, (sc, p, cap) => {
        fc.pre(p.split("/").length >= 2);
        const hit = (rules: Rule[]) => rules.some((r) => r.capabilities.includes(cap) && matchPattern(r.path, p));
        expect(decide(sc, p, cap).allowed).toBe(hit(sc.allow) && !hit(sc.deny));
      }),
      { numRuns: 1000 },
    );
  });

  it("listing shows exactly the names decide allows to list", () => {
    fc.assert(
      fc.property(scope, fc.array(path, { maxLength: 10 }), (sc, names) => {
        expect(filterListable(sc, names)).toEqual(names.filter((n) => decide(sc, n, "list").allowed));
      }),
      RUNS,
    );
  });

  it("a listable name implies its namespace is listable", () => {
    fc.assert(
      fc.property(scope, path, (sc, p) => {
        if (decide(sc, p, "list").allowed) {
          const segs = p.split("/");
          for (let i = 1; i < segs.length; i++) expect(canListNamespace(sc, segs.slice(0, i).join("/"))).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it("isSubScope(child, parent) ⇒ whatever the child allows, the parent allows", () => {
    let proven = 0;
    fc.assert(
      fc.property(parentAndChild, fc.array(path, { minLength: 5, maxLength: 5 }), capability, ([parent, child], paths, cap) => {
        if (!isSubScope(child, parent)) return;
        proven += 1;
        const childScope: Scope = { name: "c", allow: child, deny: [] };
        const samples = [...paths, ...child.map((r) => r.path.replace(/\*\*/g, "a").replace(/\*/g, "b"))];
        for (const p of samples) {
          if (p.split("/").length < 2) continue;
          if (decide(childScope, p, cap).allowed) expect(decide(parent, p, cap).allowed).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
    expect(proven).toBeGreaterThan(100); // the property was not vacuous
  });

  it("intersectScopes grants only what both grant, and is a sub-scope of the parent", () => {
    fc.assert(
      fc.property(scope, scope, fc.array(path, { minLength: 5, maxLength: 5 }), capability, (a, b, paths, cap) => {
        const both = intersectScopes(a, b);
        expect(isSubScope(both, b)).toBe(true);
        for (const p of paths) {
          if (decide(both, p, cap).allowed) {
            expect(decide(a, p, cap).allowed).toBe(true);
            expect(decide(b, p, cap).allowed).toBe(true);
          }
        }
      }),
      RUNS,
    );
  });
});

describe("format properties", () => {
  const docs = fc
    .dictionary(
      fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/).filter((n) => n !== "__proto__"),
      scope,
      { maxKeys: 4 },
    )
    .map((d) => {
      const scopes = emptyScopes();
      for (const [name, s] of Object.entries(d)) scopes[name] = { ...s, name };
      return { scopes };
    });

  it("YAML round-trips", () => {
    fc.assert(
      fc.property(docs, (doc) => {
        expect(canonicalPolicyJson(parsePolicyYaml(serializePolicy(doc)))).toBe(canonicalPolicyJson(doc));
      }),
      { numRuns: 200 },
    );
  });

  it("canonical JSON round-trips", () => {
    fc.assert(
      fc.property(docs, (doc) => {
        const json = canonicalPolicyJson(doc);
        expect(canonicalPolicyJson(policyFromCanonicalJson(json))).toBe(json);
      }),
      { numRuns: 200 },
    );
  });
});
