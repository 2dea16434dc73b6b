import type { RouteDeps, RouteSpec } from "./route-spec.js";
import { accessRoutes } from "./routes/access.js";
import { approvalRoutes } from "./routes/approvals.js";
import { auditRoutes } from "./routes/audit.js";
import { envRoutes } from "./routes/env.js";
import { policyRoutes } from "./routes/policy.js";
import { secretRoutes } from "./routes/secrets.js";
import { vaultRoutes } from "./routes/vault.js";

/*
 * The v1 API. JSON in and out; times are epoch milliseconds, so that the HTTP client rebuilds
 * exactly the objects the in-process Vault returns. Errors are
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
 *  method  path                                   who                 body → response
 *  GET     /v1/health                             anyone              → { status, locked }
 *  GET     /v1/status                             owner, token        → daemon status + { locked, vaultId, actor, token? }
 *  POST    /v1/lock                               owner               → { locked: true }
 *  GET     /v1/secrets[?namespace=&recursive&deleted]  owner, token   → { namespace, items: SecretSummary[] }
 *  GET     /v1/secrets/:ns[?recursive&deleted]    owner, token        → { namespace, items: SecretSummary[] }
 *  GET     /v1/secrets/:ns/:key[?version&allowExpired&encoding=base64]  → SecretMeta + { value | valueBase64 }
 *  PUT     /v1/secrets/:ns/:key                   { value|valueBase64, type?, tier?, description?, tags?, expiresAt? } → SecretMeta
 *  DELETE  /v1/secrets/:ns/:key[?purge]           → SecretMeta
 *  GET     /v1/secrets/:ns/:key/meta              → SecretMeta (deleted ones too; never the value)
 *  POST    /v1/secrets/:ns/:key/restore           → SecretMeta
 *  GET     /v1/secrets/:ns/:key/history           → { meta, versions: VersionInfo[] }
 *  POST    /v1/secrets/:ns/:key/rollback          { version } → SecretMeta
 *  POST    /v1/secrets/:ns/:key/rotate            { value|valueBase64 } → SecretMeta
 *          (item routes: owner, token, agent key — the core refuses agent keys)
 *  POST    /v1/env/import                         owner, token        { namespace, entries: [{key,value}], noOverwrite?, tier?, dryRun? } → ImportPlan
 *  GET     /v1/env/:ns[?keys=A,B]                 owner, token        → { namespace, entries: [{key,value}] }
 *  POST    /v1/dispatch                           owner, token        DispatchRequest (purpose: run | inject fixes the audit
 *                                                                     action) → Dispatch + { run, ticket }
 *  POST    /v1/runs/end                           anyone with the run's ticket  { ticket, exitCode, signal, durationMs, pid? }
 *                                                                     → { recorded, run } (run.end, once per run, as who started it)
 *  GET     /v1/policy                             owner               → PolicyDocument
 *  PUT     /v1/policy                             owner               { yaml, source? } → PolicyDocument
 *  POST    /v1/policy/test                        owner               { scope, path, capability } → Decision & { scope }
 *  GET     /v1/agents                             owner               → { items: AgentInfo[] }
 *  POST    /v1/agents                             owner               { name, scope, description? } → 201 { agent, key }
 *  DELETE  /v1/agents/:name                       owner               → AgentInfo (its tokens stop working at once)
 *  POST    /v1/tokens                             owner, token, agent { scope | scopes, ttl (s or "15m") | ttlMs, uses | max_uses, agent?, label | description, pid? }
 *                                                                     (spends no use: a child shares its family's budget)
 *                                                                     → 201 { token, id, expiresAt, expires_at, scope, agent, maxUses, notices }
 *  GET     /v1/tokens                             owner               → { items: (TokenInfo & { status: active | spent | expired | revoked })[] } (this instance's)
 *  DELETE  /v1/tokens/:id                         owner, token        → TokenInfo (and every token it issued)
 *  GET     /v1/keys                               owner               → { items: SlotInfo[] }
 *  POST    /v1/keys                               owner               { recipient, label? } → 201 SlotInfo
 *  DELETE  /v1/keys/:id                           owner               → SlotInfo (id or recipient)
 *  POST    /v1/verify                             owner               → VerifyReport
 *  POST    /v1/events                             owner               { action, resource, details? } → { recorded: true }
 *  POST    /v1/passwd, /v1/export                 owner               → 400: direct mode only (a passphrase, or every
 *                                                                       value at once, never travels over the API)
 *
 *  A limited token spends one use per request that releases something: a refused, missing or
 *  pending read spends none. Refusals before the core (bad or missing credentials, a route not
 *  for the caller's kind) are audited, bounded per actor and reason (refusal-log.ts).
 *
 *  (approvals: see routes/approvals.ts; `reason` travels as ?reason= on reads, in the body on
 *  writes and dispatch. Audit log: see routes/audit.ts.)
 *
 * Next: a long-poll GET /v1/approvals/:id?wait=… (it will need its own connection timeout).
 */
export function registerRoutes(add: (spec: RouteSpec) => void, deps: RouteDeps): void {
  for (const spec of [...vaultRoutes(deps), ...secretRoutes, ...envRoutes(deps), ...policyRoutes, ...accessRoutes(deps), ...approvalRoutes, ...auditRoutes]) add(spec);
}
