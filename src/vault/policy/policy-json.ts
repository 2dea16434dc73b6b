import { z } from "zod";
import { integrityError } from "../../errors.js";
import { CAPABILITIES, sortCapabilities } from "./capability.js";
import { emptyScopes, scopeNameProblem } from "./policy-document.js";
import { patternProblem } from "./pattern.js";
import type { PolicyDocument, Rule, Scope, ScopeSandbox } from "./scope.js";

// The canonical JSON form of a policy, which the vault MACs and stores. Version 1:
//
//   {"v":1,"scopes":[{"name":"deploy","description":"…","allow":[{"path":"production/*",
//    "capabilities":["read","list"]}],"deny":[{"path":"production/ROOT_*","capabilities":[…]}]}]}
//
// No whitespace; scopes sorted by name (UTF-16 code units); keys always in the order shown;
// "description" and "mcp" (after it) present only when set; rules kept in their order (it names
// the deciding rule); each rule's capabilities in the order of CAPABILITIES, deny defaults written
// out in full; "sandbox" present only when set, as {"required":…,"write":[…],"read":[…],"hosts":[…]}
// (a policy without either has the same bytes as before they existed).
// Two documents that mean the same have the same bytes, and policyFromCanonicalJson accepts
// only bytes that canonicalPolicyJson itself would produce.

const POLICY_JSON_VERSION = 1;

function canonicalRule(rule: Rule): { path: string; capabilities: string[] } {
  return { path: rule.path, capabilities: sortCapabilities(rule.capabilities) };
}

function canonicalSandbox(s: ScopeSandbox): ScopeSandbox {
  return { required: s.required, write: [...s.write], read: [...s.read], hosts: [...s.hosts] };
}

/** The canonical, deterministic JSON of a policy. */
export function canonicalPolicyJson(policy: PolicyDocument): string {
  const names = Object.keys(policy.scopes).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const scopes = names.map((name) => {
    const scope = policy.scopes[name] as Scope;
    return {
      name,
      ...(scope.description === undefined ? {} : { description: scope.description }),
      ...(scope.mcp === undefined ? {} : { mcp: scope.mcp }),
      allow: scope.allow.map(canonicalRule),
      deny: scope.deny.map(canonicalRule),
      ...(scope.sandbox === undefined ? {} : { sandbox: canonicalSandbox(scope.sandbox) }),
    };
  });
  return JSON.stringify({ v: POLICY_JSON_VERSION, scopes });
}

const rule = z.strictObject({
  path: z.string().refine((p) => patternProblem(p) === undefined),
  capabilities: z.array(z.enum(CAPABILITIES)),
});
const stored = z.strictObject({
  v: z.literal(POLICY_JSON_VERSION),
  scopes: z.array(
    z.strictObject({
      name: z.string().refine((n) => scopeNameProblem(n) === undefined),
      description: z.string().optional(),
      mcp: z.literal("reveal").optional(),
      allow: z.array(rule),
      deny: z.array(rule),
      sandbox: z.strictObject({ required: z.boolean(), write: z.array(z.string()), read: z.array(z.string()), hosts: z.array(z.string()) }).optional(),
    }),
  ),
});

/**
 * Reads a stored policy back. The caller checks the MAC first; anything malformed or not in
 * canonical form after that is corruption, so this throws INTEGRITY rather than INVALID_INPUT.
 */
export function policyFromCanonicalJson(json: string): PolicyDocument {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw integrityError("stored policy is not valid JSON");
  }
  const parsed = stored.safeParse(value);
  if (!parsed.success) throw integrityError("stored policy does not match the policy format");
  const scopes = emptyScopes();
  for (const s of parsed.data.scopes) {
    const scope: Scope = { name: s.name, allow: s.allow, deny: s.deny };
    if (s.description !== undefined) scope.description = s.description;
    if (s.sandbox !== undefined) scope.sandbox = s.sandbox;
    if (s.mcp !== undefined) scope.mcp = s.mcp;
    scopes[s.name] = scope;
  }
  const policy = { scopes };
  if (canonicalPolicyJson(policy) !== json) throw integrityError("stored policy is not in canonical form");
  return policy;
}
