import { promises as fs } from "node:fs";
import path from "node:path";
import { encryptToRecipients, parseRecipient } from "../../crypto/index.js";
import { AuthyError } from "../../errors.js";
import { refuseSymlink, syncDir, writeFileAtomic } from "../../files/atomic-write.js";
import type { SqliteStore } from "../../store/sqlite/sqlite-store.js";
import { systemClock } from "../../vault/clock.js";
import type { CliContext } from "../context.js";
import { confirm, stdinIsTTY } from "../input.js";

/** `authy export --to age1…`: a standard age file the stock `age -d` opens. */
export async function exportAge(ctx: CliContext, flags: { to: string[]; namespace?: string; format: "json" | "dotenv"; armor?: boolean; out?: string }): Promise<void> {
  const recipients = flags.to.map(parseRecipient);
  if (!flags.out && process.stdout.isTTY && !flags.armor) {
    throw new AuthyError("INVALID_INPUT", "refusing to write a binary age file to a terminal", { hint: "pass --out FILE or --armor" });
  }
  const vault = await ctx.unlock();
  const items = await vault.exportAll(flags.namespace);
  let plain: string;
  if (flags.format === "json") {
    const obj: Record<string, string> = {};
    for (const i of items) obj[i.path] = Buffer.from(i.value).toString("utf8");
    plain = JSON.stringify({ vault: vault.vaultId, exportedAt: new Date().toISOString(), secrets: obj }, null, 2) + "\n";
  } else {
    // dotenv names must be unique: use the full path with "/" as "__" (documented).
    const { serializeEnv } = await import("../../formats/export-formats.js");
    plain = serializeEnv(items.map((i) => ({ key: i.path.replaceAll("/", "__").replaceAll(".", "_").replaceAll("-", "_"), value: Buffer.from(i.value).toString("utf8") })), "dotenv");
  }
  const file = await encryptToRecipients(Buffer.from(plain, "utf8"), recipients, { armor: flags.armor });
  if (flags.out) {
    await writeFileAtomic(flags.out, file);
    ctx.out.info(`exported ${items.length} secrets to ${flags.out} (decrypt with \`age -d -i KEYFILE ${flags.out}\`)`);
  } else process.stdout.write(file);
  ctx.out.result({ count: items.length, out: flags.out ?? null, recipients }, () => "");
}

function defaultBackupName(ctx: CliContext): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return path.join(ctx.home, "backups", `vault-${stamp}.db`);
}

/** A consistent copy via SQLite's backup API: still encrypted, openable as a vault. */
export async function backup(ctx: CliContext, file: string | undefined): Promise<void> {
  const dest = path.resolve(file ?? defaultBackupName(ctx));
  await fs.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
  await refuseSymlink(dest);
  if (await fs.lstat(dest).catch(() => null)) throw new AuthyError("ALREADY_EXISTS", `${dest} already exists`, { hint: "choose another file name" });
  const store = await ctx.openStore();
  if (!(await store.getVault())) throw new AuthyError("NOT_INITIALIZED", `no vault in ${ctx.home}`);
  const tmp = `${dest}.partial`;
  await fs.unlink(tmp).catch(() => undefined);
  await store.backupTo(tmp);
  await fs.chmod(tmp, 0o600);
  const h = await fs.open(tmp, "r+");
  await h.sync();
  await h.close();
  await fs.rename(tmp, dest);
  await syncDir(path.dirname(dest));
  ctx.out.result({ backup: dest }, () => dest);
  ctx.out.info(`backed up the vault to ${dest}`);
}

/**
 * Replaces the vault with a backup after checking that it is an intact authy vault that the
 * given credentials open. The current vault is kept beside it, never deleted.
 */
export async function restore(ctx: CliContext, file: string, flags: { yes?: boolean }): Promise<void> {
  const src = path.resolve(file);
  const { SqliteStore } = await import("../../store/sqlite/sqlite-store.js");
  const { Vault } = await import("../../vault/vault.js");
  let candidate: SqliteStore;
  try {
    candidate = SqliteStore.open(src, { readonly: true });
  } catch (e) {
    if (e instanceof AuthyError && e.code === "NOT_INITIALIZED") throw new AuthyError("NOT_FOUND", `no such backup: ${src}`);
    throw e;
  }
  try {
    const problems = candidate.integrityCheck();
    if (problems.length !== 1 || problems[0] !== "ok") throw new AuthyError("INTEGRITY", `${src} is corrupt: ${problems[0]}`);
    const vault = await Vault.unlock({ store: candidate, clock: systemClock }, await ctx.credential()).catch((e) => {
      throw e instanceof AuthyError && e.code === "UNAVAILABLE" ? new AuthyError("INTEGRITY", `${src} is not a usable vault backup`) : e;
    });
    const report = await vault.verify();
    if (report.problems.length > 0) throw new AuthyError("INTEGRITY", `${src} does not verify: ${report.problems[0]}`);
  } finally {
    await candidate.close();
  }
  const current = await fs.lstat(ctx.vaultPath).catch(() => null);
  if (current && !flags.yes) {
    if (!stdinIsTTY()) throw new AuthyError("INVALID_INPUT", `refusing to replace the vault in ${ctx.home} without confirmation`, { hint: "pass --yes" });
    if (!(await confirm(`Replace the vault in ${ctx.home} with ${src}?`))) throw new AuthyError("INTERRUPTED", "nothing restored");
  }
  await fs.mkdir(ctx.home, { recursive: true, mode: 0o700 });
  let keptAs: string | null = null;
  if (current) {
    // Checkpoint the WAL into the main file so the copy we keep aside is whole.
    keptAs = `${ctx.vaultPath}.before-restore-${Date.now()}`;
    const live = SqliteStore.open(ctx.vaultPath);
    try {
      await live.backupTo(keptAs);
    } finally {
      await live.close();
    }
  }
  const tmp = `${ctx.vaultPath}.restoring`;
  await fs.copyFile(src, tmp);
  await fs.chmod(tmp, 0o600);
  const h = await fs.open(tmp, "r+");
  await h.sync();
  await h.close();
  for (const f of [`${ctx.vaultPath}-wal`, `${ctx.vaultPath}-shm`]) await fs.unlink(f).catch(() => undefined);
  await fs.rename(tmp, ctx.vaultPath);
  await syncDir(ctx.home);
  ctx.out.result({ restored: src, previous: keptAs }, () => "");
  ctx.out.info(`restored the vault from ${src}${keptAs ? ` (the previous one is kept as ${keptAs})` : ""}`);
}
