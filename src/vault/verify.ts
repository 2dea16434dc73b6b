import { constantTimeEqual } from "../crypto/index.js";
import { isAuthyError } from "../errors.js";
import { auditHash, GENESIS_HASH } from "./audit-chain.js";
import type { VaultContext } from "./context.js";
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

/** Audit entries are checked in pages so that a million-entry log never sits in memory at once. */
const AUDIT_PAGE = 5000;

export async function verifyVault(ctx: VaultContext): Promise<VerifyReport> {
  const problems: string[] = [];
  const note = (e: unknown) => problems.push(isAuthyError(e) ? e.message : String(e));
  try {
    await readListing(ctx);
  } catch (e) {
    note(e);
  }
  for (const slot of await ctx.store.listSlots()) {
    try {
      verifySlot(ctx.keys, slot);
    } catch (e) {
      note(e);
    }
  }
  let versions = 0;
  const rows = await ctx.store.listSecrets();
  for (const row of rows) {
    try {
      const meta = openSecretRow(ctx.keys, row);
      for (const v of await ctx.store.listVersions(meta.path)) {
        versions++;
        try {
          (await decryptVersion(ctx, meta, v.version)).fill(0);
        } catch (e) {
          note(e);
        }
      }
    } catch (e) {
      note(e);
    }
  }
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
  let prev: Uint8Array = GENESIS_HASH;
  let expectSeq = 1;
  let entries = 0;
  let head: ChainReport["head"] = null;
  for (;;) {
    const page = await ctx.store.listAudit({ afterSeq: expectSeq - 1, limit: AUDIT_PAGE });
    if (page.length === 0) break;
    for (const e of page) {
      if (e.seq !== expectSeq) return { entries, head, firstBad: { seq: expectSeq, reason: `missing (next is ${e.seq})` } };
      if (!constantTimeEqual(e.prevHash, prev)) return { entries, head, firstBad: { seq: e.seq, reason: "does not follow the entry before it" } };
      const hash = auditHash(ctx.keys.vaultId, e);
      if (!constantTimeEqual(hash, e.hash)) return { entries, head, firstBad: { seq: e.seq, reason: "was modified" } };
      if (!constantTimeEqual(ctx.keys.macAudit(hash), e.mac)) return { entries, head, firstBad: { seq: e.seq, reason: "was not written by this vault" } };
      prev = e.hash;
      head = { seq: e.seq, hash: e.hash };
      expectSeq++;
      entries++;
    }
  }
  return { entries, head, firstBad: null };
}
