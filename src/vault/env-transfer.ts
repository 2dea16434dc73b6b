import { AuthyError, integrityError } from "../errors.js";
import type { VaultContext } from "./context.js";
import { validateNamespace, validatePath } from "./path.js";
import type { CurrentRows } from "../store/store.js";
import { listedPaths, openSecretRow } from "./secret-rows.js";
import { audit, tryAudit } from "./audit-log.js";
import { authorize, authorizeEach, mayList, mayRead } from "./access.js";
import { approvalRequired, currentReadNeed, passApprovals, writeNeed, type ApprovalNeed } from "./approvals.js";
import { checkListingBefore, decryptVersion, LISTING_READ_ATTEMPTS, openCurrent, readListing, refreshListing, writeVersions } from "./secrets.js";
import type { Tier } from "./types.js";
import { utf8Text } from "./utf8-text.js";

/** Moving whole namespaces in and out as NAME=value entries (dotenv and friends). */

export interface EnvEntry {
  /** The path below the namespace: `KEY`, or `folder/KEY` for an importer's nested entries. */
  key: string;
  value: string;
  /** Set as the secret's description when given (an importer's notes); kept as it is otherwise. */
  description?: string;
}

/** A secret as an import finds it: its current value and description, or null when deleted. */
type ExistingSecret = { value: string; description: string } | null;

type ImportAction = "create" | "update" | "unchanged" | "skip";

export interface ImportPlan {
  namespace: string;
  items: { key: string; path: string; action: ImportAction }[];
  counts: Record<ImportAction, number>;
}

export interface ImportOptions {
  namespace: string;
  /** Keep existing secrets as they are instead of writing a new version. */
  noOverwrite?: boolean;
  tier?: Tier;
  /** Where the entries came from (`dotenv`, `pass`, …), for the audit entry. */
  source?: string;
  /** Why, shown to the owner when writing a critical secret needs an approval. */
  reason?: string;
}

/**
 * Decides what an import would do, purely: which keys are new, which change, which stay.
 * `existing` maps a path to its current value and description (or null when the secret is deleted).
 */
function planImport(entries: readonly EnvEntry[], existing: ReadonlyMap<string, ExistingSecret>, opts: ImportOptions): ImportPlan {
  const namespace = validateNamespace(opts.namespace);
  const seen = new Set<string>();
  const items: ImportPlan["items"] = [];
  const counts: Record<ImportAction, number> = { create: 0, update: 0, unchanged: 0, skip: 0 };
  for (const e of entries) {
    const { path } = validatePath(`${namespace}/${e.key}`);
    if (seen.has(path)) throw new AuthyError("INVALID_INPUT", `${e.key} appears twice in the import`);
    seen.add(path);
    const current = existing.get(path);
    let action: ImportAction;
    if (current === undefined || current === null) action = "create";
    else if (opts.noOverwrite) action = "skip";
    else if (current.value === e.value && opts.tier === undefined && (e.description === undefined || e.description === current.description)) {
      action = "unchanged";
    } else action = "update";
    counts[action]++;
    items.push({ key: e.key, path, action });
  }
  return { namespace, items, counts };
}

/**
 * Current values of the secrets being imported, for planning (decrypts only those). Nested
 * keys (an importer's folders) live in namespaces of their own, each read once.
 */
async function existingValues(ctx: VaultContext, keys: Set<string>): Promise<Map<string, ExistingSecret>> {
  const out = new Map<string, ExistingSecret>();
  const namespaces = new Set([...keys].map((p) => p.slice(0, p.lastIndexOf("/"))));
  for (const ns of namespaces) {
    for (const row of await ctx.store.listSecretsIn(ns)) {
      const meta = openSecretRow(ctx.keys, row);
      if (!keys.has(meta.path)) continue;
      const value = meta.deletedAt !== null ? null : Buffer.from(await decryptVersion(ctx, meta)).toString("utf8");
      out.set(meta.path, value === null ? null : { value, description: meta.description });
    }
  }
  return out;
}

/**
 * Imports entries into a namespace, all or nothing, in one transaction with one audit entry.
 * With `dryRun`, returns the plan and writes nothing.
 */
export async function importEnv(
  ctx: VaultContext,
  entries: readonly EnvEntry[],
  opts: ImportOptions & { dryRun?: boolean; onProgress?: (done: number, total: number) => void },
): Promise<ImportPlan> {
  const namespace = validateNamespace(opts.namespace);
  const paths = new Set(entries.map((e) => `${namespace}/${e.key}`));
  const plan = planImport(entries, await existingValues(ctx, paths), opts);
  for (const item of plan.items) if (item.action !== "unchanged" && item.action !== "skip") await authorize(ctx, item.path, "write", "env.import");
  if (opts.dryRun) return plan;
  const byKey = new Map(entries.map((e) => [e.key, e]));
  const gate = await ctx.store.write(async (tx) => {
    const now = ctx.clock.now();
    const todo = plan.items.filter((i) => i.action === "create" || i.action === "update");
    const listing = todo.length > 0 ? await checkListingBefore(tx, ctx) : "";
    const needs: ApprovalNeed[] = [];
    for (const item of todo) needs.push(await writeNeed(tx, ctx, item.path, opts.tier));
    const g = await passApprovals(tx, ctx, needs, opts.reason);
    if (!g.ok) return g;
    // Which secrets exist is what the verified listing says; their rows come in one read, not
    // one per key (10,000 keys: a fifth of the import). A listed path whose row is not among
    // the namespace's rows is read by itself.
    const exists = new Set(listedPaths(listing, { includeDeleted: true }));
    const rows = new Map((todo.length > 0 ? await tx.listSecretsIn(namespace) : []).map((r) => [r.path, r]));
    const writes = [];
    for (const item of todo) {
      const current = exists.has(item.path) ? (rows.get(item.path) ?? (await tx.getSecret(item.path))) : null;
      const entry = byKey.get(item.key)!;
      writes.push({ path: item.path, value: Buffer.from(entry.value, "utf8"), current, description: entry.description });
    }
    await writeVersions(tx, ctx, writes, opts.tier ? { tier: opts.tier } : {}, now, opts.onProgress);
    opts.onProgress?.(todo.length, todo.length);
    if (todo.length > 0) await refreshListing(tx, ctx);
    await audit(tx, ctx, "env.import", namespace, {
      created: plan.items.filter((i) => i.action === "create").map((i) => i.key),
      updated: plan.items.filter((i) => i.action === "update").map((i) => i.key),
      counts: plan.counts,
      ...(opts.source === undefined ? {} : { source: opts.source }),
    });
    return g;
  });
  if (!gate.ok) throw approvalRequired(ctx, gate);
  return plan;
}

/**
 * The rows of a namespace, checked against the authenticated listing: which secrets a
 * namespace holds is decided by the listing, not by the `namespace` column that selected the
 * rows, so a row moved out, deleted or inserted by hand fails the export instead of silently
 * changing it. (Rows and listing are separate reads: a create or purge committed in between
 * is read again.)
 */
async function namespaceRows(ctx: VaultContext, ns: string): Promise<CurrentRows[]> {
  for (let attempt = 1; ; attempt++) {
    const rows = await ctx.store.readCurrentIn(ns);
    // Only the paths: no summary objects for the listing's other namespaces, nor for this one.
    const listed = listedPaths(await readListing(ctx), { includeDeleted: true }).filter((p) => p.lastIndexOf("/") === ns.length && p.startsWith(ns));
    if (listed.length === rows.length && listed.every((p, i) => p === rows[i]!.secret.path)) return rows;
    if (attempt >= LISTING_READ_ATTEMPTS) throw integrityError(`the secrets of ${ns} do not match the authenticated list of secrets`);
  }
}

/**
 * The namespace's current values, in key order. The audit entry is committed before any
 * value is returned.
 */
export async function exportEnv(ctx: VaultContext, namespace: string, opts: { keys?: string[]; reason?: string } = {}): Promise<EnvEntry[]> {
  const ns = validateNamespace(namespace);
  const wanted = opts.keys ? new Set(opts.keys) : null;
  // Each key asked for by name is authorized before anything is said about whether it exists:
  // a forbidden name and a missing one get the same refusal.
  for (const key of wanted ?? []) await authorize(ctx, validatePath(`${ns}/${key}`).path, "read", "env.export");
  const out: EnvEntry[] = [];
  const found = new Set<string>();
  const needs: ApprovalNeed[] = [];
  // Each secret with its current version, in one read.
  for (const { secret: row, version } of await namespaceRows(ctx, ns)) {
    const meta = openSecretRow(ctx.keys, row);
    if (meta.deletedAt !== null) continue;
    if (wanted && !wanted.has(meta.key)) continue;
    // What the caller may read is exported even if it may not list it, as `run` injects it:
    // both hand over names and values together.
    if (!wanted && !mayList(ctx, meta.path) && !mayRead(ctx, meta.path)) continue;
    const check = authorizeEach(ctx, meta.path, "read", "env.export");
    if (check) await check;
    found.add(meta.key);
    const text = utf8Text(openCurrent(ctx, meta, version));
    if (text === null) {
      throw new AuthyError("INVALID_INPUT", `${meta.path} holds binary data that text formats cannot represent`, {
        hint: `read it with \`authy secrets get ${meta.path} > FILE\``,
      });
    }
    out.push({ key: meta.key, value: text });
    needs.push(currentReadNeed(meta));
  }
  const missing = wanted ? [...wanted].filter((k) => !found.has(k)) : [];
  if (missing.length > 0) {
    await tryAudit(ctx, "env.export", ns, { error: "NOT_FOUND", missing }, "error");
    throw new AuthyError("NOT_FOUND", `no secret ${missing.map((k) => `${ns}/${k}`).join(", ")}`);
  }
  // Nothing to export is an error, not an empty file (`> .env` would silently write one).
  if (!wanted && out.length === 0) {
    throw new AuthyError("NOT_FOUND", `no secrets in ${ns}`, {
      hint: "namespaces hold only the secrets directly in them; see `authy secrets list --recursive`",
    });
  }
  const gate = await ctx.store.write(async (tx) => {
    const g = await passApprovals(tx, ctx, needs, opts.reason);
    if (g.ok) await audit(tx, ctx, "env.export", ns, { keys: out.map((e) => e.key) });
    return g;
  });
  if (!gate.ok) throw approvalRequired(ctx, gate);
  return out;
}
