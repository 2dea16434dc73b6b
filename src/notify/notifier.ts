import type { ApprovalInfo } from "../vault/approval-rows.js";
import type { ApprovalNotifier, ApprovalSettings } from "../vault/approvals.js";
import type { VaultSettings } from "../vault/settings.js";
import type { RotationRequest } from "../vault/approval-settings.js";
import { desktopNotify, findOnPath, NOTIFY_SEND, rotationMessage } from "./desktop.js";
import { postWebhook, rotationPayload, webhookPayload, type WebhookOptions } from "./webhook.js";

/**
 * The notifier the daemon (or server) hands to the core: for each new approval request, a
 * webhook POST and a desktop notification, as the owner's settings in the vault say. The core calls it after the request
 * is committed and never waits for it; deliveries run in the background, and their failures
 * go to `onError` (the daemon's log), never back to the agent that asked.
 *
 * Wiring (src/daemon/server.ts): `Vault.fromKey({ store, clock, approvals: approvalSettings(log) }, key)`,
 * and `await notifier.flush()` before exit so that a notification in flight is not cut off.
 */
interface Notifier extends ApprovalNotifier {
  /** Resolves once every delivery started so far has finished (or given up). */
  flush(): Promise<void>;
}

interface NotifierOptions {
  onError?: (message: string) => void;
  webhook?: WebhookOptions;
  /** Where to look for notify-send; PATH by default. */
  pathVar?: string;
}

export function createNotifier(opts: NotifierOptions = {}): Notifier {
  const inflight = new Set<Promise<void>>();
  let notifySend: string | null | undefined;
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
    requested(a: ApprovalInfo, notify: VaultSettings["notify"]): void {
      const webhook = notify.webhook;
      const desktop = notify.desktop ? (notifySend ??= findOnPath(NOTIFY_SEND, opts.pathVar)) : null;
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
    rotationRequested(r: RotationRequest, notify: VaultSettings["notify"]): void {
      const desktop = notify.desktop ? (notifySend ??= findOnPath(NOTIFY_SEND, opts.pathVar)) : null;
      if (notify.webhook !== null) {
        track(
          postWebhook(notify.webhook, rotationPayload(r), opts.webhook).then((res) => {
            if (!res.ok) report(`webhook for the rotation of ${r.path} failed after ${res.attempts} attempt(s): ${res.error}`);
          }),
        );
      }
      if (desktop !== null) {
        track(
          desktopNotify(desktop, rotationMessage(r)).then((err) => {
            if (err !== null) report(`desktop notification for the rotation of ${r.path} failed: ${err}`);
          }),
        );
      }
    },
    async flush(): Promise<void> {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
}

/**
 * What the daemon passes as `VaultDeps.approvals`: the notifier. What it notifies, and how long
 * a request waits, are the owner's settings in the vault (src/vault/settings.ts), read with
 * each request; config.yaml is no longer read (see legacyConfigNotice).
 */
export function approvalSettings(onError?: (message: string) => void): ApprovalSettings & { notifier: Notifier } {
  return { notifier: createNotifier({ onError }) };
}
