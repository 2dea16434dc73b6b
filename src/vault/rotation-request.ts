import { authorize } from "./access.js";
import { audit } from "./audit-log.js";
import type { VaultContext } from "./context.js";
import { validatePath } from "./path.js";
import { encodeAttributes, type RotationPending } from "./secret-attributes.js";
import { sealSecretRow } from "./secret-rows.js";
import { checkListingBefore, liveSecretIn, refreshListing } from "./secrets.js";
import { readSettings } from "./settings.js";
import { actorName, type SecretMeta } from "./types.js";

/**
 * A rotation asked for of a secret that has no generator (the Agent Secret Store's bodyless
 * `POST …/rotate`): authy cannot make a new value of a kind issued elsewhere (an API key, a
 * certificate), so the secret is flagged rotation-pending (shown by `secrets list` until the
 * next version is written) and the owner is told through the notifications in the vault's
 * settings. Gated by the `rotate` capability; audited as `secret.rotate`, outcome `pending`.
 */
export async function requestRotation(ctx: VaultContext, path: string): Promise<SecretMeta & { rotationPending: RotationPending }> {
  const p = validatePath(path);
  await authorize(ctx, p.path, "rotate", "secret.rotate");
  const done = await ctx.store.write(async (tx) => {
    await checkListingBefore(tx, ctx);
    const { row, meta } = await liveSecretIn(tx, ctx, p.path);
    // Asked again while pending: the first request stands (its time is when the owner was first told).
    const pending = meta.rotationPending ?? { at: ctx.clock.now(), by: actorName(ctx.actor) };
    const { mac: _mac, ...rest } = row;
    await tx.putSecret(sealSecretRow(ctx.keys, { ...rest, tags: encodeAttributes(meta.tags, meta.generator ?? null, pending) }));
    await refreshListing(tx, ctx);
    await audit(tx, ctx, "secret.rotate", p.path, { version: meta.version, pending: true, reason: "no generator" }, "pending");
    const notify = (await readSettings(tx, ctx.keys)).notify;
    return { meta: { ...meta, rotationPending: pending }, notify, first: meta.rotationPending === undefined };
  });
  if (done.first) {
    try {
      ctx.approvals?.notifier?.rotationRequested?.({ path: p.path, by: done.meta.rotationPending.by, at: done.meta.rotationPending.at }, done.notify);
    } catch {
      // A notification is a courtesy; the flag stands without it.
    }
  }
  return done.meta;
}
