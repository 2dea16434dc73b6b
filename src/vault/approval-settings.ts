import type { ApprovalInfo } from "./approval-info.js";
import type { VaultSettings } from "./vault-settings.js";

/** Told about each new request once it is committed. Must not throw or block: fire and forget. */
export interface ApprovalNotifier {
  /** `notify`: the owner's settings as stored in the vault when the request was made. */
  requested(approval: ApprovalInfo, notify: VaultSettings["notify"]): void;
  /** A rotation was asked for of a secret that has no generator: the owner must issue a new value (rotation-request.ts). */
  rotationRequested?(request: RotationRequest, notify: VaultSettings["notify"]): void;
}

/** What the owner is told of a requested rotation: never a value. */
export interface RotationRequest {
  path: string;
  /** Who asked (an actor name). */
  by: string;
  /** Epoch ms. */
  at: number;
}

export interface ApprovalSettings {
  pendingTtlMs?: number;
  notifier?: ApprovalNotifier;
}
