import { AuthyError } from "../../errors.js";
import type { ImportKind } from "../../importers/index.js";
import type { Tier } from "../../vault/types.js";
import type { ApprovalFlags } from "../approval-wait.js";
import type { CliContext } from "../context.js";
import { readStdin } from "../input.js";
import { table } from "../output.js";
import { progressBar } from "../progress.js";
import { importEntries } from "./import-entries.js";

/** Decrypting is slower than storing (a gpg process per pass entry): a bar from this many. */
const DECRYPT_PROGRESS_THRESHOLD = 50;

interface ImportFlags extends ApprovalFlags {
  namespace: string;
  dryRun?: boolean;
  overwrite: boolean;
  tier?: Tier;
  keepNotes?: boolean;
  identities?: string;
  envKeysFile?: string;
}

/** `authy import pass|passage|dotenvx|json|yaml SOURCE --namespace NS`: read and decrypt everything, then one `env import`. */
export async function importStore(ctx: CliContext, kind: ImportKind, source: string | undefined, flags: ImportFlags): Promise<void> {
  const { defaultSource, readSource } = await import("../../importers/index.js");
  const from = source ?? defaultSource(kind);
  if (from === undefined) throw new AuthyError("INVALID_INPUT", `authy import ${kind} needs a SOURCE file`);
  const decryptBar = progressBar(ctx, `decrypting ${kind} entries`);
  const read =
    from === "-" && (kind === "json" || kind === "yaml")
      ? await (await import("../../importers/flat-map.js")).readFlatMap(kind, "stdin", flags.namespace, (await readStdin(`the ${kind} map`)).toString("utf8"))
      : await readSource(kind, from, flags.namespace, {
          keepNotes: flags.keepNotes,
          identities: flags.identities,
          envKeysFile: flags.envKeysFile,
          onProgress: (done, total) => total >= DECRYPT_PROGRESS_THRESHOLD && decryptBar.update(done, total),
        });
  decryptBar.done();
  const { entries } = read;
  // Read and decrypted once: only the import itself is asked again once the owner approves.
  const plan = await importEntries(
    ctx,
    entries,
    { namespace: flags.namespace, noOverwrite: !flags.overwrite, tier: flags.tier, dryRun: flags.dryRun, source: kind },
    flags,
  );
  const c = plan.counts;
  ctx.out.result(
    { source: kind, namespace: plan.namespace, dryRun: Boolean(flags.dryRun), counts: c, items: plan.items, notesDropped: read.notesDropped },
    () =>
      flags.dryRun
        ? table(
            ["ACTION", "PATH"],
            plan.items.map((i) => [i.action, i.path]),
          )
        : "",
  );
  ctx.out.info(
    `${flags.dryRun ? "would import" : "imported"} ${kind} into ${plan.namespace}: ${c.create} new, ${c.update} updated, ${c.unchanged} unchanged, ${c.skip} kept`,
  );
  if (read.notesDropped > 0)
    ctx.out.info(`${read.notesDropped} entries had lines after the first (notes) that were not kept; --keep-notes keeps them as descriptions`);
}
