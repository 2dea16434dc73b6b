import type { PolicyDocument, Scope } from "../vault/policy/scope.js";
import { CAPABILITIES } from "../vault/policy/capability.js";
import type { SettingEntry } from "../vault/settings.js";
import { op } from "./operation.js";
import { shapes } from "./shapes.js";

/** Policy scopes come back as a prototype-less map, like the core's, so "constructor" names nothing. */
function policyOf(doc: PolicyDocument): PolicyDocument {
  const scopes = Object.create(null) as Record<string, Scope>;
  for (const [name, scope] of Object.entries(doc.scopes)) scopes[name] = scope;
  return { scopes };
}

/**
 * The stored policy and the owner's settings (src/vault/settings.ts): owner only, decided by the
 * core (requireOwner in policies.ts and settings.ts); `callers` turns anyone else away at the route too.
 */
export const policyOperations = [
  op({
    name: "settings",
    method: "GET",
    path: "/v1/config",
    callers: ["owner"],
    result: (json: { items: SettingEntry[] }) => json.items,
    decode: async ({ vault }) => ({ items: await vault().settings() }),
  }),
  op({
    // null puts the key back to its default.
    name: "setSetting",
    method: "PUT",
    path: "/v1/config/:key",
    callers: ["owner"],
    body: (z) => z.strictObject({ value: z.string().max(4096).nullable() }),
    what: "config set",
    encode: (key, value) => ({ params: { key }, body: { value } }),
    result: (json: { items: SettingEntry[] }) => json.items,
    decode: async ({ vault, params, body }) => ({ items: await vault().setSetting(params.key!, body.value) }),
  }),
  op({
    name: "policy",
    method: "GET",
    path: "/v1/policy",
    callers: ["owner"],
    result: policyOf,
    decode: async ({ vault }) => vault().policy(),
  }),
  op({
    name: "applyPolicy",
    method: "PUT",
    path: "/v1/policy",
    callers: ["owner"],
    body: (z) => z.strictObject({ yaml: z.string(), source: shapes(z).text.optional() }),
    what: "policy",
    encode: (yaml, source) => ({ body: { yaml, source } }),
    result: policyOf,
    decode: async ({ vault, body }) => vault().applyPolicy(body.yaml, body.source ?? "api"),
  }),
  op({
    name: "testPolicy",
    method: "POST",
    path: "/v1/policy/test",
    callers: ["owner"],
    body: (z) => z.strictObject({ scope: z.string(), path: z.string(), capability: z.enum(CAPABILITIES) }),
    what: "policy test",
    encode: (scope, path, capability) => ({ body: { scope, path, capability } }),
    decode: async ({ vault, body }) => vault().testPolicy(body.scope, body.path, body.capability),
  }),
] as const;
