import type { AuditFilter } from "../vault/audit-query.js";
import type { AuditVerifyReport } from "../vault/audit-verify.js";
import { parseCheckpoint } from "../vault/checkpoint-format.js";
import { AuthyError } from "../errors.js";
import type { AuditPage } from "../vault/audit-query.js";
import { assEvent } from "./ass.js";
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
      // `page` (from 1, of `limit` entries, newest first) is the Agent Secret Store's (`ass audit`).
      return z.strictObject({
        namespace: text,
        agent: text,
        actor: text,
        action: text,
        since: numeric,
        until: numeric,
        limit: numeric,
        afterSeq: numeric,
        page: numeric,
      });
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
    // Both answers: authy's `entries` (oldest first) and the Agent Secret Store's `events` (newest first).
    result: ({ entries, headSeq }: AuditPage) => ({ entries, headSeq }),
    decode: async ({ vault, query: q }) => {
      const filter: AuditFilter = {};
      for (const k of ["namespace", "agent", "actor", "action"] as const) if (q[k] !== undefined) filter[k] = q[k];
      for (const k of ["since", "until", "limit", "afterSeq"] as const) if (q[k] !== undefined) filter[k] = n(q[k]);
      const page = n(q.page);
      if (page === undefined) {
        const all = await vault().queryAudit(filter);
        return { ...all, events: all.entries.toReversed().map(assEvent) };
      }
      const size = filter.limit ?? 25;
      // page × limit is checked by the core, as a limit.
      if (!Number.isSafeInteger(page) || page < 1 || !Number.isSafeInteger(size) || size < 1) {
        throw new AuthyError("INVALID_INPUT", "page and limit must be whole numbers from 1");
      }
      if (filter.afterSeq !== undefined) throw new AuthyError("INVALID_INPUT", "give page or afterSeq, not both");
      // The newest page × limit, of which the last `limit` (counting back from the newest) are this page.
      const got = await vault().queryAudit({ ...filter, limit: page * size });
      const entries = got.entries.slice(0, Math.max(0, got.entries.length - (page - 1) * size));
      const shown = entries.slice(-size);
      return { entries: shown, headSeq: got.headSeq, page, limit: size, events: shown.toReversed().map(assEvent) };
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
