import type { AuditFilter } from "../vault/audit-query.js";
import type { AuditVerifyReport } from "../vault/audit-verify.js";
import { parseCheckpoint } from "../vault/checkpoint-format.js";
import { num, op } from "./operation.js";
import { shapes } from "./shapes.js";

/**
 * The audit log, the owner's (the core decides). Numbers arrive as query strings and go to the
 * core as numbers, which checks their range with its own messages; times are epoch ms.
 */
const n = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));

export const auditOperations = [
  op({
    name: "queryAudit",
    method: "GET",
    path: "/v1/audit",
    callers: ["owner"],
    query: (z) => {
      const text = z.string().max(1024).optional();
      const { numeric } = shapes(z);
      return z.strictObject({ namespace: text, agent: text, actor: text, action: text, since: numeric, until: numeric, limit: numeric, afterSeq: numeric });
    },
    encode: (f = {}) => ({
      query: {
        namespace: f.namespace,
        agent: f.agent,
        actor: f.actor,
        action: f.action,
        since: num(f.since),
        until: num(f.until),
        limit: num(f.limit),
        afterSeq: num(f.afterSeq),
      },
    }),
    decode: async ({ vault, query: q }) => {
      const filter: AuditFilter = {};
      for (const k of ["namespace", "agent", "actor", "action"] as const) if (q[k] !== undefined) filter[k] = q[k];
      for (const k of ["since", "until", "limit", "afterSeq"] as const) if (q[k] !== undefined) filter[k] = n(q[k]);
      return vault().queryAudit(filter);
    },
  }),
  op({
    // A verified stretch of the chain.
    name: "exportAudit",
    method: "GET",
    path: "/v1/audit/export",
    callers: ["owner"],
    query: (z) => z.strictObject({ afterSeq: z.string().max(32), limit: shapes(z).numeric }),
    encode: (page) => ({ query: { afterSeq: String(page.afterSeq), limit: num(page.limit) } }),
    decode: async ({ vault, query: q }) => vault().exportAudit({ afterSeq: Number(q.afterSeq), ...(q.limit === undefined ? {} : { limit: Number(q.limit) }) }),
  }),
  op({
    // onProgress stays on the caller's side: the daemon walks the chain in one request.
    name: "verifyAudit",
    method: "POST",
    path: "/v1/audit/verify",
    callers: ["owner"],
    body: (z) => z.strictObject({ checkpoint: z.unknown().optional() }),
    what: "audit verification",
    encode: (o = {}) => ({ body: { checkpoint: o.checkpoint } }),
    result: (report: AuditVerifyReport, o = {}) => {
      o.onProgress?.(report.entries, report.entries);
      return report;
    },
    decode: async ({ vault, body }) => vault().verifyAudit(body.checkpoint === undefined ? {} : { checkpoint: parseCheckpoint(body.checkpoint) }),
  }),
  op({
    name: "auditCheckpoint",
    method: "POST",
    path: "/v1/audit/checkpoint",
    callers: ["owner"],
    decode: async ({ vault }) => vault().auditCheckpoint(),
  }),
] as const;
