import { AuthyError, isAuthyError } from "../errors.js";
import { formatDuration, parseDuration } from "../formats/duration.js";
import type { VaultClient } from "../client/vault-client.js";
import { approvalVerb } from "../vault/approval-info.js";
import type { ApprovalInfo } from "../vault/approval-rows.js";
import type { Output } from "./output.js";
import { visible } from "./visible-text.js";

/**
 * Waiting for the owner: what an agent's command does when the core answers
 * APPROVAL_REQUIRED. It says on stderr what it waits for, polls the request(s) and runs the
 * operation once more the moment everything is approved; a denial or a lapse ends it with
 * exit 5 and the reason. `--no-wait` exits 5 at once with the request id(s) on stdout.
 */

/** How often a waiting command asks: a local request is cheap, and the agent proceeds within a second. */
export const APPROVAL_POLL_INTERVAL_MS = 1_000;
/** `--wait`'s default, as the issue asks. */
const DEFAULT_APPROVAL_WAIT = "5m";

export interface ApprovalFlags {
  reason?: string;
  /** A duration, or false for `--no-wait`. */
  wait?: string | boolean;
}

/** `--reason` as a request's option: absent when not given (the request then carries none). */
export function reasonOf(flags: ApprovalFlags): { reason?: string } {
  return flags.reason === undefined ? {} : { reason: flags.reason };
}

export interface WaitTiming {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realTiming: WaitTiming = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

type Pending = Pick<ApprovalInfo, "id" | "status" | "agent" | "principal" | "action" | "path" | "reason">;

/** The requests an APPROVAL_REQUIRED error names, or null for any other error. */
function pendingRequests(e: unknown): Pending[] | null {
  if (!isAuthyError(e) || e.code !== "APPROVAL_REQUIRED") return null;
  const list = e.details?.approvals;
  if (!Array.isArray(list) || list.length === 0) return null;
  return list.filter((a): a is Pending => typeof a === "object" && a !== null && typeof (a as Pending).id === "string");
}

/** `agent deploy-bot wants to read prod/DB: "nightly backup"` */
export function describeRequest(a: Pending): string {
  // Shown on the owner's terminal (watch, approve) and the agent's: the reason is the agent's
  // own text, shown visibly so that padding or escapes cannot fake a line of their own.
  const who = visible(a.agent ? `agent ${a.agent}` : a.principal.replace(/^token:/, "token "));
  const verb = approvalVerb(a.action);
  return `${who} wants to ${verb} ${visible(a.path)}${a.reason ? `: "${visible(a.reason)}"` : ""}`;
}

function waitMs(flags: ApprovalFlags): number | null {
  if (flags.wait === false) return null;
  const ms = parseDuration(typeof flags.wait === "string" ? flags.wait : DEFAULT_APPROVAL_WAIT);
  return ms;
}

function ended(a: ApprovalInfo): AuthyError {
  const what = describeRequest(a);
  if (a.status === "denied") {
    return new AuthyError("APPROVAL_REQUIRED", `approval ${a.id} was denied: ${a.decisionReason ?? "no reason given"}`, {
      details: { approvalId: a.id, status: a.status },
      hint: `the request was: ${what}`,
    });
  }
  if (a.decidedAt === null) {
    // Never approved: the request itself ran out of time, which says nothing of a grant.
    const within = formatDuration(a.expiresAt - a.createdAt);
    return new AuthyError("APPROVAL_REQUIRED", `approval request ${a.id} lapsed: nobody approved or denied it within ${within}`, {
      details: { approvalId: a.id, status: a.status },
      hint: "run the command again to ask again; the owner has to decide the new request before it lapses",
    });
  }
  return new AuthyError("APPROVAL_REQUIRED", `approval ${a.id} expired before it was used`, {
    details: { approvalId: a.id, status: a.status },
    hint: "run the command again to ask again",
  });
}

/**
 * Runs `fn`; if it needs approvals, waits for them (or not, with `--no-wait`) and runs it once
 * more. Anything but APPROVAL_REQUIRED passes straight through.
 */
export async function withApproval<T>(
  out: Output,
  client: Pick<VaultClient, "getApproval">,
  flags: ApprovalFlags,
  fn: () => Promise<T>,
  timing: WaitTiming = realTiming,
): Promise<T> {
  let requests: Pending[] | null;
  try {
    return await fn();
  } catch (e) {
    requests = pendingRequests(e);
    if (!requests) throw e;
    const limit = waitMs(flags);
    if (limit === null || limit === 0) {
      // The ids on stdout, so that `ID=$(authy … --no-wait)` can hand them to the owner.
      out.result({ approvals: requests.map((a) => ({ id: a.id, status: a.status, action: a.action, path: a.path })) }, () =>
        requests!.map((a) => a.id).join("\n"),
      );
      throw e;
    }
    const deadline = timing.now() + limit;
    if (!out.opts.quiet) for (const a of requests) process.stderr.write(`waiting for approval ${a.id} (${describeRequest(a)})\n`);
    const waiting = new Set(requests.map((a) => a.id));
    for (;;) {
      for (const id of [...waiting]) {
        const a = await client.getApproval(id);
        if (a.status === "approved" || a.status === "used") waiting.delete(id);
        else if (a.status === "denied" || a.status === "expired") throw ended(a);
      }
      if (waiting.size === 0) break;
      if (timing.now() >= deadline) {
        const ids = [...waiting].join(", ");
        throw new AuthyError("APPROVAL_REQUIRED", `no decision on ${ids} within ${formatDuration(limit)}`, {
          details: { approvalId: [...waiting][0], status: "pending" },
          hint: "run the command again to keep waiting (the request stays pending), or use --wait with a longer time",
        });
      }
      await timing.sleep(Math.min(APPROVAL_POLL_INTERVAL_MS, Math.max(0, deadline - timing.now())));
    }
    if (!out.opts.quiet) process.stderr.write(`approved; continuing\n`);
  }
  return fn();
}
