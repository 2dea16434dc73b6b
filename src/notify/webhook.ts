import { approvalVerb } from "../vault/approval-info.js";
import type { ApprovalInfo } from "../vault/approval-rows.js";
import type { RotationRequest } from "../vault/approval-settings.js";

/**
 * Webhook notifications: one JSON POST per new approval request, retried a bounded number of
 * times. The body names the request (who, what, which path, why, until when) and how to
 * decide it; it never holds a value, because an approval request has none to give.
 *
 * Body (`Content-Type: application/json`):
 *   { "event": "approval.request", "id": "apr_…", "agent": "deploy-bot" | null,
 *     "principal": "agent:deploy-bot", "action": "secret.read", "path": "prod/DB",
 *     (action: secret.read, secret.write, secret.delete or secret.purge)
 *     "tier": "sensitive", "reason": "…", "createdAt": ISO, "expiresAt": ISO,
 *     "approve": "authy approvals approve apr_…", "deny": "authy approvals deny apr_… --reason …",
 *     "text": one line for chat webhooks (Slack's `text`) }
 */

/** Tries per notification: the first and three retries. */
export const WEBHOOK_ATTEMPTS = 4;
/** Pause before the first retry, doubled before each next one (1 s, 2 s, 4 s): under 10 s in all. */
const WEBHOOK_FIRST_BACKOFF_MS = 1_000;
/** One attempt may take this long; a receiver that hangs must not hold notifications forever. */
const WEBHOOK_TIMEOUT_MS = 5_000;

export interface WebhookOptions {
  attempts?: number;
  firstBackoffMs?: number;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  userAgent?: string;
}

type WebhookResult = { ok: true; attempts: number; status: number } | { ok: false; attempts: number; error: string };

export function webhookPayload(a: ApprovalInfo): Record<string, unknown> {
  const who = a.agent ?? a.principal;
  return {
    event: "approval.request",
    id: a.id,
    agent: a.agent,
    principal: a.principal,
    action: a.action,
    path: a.path,
    tier: a.tier,
    reason: a.reason,
    createdAt: new Date(a.createdAt).toISOString(),
    expiresAt: new Date(a.expiresAt).toISOString(),
    approve: `authy approvals approve ${a.id}`,
    deny: `authy approvals deny ${a.id} --reason …`,
    text: `authy: ${who} wants to ${approvalVerb(a.action)} ${a.path} (${a.tier})${a.reason ? `: ${a.reason}` : ""} — authy approvals approve ${a.id}`,
  };
}

/**
 * A rotation asked for of a secret authy cannot make a new value for (set by hand):
 *   { "event": "secret.rotation_pending", "path": "prod/STRIPE_KEY", "by": "agent:ci",
 *     "at": ISO, "set": "authy secrets set prod/STRIPE_KEY", "text": one line }
 */
export function rotationPayload(r: RotationRequest): Record<string, unknown> {
  return {
    event: "secret.rotation_pending",
    path: r.path,
    by: r.by,
    at: new Date(r.at).toISOString(),
    set: `authy secrets set ${r.path}`,
    text: `authy: ${r.by} asked to rotate ${r.path}, which authy cannot generate — issue a new value and \`authy secrets set ${r.path}\``,
  };
}

/** Whether a failed attempt is worth repeating: the network, a timeout, 429 or a 5xx. */
function retryable(status: number | null): boolean {
  return status === null || status === 429 || status >= 500;
}

/**
 * POSTs `payload` to `url`. Never throws: the result says what happened (the caller logs it).
 * Redirects are not followed (a POST sent on to somewhere else is not what was configured).
 */
export async function postWebhook(url: string, payload: unknown, opts: WebhookOptions = {}): Promise<WebhookResult> {
  const attempts = opts.attempts ?? WEBHOOK_ATTEMPTS;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const body = JSON.stringify(payload);
  let backoff = opts.firstBackoffMs ?? WEBHOOK_FIRST_BACKOFF_MS;
  let error = "not attempted";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let status: number | null = null;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": opts.userAgent ?? "authy" },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS),
      });
      status = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (status >= 200 && status < 300) return { ok: true, attempts: attempt, status };
      error = `HTTP ${status}`;
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      error = err.name === "TimeoutError" ? `no answer within ${opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS} ms` : (err.cause?.code ?? err.message);
    }
    if (!retryable(status) || attempt === attempts) return { ok: false, attempts: attempt, error };
    await sleep(backoff);
    backoff *= 2;
  }
  return { ok: false, attempts, error };
}
