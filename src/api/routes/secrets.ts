import { AuthyError } from "../../errors.js";
import { vaultOf, type RouteSpec } from "../route-spec.js";
import type { Caller } from "../auth.js";
import { deleteQuery, getQuery, isSet, listQuery, parse, rollback, secretRotate, secretWrite } from "../schemas.js";
import { decodeValue, encodeValue, pathOf } from "../wire.js";

/** Secrets: list, read, write, delete, restore, history, rollback, rotate. */

/** Secret routes take agent keys too, so that the core refuses them and audits the attempt. */
const ANYONE = ["owner", "token", "agent"] as const;
const ITEM = "/v1/secrets/:namespace/:key";

function list(caller: Caller, namespace: string | undefined, query: unknown) {
  const q = parse(listQuery, query, "query");
  const ns = namespace ?? q.namespace;
  return vaultOf(caller)
    .listSecrets({ namespace: ns, recursive: isSet(q.recursive), includeDeleted: isSet(q.deleted) })
    .then((items) => ({ namespace: ns ?? null, items }));
}

/** Writes a new version; the value buffer is wiped once the core has sealed it. */
async function write(caller: Caller, path: string, body: unknown, what: string) {
  const b = parse(secretWrite, body, what);
  const value = decodeValue(b);
  try {
    return await vaultOf(caller).setSecret(path, value, {
      ...(b.type === undefined ? {} : { type: b.type }),
      ...(b.tier === undefined ? {} : { tier: b.tier }),
      ...(b.description === undefined ? {} : { description: b.description }),
      ...(b.tags === undefined ? {} : { tags: b.tags }),
      ...(b.expiresAt === undefined ? {} : { expiresAt: b.expiresAt }),
      ...(b.reason === undefined ? {} : { reason: b.reason }),
    });
  } finally {
    value.fill(0);
  }
}

export const secretRoutes: RouteSpec[] = [
  // Agent Secret Store's form: GET /v1/secrets?namespace=production%2Fgemini (no namespace: everything).
  { method: "GET", url: "/v1/secrets", callers: ["owner", "token"], handler: async (req, caller) => list(caller, undefined, req.query) },
  {
    method: "GET",
    url: "/v1/secrets/:namespace",
    callers: ["owner", "token"],
    handler: async (req, caller) => {
      const { namespace } = req.params as { namespace: string };
      if ((req.query as Record<string, unknown>).namespace !== undefined) {
        throw new AuthyError("INVALID_INPUT", "give the namespace in the path or as ?namespace=, not both");
      }
      return list(caller, namespace, req.query);
    },
  },
  {
    method: "GET",
    url: ITEM,
    callers: ANYONE,
    handler: async (req, caller) => {
      const q = parse(getQuery, req.query, "query");
      const { meta, value } = await vaultOf(caller).getSecret(pathOf(req.params), {
        ...(q.version === undefined ? {} : { version: Number(q.version) }),
        ...(isSet(q.allowExpired) ? { allowExpired: true } : {}),
        ...(q.reason === undefined ? {} : { reason: q.reason }),
      });
      try {
        return { ...meta, ...encodeValue(value, q.encoding === "base64") };
      } finally {
        value.fill(0);
      }
    },
  },
  { method: "PUT", url: ITEM, callers: ANYONE, handler: async (req, caller) => write(caller, pathOf(req.params), req.body, "secret") },
  {
    method: "DELETE",
    url: ITEM,
    callers: ANYONE,
    handler: async (req, caller) => {
      const q = parse(deleteQuery, req.query, "query");
      return vaultOf(caller).deleteSecret(pathOf(req.params), { purge: isSet(q.purge) });
    },
  },
  {
    method: "GET",
    url: `${ITEM}/meta`,
    callers: ANYONE,
    handler: async (req, caller) => {
      const vault = vaultOf(caller);
      const path = pathOf(req.params);
      // describeSecret does not authorize (it trusts its caller); for anyone but the owner,
      // history() gives the same metadata behind a `list` check that is audited when refused.
      return caller.actor.kind === "owner" ? vault.describeSecret(path) : (await vault.history(path)).meta;
    },
  },
  { method: "POST", url: `${ITEM}/restore`, callers: ANYONE, handler: async (req, caller) => vaultOf(caller).restoreSecret(pathOf(req.params)) },
  { method: "GET", url: `${ITEM}/history`, callers: ANYONE, handler: async (req, caller) => vaultOf(caller).history(pathOf(req.params)) },
  {
    method: "POST",
    url: `${ITEM}/rollback`,
    callers: ANYONE,
    handler: async (req, caller) => vaultOf(caller).rollback(pathOf(req.params), parse(rollback, req.body, "rollback").version),
  },
  {
    // A rotation is a new value for the same secret, keeping its metadata. The core has no
    // rotate operation yet, so it is authorized as `write` and audited as `secret.write`.
    method: "POST",
    url: `${ITEM}/rotate`,
    callers: ANYONE,
    handler: async (req, caller) => write(caller, pathOf(req.params), parse(secretRotate, req.body, "rotation"), "rotation"),
  },
];
