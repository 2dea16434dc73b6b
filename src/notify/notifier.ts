import type { ApprovalInfo } from "../vault/approval-rows.js";
import type { ApprovalNotifier, ApprovalSettings } from "../vault/approvals.js";
import { loadConfig, type AuthyConfig } from "./config.js";
import { desktopNotify, findOnPath, NOTIFY_SEND } from "./desktop.js";
import { postWebhook, webhookPayload, type WebhookOptions } from "./webhook.js";

/**
 * The notifier the daemon (or server) hands to the core: for each new approval request, a
 * webhook POST and a desktop notification, as configured. The core calls it after the request
 * is committed and never waits for it; deliveries run in the background, and their failures
 * go to `onError` (the daemon's log), never back to the agent that asked.
 *
 * Wiring (src/daemon/server.ts): `Vault.fromKey({ store, clock, approvals: await approvalSettings(home, log) }, key)`,
 * and `await notifier.flush()` before exit so that a notification in flight is not cut off.
 */
export interface Notifier extends ApprovalNotifier {
  /** Resolves once every delivery started so far has finished (or given up). */
  flush(): Promise<void>;
}

export interface NotifierOptions {
  onError?: (message: string) => void;
  webhook?: WebhookOptions;
  /** Where to look for notify-send; PATH by default. */
  pathVar?: string;
}

export function createNotifier(config: AuthyConfig, opts: NotifierOptions = {}): Notifier {
  const inflight = new Set<Promise<void>>();
  const desktop = config.notify.desktop ? findOnPath(NOTIFY_SEND, opts.pathVar) : null;
  const report = (m: string) => {
    try {
      opts.onError?.(m);
    } catch {
      // a logger that fails has nowhere further to report to
    }
  };
  const track = (p: Promise<void>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };
  return {
    requested(a: ApprovalInfo): void {
      const webhook = config.notify.webhook;
      if (webhook !== null) {
        track(
          postWebhook(webhook, webhookPayload(a), opts.webhook).then((r) => {
            if (!r.ok) report(`webhook for ${a.id} failed after ${r.attempts} attempt(s): ${r.error}`);
          }),
        );
      }
      if (desktop !== null) {
        track(
          desktopNotify(desktop, a).then((err) => {
            if (err !== null) report(`desktop notification for ${a.id} failed: ${err}`);
          }),
        );
      }
    },
    async flush(): Promise<void> {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
}

/** What the daemon passes as `VaultDeps.approvals`: the configured expiry and notifier. */
export async function approvalSettings(home: string, onError?: (message: string) => void): Promise<ApprovalSettings & { notifier: Notifier }> {
  const config = await loadConfig(home);
  const notifier = createNotifier(config, { onError });
  return { notifier, ...(config.approvals.expiryMs === null ? {} : { pendingTtlMs: config.approvals.expiryMs }) };
}
