import type { DispatchRequest } from "../../vault/dispatch.js";
import { vaultOf, type RouteDeps, type RouteSpec } from "../route-spec.js";
import { dispatchRequest, envExportQuery, envImport, parse, runEnd } from "../schemas.js";
import { isAuthyError } from "../../errors.js";
import { lockedError } from "../auth.js";

/** Runs whose end this server recorded; more than this and the oldest are forgotten. */
const MAX_ENDED_RUNS = 10_000;

class EndedRuns {
  private readonly ids = new Set<string>();
  /** True the first time a run is named. */
  first(id: string): boolean {
    if (this.ids.has(id)) return false;
    if (this.ids.size >= MAX_ENDED_RUNS) this.ids.delete(this.ids.values().next().value!);
    this.ids.add(id);
    return true;
  }
}

/** Whole namespaces in and out, and the resolution behind `authy run` and `authy inject`. */
export function envRoutes({ limits, opts, refusals }: RouteDeps): RouteSpec[] {
  const endedRuns = new EndedRuns();
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
        const entries = await vaultOf(caller).exportEnv(namespace, {
          ...(keys === undefined ? {} : { keys }),
          ...(q.reason === undefined ? {} : { reason: q.reason }),
        });
        return { namespace, entries };
      },
    },
    {
      method: "POST",
      url: "/v1/dispatch",
      callers: ["owner", "token"],
      handler: async (req, caller) => vaultOf(caller).dispatch(parse(dispatchRequest, req.body, "dispatch request") as DispatchRequest),
    },
    {
      // The end of a run, recorded with the ticket its dispatch returned rather than a
      // credential (which may be spent or revoked by then): every run gets its run.end, once.
      method: "POST",
      url: "/v1/runs/end",
      callers: [],
      handler: async (req) => {
        const b = parse(runEnd, req.body, "run end");
        const vault = opts.vault();
        if (!vault) throw lockedError();
        let run: string;
        try {
          const end = { exitCode: b.exitCode, signal: b.signal, durationMs: b.durationMs, ...(b.pid === undefined ? {} : { pid: b.pid }) };
          ({ run } = await vault.endRun(b.ticket, end, (id) => endedRuns.first(id)));
        } catch (e) {
          if (isAuthyError(e) && e.code === "ACCESS_DENIED") await refusals.note({ actor: "ticket:unknown", action: "run.end.denied", resource: "POST /v1/runs/end", reason: "not a run ticket" });
          throw e;
        }
        return { recorded: true, run };
      },
    },
  ];
}
