import { reasonOf, withApproval, type ApprovalFlags } from "../approval-wait.js";
import type { CliContext } from "../context.js";
import { metaJson } from "./render.js";
import { parseLength } from "./secrets.js";

/** `authy secrets rotate PATH`: a new random value from the secret's generator, shown only with --show. */
export async function rotate(ctx: CliContext, path: string, flags: ApprovalFlags & { show?: boolean; length?: string; charset?: string }): Promise<void> {
  const generator = {
    ...(flags.length === undefined ? {} : { length: parseLength(flags.length) }),
    ...(flags.charset === undefined ? {} : { charset: flags.charset }),
  };
  const vault = await ctx.client();
  const { meta, value } = await withApproval(ctx.out, vault, flags, () =>
    vault.rotateSecret(path, { generator, ...(flags.show ? { reveal: true } : {}), ...reasonOf(flags) }),
  );
  if (value !== undefined) {
    ctx.out.result({ ...metaJson(meta), value }, () => value);
    return;
  }
  ctx.out.result(metaJson(meta), () => "");
  ctx.out.info(`rotated ${meta.path} (version ${meta.version}); the new value was not shown (--show prints it once)`);
}
