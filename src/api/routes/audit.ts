import { z } from "zod";
import { parseCheckpoint } from "../../vault/audit-checkpoint.js";
import type { AuditFilter } from "../../vault/audit-query.js";
import { vaultOf, type RouteSpec } from "../route-spec.js";
import { parse } from "../schemas.js";

/**
 * The audit log, owner only (the core checks it too). Numbers arrive as query strings and go
 * to the core as numbers, which checks their range with its own messages.
 *
 *  GET   /v1/audit[?namespace&agent&actor&action&since&until&limit&afterSeq]  → AuditPage
 *  GET   /v1/audit/export?afterSeq=N[&limit]                                  → AuditPage (a verified stretch of the chain)
 *  POST  /v1/audit/verify          { checkpoint? }                            → AuditVerifyReport
 *  POST  /v1/audit/checkpoint                                                 → AuditCheckpoint
 */
const text = z.string().max(1024).optional();
const num = z.string().max(32).optional();
const queryShape = z.strictObject({ namespace: text, agent: text, actor: text, action: text, since: num, until: num, limit: num, afterSeq: num });
const exportShape = z.strictObject({ afterSeq: z.string().max(32), limit: num });
const verifyShape = z.strictObject({ checkpoint: z.unknown().optional() });

const n = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));

export const auditRoutes: RouteSpec[] = [
  {
    method: "GET",
    url: "/v1/audit",
    callers: ["owner"],
    handler: async (req, caller) => {
      const q = parse(queryShape, req.query, "query");
      const filter: AuditFilter = {};
      for (const k of ["namespace", "agent", "actor", "action"] as const) if (q[k] !== undefined) filter[k] = q[k];
      for (const k of ["since", "until", "limit", "afterSeq"] as const) if (q[k] !== undefined) filter[k] = n(q[k]);
      return vaultOf(caller).queryAudit(filter);
    },
  },
  {
    method: "GET",
    url: "/v1/audit/export",
    callers: ["owner"],
    handler: async (req, caller) => {
      const q = parse(exportShape, req.query, "query");
      return vaultOf(caller).exportAudit({ afterSeq: Number(q.afterSeq), ...(q.limit === undefined ? {} : { limit: Number(q.limit) }) });
    },
  },
  {
    method: "POST",
    url: "/v1/audit/verify",
    callers: ["owner"],
    handler: async (req, caller) => {
      const b = parse(verifyShape, req.body, "audit verification");
      return vaultOf(caller).verifyAudit(b.checkpoint === undefined ? {} : { checkpoint: parseCheckpoint(b.checkpoint) });
    },
  },
  { method: "POST", url: "/v1/audit/checkpoint", callers: ["owner"], handler: async (_req, caller) => vaultOf(caller).auditCheckpoint() },
];
