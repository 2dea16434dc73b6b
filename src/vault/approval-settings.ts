import type { ApprovalInfo } from "./approval-info.js";
import type { VaultSettings } from "./vault-settings.js";

/** Told about each new request once it is committed. Must not throw or block: fire and forget. */
export interface ApprovalNotifier {
  /** `notify`: the owner's settings as stored in the vault when the request was made. */
  requested(approval: ApprovalInfo, notify: VaultSettings["notify"]): void;
}

export interface ApprovalSettings {
  pendingTtlMs?: number;
  notifier?: ApprovalNotifier;
}
