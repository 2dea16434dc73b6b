import { isUtf8 } from "node:buffer";
import { openValue, sealValue } from "../crypto/index.js";
import { AuthyError, integrityError, isAuthyError } from "../errors.js";
import type { SecretRow, StoreWriter, VersionRow } from "../store/store.js";
import { audit, tryAudit } from "./audit-log.js";
import { approvalRequired, deleteNeed, passApprovals, readNeed, writeNeed } from "./approvals.js";
import { authorize, mayList } from "./access.js";
import type { VaultContext } from "./context.js";
import { validateNamespace, validatePath } from "./path.js";
import { encodeAttributes } from "./secret-attributes.js";
import { checkVersionFresh, listedPaths, macListing, openSecretRow, parseListing, sealSecretRow, valueAad, verifyListing, versionInfo } from "./secret-rows.js";
import {
  actorName,
  actsAsOwner,
  MAX_VALUE_BYTES,
  type SecretMeta,
  type SecretSummary,
  type SecretType,
  type SetOptions,
  type Tier,
  type VersionInfo,
} from "./types.js";

export { MAX_VALUE_BYTES };

export interface ListOptions {
  namespace?: string;
  recursive?: boolean;
  includeDeleted?: boolean;
  /** Only secrets of this type, of this tier, or carrying every one of these tags. */
  type?: SecretType;
  tier?: Tier;
  tags?: string[];
  /** Read each listed secret's row for a pending rotation (`rotationPending`); the listing alone does not say. */
  rotation?: boolean;
}

export function notFound(path: string, extra = ""): AuthyError {
  return new AuthyError("NOT_FOUND", `no secret ${path}${extra}`, { hint: "see `authy secrets list`" });
}

function checkValue(value: Uint8Array): void {
  if (value.length > MAX_VALUE_BYTES) {
    throw new AuthyError("INVALID_INPUT", `value is larger than ${MAX_VALUE_BYTES} bytes`);
  }
}

/**
 * Called at the start of every write that will change the secrets table: the listing must
 * still be the one the vault authenticated, or a row inserted or deleted by hand would be
 * laundered into the new listing MAC by the owner's next write.
 */
export async function checkListingBefore(tx: StoreWriter, ctx: VaultContext): Promise<string> {
  const vault = await tx.getVault();
  const text = await tx.listingText();
  verifyListing(ctx.keys, text, vault?.listingMac ?? null);
  return text;
}

/** After any change to the secrets table, the authenticated listing is recomputed in the same transaction. */
export async function refreshListing(tx: StoreWriter, ctx: VaultContext): Promise<void> {
  await tx.setListingMac(macListing(ctx.keys, await tx.listingText()));
}

/** A new version of one secret, sealed and ready to store: the version row and the secret's row. */
interface SealedWrite {
  version: VersionRow;
  row: SecretRow;
  meta: SecretMeta;
}

/**
 * Seals `value` as the next version of `path`. `existingRow` is the secret's current row
 * (verified here), or null for a new secret. Nothing is stored.
 */
function sealWrite(ctx: VaultContext, path: string, value: Uint8Array, opts: SetOptions, now: number, existingRow: SecretRow | null): SealedWrite {
  const p = validatePath(path);
  checkValue(value);
  const existing = existingRow ? openSecretRow(ctx.keys, existingRow) : null;
  const version = existing ? existing.version + 1 : 1;
  const type = opts.type ?? existing?.type ?? "custom";
  const tier = opts.tier ?? existing?.tier ?? "standard";
  const tags = opts.tags ?? existing?.tags ?? [];
  const generator = opts.generator === undefined ? (existing?.generator ?? null) : opts.generator;
  const vrow = { path: p.path, version, type, tier, createdAt: now, actor: actorName(ctx.actor) };
  const { sealed, wrappedDek } = sealValue(ctx.keys.dekWrap, value, valueAad(ctx.keys, vrow));
  const row = sealSecretRow(ctx.keys, {
    path: p.path,
    namespace: p.namespace,
    type,
    tier,
    description: opts.description ?? existing?.description ?? "",
    tags: encodeAttributes(tags, generator),
    expiresAt: opts.expiresAt === undefined ? (existing?.expiresAt ?? null) : opts.expiresAt,
    currentVersion: version,
    deletedAt: null,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  });
  // Built from what was just sealed rather than re-verified: an import writes 10,000 of these.
  const meta: SecretMeta = {
    path: p.path,
    namespace: p.namespace,
    key: p.key,
    type,
    tier,
    description: row.description,
    tags,
    expiresAt: row.expiresAt,
    version,
    deletedAt: null,
    createdAt: row.createdAt,
    updatedAt: now,
    ...(generator === null ? {} : { generator }),
  };
  return { version: { ...vrow, sealed, wrappedDek }, row, meta };
}

/** Writes a new version inside `tx`; returns the new metadata. No audit entry (the caller's operation has one). */
export async function writeVersion(
  tx: StoreWriter,
  ctx: VaultContext,
  path: string,
  value: Uint8Array,
  opts: SetOptions,
  now: number,
  /** The secret's current row, when the caller read it in this transaction already (null: none). */
  current?: SecretRow | null,
): Promise<SecretMeta> {
  const existingRow = current === undefined ? await tx.getSecret(validatePath(path).path) : current;
  const w = sealWrite(ctx, path, value, opts, now, existingRow);
  await tx.putVersion(w.version);
  await tx.putSecret(w.row);
  return w.meta;
}

/**
 * writeVersion for many secrets (`env import`): each `current` is the secret's row as read in
 * this transaction (null: a new secret). Sealed and stored in batches, one store call per
 * table per batch, so 10,000 writes are not 20,000 round trips through the store.
 */
export async function writeVersions(
  tx: StoreWriter,
  ctx: VaultContext,
  writes: readonly { path: string; value: Uint8Array; current: SecretRow | null; description?: string | undefined }[],
  opts: SetOptions,
  now: number,
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  // In batches: sealed rows that are stored soon die young, and the garbage collector is cheap
  // for those; 10,000 of them held at once cost more to collect than to write.
  for (let from = 0; from < writes.length; from += WRITE_BATCH) {
    const batch = writes
      .slice(from, from + WRITE_BATCH)
      .map((w) => sealWrite(ctx, w.path, w.value, w.description === undefined ? opts : { ...opts, description: w.description }, now, w.current));
    await tx.putVersions(batch.map((w) => w.version));
    await tx.putSecrets(batch.map((w) => w.row));
    if (from + WRITE_BATCH < writes.length) onProgress?.(from + WRITE_BATCH, writes.length);
  }
}

const WRITE_BATCH = 250;

export async function setSecret(ctx: VaultContext, path: string, value: Uint8Array, opts: SetOptions = {}): Promise<SecretMeta> {
  const p = validatePath(path);
  await authorize(ctx, p.path, "write", "secret.write");
  const done = await ctx.store.write(async (tx) => {
    await checkListingBefore(tx, ctx);
    // A critical write by a token needs the owner's approval, spent in this transaction.
    const gate = await passApprovals(tx, ctx, [await writeNeed(tx, ctx, p.path, opts.tier)], opts.reason);
    if (!gate.ok) return gate;
    const now = ctx.clock.now();
    const meta = await writeVersion(tx, ctx, path, value, opts, now);
    await refreshListing(tx, ctx);
    await audit(tx, ctx, "secret.write", meta.path, { version: meta.version, type: meta.type, tier: meta.tier });
    return { ok: true as const, meta };
  });
  if (!done.ok) throw approvalRequired(ctx, done);
  return done.meta;
}

/** Loads and verifies a secret's metadata; NOT_FOUND if missing or (unless asked) deleted. */
export async function loadMeta(ctx: VaultContext, path: string, opts: { includeDeleted?: boolean } = {}): Promise<SecretMeta> {
  const p = validatePath(path);
  const row = await ctx.store.getSecret(p.path);
  if (!row) throw notFound(p.path);
  return openMeta(ctx, row, opts);
}

/** loadMeta for a row already read. */
export function openMeta(ctx: VaultContext, row: SecretRow, opts: { includeDeleted?: boolean } = {}): SecretMeta {
  const meta = openSecretRow(ctx.keys, row);
  if (meta.deletedAt !== null && !opts.includeDeleted) {
    throw new AuthyError("NOT_FOUND", `secret ${meta.path} is deleted`, { hint: `restore it with \`authy secrets restore ${meta.path}\`` });
  }
  return meta;
}

/** A live (not deleted) secret's row and verified metadata, read inside a write: NOT_FOUND otherwise. */
export async function liveSecretIn(tx: StoreWriter, ctx: VaultContext, path: string): Promise<{ row: SecretRow; meta: SecretMeta }> {
  const row = await tx.getSecret(path);
  if (!row) throw notFound(path);
  return { row, meta: openMeta(ctx, row) };
}

/** Decrypts one version of a secret (the current one by default). */
export async function decryptVersion(ctx: VaultContext, meta: SecretMeta, version?: number): Promise<Uint8Array> {
  const vrow = await ctx.store.getVersion(meta.path, version ?? meta.version);
  if (version === undefined) return openCurrent(ctx, meta, vrow);
  if (!vrow) throw new AuthyError("NOT_FOUND", `secret ${meta.path} has no version ${version}`);
  if (vrow.path !== meta.path || vrow.version !== version) throw integrityError(`version row of ${meta.path} does not match`);
  checkVersionFresh(meta, vrow);
  return openValue(ctx.keys.dekWrap, vrow.sealed, vrow.wrappedDek, valueAad(ctx.keys, vrow));
}

/**
 * Decrypts the current version of a secret from its version row, already read (null: there is
 * none). Synchronous, for the loops that open a thousand (`run`, `env export`).
 */
export function openCurrent(ctx: VaultContext, meta: SecretMeta, vrow: VersionRow | null): Uint8Array {
  if (!vrow) throw integrityError(`the current version of ${meta.path} is missing`);
  if (vrow.path !== meta.path || vrow.version !== meta.version) throw integrityError(`version row of ${meta.path} does not match`);
  if (vrow.type !== meta.type || vrow.tier !== meta.tier) throw integrityError(`the type or tier of ${meta.path} was modified outside authy`);
  checkVersionFresh(meta, vrow);
  return openValue(ctx.keys.dekWrap, vrow.sealed, vrow.wrappedDek, valueAad(ctx.keys, vrow));
}

export interface GetOptions {
  version?: number;
  /** Read a secret past its expiry (owner only). */
  allowExpired?: boolean;
  /** Why, shown to the owner when the read needs an approval. */
  reason?: string;
  /**
   * For a client that can show only text (the Agent Secret Store's CLI): a value that is not
   * UTF-8 is refused (details.notText) before anything is released or an approval spent.
   */
  textOnly?: boolean;
}

/**
 * Reads a value. The audit entry is committed before the value is returned: if it cannot be
 * written, the read fails and nothing is released.
 */
export async function getSecret(ctx: VaultContext, path: string, opts: GetOptions = {}): Promise<{ meta: SecretMeta; value: Uint8Array }> {
  let meta: SecretMeta | undefined;
  await authorize(ctx, validatePath(path).path, "read", "secret.read");
  try {
    // The current version comes with its row in one read (one freshness check, not two).
    const current = opts.version === undefined ? (await ctx.store.readCurrent([validatePath(path).path]))[0] : undefined;
    if (opts.version === undefined && !current) throw notFound(validatePath(path).path);
    meta = current ? openMeta(ctx, current.secret) : await loadMeta(ctx, path);
    if (meta.expiresAt !== null && meta.expiresAt <= ctx.clock.now() && !opts.allowExpired) {
      throw new AuthyError("NOT_FOUND", `secret ${meta.path} expired at ${new Date(meta.expiresAt).toISOString()}`, {
        hint: "set a new value, or read it anyway with --allow-expired",
      });
    }
    const value = current ? openCurrent(ctx, meta, current.version) : await decryptVersion(ctx, meta, opts.version);
    const m = meta;
    if (opts.textOnly && !isUtf8(value)) {
      value.fill(0);
      await tryAudit(ctx, "secret.read", m.path, { error: "not text" }, "error");
      throw new AuthyError("INVALID_INPUT", `${m.path} holds bytes that are not UTF-8 text, which this client cannot show`, {
        hint: `read it with \`authy secrets get ${m.path}\` (or ?encoding=base64)`,
        details: { notText: true },
      });
    }
    const need = await readNeed(ctx, m, opts.version);
    // The approval (if the tier asks for one) is spent in the transaction that records the read.
    const gate = await ctx.store.write(async (tx) => {
      const g = await passApprovals(tx, ctx, [need], opts.reason);
      if (g.ok) await audit(tx, ctx, "secret.read", m.path, { version: opts.version ?? m.version });
      return g;
    });
    if (!gate.ok) {
      value.fill(0);
      throw approvalRequired(ctx, gate);
    }
    return { meta, value };
  } catch (e) {
    // A failed read is written down too: a probe for a name that does not exist leaves a trace.
    if (isAuthyError(e) && (e.code === "INTEGRITY" || e.code === "NOT_FOUND"))
      await tryAudit(ctx, "secret.read", meta?.path ?? path, { error: e.code }, "error");
    throw e;
  }
}

/**
 * The listing and its MAC are two reads, each seeing the latest commit: a write by another
 * connection between them is read again, not reported as tampering.
 */
export const LISTING_READ_ATTEMPTS = 5;

/** The authenticated listing text as of one moment; INTEGRITY if it does not verify. */
export async function readListing(ctx: VaultContext): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const before = await ctx.store.getVault();
    const text = await ctx.store.listingText();
    const after = await ctx.store.getVault();
    if (!before || !after) throw integrityError("the vault header is missing");
    const settled = before.listingMac !== null && after.listingMac !== null && Buffer.from(before.listingMac).equals(after.listingMac);
    if (settled || attempt >= LISTING_READ_ATTEMPTS) {
      verifyListing(ctx.keys, text, after.listingMac);
      return text;
    }
  }
}

/** The authenticated listing, filtered. Never returns values. */
export async function listSecrets(ctx: VaultContext, opts: ListOptions = {}): Promise<SecretSummary[]> {
  let items = (await listAll(ctx, opts)).filter((s) => mayList(ctx, s.path) && (!opts.type || s.type === opts.type) && (!opts.tier || s.tier === opts.tier));
  if (opts.tags?.length) {
    // Tags are not in the listing: each remaining row is read and verified (a filter, so rare).
    const wanted = opts.tags;
    const kept: SecretSummary[] = [];
    for (const s of items) {
      const row = await ctx.store.getSecret(s.path);
      if (row && wanted.every((t) => openSecretRow(ctx.keys, row).tags.includes(t))) kept.push(s);
    }
    items = kept;
  }
  if (opts.rotation) {
    const marked: SecretSummary[] = [];
    for (const s of items) {
      const row = await ctx.store.getSecret(s.path);
      const pending = row ? openSecretRow(ctx.keys, row).rotationPending : undefined;
      marked.push(pending === undefined ? s : { ...s, rotationPending: pending });
    }
    items = marked;
  }
  return items;
}

function filtered(opts: ListOptions): boolean {
  return Boolean(opts.type || opts.tier || opts.tags?.length);
}

/** listSecrets, paths only (see listedPaths). */
export async function listSecretPaths(ctx: VaultContext, opts: ListOptions = {}): Promise<string[]> {
  if (filtered(opts)) return (await listSecrets(ctx, opts)).map((s) => s.path);
  const listed = namespaceFilter(opts);
  let paths = listedPaths(await readListing(ctx), { includeDeleted: opts.includeDeleted });
  if (listed) paths = paths.filter((p) => listed(p.slice(0, p.lastIndexOf("/"))));
  return actsAsOwner(ctx.actor) ? paths : paths.filter((p) => mayList(ctx, p));
}

/**
 * The authenticated listing, filtered by namespace but NOT by what the actor may list: for
 * the core's own decisions (does a referenced secret exist), never shown to a caller as is.
 */
export async function listAll(ctx: VaultContext, opts: ListOptions = {}): Promise<SecretSummary[]> {
  const listed = namespaceFilter(opts);
  let items = parseListing(await readListing(ctx));
  if (!opts.includeDeleted) items = items.filter((s) => s.deletedAt === null);
  return listed ? items.filter((s) => listed(s.namespace)) : items;
}

/**
 * Which namespaces a listing with these options shows (the namespace asked for, and those
 * below it when recursive), or null for all of them. Validates the namespace first.
 */
function namespaceFilter(opts: ListOptions): ((namespace: string) => boolean) | null {
  if (opts.namespace === undefined || opts.namespace === "") return null;
  const ns = validateNamespace(opts.namespace);
  const prefix = ns + "/";
  return (namespace) => namespace === ns || (opts.recursive === true && namespace.startsWith(prefix));
}

export interface DeleteOptions {
  /** Erase every version for good instead of a soft delete. */
  purge?: boolean;
  /** Why, shown to the owner when deleting a critical secret needs an approval. */
  reason?: string;
}

/**
 * A soft delete (undone by restore) or, with `purge`, the erasure of every version. A delete
 * of a critical secret is a write of it: an agent or token needs the owner's approval for it
 * (`secret.delete` or `secret.purge`, deleteNeed), spent in the transaction that deletes.
 */
export async function deleteSecret(ctx: VaultContext, path: string, opts: DeleteOptions = {}): Promise<SecretMeta> {
  await authorize(ctx, validatePath(path).path, "delete", "secret.delete");
  const done = await ctx.store.write(async (tx) => {
    await checkListingBefore(tx, ctx);
    const p = validatePath(path);
    const row = await tx.getSecret(p.path);
    if (!row) throw notFound(p.path);
    const meta = openSecretRow(ctx.keys, row);
    if (!opts.purge && meta.deletedAt !== null) throw new AuthyError("NOT_FOUND", `secret ${p.path} is already deleted`, { hint: "purge it with --purge" });
    const gate = await passApprovals(tx, ctx, [await deleteNeed(tx, ctx, meta, opts.purge === true)], opts.reason);
    if (!gate.ok) return gate;
    const now = ctx.clock.now();
    if (opts.purge) {
      await tx.deleteSecret(p.path);
      await refreshListing(tx, ctx);
      await audit(tx, ctx, "secret.purge", p.path, { versions: meta.version });
      return { ok: true as const, meta };
    }
    const { mac: _mac, ...rest } = row;
    const updated = sealSecretRow(ctx.keys, { ...rest, deletedAt: now, updatedAt: now });
    await tx.putSecret(updated);
    await refreshListing(tx, ctx);
    await audit(tx, ctx, "secret.delete", p.path);
    return { ok: true as const, meta: openSecretRow(ctx.keys, updated) };
  });
  if (!done.ok) throw approvalRequired(ctx, done);
  return done.meta;
}

export async function restoreSecret(ctx: VaultContext, path: string): Promise<SecretMeta> {
  await authorize(ctx, validatePath(path).path, "write", "secret.restore");
  return ctx.store.write(async (tx) => {
    await checkListingBefore(tx, ctx);
    const p = validatePath(path);
    const row = await tx.getSecret(p.path);
    if (!row) throw notFound(p.path, " (purged secrets cannot be restored)");
    const meta = openSecretRow(ctx.keys, row);
    if (meta.deletedAt === null) throw new AuthyError("INVALID_INPUT", `secret ${p.path} is not deleted`);
    const { mac: _mac, ...rest } = row;
    const updated = sealSecretRow(ctx.keys, { ...rest, deletedAt: null, updatedAt: ctx.clock.now() });
    await tx.putSecret(updated);
    await refreshListing(tx, ctx);
    await audit(tx, ctx, "secret.restore", p.path);
    return openSecretRow(ctx.keys, updated);
  });
}

/** loadMeta for a caller that was authorized: a name that does not exist is a probe, and is audited. */
export async function loadMetaAudited(ctx: VaultContext, path: string, action: string): Promise<SecretMeta> {
  try {
    return await loadMeta(ctx, path, { includeDeleted: true });
  } catch (e) {
    if (isAuthyError(e) && e.code === "NOT_FOUND") await tryAudit(ctx, action, validatePath(path).path, { error: e.code }, "error");
    throw e;
  }
}

export async function secretHistory(ctx: VaultContext, path: string): Promise<{ meta: SecretMeta; versions: VersionInfo[] }> {
  await authorize(ctx, validatePath(path).path, "list", "secret.history");
  const meta = await loadMetaAudited(ctx, path, "secret.history");
  const versions = (await ctx.store.listVersions(meta.path)).map((v) => {
    checkVersionFresh(meta, v);
    return versionInfo(v, meta.version);
  });
  return { meta, versions };
}

export interface RollbackOptions {
  /** Why, shown to the owner when writing a critical secret needs an approval. */
  reason?: string;
}

/**
 * Makes an older version's value current again, as a new version (history is never rewritten).
 * For an agent or token the value comes back under the stricter of its own version's tier and
 * the current one (as reading that version is judged, readNeed): lowering a secret's tier with
 * a write and then rolling back must not open a value written under the stricter tier.
 */
export async function rollbackSecret(ctx: VaultContext, path: string, version: number, opts: RollbackOptions = {}): Promise<SecretMeta> {
  await authorize(ctx, validatePath(path).path, "write", "secret.rollback");
  const meta = await loadMeta(ctx, path);
  if (!Number.isInteger(version) || version < 1) throw new AuthyError("INVALID_INPUT", `not a version number: ${version}`);
  if (version === meta.version) throw new AuthyError("INVALID_INPUT", `version ${version} is already current`);
  const value = await decryptVersion(ctx, meta, version);
  const { tier } = await readNeed(ctx, meta, version);
  const written: SetOptions = tier === meta.tier ? {} : { tier };
  try {
    const done = await ctx.store.write(async (tx) => {
      await checkListingBefore(tx, ctx);
      const gate = await passApprovals(tx, ctx, [await writeNeed(tx, ctx, meta.path, written.tier)], opts.reason);
      if (!gate.ok) return gate;
      const now = ctx.clock.now();
      const updated = await writeVersion(tx, ctx, meta.path, value, written, now);
      await refreshListing(tx, ctx);
      await audit(tx, ctx, "secret.rollback", meta.path, { from: meta.version, to: version, version: updated.version });
      return { ok: true as const, updated };
    });
    if (!done.ok) throw approvalRequired(ctx, done);
    return done.updated;
  } finally {
    value.fill(0);
  }
}

export { CHARSETS, generateValue, MAX_GENERATED_LENGTH } from "./generate.js";
