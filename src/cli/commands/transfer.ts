import { constants as fsConstants, promises as fs } from "node:fs";
import path from "node:path";
import { encryptToRecipients, parseRecipient } from "../../crypto/index.js";
import { AuthyError } from "../../errors.js";
import { ensurePrivateDir, refuseSymlink, syncDir, writeFileAtomic } from "../../files/atomic-write.js";
import { fileError } from "../../files/file-error.js";
import type { SqliteStore } from "../../store/sqlite/sqlite-store.js";
import { systemClock } from "../../vault/clock.js";
import type { CliContext } from "../context.js";
import { confirm, stdinIsTTY } from "../input.js";

/** `authy export --to age1…`: a standard age file the stock `age -d` opens. */
export async function exportAge(
  ctx: CliContext,
  flags: { to: string[]; namespace?: string; format: "json" | "dotenv"; armor?: boolean; out?: string },
): Promise<void> {
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
    plain = serializeEnv(
      items.map((i) => ({ key: i.path.replaceAll("/", "__").replaceAll(".", "_").replaceAll("-", "_"), value: Buffer.from(i.value).toString("utf8") })),
      "dotenv",
    );
  }
  const file = await encryptToRecipients(Buffer.from(plain, "utf8"), recipients, { armor: flags.armor });
  if (flags.out) {
    await writeFileAtomic(flags.out, file);
    ctx.out.info(`exported ${items.length} secrets to ${flags.out} (decrypt with \`age -d -i KEYFILE ${flags.out}\`)`);
    ctx.out.result({ count: items.length, out: flags.out, recipients }, () => "");
  } else process.stdout.write(file); // the age file is the output: no JSON after it
}

function defaultBackupName(ctx: CliContext): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return path.join(ctx.home, "backups", `vault-${stamp}.db`);
}

/**
 * A consistent copy via SQLite's backup API: still encrypted, openable as a vault. The user's
 * file goes into a directory that exists (as `env export --out`: a typo in it must not make
 * directories); only the default, under the vault home, has its directory made.
 */
export async function backup(ctx: CliContext, file: string | undefined): Promise<void> {
  const dest = path.resolve(file ?? defaultBackupName(ctx));
  if (file !== undefined) await refuseMissingDir(dest);
  await refuseSymlink(dest);
  if (await fs.lstat(dest).catch(() => null)) throw new AuthyError("ALREADY_EXISTS", `${dest} already exists`, { hint: "choose another file name" });
  const store = await ctx.openStore();
  if (!(await store.getVault())) throw new AuthyError("NOT_INITIALIZED", `no vault in ${ctx.home}`);
  if (file === undefined) await fs.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
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

/** The directory `dest` is to be written in must exist, and be a directory: exit 3 or 2, nothing created. */
async function refuseMissingDir(dest: string): Promise<void> {
  const dir = path.dirname(dest);
  const st = await fs.stat(dir).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    throw fileError(e, dest);
  });
  if (!st?.isDirectory()) throw new AuthyError("INVALID_INPUT", `cannot write ${dest}: ${dir} is not a directory`);
}

/** A verified backup, copied beside the vault and ready to be renamed over it. */
interface Candidate {
  tmp: string;
  vaultId: string;
}

/** Files SQLite keeps beside a database while it is open. */
const SIDE_FILES = ["-wal", "-shm"] as const;

async function removeWithSideFiles(file: string): Promise<void> {
  for (const f of [file, ...SIDE_FILES.map((x) => file + x)]) await fs.unlink(f).catch(() => undefined);
}

/**
 * Copies the backup next to the vault and checks the copy: the user's file is only ever read
 * (SQLite never opens it, so no -wal or -shm appears beside it), and the copy may be written
 * to: unlocking folds the failed unlocks a backup recorded into its audit chain, migrations
 * bring an older backup up to date. Every authenticated table must verify, exactly as `doctor`
 * checks them, before anything is replaced.
 */
async function verifiedCopy(ctx: CliContext, src: string): Promise<Candidate> {
  const st = await fs.stat(src).catch((e: unknown) => {
    throw (e as NodeJS.ErrnoException).code === "ENOENT" ? new AuthyError("NOT_FOUND", `no such backup: ${src}`) : fileError(e, src);
  });
  if (!st.isFile()) throw new AuthyError("INVALID_INPUT", `${src} is not a regular file, so not a vault backup`);
  const { SqliteStore } = await import("../../store/sqlite/sqlite-store.js");
  const { Vault } = await import("../../vault/vault.js");
  const tmp = `${ctx.vaultPath}.restoring`;
  await removeWithSideFiles(tmp);
  let candidate: SqliteStore | undefined;
  try {
    await fs.copyFile(src, tmp, fsConstants.COPYFILE_EXCL);
    // A copy of a live vault may hold committed writes in its WAL still.
    const wal = await fs.stat(`${src}-wal`).catch(() => null);
    if (wal?.isFile()) await fs.copyFile(`${src}-wal`, `${tmp}-wal`, fsConstants.COPYFILE_EXCL);
    await fs.chmod(tmp, 0o600);
    candidate = openCandidate(SqliteStore, tmp, src);
    const problems = candidate.integrityCheck();
    if (problems.length !== 1 || problems[0] !== "ok") throw new AuthyError("INTEGRITY", `${src} is corrupt: ${problems[0]}`);
    const vault = await Vault.unlock({ store: candidate, clock: systemClock }, await ctx.credential()).catch((e: unknown) => {
      if (e instanceof AuthyError && e.code === "NOT_INITIALIZED") throw new AuthyError("INTEGRITY", `${src} is not a vault backup: it holds no vault`);
      throw e instanceof AuthyError && e.code === "UNAVAILABLE" ? new AuthyError("INTEGRITY", `${src} is not a usable vault backup: ${e.message}`) : e;
    });
    const report = await vault.verify();
    if (report.problems.length > 0) {
      const more = report.problems.length > 1 ? ` (and ${report.problems.length - 1} more problem${report.problems.length > 2 ? "s" : ""})` : "";
      throw new AuthyError("INTEGRITY", `${src} does not verify: ${report.problems[0]}${more}`, { hint: "nothing was restored; try an older backup" });
    }
    await vault.recordEvent("vault.restore", "vault", { from: src });
    const vaultId = vault.vaultId;
    vault.lock();
    // Closing checkpoints the WAL into the copy and removes it: one whole file to rename.
    await candidate.close();
    candidate = undefined;
    const h = await fs.open(tmp, "r+");
    await h.sync();
    await h.close();
    return { tmp, vaultId };
  } catch (e) {
    await candidate?.close().catch(() => undefined);
    await removeWithSideFiles(tmp);
    throw e instanceof AuthyError ? e : fileError(e, src);
  }
}

/**
 * Opens the copy beside the vault. The store names the file it opened (the copy, which the
 * user never named) and hints at `authy restore`, the command that failed: the refusal names
 * the user's backup instead, and says that nothing was restored.
 */
function openCandidate(Store: typeof SqliteStore, tmp: string, src: string): SqliteStore {
  try {
    return Store.open(tmp);
  } catch (e) {
    if (!(e instanceof AuthyError)) throw e;
    throw new AuthyError(e.code, e.message.split(tmp).join(src), { hint: "nothing was restored; give a file that `authy backup` wrote", cause: e });
  }
}

/** The id of the vault in the home now, or why it cannot be read. */
async function currentVaultId(ctx: CliContext): Promise<{ id: string | null; problem: string | null }> {
  try {
    const { SqliteStore } = await import("../../store/sqlite/sqlite-store.js");
    const store = SqliteStore.open(ctx.vaultPath);
    try {
      const row = await store.getVault();
      return row ? { id: Buffer.from(row.vaultId).toString("hex"), problem: null } : { id: null, problem: "it holds no vault" };
    } finally {
      await store.close();
    }
  } catch (e) {
    return { id: null, problem: e instanceof Error ? e.message : String(e) };
  }
}

/** Asks before replacing a vault: always on a terminal, `--yes` otherwise; says so when the backup is of another vault. */
async function confirmReplace(ctx: CliContext, src: string, candidateId: string, yes: boolean | undefined): Promise<void> {
  const current = await currentVaultId(ctx);
  const foreign =
    current.id !== null && current.id !== candidateId
      ? `${src} is a backup of another vault (id ${candidateId}), not of the vault in ${ctx.home} (id ${current.id})`
      : current.id === null
        ? `the vault in ${ctx.home} cannot be read (${current.problem ?? "unknown"}); ${src} holds vault ${candidateId}`
        : null;
  if (yes) {
    if (foreign) ctx.out.warn(`${foreign}; replacing it (--yes)`);
    return;
  }
  if (!stdinIsTTY()) {
    throw new AuthyError("INVALID_INPUT", foreign ?? `refusing to replace the vault in ${ctx.home} without confirmation`, {
      hint: foreign ? "pass --yes to replace it anyway" : "pass --yes",
    });
  }
  const question = foreign ? `${foreign}. Replace it anyway?` : `Replace the vault in ${ctx.home} (id ${current.id}) with ${src}?`;
  if (!(await confirm(question))) throw new AuthyError("INTERRUPTED", "nothing restored");
}

/**
 * No daemon may hold the vault while it is replaced: it would go on serving the old file, and
 * every write it acknowledged afterwards would be lost. restore refuses rather than locking a
 * daemon that agents may be using, and holds the daemon lock itself until it is done, so
 * that none starts meanwhile.
 */
async function withoutDaemon<T>(ctx: CliContext, fn: () => Promise<T>): Promise<T> {
  const { checkPrivateDir, daemonPaths, runningDaemon } = await import("../../daemon/paths.js");
  const { acquireLock, releaseLock } = await import("../../daemon/lock.js");
  const refuse = (pid: number, who: string) =>
    new AuthyError("UNAVAILABLE", `${who} (pid ${pid}) holds the vault in ${ctx.home}; restoring under it would lose what it writes afterwards`, {
      hint: "run `authy lock` first, then restore",
    });
  const running = runningDaemon(ctx.home);
  if (running) throw refuse(running.pid, "a daemon");
  const paths = daemonPaths(ctx.home);
  checkPrivateDir(paths.dir, true);
  const lock = await acquireLock(paths.lock);
  if (!lock.ok) throw refuse(lock.holder.pid, "a daemon starting, or another restore,");
  try {
    return await fn();
  } finally {
    releaseLock(paths.lock);
  }
}

/**
 * Replaces the vault with a backup after checking that it is an intact authy vault that the
 * given credentials open. The current vault is kept beside it, never deleted.
 */
export async function restore(ctx: CliContext, file: string, flags: { yes?: boolean }): Promise<void> {
  const src = path.resolve(file);
  await ensurePrivateDir(ctx.home);
  await withoutDaemon(ctx, async () => {
    const candidate = await verifiedCopy(ctx, src);
    try {
      const exists = await fs.lstat(ctx.vaultPath).catch(() => null);
      if (exists) await confirmReplace(ctx, src, candidate.vaultId, flags.yes);
      let keptAs: string | null = null;
      if (exists) {
        keptAs = `${ctx.vaultPath}.before-restore-${Date.now()}`;
        await keepAside(ctx.vaultPath, keptAs);
      }
      for (const x of SIDE_FILES) await fs.unlink(ctx.vaultPath + x).catch(() => undefined);
      await fs.rename(candidate.tmp, ctx.vaultPath);
      await syncDir(ctx.home);
      ctx.out.result({ restored: src, previous: keptAs, vaultId: candidate.vaultId }, () => "");
      ctx.out.info(`restored vault ${candidate.vaultId} from ${src}${keptAs ? ` (the previous one is kept as ${keptAs})` : ""}`);
    } finally {
      await removeWithSideFiles(candidate.tmp);
    }
  });
}

/**
 * The vault being replaced, kept whole: a consistent copy through SQLite when it opens, and
 * otherwise (a corrupt vault, the usual reason to restore) its files renamed aside as they are.
 */
async function keepAside(vaultPath: string, keptAs: string): Promise<void> {
  const { SqliteStore } = await import("../../store/sqlite/sqlite-store.js");
  try {
    const live = SqliteStore.open(vaultPath);
    try {
      await live.backupTo(keptAs);
      await fs.chmod(keptAs, 0o600);
    } finally {
      await live.close();
    }
  } catch {
    await removeWithSideFiles(keptAs);
    for (const x of ["", "-wal"])
      await fs.rename(vaultPath + x, keptAs + x).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw fileError(e, vaultPath + x);
      });
  }
}
