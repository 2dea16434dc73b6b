import { promises as fs } from "node:fs";
import { AuthyError } from "../../errors.js";
import { ensurePrivateDir } from "../../files/atomic-write.js";
import { PASSPHRASE_LIMIT, readFileBounded } from "../../files/bounded-read.js";
import { formatDuration } from "../../formats/duration.js";
import { systemClock } from "../../vault/clock.js";
import type { CliContext } from "../context.js";
import { canPrompt, firstLine, promptSecret } from "../input.js";
import { jsonTime, slotJson } from "../json-output.js";
import { isoTime, table } from "../output.js";
import type { Vault } from "../../vault/vault.js";

/** The core, loaded when a command needs it (scripts/bundle.mjs keeps it out of the CLI bundle). */
const loadVault = async () => (await import("../../vault/vault.js")).Vault;

function workFactor(s: string): number {
  if (!/^\d+$/.test(s)) throw new AuthyError("INVALID_INPUT", `--work-factor must be a whole number, not ${JSON.stringify(s)}`);
  return Number(s);
}

/** Typing a new passphrase twice may go wrong; after this many mismatches, start over. */
const NEW_PASSPHRASE_ATTEMPTS = 3;

async function askNewPassphrase(): Promise<string> {
  if (!canPrompt()) {
    throw new AuthyError("INVALID_INPUT", "no new passphrase given", { hint: "pass --new-passphrase-file FILE or set AUTHY_NEW_PASSPHRASE" });
  }
  for (let attempt = 1; ; attempt++) {
    const a = await promptSecret("New passphrase:");
    const b = await promptSecret("Repeat it:");
    if (a === b) return a;
    if (attempt === NEW_PASSPHRASE_ATTEMPTS) throw new AuthyError("INVALID_INPUT", "the passphrases do not match");
    process.stderr.write("the passphrases do not match; try again\n");
  }
}

/** A new vault's passphrase: from the usual sources, or asked twice on a terminal (never once). */
async function newPassphrase(ctx: CliContext): Promise<string> {
  const fromEnv = ctx.opts.passphraseStdin || process.env.AUTHY_PASSPHRASE !== undefined || Boolean(process.env.AUTHY_PASSPHRASE_FILE);
  return fromEnv || !canPrompt() ? ctx.passphrase() : askNewPassphrase();
}

export async function init(
  ctx: CliContext,
  flags: { recipient?: string[]; passphrase: boolean; workFactor: string; database?: string; admin?: string },
): Promise<void> {
  if (flags.database !== undefined) {
    const passphrase = () => newPassphrase(ctx);
    return (await import("./init-database.js")).initDatabase(ctx, { ...flags, database: flags.database }, workFactor(flags.workFactor), passphrase);
  }
  if (flags.admin !== undefined) {
    throw new AuthyError("INVALID_INPUT", "--admin only applies with --database: it names the first admin of a team server's vault", {
      hint: "drop --admin for a vault of your own, or add --database postgres://… for a team server",
    });
  }
  const wf = workFactor(flags.workFactor);
  const recipients = flags.recipient ?? [];
  if (!flags.passphrase && recipients.length === 0) throw new AuthyError("INVALID_INPUT", "--no-passphrase needs at least one --recipient");
  await ensurePrivateDir(ctx.home);
  const existing = await fs.lstat(ctx.vaultPath).catch(() => null);
  if (existing) throw new AuthyError("ALREADY_EXISTS", `a vault already exists at ${ctx.vaultPath}`, { hint: "use it, or choose another --home" });
  const passphrase = flags.passphrase ? await newPassphrase(ctx) : undefined;
  if (passphrase !== undefined && passphrase.length === 0) throw new AuthyError("INVALID_INPUT", "the passphrase is empty");
  let vault: Vault;
  try {
    const store = await ctx.openStore({ create: true });
    await fs.chmod(ctx.vaultPath, 0o600);
    vault = await (await loadVault()).init({ store, clock: systemClock }, { passphrase, workFactor: wf, recipients });
  } catch (e) {
    // Leave nothing half-made behind: a failed init must not look like a vault.
    await ctx.closeStore();
    for (const f of [ctx.vaultPath, `${ctx.vaultPath}-wal`, `${ctx.vaultPath}-shm`]) await fs.unlink(f).catch(() => undefined);
    throw e;
  }
  ctx.out.result({ home: ctx.home, vault: ctx.vaultPath, vaultId: vault.vaultId, passphrase: Boolean(passphrase), recipients }, () => "");
  ctx.out.info(`created a vault in ${ctx.home}`);
}

export async function status(ctx: CliContext): Promise<number> {
  const server = ctx.server();
  if (server) return (await import("./login.js")).serverStatus(ctx, server);
  const exists = await fs.lstat(ctx.vaultPath).catch(() => null);
  const s = exists ? await (await loadVault()).status(await ctx.openStore()) : { initialized: false, vaultId: null, createdAt: null, slots: [] };
  const { daemonStatus } = await import("../../daemon/control.js");
  const d = s.initialized ? await daemonStatus(ctx.home, process.env.AUTHY_SESSION ? await ctx.sessionProof(process.env.AUTHY_SESSION) : undefined) : null;
  const left = (ms: number | null) => (ms === null ? "?" : formatDuration(ms));
  const locksIn = d && (d.idleLeftMs !== null ? `${formatDuration(d.idleLeftMs)} if idle, ` : "");
  const state = d
    ? [
        `state:    unlocked (daemon pid ${d.pid})`,
        `socket:   ${d.socket}`,
        `locks in: ${locksIn}${left(d.lifetimeLeftMs)} at the latest${d.idleLeftMs === null ? " (the terminal that unlocked it sees the idle time left)" : ""}`,
      ]
    : [`state:    locked (no daemon; each command unlocks)`];
  const ms = (n: number | null) => (n === null ? null : Math.round(n)); // whole milliseconds, as every duration in --json
  const daemon = d && { ...d, startedAt: jsonTime(d.startedAt), idleLeftMs: ms(d.idleLeftMs), lifetimeLeftMs: ms(d.lifetimeLeftMs) };
  ctx.out.result(
    {
      home: ctx.home,
      vault: ctx.vaultPath,
      initialized: s.initialized,
      vaultId: s.vaultId,
      createdAt: jsonTime(s.createdAt),
      locked: d === null,
      daemon,
      slots: s.slots.map(slotJson),
    },
    () =>
      s.initialized
        ? [
            `vault:    ${ctx.vaultPath}`,
            `id:       ${s.vaultId}`,
            `created:  ${isoTime(s.createdAt)}`,
            ...state,
            `unlocks:  ${s.slots.map((x) => (x.kind === "passphrase" ? "passphrase" : x.recipient)).join(", ")}`,
          ].join("\n")
        : `no vault in ${ctx.home} (run \`authy init\`)`,
  );
  return s.initialized ? 0 : 6;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  severity: "error" | "warning";
}

/** How doctor names each authenticated table (src/vault/verify.ts). */
const TABLE_NAMES: Record<string, string> = {
  key_slots: "key slots",
  secrets: "secrets and their listing",
  secret_versions: "secret versions, old and current",
  policy: "the policy",
  agents: "agents",
  members: "members of a team server",
  tokens: "tokens",
  approvals: "approvals",
  audit: "audit chain entries",
  freshness: "every row is the latest written (state digests, unlock failures)",
};

export async function doctor(ctx: CliContext): Promise<void> {
  const checks: Check[] = [];
  const add = (name: string, ok: boolean, detail: string, severity: Check["severity"] = "error") => checks.push({ name, ok, detail, severity });
  const home = await fs.lstat(ctx.home).catch(() => null);
  if (!home) throw new AuthyError("NOT_INITIALIZED", `no vault in ${ctx.home}`, { hint: "run `authy init`" });
  add("home directory is private (0700)", (home.mode & 0o077) === 0, `mode ${(home.mode & 0o777).toString(8)}`, "warning");
  const file = await fs.lstat(ctx.vaultPath).catch(() => null);
  if (!file) throw new AuthyError("NOT_INITIALIZED", `no vault in ${ctx.home}`, { hint: "run `authy init`" });
  add("vault file is private (0600)", (file.mode & 0o077) === 0, `mode ${(file.mode & 0o777).toString(8)}`, "warning");
  // SQLite's write-ahead log and its index hold recent pages of the vault; checked before this
  // command's own open makes them (when present, they were left by another process or a crash).
  for (const suffix of ["-wal", "-shm"]) {
    const side = await fs.lstat(`${ctx.vaultPath}${suffix}`).catch(() => null);
    if (side) add(`vault.db${suffix} file is private (0600)`, (side.mode & 0o077) === 0, `mode ${(side.mode & 0o777).toString(8)}`, "warning");
  }
  const { nativeUnavailable, protectProcess } = await import("../../os/native.js");
  const impossible = nativeUnavailable();
  add(
    "processes holding keys are non-dumpable and the daemon knows its callers",
    impossible === null && protectProcess(),
    impossible === null
      ? "prctl(PR_SET_DUMPABLE, 0) and SO_PEERCRED available"
      : `impossible here (${impossible}): other processes of your user can read authy's memory, and the daemon cannot run; use direct mode`,
    "warning",
  );
  const store = await ctx.openStore();
  const sqlite = store.integrityCheck();
  add("database structure (PRAGMA integrity_check)", sqlite.length === 1 && sqlite[0] === "ok", sqlite.slice(0, 3).join("; "));
  const st = await (await loadVault()).status(store);
  for (const slot of st.slots.filter((x) => x.kind === "passphrase")) {
    add(
      `passphrase slot work factor`,
      slot.workFactor !== null && slot.workFactor >= 15 && slot.workFactor <= 20,
      `scrypt log2 N = ${slot.workFactor ?? "unreadable"}`,
    );
  }
  const { legacyConfigNotice } = await import("../../notify/config.js");
  const legacy = await legacyConfigNotice(ctx.home).catch(() => null);
  add("no config.yaml (settings live in the vault: authy config list)", legacy === null, legacy ?? "none", "warning");
  const vault = await ctx.unlock();
  const report = await vault.verify();
  for (const [table, r] of Object.entries(report.tables)) {
    add(`${TABLE_NAMES[table] ?? table} authenticate`, r.problems.length === 0, r.problems.length ? r.problems.slice(0, 5).join("; ") : `${r.rows} checked`);
  }
  ctx.out.result({ ok: checks.every((c) => c.ok || c.severity === "warning"), checks }, () =>
    table(
      ["", "CHECK", "DETAIL"],
      checks.map((c) => [c.ok ? "ok" : c.severity === "error" ? "FAIL" : "warn", c.name, c.detail]),
    ),
  );
  const failed = checks.filter((c) => !c.ok && c.severity === "error");
  if (failed.length > 0) throw new AuthyError("INTEGRITY", `doctor found ${failed.length} problem(s): ${failed.map((c) => c.name).join(", ")}`);
}

export async function passwd(ctx: CliContext, flags: { newPassphraseFile?: string; workFactor: string }): Promise<void> {
  const wf = workFactor(flags.workFactor);
  const vault = await ctx.unlock();
  const next = flags.newPassphraseFile
    ? firstLine(await readFileBounded(flags.newPassphraseFile, PASSPHRASE_LIMIT))
    : (process.env.AUTHY_NEW_PASSPHRASE ?? (await askNewPassphrase()));
  if (next.length === 0) throw new AuthyError("INVALID_INPUT", "the new passphrase is empty");
  const slot = await vault.changePassphrase(next, wf);
  ctx.out.result({ slot: slotJson(slot) }, () => "");
  ctx.out.info("passphrase changed");
}
