import type { DispatchRequest } from "../../vault/dispatch.js";
import { vaultOf, type RouteDeps, type RouteSpec } from "../app.js";
import { dispatchRequest, envExportQuery, envImport, parse } from "../schemas.js";

/** Whole namespaces in and out, and the resolution behind `authy run` and `authy inject`. */
export function envRoutes({ limits }: RouteDeps): RouteSpec[] {
  return [
    {
      method: "POST",
      url: "/v1/env/import",
      callers: ["owner", "token"],
      bodyLimit: limits.importBodyLimit,
      handler: async (req, caller) => {
        const b = parse(envImport, req.body, "import");
        const entries = b.entries.map((e) => (e.description === undefined ? { key: e.key, value: e.value } : { key: e.key, value: e.value, description: e.description }));
        return vaultOf(caller).importEnv(entries, {
          namespace: b.namespace,
          ...(b.noOverwrite === undefined ? {} : { noOverwrite: b.noOverwrite }),
          ...(b.tier === undefined ? {} : { tier: b.tier }),
          ...(b.dryRun === undefined ? {} : { dryRun: b.dryRun }),
          ...(b.source === undefined ? {} : { source: b.source }),
        });
      },
    },
    {
      method: "GET",
      url: "/v1/env/:namespace",
      callers: ["owner", "token"],
      handler: async (req, caller) => {
        const { namespace } = req.params as { namespace: string };
        const q = parse(envExportQuery, req.query, "query");
        // `?keys=` (present but empty) asks for no keys at all, which is not the same as all keys.
        const keys = q.keys === undefined ? undefined : q.keys === "" ? [] : q.keys.split(",");
        const entries = await vaultOf(caller).exportEnv(namespace, keys === undefined ? {} : { keys });
        return { namespace, entries };
      },
    },
    {
      method: "POST",
      url: "/v1/dispatch",
      callers: ["owner", "token"],
      handler: async (req, caller) => vaultOf(caller).dispatch(parse(dispatchRequest, req.body, "dispatch request") as DispatchRequest),
    },
  ];
}
