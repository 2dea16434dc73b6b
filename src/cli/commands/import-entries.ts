import type { EnvEntry, ImportOptions, ImportPlan } from "../../vault/env-transfer.js";
import { withApproval, type ApprovalFlags } from "../approval-wait.js";
import type { CliContext } from "../context.js";
import { progressBar } from "../progress.js";

/** Imports smaller than this finish too fast for a progress bar to help. */
const PROGRESS_THRESHOLD = 1000;

/**
 * The vault's import of entries already read (`env import`, `authy import`), with a progress
 * bar for a large one. One request per critical secret it writes, all waited for; approved,
 * only the import is asked again (the source is not read twice), and spends them together in
 * its one transaction.
 */
export async function importEntries(
  ctx: CliContext,
  entries: readonly EnvEntry[],
  opts: Omit<ImportOptions, "reason"> & { dryRun?: boolean },
  flags: ApprovalFlags,
): Promise<ImportPlan> {
  const vault = await ctx.client();
  const bar = !opts.dryRun && entries.length >= PROGRESS_THRESHOLD ? progressBar(ctx, `importing ${entries.length} entries`) : null;
  const plan = await withApproval(ctx.out, vault, flags, () =>
    vault.importEnv(entries, { ...opts, reason: flags.reason, onProgress: bar ? (done, total) => bar.update(done, total) : undefined }),
  );
  bar?.done();
  return plan;
}
