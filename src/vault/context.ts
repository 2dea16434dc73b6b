import type { Store } from "../store/store.js";
import type { ApprovalSettings } from "./approval-settings.js";
import type { Clock } from "./clock.js";
import type { Keyring } from "./keyring.js";
import type { Actor } from "./types.js";

/** What every core operation works with: an unlocked vault, who is acting, and the time. */
export interface VaultContext {
  store: Store;
  clock: Clock;
  keys: Keyring;
  actor: Actor;
  /**
   * The same store without the freshness checks (fresh-store.ts), for `doctor`, which reports
   * every problem instead of refusing at the first. Absent where the two are the same.
   */
  unchecked?: Store;
  /** How long requests wait, and who hears of new ones (the daemon's notifier). */
  approvals?: ApprovalSettings;
}
