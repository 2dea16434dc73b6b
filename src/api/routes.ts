import { z } from "zod";
import { AuthyError } from "../errors.js";
import { ALL_OPERATIONS } from "../operations/index.js";
import type { Operation } from "../operations/operation.js";
import { lockedError } from "./auth.js";
import { vaultOf, type RouteDeps, type RouteSpec } from "./route-spec.js";
import { serverRoutes } from "./routes/vault.js";

/*
 * The v1 API: a route per entry of the table of operations (src/operations/index.ts, where
 * each route, its callers, its input and its answer are declared), and the server's own
 * routes (routes/vault.ts: health, status, lock, whoami). JSON in and out; times are epoch
 * milliseconds, so that the HTTP client rebuilds exactly the objects the in-process Vault
 * returns. Errors are
 *   { "error": { "code": "NOT_FOUND", "message": "no secret prod/X", "hint": "…" | null } }
 * with the status from src/api/http-status.ts. Credentials: `Authorization: Bearer …`
 * (owner session, token `authy_tk_…`, or agent key `authy_ak_…`, the last only for
 * POST /v1/tokens; on secret routes the core refuses it and audits the attempt).
 *
 * Agent Secret Store compatibility (https://agentsecretstore.com/docs/sdks/rest-api): its
 * documented shapes are followed where they exist: the `/v1` prefix, Bearer auth, paths with
 * the namespace URL-encoded as one segment, `GET /v1/secrets?namespace=a%2Fb`, and
 * `POST /v1/tokens {"scopes": ["secrets:read:prod/*"], "ttl": "1h", "max_uses": 10}` answered
 * with `token` and `expires_at`. Not (yet) followed: its create-only `POST /v1/secrets {path}`
 * (409 if it exists; authy's writes are PUT and version), its snake_case ISO times in secret
 * bodies, `secrets:*:…` scopes, and tags as an object (authy's are a list of strings).
 *
 * A limited token spends one use per request that releases something: a refused, missing or
 * pending read spends none. Refusals before the core (bad or missing credentials, a route not
 * for the caller's kind) are audited, bounded per actor and reason (refusal-log.ts).
 *
 * Next: a long-poll GET /v1/approvals/:id?wait=… (it will need its own connection timeout).
 */

/** Parses untrusted input, or throws INVALID_INPUT naming the first problem (never the value). */
export function parse<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const r = schema.safeParse(data ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  throw new AuthyError("INVALID_INPUT", `invalid ${what}: ${where}${issue?.message ?? "malformed"}`);
}

/** The routes of one operation (its path and any others), decoding each request into the call. */
function routesOf(op: Operation, deps: RouteDeps): RouteSpec[] {
  const query = op.query?.(z);
  const body = op.body?.(z);
  const handler: RouteSpec["handler"] = async (req, caller, reply) => {
    const out = await op.decode({
      vault: () => vaultOf(caller),
      caller,
      owner: () =>
        deps.opts.vault() ??
        (() => {
          throw lockedError();
        })(),
      params: req.params as Record<string, string>,
      query: query ? parse(query, req.query, "query") : req.query,
      body: body ? parse(body, req.body, op.what ?? "request") : req.body,
      server: deps,
      peer: () => deps.opts.peer?.(req) ?? null,
      headers: req.headers,
    });
    if (op.created) reply.code(201);
    return out;
  };
  return [op.path, ...(op.also ?? [])].map((url) => ({
    method: op.method,
    url,
    callers: op.callers,
    ...(op.free ? { free: true } : {}),
    ...(op.largeBody ? { bodyLimit: deps.limits.importBodyLimit } : {}),
    handler,
  }));
}

export function registerRoutes(add: (spec: RouteSpec) => void, deps: RouteDeps): void {
  for (const spec of [...serverRoutes(deps), ...ALL_OPERATIONS.flatMap((op) => routesOf(op, deps))]) add(spec);
}
