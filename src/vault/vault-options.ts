import type { Store } from "../store/store.js";
import type { ApprovalSettings } from "./approval-settings.js";
import type { Clock } from "./clock.js";
import type { SlotInfo } from "./key-slots.js";

/** What opening a vault takes and tells, apart from the Vault itself. */

/** After this many failed unlocks in a row, each further attempt waits longer first. */
const UNLOCK_FREE_ATTEMPTS = 3;
/** The longest wait before an unlock attempt, however many failures came before. */
const UNLOCK_MAX_DELAY_MS = 30_000;

export function unlockDelayMs(failures: number): number {
  if (failures < UNLOCK_FREE_ATTEMPTS) return 0;
  return Math.min(UNLOCK_MAX_DELAY_MS, 1000 * 2 ** (failures - UNLOCK_FREE_ATTEMPTS));
}

export interface VaultDeps {
  store: Store;
  clock: Clock;
  /** Waits; injected so that tests of the unlock back-off do not sleep. */
  sleep?: (ms: number) => Promise<void>;
  /** Approval request lifetime and notifier (see approvals.ts). */
  approvals?: ApprovalSettings;
}

export interface InitOptions {
  passphrase?: string;
  workFactor?: number;
  recipients?: string[];
}

export interface VaultStatus {
  initialized: boolean;
  vaultId: string | null;
  createdAt: number | null;
  slots: SlotInfo[];
}
