import { AuthyError } from "../../errors.js";
import { writeFileAtomic } from "../../files/atomic-write.js";
import { DOTENV_LIMIT, readFileBounded } from "../../files/bounded-read.js";
import { dotenvText, parseDotenv } from "../../formats/dotenv.js";
import type { ExportFormat } from "../../formats/export-formats.js";
import type { Tier } from "../../vault/types.js";
import { withApproval, type ApprovalFlags } from "../approval-wait.js";
import type { CliContext } from "../context.js";
import { refuseExisting } from "../output-file.js";
import { readStdin } from "../input.js";
import { table } from "../output.js";
import { importEntries } from "./import-entries.js";

export async function importEnv(
  ctx: CliContext,
  file: string,
  flags: { namespace: string; dryRun?: boolean; overwrite: boolean; tier?: Tier } & ApprovalFlags,
): Promise<void> {
  const source = file === "-" ? "stdin" : file;
  const text = dotenvText(file === "-" ? await readStdin("the .env file", DOTENV_LIMIT) : await readFileBounded(file, DOTENV_LIMIT), source);
  const entries = parseDotenv(text, { source });
  const plan = await importEntries(ctx, entries, { namespace: flags.namespace, noOverwrite: !flags.overwrite, tier: flags.tier, dryRun: flags.dryRun }, flags);
  const c = plan.counts;
  ctx.out.result({ namespace: plan.namespace, dryRun: Boolean(flags.dryRun), counts: c, items: plan.items }, () =>
    flags.dryRun
      ? table(
          ["ACTION", "PATH"],
          plan.items.map((i) => [i.action, i.path]),
        )
      : "",
  );
  ctx.out.info(
    `${flags.dryRun ? "would import" : "imported"} into ${plan.namespace}: ${c.create} new, ${c.update} updated, ${c.unchanged} unchanged, ${c.skip} kept`,
  );
}

export async function exportEnv(
  ctx: CliContext,
  namespace: string,
  flags: { out?: string; keys?: string; format: ExportFormat; force?: boolean } & ApprovalFlags,
): Promise<void> {
  const keys = flags.keys
    ?.split(",")
    .map((k) => k.trim())
    .filter(Boolean);
  if (flags.keys !== undefined && (!keys || keys.length === 0)) throw new AuthyError("INVALID_INPUT", "--keys is empty");
  if (flags.out) refuseExisting(flags.out, flags.force);
  const vault = await ctx.client();
  const entries = await withApproval(ctx.out, vault, flags, () => vault.exportEnv(namespace, { keys, reason: flags.reason }));
  // Serialize before writing anything, so that a value the format cannot hold writes nothing.
  const { serializeEnv } = await import("../../formats/export-formats.js");
  const text = serializeEnv(entries, flags.format);
  if (flags.out) {
    await writeFileAtomic(flags.out, text);
    ctx.out.result({ namespace, format: flags.format, out: flags.out, keys: entries.map((e) => e.key) }, () => "");
    ctx.out.info(`wrote ${entries.length} secrets to ${flags.out}`);
  } else if (ctx.out.opts.json) {
    // --json: the values as a JSON document whatever --format says (the format was checked above).
    ctx.out.result({ namespace, entries }, () => "");
  } else {
    process.stdout.write(text);
  }
}
