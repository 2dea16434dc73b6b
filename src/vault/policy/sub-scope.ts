import type { Capability } from "./capability.js";
import { sortCapabilities } from "./capability.js";
import { mayIntersect, patternCovers } from "./pattern.js";
import type { Rule, Scope } from "./scope.js";

// Narrowing: a token may only ever mint a token that can do less. Both answers here are
// conservative in the safe direction. isSubScope says true only with a proof;
// intersectScopes may grant less than the exact intersection, never more.

function asScope(rules: Rule[] | Scope, name: string): Scope {
  return Array.isArray(rules) ? { name, allow: rules, deny: [] } : rules;
}

function withCapability(rules: readonly Rule[], capability: Capability): Rule[] {
  return rules.filter((r) => r.capabilities.includes(capability));
}

/**
 * True only if everything `child` allows, `parent` allows too: for each child allow rule and
 * each of its capabilities, one parent allow rule covers its pattern, and every parent deny
 * for that capability either cannot overlap it or is covered by one of the child's own denies.
 * A child given as bare rules has no denies. False means "not proven narrower".
 */
export function isSubScope(child: Rule[] | Scope, parent: Scope): boolean {
  const c = asScope(child, "child");
  return c.allow.every((rule) =>
    rule.capabilities.every((cap) => {
      const covered = withCapability(parent.allow, cap).some((p) => patternCovers(p.path, rule.path));
      if (!covered) return false;
      const childDenies = withCapability(c.deny, cap);
      return withCapability(parent.deny, cap).every((d) => !mayIntersect(rule.path, d.path) || childDenies.some((cd) => patternCovers(cd.path, d.path)));
    }),
  );
}

function sameRule(a: Rule, b: Rule): boolean {
  return a.path === b.path && a.capabilities.length === b.capabilities.length && a.capabilities.every((c, i) => b.capabilities[i] === c);
}

function pushUnique(rules: Rule[], rule: Rule): void {
  if (!rules.some((r) => sameRule(r, rule))) rules.push(rule);
}

/**
 * A scope that allows at most what both allow: each pair of allow rules contributes the
 * narrower pattern when one covers the other (pairs whose overlap is not itself a pattern are
 * dropped, so the result may be narrower than the exact intersection), and every deny of
 * either scope is kept. `isSubScope(intersectScopes(c, p), p)` always holds.
 */
export function intersectScopes(child: Rule[] | Scope, parent: Scope, name?: string): Scope {
  const c = asScope(child, name ?? parent.name);
  const allow: Rule[] = [];
  for (const a of c.allow) {
    for (const b of parent.allow) {
      const capabilities = sortCapabilities(a.capabilities.filter((cap) => b.capabilities.includes(cap)));
      if (capabilities.length === 0) continue;
      if (patternCovers(b.path, a.path)) pushUnique(allow, { path: a.path, capabilities });
      else if (patternCovers(a.path, b.path)) pushUnique(allow, { path: b.path, capabilities });
    }
  }
  const deny: Rule[] = [];
  for (const d of [...c.deny, ...parent.deny]) pushUnique(deny, { path: d.path, capabilities: sortCapabilities(d.capabilities) });
  const scope: Scope = { name: name ?? c.name, allow, deny };
  if (c.description !== undefined) scope.description = c.description;
  return scope;
}
