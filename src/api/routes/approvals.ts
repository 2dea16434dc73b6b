import { z } from "zod";
import { AuthyError } from "../../errors.js";
import { parseDuration } from "../../formats/duration.js";
import { APPROVAL_STATUSES } from "../../vault/approval-rows.js";
import { vaultOf, type RouteSpec } from "../route-spec.js";
import { parse } from "../schemas.js";

/**
 * Approval requests. The owner lists and decides them; a token may read the requests of its
 * own principal (its agent, or itself), which is how a waiting agent learns the outcome.
 *
 *  GET   /v1/approvals[?status=pending]        owner          → { items: ApprovalInfo[] }
 *  GET   /v1/approvals/:id                     owner, token   → ApprovalInfo (a token: its own only, else 404)
 *  POST  /v1/approvals/:id/approve             owner          { reason?, for? ("15m") | forMs? } → ApprovalInfo
 *  POST  /v1/approvals/:id/deny                owner          { reason } → ApprovalInfo
 *  POST  /v1/approvals/approve-all             owner          { reason?, for? | forMs? } → { items: ApprovalInfo[] }
 */
const REASON = z.string().max(4096);
const decision = z.strictObject({ reason: REASON.optional(), for: z.string().max(64).optional(), forMs: z.number().optional() });
const denial = z.strictObject({ reason: REASON });
const listQuery = z.strictObject({ status: z.enum(APPROVAL_STATUSES).optional() });

function approveOptions(body: unknown): { reason?: string; forMs?: number } {
  const b = parse(decision, body, "approval");
  if (b.for !== undefined && b.forMs !== undefined) throw new AuthyError("INVALID_INPUT", "give only one of for and forMs");
  const forMs = b.forMs ?? (b.for === undefined ? undefined : parseDuration(b.for));
  return { ...(b.reason === undefined ? {} : { reason: b.reason }), ...(forMs === undefined ? {} : { forMs }) };
}

const idOf = (params: unknown): string => (params as { id: string }).id;

export const approvalRoutes: RouteSpec[] = [
  {
    method: "GET",
    url: "/v1/approvals",
    callers: ["owner"],
    handler: async (req, caller) => {
      const q = parse(listQuery, req.query, "query");
      return { items: await vaultOf(caller).listApprovals(q.status === undefined ? {} : { status: q.status }) };
    },
  },
  {
    method: "POST",
    url: "/v1/approvals/approve-all",
    callers: ["owner"],
    handler: async (req, caller) => ({ items: await vaultOf(caller).approveAll(approveOptions(req.body)) }),
  },
  { method: "GET", url: "/v1/approvals/:id", callers: ["owner", "token"], free: true, handler: async (req, caller) => vaultOf(caller).getApproval(idOf(req.params)) },
  {
    method: "POST",
    url: "/v1/approvals/:id/approve",
    callers: ["owner"],
    handler: async (req, caller) => vaultOf(caller).approve(idOf(req.params), approveOptions(req.body)),
  },
  {
    method: "POST",
    url: "/v1/approvals/:id/deny",
    callers: ["owner"],
    handler: async (req, caller) => vaultOf(caller).deny(idOf(req.params), parse(denial, req.body, "denial").reason),
  },
];
