import { openValue } from "../crypto/index.js";
import { isAuthyError } from "../errors.js";
import { openAgentRow } from "./agents.js";
import { openMemberRow } from "./members.js";
import { verifyApproval } from "./approval-rows.js";
import { walkAuditChain } from "./audit-verify.js";
import { requireOwner } from "./access.js";
import type { VaultContext } from "./context.js";
import { checkFreshness } from "./freshness-check.js";
import { verifySlot } from "./key-slots.js";
import { loadPolicy } from "./policies.js";
import { openSecretRow, valueAad } from "./secret-rows.js";
import { readListing } from "./secrets.js";
import { verifyTokenRow } from "./tokens.js";
import type { SecretMeta } from "./types.js";

/**
 * A full check of everything the vault key authenticates, table by table: what `authy doctor`
 * reports, and what `authy restore` requires of a backup before it replaces anything.
 */
const VERIFIED_TABLES = ["key_slots", "secrets", "secret_versions", "policy", "agents", "members", "tokens", "approvals", "audit", "freshness"] as const;
type VerifiedTable = (typeof VERIFIED_TABLES)[number];

interface TableReport {
  /** Rows checked (audit: entries that verified). */
  rows: number;
  problems: string[];
}

export interface VerifyReport {
  secrets: number;
  versions: number;
  auditEntries: number;
  tables: Record<VerifiedTable, TableReport>;
  /** Every table's problems, in VERIFIED_TABLES order. */
  problems: string[];
}

const message = (e: unknown) => (isAuthyError(e) ? e.message : String(e));

/** Runs one check, noting its failure in `report` rather than stopping the whole walk. */
function check(report: TableReport, fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    report.problems.push(message(e));
    return false;
  }
}

async function checkAsync(report: TableReport, fn: () => Promise<void>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (e) {
    report.problems.push(message(e));
    return false;
  }
}

/**
 * Versions: every secret has exactly versions 1..current (versions are only ever added one at
 * a time, and a purge removes all of them), each opens under its own path and number, and no
 * version row is left that no secret owns (an old version deleted, or moved to another path).
 */
async function verifyVersions(ctx: VaultContext, metas: SecretMeta[], owned: ReadonlySet<string>, report: TableReport): Promise<void> {
  for (const meta of metas) {
    const rows = await ctx.store.listVersions(meta.path);
    const present = new Set<number>();
    for (const v of rows) {
      report.rows++;
      present.add(v.version);
      if (v.version < 1 || v.version > meta.version) {
        report.problems.push(`integrity check failed: secret ${meta.path} has a version ${v.version} beyond its current version ${meta.version}`);
        continue;
      }
      check(report, () => openValue(ctx.keys.dekWrap, v.sealed, v.wrappedDek, valueAad(ctx.keys, v)).fill(0));
    }
    const missing: number[] = [];
    for (let n = 1; n <= meta.version; n++) if (!present.has(n)) missing.push(n);
    if (missing.length > 0)
      report.problems.push(
        `integrity check failed: secret ${meta.path} is missing version${missing.length > 1 ? "s" : ""} ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? ", …" : ""}`,
      );
  }
  for (const { path, versions } of await ctx.store.listVersionPaths()) {
    if (owned.has(path)) continue;
    report.rows += versions;
    report.problems.push(`integrity check failed: ${versions} version row${versions > 1 ? "s" : ""} of ${path} belong${versions > 1 ? "" : "s"} to no secret`);
  }
}

export async function verifyVault(checked: VaultContext): Promise<VerifyReport> {
  requireOwner(checked, "verify the vault");
  // Every row on its own, through the store without freshness checks: staleness is
  // checkFreshness's to report, so that one stale row does not hide the rest.
  const ctx: VaultContext = { ...checked, store: checked.unchecked ?? checked.store };
  const tables = Object.fromEntries(VERIFIED_TABLES.map((t) => [t, { rows: 0, problems: [] }])) as unknown as Record<VerifiedTable, TableReport>;

  for (const slot of await ctx.store.listSlots()) {
    tables.key_slots.rows++;
    check(tables.key_slots, () => verifySlot(ctx.keys, slot));
  }

  await checkAsync(tables.secrets, async () => {
    await readListing(ctx);
  });
  const metas: SecretMeta[] = [];
  // A row whose own MAC fails is reported as such; it still owns its version rows.
  const owned = new Set<string>();
  for (const row of await ctx.store.listSecrets()) {
    tables.secrets.rows++;
    owned.add(row.path);
    check(tables.secrets, () => void metas.push(openSecretRow(ctx.keys, row)));
  }
  await verifyVersions(ctx, metas, owned, tables.secret_versions);

  await checkAsync(tables.policy, async () => {
    if (await ctx.store.getPolicy()) tables.policy.rows++;
    await loadPolicy(ctx);
  });

  for (const row of await ctx.store.listAgents()) {
    tables.agents.rows++;
    check(tables.agents, () => void openAgentRow(ctx, row));
  }
  for (const row of await ctx.store.listMembers()) {
    tables.members.rows++;
    check(tables.members, () => void openMemberRow(ctx, row));
  }
  for (const row of await ctx.store.listTokens()) {
    tables.tokens.rows++;
    check(tables.tokens, () => verifyTokenRow(ctx, row));
  }
  for (const row of await ctx.store.listApprovals()) {
    tables.approvals.rows++;
    check(tables.approvals, () => void verifyApproval(ctx, row));
  }

  tables.freshness.problems.push(...(await checkFreshness(checked)));
  const audit = await verifyAuditChain(ctx);
  tables.audit.rows = audit.entries;
  if (audit.firstBad) tables.audit.problems.push(`audit entry ${audit.firstBad.seq}: ${audit.firstBad.reason}`);

  return {
    secrets: tables.secrets.rows,
    versions: tables.secret_versions.rows,
    auditEntries: audit.entries,
    tables,
    problems: VERIFIED_TABLES.flatMap((t) => tables[t].problems),
  };
}

interface ChainReport {
  entries: number;
  head: { seq: number; hash: Uint8Array } | null;
  firstBad: { seq: number; reason: string } | null;
}

/** Recomputes the chain and each MAC; names the first entry that does not verify. */
export async function verifyAuditChain(ctx: VaultContext): Promise<ChainReport> {
  const walk = await walkAuditChain(ctx);
  return { entries: walk.entries, head: walk.head && { seq: walk.head.seq, hash: Buffer.from(walk.head.hash, "hex") }, firstBad: walk.firstBad };
}
