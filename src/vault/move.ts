import { openValue, sealValue } from "../crypto/index.js";
import { AuthyError, isAuthyError } from "../errors.js";
import type { SecretRow, StoreWriter, VersionRow } from "../store/store.js";
import { authorize } from "./access.js";
import { approvalRequired, deleteNeed, passApprovals, writeNeed } from "./approvals.js";
import { audit, tryAudit } from "./audit-log.js";
import type { VaultContext } from "./context.js";
import { validatePath, type SecretPath } from "./path.js";
import { checkListingBefore, liveSecretIn, openCurrent, refreshListing, writeVersion } from "./secrets.js";
import { checkVersionFresh, openSecretRow, sealSecretRow, valueAad } from "./secret-rows.js";
import type { SecretMeta } from "./types.js";

/**
 * `secrets mv` and `secrets cp`. A move keeps the whole history: every version is opened and
 * sealed again under the new path (the value's additional data binds the path, so a version
 * row cannot simply be renamed), keeping its number, time, author, type and tier; the old path
 * is then gone. A copy starts the new secret at the source's current value and metadata.
 * Both need `read` on the source and `write` on the destination; a move also `delete` on the
 * source, and on a destination it replaces (`--force`). Neither releases a value to the caller.
 * For an agent or token a move of a critical secret is a write of DST and a delete of SRC, and
 * replacing a critical DST a purge of it: each asks the owner under its own name.
 */
export interface MoveOptions {
  /** Replace an existing destination (a move: purged first; a copy: a new version of it). */
  force?: boolean;
  /** Why, shown to the owner when writing a critical secret needs an approval. */
  reason?: string;
}

export async function moveSecret(ctx: VaultContext, from: string, to: string, opts: MoveOptions = {}): Promise<SecretMeta> {
  return transfer(ctx, "move", from, to, opts);
}

export async function copySecret(ctx: VaultContext, from: string, to: string, opts: MoveOptions = {}): Promise<SecretMeta> {
  return transfer(ctx, "copy", from, to, opts);
}

type Kind = "move" | "copy";

async function transfer(ctx: VaultContext, kind: Kind, from: string, to: string, opts: MoveOptions): Promise<SecretMeta> {
  const src = validatePath(from);
  const dst = validatePath(to);
  if (src.path === dst.path) throw new AuthyError("INVALID_INPUT", `${src.path} would be ${kind === "move" ? "moved" : "copied"} onto itself`);
  const action = `secret.${kind}`;
  await authorize(ctx, src.path, "read", action);
  if (kind === "move") await authorize(ctx, src.path, "delete", action);
  await authorize(ctx, dst.path, "write", action);
  try {
    const done = await ctx.store.write(async (tx) => {
      await checkListingBefore(tx, ctx);
      const { row: srcRow, meta } = await liveSecretIn(tx, ctx, src.path);
      const dstRow = await tx.getSecret(dst.path);
      const dstMeta = dstRow ? openSecretRow(ctx.keys, dstRow) : null; // verified before it is replaced
      if (dstMeta) {
        if (!opts.force) {
          throw new AuthyError("ALREADY_EXISTS", `${dst.path} already exists`, {
            hint: kind === "move" ? "pass --force to replace it (its own versions are erased)" : "pass --force to write the copy as a new version of it",
          });
        }
        if (kind === "move") await authorize(ctx, dst.path, "delete", action);
      }
      // A move deletes SRC and, with --force, erases DST's versions: for a critical secret each
      // is a write of it, asked for under its own name (as `secrets delete` and `--purge` are).
      const needs = [await writeNeed(tx, ctx, dst.path, meta.tier)];
      if (kind === "move") {
        needs.push(await deleteNeed(tx, ctx, meta, false));
        if (dstMeta) needs.push(await deleteNeed(tx, ctx, dstMeta, true));
      }
      const gate = await passApprovals(tx, ctx, needs, opts.reason);
      if (!gate.ok) return gate;
      const now = ctx.clock.now();
      const result = kind === "move" ? await moveRows(tx, ctx, srcRow, meta, dst, dstRow !== null, now) : await copyRow(tx, ctx, meta, dst, dstRow, now);
      await refreshListing(tx, ctx);
      await audit(tx, ctx, action, src.path, { to: dst.path, version: result.meta.version, ...result.details });
      return { ok: true as const, meta: result.meta };
    });
    if (!done.ok) throw approvalRequired(ctx, done);
    return done.meta;
  } catch (e) {
    // A source that does not exist is a probe, written down like a read's.
    if (isAuthyError(e) && e.code === "NOT_FOUND") await tryAudit(ctx, action, src.path, { to: dst.path, error: e.code }, "error");
    throw e;
  }
}

async function moveRows(tx: StoreWriter, ctx: VaultContext, srcRow: SecretRow, meta: SecretMeta, dst: SecretPath, replacing: boolean, now: number) {
  const versions = await tx.listVersions(meta.path);
  const moved: VersionRow[] = [];
  for (const v of versions) {
    checkVersionFresh(meta, v);
    const value = openValue(ctx.keys.dekWrap, v.sealed, v.wrappedDek, valueAad(ctx.keys, v));
    try {
      const row = { path: dst.path, version: v.version, type: v.type, tier: v.tier, createdAt: v.createdAt, actor: v.actor };
      moved.push({ ...row, ...sealValue(ctx.keys.dekWrap, value, valueAad(ctx.keys, row)) });
    } finally {
      value.fill(0);
    }
  }
  if (replacing) await tx.deleteSecret(dst.path);
  await tx.putVersions(moved);
  const { mac: _mac, ...fields } = srcRow;
  const row = sealSecretRow(ctx.keys, { ...fields, path: dst.path, namespace: dst.namespace, updatedAt: now });
  await tx.putSecret(row);
  await tx.deleteSecret(meta.path);
  return { meta: openSecretRow(ctx.keys, row), details: { versions: moved.length, ...(replacing ? { replaced: true } : {}) } };
}

async function copyRow(tx: StoreWriter, ctx: VaultContext, meta: SecretMeta, dst: SecretPath, dstRow: SecretRow | null, now: number) {
  const current = (await tx.readCurrent([meta.path]))[0];
  const value = openCurrent(ctx, meta, current?.version ?? null);
  try {
    const copied = await writeVersion(
      tx,
      ctx,
      dst.path,
      value,
      {
        type: meta.type,
        tier: meta.tier,
        description: meta.description,
        tags: meta.tags,
        expiresAt: meta.expiresAt,
        generator: meta.generator ?? null,
      },
      now,
      dstRow,
    );
    return { meta: copied, details: { fromVersion: meta.version, ...(dstRow ? { replaced: true } : {}) } };
  } finally {
    value.fill(0);
  }
}
