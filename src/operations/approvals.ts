import { AuthyError } from "../errors.js";
import { parseDuration } from "../formats/duration.js";
import { APPROVAL_STATUSES, type ApprovalInfo } from "../vault/approval-info.js";
import { assApproval, withoutAss } from "./ass.js";
import { op, type Zod } from "./operation.js";

/**
 * Approval requests. The owner lists and decides them; a token may read the requests of its
 * own principal (its agent, or itself), which is how a waiting agent learns the outcome: the
 * core answers NOT_FOUND for anyone else's. `reason` travels as ?reason= on reads, in the body
 * on writes and dispatch.
 */
const REASON = (z: Zod) => z.string().max(4096);
const decision = (z: Zod) => z.strictObject({ reason: REASON(z).optional(), for: z.string().max(64).optional(), forMs: z.number().optional() });

/** `for` ("15m") or `forMs`, and the reason, as the core takes them. */
function approveOptions(b: { reason?: string | undefined; for?: string | undefined; forMs?: number | undefined }): { reason?: string; forMs?: number } {
  if (b.for !== undefined && b.forMs !== undefined) throw new AuthyError("INVALID_INPUT", "give only one of for and forMs");
  const forMs = b.forMs ?? (b.for === undefined ? undefined : parseDuration(b.for));
  return { ...(b.reason === undefined ? {} : { reason: b.reason }), ...(forMs === undefined ? {} : { forMs }) };
}

const items = (json: { items: ApprovalInfo[] }) => json.items.map(withoutAss);
/** A request as both clients read it (ass.ts). */
const both = (a: ApprovalInfo) => ({ ...a, ...assApproval(a) });

export const approvalOperations = [
  op({
    name: "listApprovals",
    method: "GET",
    path: "/v1/approvals",
    callers: ["owner", "member"],
    query: (z) => z.strictObject({ status: z.enum(APPROVAL_STATUSES).optional() }),
    encode: (o = {}) => ({ query: { status: o.status } }),
    result: items,
    decode: async ({ vault, query }) => ({ items: (await vault().listApprovals(query.status === undefined ? {} : { status: query.status })).map(both) }),
  }),
  op({
    name: "approveAll",
    method: "POST",
    path: "/v1/approvals/approve-all",
    callers: ["owner"],
    body: decision,
    what: "approval",
    encode: (o = {}) => ({ body: { reason: o.reason, forMs: o.forMs } }),
    result: items,
    decode: async ({ vault, body }) => ({ items: (await vault().approveAll(approveOptions(body))).map(both) }),
  }),
  op({
    // What a waiting agent polls: spends none of its token's uses.
    name: "getApproval",
    method: "GET",
    path: "/v1/approvals/:id",
    callers: ["owner", "token"],
    free: true,
    encode: (id) => ({ params: { id } }),
    result: withoutAss<ApprovalInfo>,
    decode: async ({ vault, params }) => both(await vault().getApproval(params.id!)),
  }),
  op({
    name: "approve",
    method: "POST",
    path: "/v1/approvals/:id/approve",
    callers: ["owner", "member"],
    body: decision,
    what: "approval",
    encode: (id, o = {}) => ({ params: { id }, body: { reason: o.reason, forMs: o.forMs } }),
    result: withoutAss<ApprovalInfo>,
    decode: async ({ vault, params, body }) => both(await vault().approve(params.id!, approveOptions(body))),
  }),
  op({
    name: "deny",
    method: "POST",
    path: "/v1/approvals/:id/deny",
    callers: ["owner", "member"],
    body: (z) => z.strictObject({ reason: REASON(z) }),
    what: "denial",
    encode: (id, reason) => ({ params: { id }, body: { reason } }),
    result: withoutAss<ApprovalInfo>,
    decode: async ({ vault, params, body }) => both(await vault().deny(params.id!, body.reason)),
  }),
] as const;
