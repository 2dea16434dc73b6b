import { actsAsOwner } from "./types.js";
import { AuthyError } from "../errors.js";
import type { VaultContext } from "./context.js";
import type { Capability } from "./policy/capability.js";
import { isCompactScope, parseCompactScope } from "./policy/compact.js";
import { getScope } from "./policy/policy-document.js";
import { decide, type Decision, type PolicyDocument, type Scope, type ScopeSandbox } from "./policy/scope.js";

/*
 * The policy file formats need the YAML and schema libraries; they load only when a stored
 * policy is read or written, so `authy run --scope secrets:read:ns/*` never pays for them.
 */
const policyJson = () => import("./policy/policy-json.js");
const policyYaml = () => import("./policy/policy-yaml.js");
import { audit, tryAudit } from "./audit-log.js";
import { requireOwner } from "./access.js";

/** How much of a refused scope name the audit entry keeps: a name, not whatever was sent. */
const MAX_AUDITED_SCOPE_NAME = 128;

/**
 * The stored policy: authored as YAML, stored as canonical JSON with a MAC, so that a hand
 * edit of who may read what fails closed instead of being honoured.
 */
const POLICY_DOMAIN = "authy/policy/v1";

const EMPTY_POLICY: PolicyDocument = { scopes: Object.create(null) as Record<string, Scope> };

export async function loadPolicy(ctx: VaultContext): Promise<PolicyDocument> {
  const row = await ctx.store.getPolicy();
  if (!row) return EMPTY_POLICY;
  ctx.keys.verifyRow(POLICY_DOMAIN, [row.document, row.updatedAt], row.mac, "the stored policy was modified outside authy");
  return (await policyJson()).policyFromCanonicalJson(row.document);
}

/** The stored policy as the owner reads it: it names every scope and the paths it reaches, which is more than a token may see. */
export async function readPolicy(ctx: VaultContext): Promise<PolicyDocument> {
  requireOwner(ctx, "read the policy");
  return loadPolicy(ctx);
}

/** Validates a policy file and stores it (owner only). Returns the stored document. */
export async function applyPolicy(ctx: VaultContext, yamlText: string, source: string): Promise<PolicyDocument> {
  requireOwner(ctx, "change the policy");
  const { canonicalPolicyJson, policyFromCanonicalJson } = await policyJson();
  const doc = (await policyYaml()).parsePolicyYaml(yamlText, source);
  const document = canonicalPolicyJson(doc);
  await ctx.store.write(async (tx) => {
    const updatedAt = ctx.clock.now();
    await tx.putPolicy({ document, updatedAt, mac: ctx.keys.macRow(POLICY_DOMAIN, [document, updatedAt]) });
    await audit(tx, ctx, "policy.apply", "policy", { scopes: Object.keys(doc.scopes).sort() });
  });
  return policyFromCanonicalJson(document);
}

/**
 * A scope given on the command line: the name of a stored scope, or the compact
 * `secrets:read:prod/*` form.
 *
 * Which scopes the policy holds is the owner's to know: a token or an agent may name only its
 * own scope (or give a compact one), and any other name is refused the same way whether or
 * not a scope of that name exists, and audited.
 */
export async function resolveScope(ctx: VaultContext, spec: string): Promise<Scope> {
  if (isCompactScope(spec)) return { name: spec, allow: parseCompactScope(spec), deny: [] };
  const actor = ctx.actor;
  if (!actsAsOwner(actor)) {
    if (spec === actor.scope.name) return actor.scope;
    await tryAudit(ctx, "scope.use.denied", "policy", { scope: spec.slice(0, MAX_AUDITED_SCOPE_NAME), reason: "not the caller's own scope" }, "denied");
    // Named as what the caller is: a member or an agent holds no token it could look at.
    const named = actor.kind === "member" || actor.kind === "agent" ? `${actor.kind} ${actor.name}` : null;
    throw new AuthyError("ACCESS_DENIED", `${named ?? "a token"} can name only its own scope, or give a compact scope such as secrets:read:prod/*`, {
      hint: `${named === null ? "this token's" : `${named}'s`} scope is ${JSON.stringify(actor.scope.name)}`,
    });
  }
  const scope = getScope(await loadPolicy(ctx), spec);
  if (!scope)
    throw new AuthyError("NOT_FOUND", `no scope named ${JSON.stringify(spec)}`, {
      hint: "see `authy policy show`, or give a compact scope like secrets:read:prod/*",
    });
  return scope;
}

export async function testPolicy(
  ctx: VaultContext,
  scopeSpec: string,
  path: string,
  capability: Capability,
): Promise<Decision & { scope: string; sandbox?: ScopeSandbox }> {
  requireOwner(ctx, "test the policy");
  const scope = await resolveScope(ctx, scopeSpec);
  return { scope: scope.name, ...decide(scope, path, capability), ...(scope.sandbox ? { sandbox: scope.sandbox } : {}) };
}
