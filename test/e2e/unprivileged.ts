import { execFileSync, spawn, spawnSync, type SpawnOptions } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CLI, PASSPHRASE, TEST_WORK_FACTOR, baseEnv, finished, type Result } from "./cli.js";

/**
 * Hostile tests attack the built CLI as an unprivileged user: root may read any process's
 * memory and environment, so an attack run by root proves nothing. Where the suite runs as
 * root, the owner *and* the attacker are one throwaway account (the threat model's same-user
 * agent); otherwise both are the user running the suite.
 */
export const HOSTILE_USER = "authy-hostile";

export interface Account {
  uid: number;
  gid: number;
}

let account: Account | undefined;

/** The unprivileged account, created once (idempotently) when the suite runs as root. */
export function unprivileged(): Account {
  if (account) return account;
  if (process.getuid?.() !== 0) {
    account = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    return account;
  }
  try {
    execFileSync("id", ["-u", HOSTILE_USER], { stdio: "ignore" });
  } catch {
    try {
      execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", HOSTILE_USER], { stdio: "ignore" });
    } catch {
      // Another test file created it at the same moment: the lookup below decides.
    }
  }
  const uid = Number(execFileSync("id", ["-u", HOSTILE_USER], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", HOSTILE_USER], { encoding: "utf8" }).trim());
  account = { uid, gid };
  return account;
}

/** A 0700 directory owned by the unprivileged account: its HOME, with AUTHY_HOME inside. */
export function hostileHome(): { dir: string; home: string; cleanup: () => void } {
  const { uid, gid } = unprivileged();
  const dir = mkdtempSync(path.join(os.tmpdir(), "authy-hostile-"));
  chownSync(dir, uid, gid);
  chmodSync(dir, 0o700);
  return { dir, home: path.join(dir, ".authy"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The environment of the unprivileged account: HOME and TMPDIR are its own directory. */
export function hostileEnv(dir: string, home: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = { ...baseEnv(home), HOME: dir, TMPDIR: dir, XDG_RUNTIME_DIR: undefined, ...extra };
  for (const [k, v] of Object.entries(env)) if (v === undefined) Reflect.deleteProperty(env, k);
  return env as Record<string, string>;
}

/** Spawn any program as the unprivileged account (pipes by default). */
export function spawnAs(command: string, args: string[], opts: SpawnOptions = {}) {
  const { uid, gid } = unprivileged();
  return spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], ...opts, uid, gid });
}

/** Run a program as the unprivileged account to the end. */
export function runAs(
  command: string,
  args: string[],
  opts: { env: Record<string, string>; input?: string | Buffer; cwd?: string; timeoutMs?: number },
): Promise<Result> {
  return finished(spawnAs(command, args, { env: opts.env, cwd: opts.cwd }), opts.input, opts.timeoutMs ?? 30_000);
}

/** The built CLI run as the unprivileged account (in its HOME unless `cwd` says otherwise). */
export function authyAs(
  args: string[],
  opts: { dir: string; home: string; env?: Record<string, string | undefined>; input?: string | Buffer; cwd?: string; timeoutMs?: number },
): Promise<Result> {
  return runAs(process.execPath, ["--", CLI, ...args], {
    env: hostileEnv(opts.dir, opts.home, opts.env),
    input: opts.input,
    cwd: opts.cwd ?? opts.dir,
    timeoutMs: opts.timeoutMs,
  });
}

/** A vault owned by the unprivileged account, with the fastest accepted work factor. */
export async function initVaultAs(dir: string, home: string): Promise<void> {
  const r = await authyAs(["init", "--work-factor", TEST_WORK_FACTOR], { dir, home, env: { AUTHY_PASSPHRASE: PASSPHRASE } });
  if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
}

/**
 * The set-up of the sandbox tests: bwrap on PATH (or a clear failure), a hostile home with a
 * vault in it, and `work` (the commands' working directory) with any `dirs` beside it, all
 * owned by the unprivileged account.
 */
export async function sandboxHome(dirs: string[] = []): Promise<{ dir: string; home: string; work: string; cleanup: () => void }> {
  if (spawnSync("which", ["bwrap"]).status !== 0) {
    throw new Error("the sandbox tests need bwrap, which is not on PATH; install it (apt-get install bubblewrap)");
  }
  const { dir, home, cleanup } = hostileHome();
  const { uid, gid } = unprivileged();
  for (const d of ["work", ...dirs]) {
    mkdirSync(path.join(dir, d));
    chownSync(path.join(dir, d), uid, gid);
  }
  await initVaultAs(dir, home);
  return { dir, home, work: path.join(dir, "work"), cleanup };
}
