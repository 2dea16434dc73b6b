import { isAuthyError } from "../errors.js";
import { walkAuditChain } from "./audit-verify.js";
import type { VaultContext } from "./context.js";
import { checkFreshness } from "./freshness-check.js";
import { verifySlot } from "./key-slots.js";
import { openSecretRow } from "./secret-rows.js";
import { decryptVersion, readListing } from "./secrets.js";

/** A full check of everything the vault key authenticates: what `authy doctor` reports. */
export interface VerifyReport {
  secrets: number;
  versions: number;
  auditEntries: number;
  problems: string[];
}

export async function verifyVault(ctx: VaultContext): Promise<VerifyReport> {
  const problems: string[] = [];
  const note = (e: unknown) => problems.push(isAuthyError(e) ? e.message : String(e));
  try {
    await readListing(ctx);
  } catch (e) {
    note(e);
  }
  // Every row on its own: staleness is checkFreshness's to report (doctor runs both).
  const store = ctx.unchecked ?? ctx.store;
  for (const slot of await store.listSlots()) {
    try {
      verifySlot(ctx.keys, slot);
    } catch (e) {
      note(e);
    }
  }
  let versions = 0;
  const rows = await store.listSecrets();
  for (const row of rows) {
    try {
      const meta = openSecretRow(ctx.keys, row);
      for (const v of await store.listVersions(meta.path)) {
        versions++;
        try {
          (await decryptVersion({ ...ctx, store }, meta, v.version)).fill(0);
        } catch (e) {
          note(e);
        }
      }
    } catch (e) {
      note(e);
    }
  }
  problems.push(...(await checkFreshness(ctx)));
  const audit = await verifyAuditChain(ctx);
  if (audit.firstBad) problems.push(`audit entry ${audit.firstBad.seq}: ${audit.firstBad.reason}`);
  return { secrets: rows.length, versions, auditEntries: audit.entries, problems };
}

export interface ChainReport {
  entries: number;
  head: { seq: number; hash: Uint8Array } | null;
  firstBad: { seq: number; reason: string } | null;
}

/** Recomputes the chain and each MAC; names the first entry that does not verify. */
export async function verifyAuditChain(ctx: VaultContext): Promise<ChainReport> {
  const walk = await walkAuditChain(ctx);
  return { entries: walk.entries, head: walk.head && { seq: walk.head.seq, hash: Buffer.from(walk.head.hash, "hex") }, firstBad: walk.firstBad };
}
