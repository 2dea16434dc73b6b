import type { SlotInfo } from "../vault/key-slots.js";
import type { Dispatch } from "../vault/dispatch.js";
import type { EnvEntry, ImportPlan } from "../vault/env-transfer.js";
import type { AgentInfo } from "../vault/agents.js";
import type { ApprovalInfo } from "../vault/approval-rows.js";
import type { AuditCheckpoint } from "../vault/audit-checkpoint.js";
import type { AuditPage } from "../vault/audit-query.js";
import type { AuditVerifyReport } from "../vault/audit-verify.js";
import type { PolicyDocument, Scope } from "../vault/policy/index.js";
import type { SettingEntry } from "../vault/settings.js";
import type { TokenInfo } from "../vault/tokens.js";
import type { SecretMeta, SecretSummary, VersionInfo } from "../vault/types.js";
import type { VerifyReport } from "../vault/verify.js";
import { validateNamespace, validatePath } from "../vault/path.js";
import { HttpTransport, type TransportOptions } from "./http-transport.js";
import type { IssuedToken, VaultClient } from "./vault-client.js";

/**
 * The VaultClient over the v1 API (src/api/routes.ts): the daemon on its Unix socket, or a
 * team server. Every method returns what the in-process Vault returns, built from the JSON.
 * Paths are validated here too, so that a bad name gets the core's own message before any
 * URL is built from it (and is never "normalized" by a URL parser into another name).
 */
export type HttpClientOptions = TransportOptions;

/** `/v1/secrets/<namespace as one segment>/<key>` for a validated path. */
function itemUrl(path: string, suffix = ""): string {
  const p = validatePath(path);
  return `/v1/secrets/${encodeURIComponent(p.namespace)}/${encodeURIComponent(p.key)}${suffix}`;
}

function flag(on: boolean | undefined): string | undefined {
  return on ? "1" : undefined;
}

/** The SecretMeta fields of a secret body (which may also carry the value). */
function metaOf(b: SecretMeta): SecretMeta {
  return {
    path: b.path, namespace: b.namespace, key: b.key, type: b.type, tier: b.tier, description: b.description, tags: b.tags,
    expiresAt: b.expiresAt, version: b.version, deletedAt: b.deletedAt, createdAt: b.createdAt, updatedAt: b.updatedAt,
    ...(b.generator === undefined ? {} : { generator: b.generator }),
  };
}

/** Policy scopes come back as a prototype-less map, like the core's, so "constructor" names nothing. */
function policyOf(doc: PolicyDocument): PolicyDocument {
  const scopes = Object.create(null) as Record<string, Scope>;
  for (const [name, scope] of Object.entries(doc.scopes)) scopes[name] = scope;
  return { scopes };
}

export function createHttpClient(opts: HttpClientOptions): VaultClient {
  const http = new HttpTransport(opts);
  const call = http.call.bind(http);

  const client: VaultClient = {
    mode: opts.mode,

    setSecret: (path, value, o = {}) =>
      call<SecretMeta>("PUT", itemUrl(path), { body: { valueBase64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"), ...o } }).then(metaOf),

    async getSecret(path, o = {}) {
      const b = await call<SecretMeta & { value?: string; valueBase64?: string }>("GET", itemUrl(path), {
        query: { encoding: "base64", version: o.version === undefined ? undefined : String(o.version), allowExpired: flag(o.allowExpired), reason: o.reason },
      });
      const bytes = b.valueBase64 !== undefined ? Buffer.from(b.valueBase64, "base64") : Buffer.from(b.value ?? "", "utf8");
      const value = new Uint8Array(bytes); // a copy of its own, not a view of Node's shared pool
      bytes.fill(0);
      return { meta: metaOf(b), value };
    },

    describeSecret: (path) => call<SecretMeta>("GET", itemUrl(path, "/meta")),

    async listSecrets(o = {}) {
      const ns = o.namespace === undefined || o.namespace === "" ? undefined : validateNamespace(o.namespace);
      const query = { recursive: flag(o.recursive), deleted: flag(o.includeDeleted), type: o.type, tier: o.tier, tags: o.tags?.length ? JSON.stringify(o.tags) : undefined };
      const url = ns === undefined ? "/v1/secrets" : `/v1/secrets/${encodeURIComponent(ns)}`;
      return (await call<{ items: SecretSummary[] }>("GET", url, { query })).items;
    },

    // The API lists summaries; the paths are taken from them.
    listSecretPaths: async (o = {}) => (await client.listSecrets(o)).map((s) => s.path),

    deleteSecret: (path, o = {}) => call<SecretMeta>("DELETE", itemUrl(path), { query: { purge: flag(o.purge) } }),
    restoreSecret: (path) => call<SecretMeta>("POST", itemUrl(path, "/restore")),
    history: (path) => call<{ meta: SecretMeta; versions: VersionInfo[] }>("GET", itemUrl(path, "/history")),
    rollback: (path, version) => call<SecretMeta>("POST", itemUrl(path, "/rollback"), { body: { version } }),
    async rotateSecret(path, o = {}) {
      const b = await call<SecretMeta & { value?: string }>("POST", itemUrl(path, "/rotate"), {
        body: { generate: true, length: o.generator?.length, charset: o.generator?.charset, show: o.reveal, reason: o.reason },
      });
      return b.value === undefined ? { meta: metaOf(b) } : { meta: metaOf(b), value: b.value };
    },
    moveSecret: (from, to, o = {}) => call<SecretMeta>("POST", itemUrl(from, "/move"), { body: { to: validatePath(to).path, force: o.force, reason: o.reason } }).then(metaOf),
    copySecret: (from, to, o = {}) => call<SecretMeta>("POST", itemUrl(from, "/copy"), { body: { to: validatePath(to).path, force: o.force, reason: o.reason } }).then(metaOf),

    async importEnv(entries, o) {
      const plan = await call<ImportPlan>("POST", "/v1/env/import", {
        body: {
          namespace: o.namespace,
          entries: entries.map((e) => ({ key: e.key, value: e.value, description: e.description })),
          noOverwrite: o.noOverwrite,
          tier: o.tier,
          dryRun: o.dryRun,
          source: o.source,
        },
      });
      // The daemon does the work in one request; report it the way the core does, once, at the end.
      if (!o.dryRun) {
        const done = plan.counts.create + plan.counts.update;
        o.onProgress?.(done, done);
      }
      return plan;
    },

    async exportEnv(namespace, o = {}) {
      const url = `/v1/env/${encodeURIComponent(validateNamespace(namespace))}`;
      return (await call<{ entries: EnvEntry[] }>("GET", url, { query: { keys: o.keys?.join(","), reason: o.reason } })).entries;
    },

    // Direct mode only; the API says so (400 with a hint). Nothing secret is sent.
    exportAll: (namespace) => call<{ path: string; value: Uint8Array }[]>("POST", "/v1/export", { body: { namespace } }),
    changePassphrase: () => call<SlotInfo>("POST", "/v1/passwd"),

    listKeys: async () => (await call<{ items: SlotInfo[] }>("GET", "/v1/keys")).items,
    addRecipient: (recipient, label) => call<SlotInfo>("POST", "/v1/keys", { body: { recipient, label } }),
    removeKey: (id) => call<SlotInfo>("DELETE", `/v1/keys/${encodeURIComponent(id)}`),

    verify: () => call<VerifyReport>("POST", "/v1/verify"),
    recordEvent: async (action, resource, details) => {
      await call("POST", "/v1/events", { body: { action, resource, details } });
    },

    settings: async () => (await call<{ items: SettingEntry[] }>("GET", "/v1/config")).items,
    setSetting: async (key, value) => (await call<{ items: SettingEntry[] }>("PUT", `/v1/config/${encodeURIComponent(key)}`, { body: { value } })).items,
    applyPolicy: (yaml, source) => call<PolicyDocument>("PUT", "/v1/policy", { body: { yaml, source } }).then(policyOf),
    policy: () => call<PolicyDocument>("GET", "/v1/policy").then(policyOf),
    testPolicy: (scope, path, capability) => call("POST", "/v1/policy/test", { body: { scope, path, capability } }),

    dispatch: (req) => call<Dispatch>("POST", "/v1/dispatch", { body: req }),
    // The ticket is the proof (a token may be spent by now); the bearer is sent but not needed.
    endRun: (ticket, end) => call<{ run: string }>("POST", "/v1/runs/end", { body: { ticket, ...end } }),

    createAgent: (name, o) => call<{ agent: AgentInfo; key: string }>("POST", "/v1/agents", { body: { name, scope: o.scope, description: o.description } }),
    listAgents: async () => (await call<{ items: AgentInfo[] }>("GET", "/v1/agents")).items,
    revokeAgent: (name) => call<AgentInfo>("DELETE", `/v1/agents/${encodeURIComponent(name)}`),

    listApprovals: async (o = {}) => (await call<{ items: ApprovalInfo[] }>("GET", "/v1/approvals", { query: { status: o.status } })).items,
    getApproval: (id) => call<ApprovalInfo>("GET", `/v1/approvals/${encodeURIComponent(id)}`),
    approve: (id, o = {}) => call<ApprovalInfo>("POST", `/v1/approvals/${encodeURIComponent(id)}/approve`, { body: { reason: o.reason, forMs: o.forMs } }),
    deny: (id, reason) => call<ApprovalInfo>("POST", `/v1/approvals/${encodeURIComponent(id)}/deny`, { body: { reason } }),
    approveAll: async (o = {}) => (await call<{ items: ApprovalInfo[] }>("POST", "/v1/approvals/approve-all", { body: { reason: o.reason, forMs: o.forMs } })).items,

    async issueToken(req) {
      const t = await call<IssuedToken>("POST", "/v1/tokens", {
        body: { scope: req.scope, ttlMs: req.ttlMs, uses: req.uses, agent: req.agent, label: req.label, pid: req.pid, processTree: req.processTree, relayed: req.relayed },
      });
      return { token: t.token, id: t.id, expiresAt: t.expiresAt, scope: t.scope, notices: t.notices };
    },
    listTokens: async () => (await call<{ items: TokenInfo[] }>("GET", "/v1/tokens")).items,
    revokeToken: (id) => call<TokenInfo>("DELETE", `/v1/tokens/${encodeURIComponent(id)}`),
    bindToken: async (id, pid) => {
      await call("POST", `/v1/tokens/${encodeURIComponent(id)}/process`, { body: { pid } });
    },

    queryAudit: (f = {}) => { // eslint-disable-line @typescript-eslint/no-useless-default-assignment -- callers may omit the filter (the rule misreads the optional parameter)
      const num = (v: number | undefined) => (v === undefined ? undefined : String(v));
      const query = { namespace: f.namespace, agent: f.agent, actor: f.actor, action: f.action, since: num(f.since), until: num(f.until), limit: num(f.limit), afterSeq: num(f.afterSeq) };
      return call<AuditPage>("GET", "/v1/audit", { query });
    },
    exportAudit: (page) => call<AuditPage>("GET", "/v1/audit/export", { query: { afterSeq: String(page.afterSeq), limit: page.limit === undefined ? undefined : String(page.limit) } }),
    async verifyAudit(o = {}) {
      const report = await call<AuditVerifyReport>("POST", "/v1/audit/verify", { body: { checkpoint: o.checkpoint } });
      // The daemon walks the chain in one request: progress is reported once, at the end.
      o.onProgress?.(report.entries, report.entries);
      return report;
    },
    auditCheckpoint: () => call<AuditCheckpoint>("POST", "/v1/audit/checkpoint"),

    close: async () => http.close(),
  };
  return client;
}
