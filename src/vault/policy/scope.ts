import { validateNamespace, validatePath } from "../path.js";
import type { Capability } from "./capability.js";
import { compilePattern, mayIntersect, patternCovers } from "./pattern.js";

/** One line of a scope: a path pattern and what it grants (allow) or withholds (deny). */
export interface Rule {
  path: string;
  capabilities: Capability[];
}

/**
 * Where a scope's secrets may go (`sandbox:` in the policy file): with `required`, only to a
 * child of `authy run --sandbox`; the paths and hosts are that sandbox's defaults, added to
 * its flags. Paths are kept as written (`~/…`, absolute or relative to the working directory).
 */
export interface ScopeSandbox {
  required: boolean;
  write: string[];
  read: string[];
  hosts: string[];
}

/**
 * A named set of rules. Deny beats allow for every capability, including `list`; anything
 * no rule allows is denied. Rules are treated as immutable once built.
 */
export interface Scope {
  name: string;
  description?: string;
  /**
   * `reveal`: `authy mcp` offers its model a read_secret tool that returns raw values. Absent:
   * values never reach the model (run_command masks them). A choice about the model's
   * context, not an access control: reads are still decided by the rules.
   */
  mcp?: "reveal";
  allow: Rule[];
  deny: Rule[];
  sandbox?: ScopeSandbox;
}

export interface PolicyDocument {
  scopes: Record<string, Scope>;
}

export interface Decision {
  allowed: boolean;
  /** The rule that decided: the first matching deny, else the first matching allow, else the default. */
  rule: { kind: "allow" | "deny" | "default"; path?: string; index?: number };
}

function firstMatch(rules: readonly Rule[], path: string, capability: Capability): number {
  return rules.findIndex((r) => r.capabilities.includes(capability) && compilePattern(r.path).matches(path));
}

/**
 * Whether `scope` lets its holder use `capability` on `path`. The path must be canonical
 * (INVALID_INPUT otherwise): authorization is only ever decided on the one name that is
 * also used for storage.
 */
export function decide(scope: Scope, path: string, capability: Capability): Decision {
  validatePath(path);
  const denied = firstMatch(scope.deny, path, capability);
  if (denied >= 0) {
    return { allowed: false, rule: { kind: "deny", path: (scope.deny[denied] as Rule).path, index: denied } };
  }
  const allowed = firstMatch(scope.allow, path, capability);
  if (allowed >= 0) {
    return { allowed: true, rule: { kind: "allow", path: (scope.allow[allowed] as Rule).path, index: allowed } };
  }
  return { allowed: false, rule: { kind: "default" } };
}

/**
 * The names the holder of `scope` may see: a name is listable iff `decide(scope, name,
 * "list")` allows it. Order is kept. Names that are not canonical paths are left out rather
 * than thrown on, so a listing can never fail in a way that depends on what is stored.
 */
export function filterListable(scope: Scope, paths: readonly string[]): string[] {
  return paths.filter((p) => {
    try {
      return decide(scope, p, "list").allowed;
    } catch {
      return false;
    }
  });
}

/**
 * Whether the scope could let its holder list anything under `namespace` (at any depth).
 * The answer depends only on the scope, never on what is stored, so it leaks nothing: use it
 * to answer "access denied" rather than an empty list. It errs towards true (when some
 * list-allow may reach into the namespace and no single list-deny covers all of that rule's
 * part of it); `filterListable` remains the authority on each name.
 */
export function canListNamespace(scope: Scope, namespace: string): boolean {
  validateNamespace(namespace);
  // One segment or more below the namespace (a bare `ns/**` would also match `ns` itself).
  const under = `${namespace}/*/**`;
  const denies = scope.deny.filter((r) => r.capabilities.includes("list")).map((r) => r.path);
  if (denies.some((d) => patternCovers(d, under))) return false;
  return scope.allow.some((r) => r.capabilities.includes("list") && mayIntersect(r.path, under) && !denies.some((d) => patternCovers(d, r.path)));
}
