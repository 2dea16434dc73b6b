import type { ApprovalFlags } from "../approval-wait.js";
import { reasonOf, withApproval } from "../approval-wait.js";
import type { CliContext } from "../context.js";
import { metaJson } from "./render.js";

type TransferFlags = ApprovalFlags & { force?: boolean };

/** `authy secrets mv SRC DST`: the secret and its whole history under a new path. */
export async function move(ctx: CliContext, from: string, to: string, flags: TransferFlags): Promise<void> {
  const vault = await ctx.client();
  const meta = await withApproval(ctx.out, vault, flags, () => vault.moveSecret(from, to, options(flags)));
  ctx.out.result({ ...metaJson(meta), from }, () => "");
  ctx.out.info(`moved ${from} to ${meta.path} (${meta.version} version${meta.version === 1 ? "" : "s"} kept)`);
}

/** `authy secrets cp SRC DST`: a new secret holding SRC's current value and metadata. */
export async function copy(ctx: CliContext, from: string, to: string, flags: TransferFlags): Promise<void> {
  const vault = await ctx.client();
  const meta = await withApproval(ctx.out, vault, flags, () => vault.copySecret(from, to, options(flags)));
  ctx.out.result({ ...metaJson(meta), from }, () => "");
  ctx.out.info(`copied ${from} to ${meta.path} (version ${meta.version})`);
}

function options(flags: TransferFlags) {
  return { ...(flags.force ? { force: true } : {}), ...reasonOf(flags) };
}
