import { isAuthyError } from "../errors.js";
import type { StateBucket } from "../store/store.js";
import type { VaultContext } from "./context.js";
import { bucketName, parseBucketName, readBucketText, secretRowBucket, shardBucket, verifyBucket, verifyState } from "./state-digest.js";
import { ERASED_ACTION, tallyFailures } from "./unlock-failures.js";

/**
 * What `authy doctor` reports about freshness (state-digest.ts, unlock-failures.ts): every
 * bucket whose rows are not the ones the vault last wrote (an earlier copy put back, a row
 * added or removed by hand), a state MAC that does not verify, unlock failures erased or put
 * back since the last unlock, and every erasure an unlock found before (from the audit log:
 * tamper evidence stays reported, as a broken audit chain does). One line per problem.
 */
export async function checkFreshness(ctx: VaultContext): Promise<string[]> {
  const store = ctx.unchecked ?? ctx.store;
  const problems: string[] = [];
  const note = (e: unknown) => problems.push(isAuthyError(e) ? e.message : String(e));
  const vault = await store.getVault();
  const stored = await store.listStateDigests();
  try {
    verifyState(ctx.keys, vault, stored);
  } catch (e) {
    note(e);
  }
  const buckets = new Map<string, StateBucket>();
  const add = (b: StateBucket) => buckets.set(bucketName(b), b);
  for (const d of stored) {
    const b = parseBucketName(d.bucket);
    if (b) add(b);
    else problems.push(`the vault state names a bucket authy never writes: ${JSON.stringify(d.bucket)}`);
  }
  for (const s of await store.listSecrets()) add(secretRowBucket(s));
  for (const t of await store.listTokens()) add(shardBucket("tokens", t.id));
  for (const a of await store.listApprovals()) add(shardBucket("approvals", a.id));
  for (const table of ["agents", "members", "policy", "slots", "settings"] as const) add({ table });
  const digests = new Map(stored.map((d) => [d.bucket, d.digest]));
  for (const b of buckets.values()) {
    try {
      verifyBucket(ctx.keys, b, await readBucketText(store, b), digests);
    } catch (e) {
      note(e);
    }
  }
  if (vault) {
    const t = tallyFailures(vault.unlockMark, await store.unlockFailureCounter(), await store.listUnlockFailures());
    if (t.rewound) problems.push(`the unlock-failure counter was rewound by hand (${t.counter}, below the mark ${vault.unlockMark})`);
    if (t.erased > 0) problems.push(`${t.erased} failed unlock(s) were erased by hand since the last unlock`);
    if (t.replayed.length > 0) problems.push(`${t.replayed.length} failed unlock(s) already audited were put back by hand`);
  }
  for (const e of await store.listAudit({ action: ERASED_ACTION })) {
    const d = JSON.parse(e.details) as { erased?: number; counterRewound?: boolean };
    const what = d.counterRewound ? "the unlock-failure counter had been rewound" : `${d.erased ?? "some"} failed unlock(s) had been erased`;
    problems.push(`audit entry ${e.seq} (${new Date(e.ts).toISOString()}): ${what} by hand before that unlock`);
  }
  return problems;
}
