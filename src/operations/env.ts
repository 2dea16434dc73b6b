import { isAuthyError } from "../errors.js";
import { DISPATCH_PURPOSES, MAX_RUN_TICKET_LENGTH } from "../vault/dispatch-purpose.js";
import type { EnvEntry, ImportPlan } from "../vault/env-transfer.js";
import { validateNamespace } from "../vault/path.js";
import { AuthyError } from "../errors.js";
import { SECRET_TYPES, TIERS } from "../vault/types.js";
import { given, op } from "./operation.js";
import { MAX_ITEMS, shapes } from "./shapes.js";

/** Runs whose end this server recorded; more than this and the oldest are forgotten. */
const MAX_ENDED_RUNS = 10_000;

/** The runs whose end was recorded, per server (a WeakMap: the server's deps are its identity). */
const endedRuns = new WeakMap<object, Set<string>>();

/** True the first time a server is told of a run's end. */
function firstEnd(server: object, id: string): boolean {
  let ids = endedRuns.get(server);
  if (!ids) endedRuns.set(server, (ids = new Set()));
  if (ids.has(id)) return false;
  if (ids.size >= MAX_ENDED_RUNS) ids.delete(ids.values().next().value!);
  ids.add(id);
  return true;
}

/** Whole namespaces in and out, and the resolution behind `authy run` and `authy inject`. */
export const envOperations = [
  op({
    name: "importEnv",
    method: "POST",
    path: "/v1/env/import",
    callers: ["owner", "token"],
    largeBody: true,
    body: (z) =>
      z.strictObject({
        namespace: z.string(),
        entries: z.array(z.strictObject({ key: z.string(), value: z.string(), description: shapes(z).text.optional() })).max(100_000),
        noOverwrite: z.boolean().optional(),
        /** Where the entries came from (dotenv, pass, passage, …), for the audit entry. */
        source: z
          .string()
          .regex(/^[a-z]+$/)
          .max(16)
          .optional(),
        tier: z.enum(TIERS).optional(),
        dryRun: z.boolean().optional(),
        reason: shapes(z).text.optional(),
      }),
    what: "import",
    encode: (entries, o) => ({
      body: {
        namespace: o.namespace,
        entries: entries.map((e) => ({ key: e.key, value: e.value, description: e.description })),
        noOverwrite: o.noOverwrite,
        tier: o.tier,
        dryRun: o.dryRun,
        source: o.source,
        reason: o.reason,
      },
    }),
    result: (plan: ImportPlan, _entries, o) => {
      // The daemon does the work in one request; report it the way the core does, once, at the end.
      if (!o.dryRun) {
        const done = plan.counts.create + plan.counts.update;
        o.onProgress?.(done, done);
      }
      return plan;
    },
    decode: async ({ vault, body: b }) => {
      const entries = b.entries.map((e) =>
        e.description === undefined ? { key: e.key, value: e.value } : { key: e.key, value: e.value, description: e.description },
      );
      return vault().importEnv(entries, {
        namespace: b.namespace,
        ...given({ noOverwrite: b.noOverwrite, tier: b.tier, dryRun: b.dryRun, source: b.source, reason: b.reason }),
      });
    },
  }),
  op({
    // The Agent Secret Store's import (`ass env import`): the .env text itself, parsed here by
    // authy's own dotenv reader, answered with its counts next to authy's plan.
    name: "importEnv",
    compat: true,
    method: "POST",
    path: "/v1/secrets/import",
    callers: ["owner", "token"],
    largeBody: true,
    body: (z) =>
      z.strictObject({
        namespace: z.string(),
        content: z.string(),
        secret_type: z.enum(SECRET_TYPES).optional(),
        access_tier: z.enum(TIERS).optional(),
      }),
    what: "import",
    decode: async ({ vault, body: b }) => {
      // New secrets are `custom` (as authy's own import makes them); existing ones keep their type.
      if (b.secret_type !== undefined && b.secret_type !== "custom") {
        throw new AuthyError("INVALID_INPUT", `an import sets no type: new secrets are custom, existing ones keep theirs`, {
          hint: "leave out secret_type, then set a type per secret with `authy secrets set --type`",
        });
      }
      // Server side only: authy's client, which loads this table, does not load the dotenv reader.
      const { parseDotenv } = await import("../formats/dotenv.js");
      const entries = parseDotenv(b.content, { source: "content" }).map((e) => ({ key: e.key, value: e.value }));
      const plan = await vault().importEnv(entries, { namespace: b.namespace, source: "dotenv", ...given({ tier: b.access_tier }) });
      const written = plan.items.filter((i) => i.action === "create" || i.action === "update");
      return { ...plan, imported: written.length, skipped: plan.items.length - written.length, keys: written.map((i) => i.key) };
    },
  }),
  op({
    name: "exportEnv",
    method: "GET",
    path: "/v1/env/:namespace",
    callers: ["owner", "token"],
    query: (z) => z.strictObject({ keys: z.string().optional(), reason: shapes(z).text.optional() }),
    encode: (namespace, o = {}) => ({ params: { namespace: validateNamespace(namespace) }, query: { keys: o.keys?.join(","), reason: o.reason } }),
    result: (json: { entries: EnvEntry[] }) => json.entries,
    decode: async ({ vault, params, query }) => {
      const { namespace } = params as { namespace: string };
      // `?keys=` (present but empty) asks for no keys at all, which is not the same as all keys.
      const keys = query.keys === undefined ? undefined : query.keys === "" ? [] : query.keys.split(",");
      const entries = await vault().exportEnv(namespace, given({ keys, reason: query.reason }));
      return { namespace, entries };
    },
  }),
  op({
    // `purpose` (run | inject) fixes the audit action; the answer carries the run id and its ticket.
    name: "dispatch",
    method: "POST",
    path: "/v1/dispatch",
    callers: ["owner", "token"],
    body: (z) => {
      const { text, details } = shapes(z);
      return z.strictObject({
        scope: z.string().optional(),
        refs: z
          .array(z.strictObject({ name: z.string(), path: z.string(), source: text }))
          .max(MAX_ITEMS)
          .optional(),
        only: z.array(z.string()).max(MAX_ITEMS).optional(),
        command: text,
        // The core writes its own command/scope/secrets into the run.start entry; a caller's
        // details must not overwrite the list of what it was given.
        details: details
          .refine(
            (d) => !["command", "scope", "secrets", "sandboxed", "sandbox"].some((k) => Object.hasOwn(d, k)),
            "must not set command, scope, secrets or sandbox",
          )
          .optional(),
        // What the values are for; it fixes the audit action (run.start, secret.inject): a caller
        // never names the action of its own read.
        purpose: z.enum(DISPATCH_PURPOSES).optional(),
        reason: text.optional(),
        sandbox: z
          .strictObject({
            write: z.array(text).max(MAX_ITEMS),
            read: z.array(text).max(MAX_ITEMS),
            hosts: z.array(text).max(MAX_ITEMS),
            network: z.enum(["host", "none"]),
          })
          .optional(),
        ownScope: z.boolean().optional(),
      });
    },
    what: "dispatch request",
    encode: (req) => ({ body: req }),
    decode: async ({ vault, body }) => vault().dispatch(body),
  }),
  op({
    // The end of a run, recorded with the ticket its dispatch returned rather than a credential
    // (which may be spent or revoked by then): every run gets its run.end, once, as who started it.
    // The bearer is sent but not needed.
    name: "endRun",
    method: "POST",
    path: "/v1/runs/end",
    callers: [],
    body: (z) =>
      z.strictObject({
        ticket: z.string().max(MAX_RUN_TICKET_LENGTH),
        exitCode: z.number().int(),
        signal: z.string().max(32).nullable(),
        durationMs: z.number().nonnegative(),
        pid: z.number().int().positive().optional(),
      }),
    what: "run end",
    encode: (ticket, end) => ({ body: { ticket, ...end } }),
    decode: async ({ body: b, server, owner }) => {
      const vault = owner();
      let run: string;
      try {
        const end = { exitCode: b.exitCode, signal: b.signal, durationMs: b.durationMs, ...given({ pid: b.pid }) };
        ({ run } = await vault.endRun(b.ticket, end, (id) => firstEnd(server, id)));
      } catch (e) {
        if (isAuthyError(e) && e.code === "ACCESS_DENIED")
          await server.refusals.note({ actor: "ticket:unknown", action: "run.end.denied", resource: "POST /v1/runs/end", reason: "not a run ticket" });
        throw e;
      }
      return { recorded: true, run };
    },
  }),
] as const;
