import { AuthyError } from "../errors.js";
import { requireOwner } from "./access.js";
import { audit } from "./audit-log.js";
import type { VaultContext } from "./context.js";
import * as secrets from "./secrets.js";

/**
 * Every secret's current value, for `export --to` or `scan` (owner only; audited as one
 * operation, vault.export or vault.scan, before release). Exporting a namespace that holds no
 * secret, at any depth, is NOT_FOUND.
 */
export async function exportAll(
  ctx: VaultContext,
  namespace: string | undefined,
  action: "vault.export" | "vault.scan",
): Promise<{ path: string; value: Uint8Array }[]> {
  requireOwner(ctx, "export the vault");
  const items = await secrets.listSecrets(ctx, { namespace, recursive: true });
  // A namespace with nothing in it is an error, as for `env export`: most likely a typo, and an
  // export of nothing would be written (and audited) as if it had succeeded.
  if (namespace !== undefined && action === "vault.export" && items.length === 0) {
    throw new AuthyError("NOT_FOUND", `no secrets in ${namespace}`, {
      hint: "export takes the namespace's secrets and those of the namespaces under it; see `authy secrets list --recursive`",
    });
  }
  const out: { path: string; value: Uint8Array }[] = [];
  // Every row in one read, as dispatch does (1,000 secrets: 2,000 reads otherwise).
  const current = new Map((await ctx.store.readCurrent(items.map((i) => i.path))).map((c) => [c.secret.path, c]));
  for (const item of items) {
    const read = current.get(item.path);
    const meta = read ? secrets.openMeta(ctx, read.secret) : await secrets.loadMeta(ctx, item.path);
    out.push({ path: meta.path, value: read ? secrets.openCurrent(ctx, meta, read.version) : await secrets.decryptVersion(ctx, meta) });
  }
  await ctx.store.write((tx) => audit(tx, ctx, action, namespace ?? "vault", { count: out.length }));
  return out;
}
