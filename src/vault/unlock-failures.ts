import type { UnlockFailureRow, VaultRow } from "../store/store.js";
import { appendAudit, type AuditEvent } from "./audit-chain.js";
import type { FreshStore } from "./fresh-store.js";
import type { Keyring } from "./keyring.js";

/**
 * Failed unlocks cannot be authenticated: no key is known when they happen. They are rows with
 * ids from a counter that only grows (AUTOINCREMENT), and the vault row keeps, under the state
 * MAC, the counter's value at the last successful unlock: the unlock mark. The next successful
 * unlock reconciles the two: every failure row above the mark is audited, and any id between
 * the mark and the counter whose row is gone was erased by hand, which is audited too
 * (`vault.unlock.failed.erased`) and reported by `authy doctor`. A counter below the mark was
 * rewound by hand, which is the same. What this cannot see: an agent that restores both the
 * rows and the counter to their state before its guesses has rolled that part of the file back
 * whole, and it could have guessed offline against the key slot instead anyway.
 */
export const ERASED_ACTION = "vault.unlock.failed.erased";

interface FailureTally {
  /** Rows above the mark: failures to audit. */
  fresh: UnlockFailureRow[];
  /** Rows at or below the mark: already audited, put back by hand. */
  replayed: UnlockFailureRow[];
  /** Ids between the mark and the counter with no row. */
  erased: number;
  /** The counter is below the mark. */
  rewound: boolean;
  counter: number;
}

/** Pure: what the failure rows and the counter say against the mark. */
export function tallyFailures(mark: number, counter: number, rows: readonly UnlockFailureRow[]): FailureTally {
  const fresh = rows.filter((r) => r.id > mark);
  const replayed = rows.filter((r) => r.id <= mark);
  const inRange = fresh.filter((r) => r.id <= counter).length;
  return { fresh, replayed, erased: Math.max(0, counter - mark - inRange), rewound: counter < mark, counter };
}

/** How many failures count toward the back-off, before the key is known (so the mark is not yet verified). */
export function failuresForDelay(vault: VaultRow, counter: number, rows: readonly UnlockFailureRow[]): number {
  return Math.max(rows.filter((r) => r.id > vault.unlockMark).length, counter - vault.unlockMark);
}

/** After a successful unlock: audits the failures since the last one, and any erasure; moves the mark. */
export async function reconcileFailures(store: FreshStore, keys: Keyring, now: number): Promise<void> {
  // The common case (nothing failed) costs two reads, no write; the state MAC (which covers
  // the mark) was verified by the caller.
  const vault = (await store.getVault())!;
  const quick = tallyFailures(vault.unlockMark, await store.unlockFailureCounter(), await store.listUnlockFailures());
  if (quick.fresh.length === 0 && quick.replayed.length === 0 && quick.counter === vault.unlockMark) return;
  await store.writeState("verify", async (tx) => {
    const mark = (await tx.startState()).unlockMark;
    const t = tallyFailures(mark, await tx.unlockFailureCounter(), await tx.listUnlockFailures());
    const events: AuditEvent[] = t.fresh.map((f) => ({
      ts: f.ts,
      actor: "unknown",
      action: "vault.unlock.failed",
      resource: "vault",
      outcome: "denied",
      details: { method: f.method },
    }));
    if (t.erased > 0 || t.rewound) {
      events.push({
        ts: now,
        actor: "unknown",
        action: ERASED_ACTION,
        resource: "vault",
        outcome: "error",
        details: t.rewound ? { counterRewound: true, mark, counter: t.counter } : { erased: t.erased, mark, counter: t.counter },
      });
    }
    await appendAudit(tx, keys, events);
    await tx.clearUnlockFailures([...t.fresh, ...t.replayed].map((f) => f.id));
    tx.setUnlockMark(Math.max(t.counter, ...t.fresh.map((f) => f.id)));
  });
}
