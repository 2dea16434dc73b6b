import { vaultOf, type RouteSpec } from "../route-spec.js";
import { parse, policyApply, policyTest, settingSet } from "../schemas.js";

/**
 * The stored policy. Owner only: the policy names every scope and the paths it reaches, which
 * is more than a token may see (the core does not check this itself for reads).
 */
export const policyRoutes: RouteSpec[] = [
  // The owner's settings (src/vault/settings.ts): owner only, like the policy.
  { method: "GET", url: "/v1/config", callers: ["owner"], handler: async (_req, caller) => ({ items: await vaultOf(caller).settings() }) },
  {
    method: "PUT",
    url: "/v1/config/:key",
    callers: ["owner"],
    handler: async (req, caller) => {
      const b = parse(settingSet, req.body, "config set");
      return { items: await vaultOf(caller).setSetting((req.params as { key: string }).key, b.value) };
    },
  },
  { method: "GET", url: "/v1/policy", callers: ["owner"], handler: async (_req, caller) => vaultOf(caller).policy() },
  {
    method: "PUT",
    url: "/v1/policy",
    callers: ["owner"],
    handler: async (req, caller) => {
      const b = parse(policyApply, req.body, "policy");
      return vaultOf(caller).applyPolicy(b.yaml, b.source ?? "api");
    },
  },
  {
    method: "POST",
    url: "/v1/policy/test",
    callers: ["owner"],
    handler: async (req, caller) => {
      const b = parse(policyTest, req.body, "policy test");
      return vaultOf(caller).testPolicy(b.scope, b.path, b.capability);
    },
  },
];
