import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { authy, initVault, tempHome, withPass, type Result } from "./cli.js";

/** Helpers for daemon tests: every daemon a test starts is found and stopped afterwards. */

export const SESSION_LINE = /^export AUTHY_SESSION=(authy_os_[A-Za-z0-9_-]{43})\n$/;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Alive and not a zombie (this container's PID 1 never reaps orphans). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/**
 * Live daemons of a home, found by what they cannot hide: their stderr is that home's
 * daemon.log (argv says only `__daemon`).
 */
export function daemonPids(home: string): number[] {
  let log: string;
  try {
    log = path.join(realpathSync(home), "daemon", "daemon.log");
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    try {
      if (readlinkSync(`/proc/${pid}/fd/2`) === log && alive(pid)) pids.push(pid);
    } catch {
      // Gone, or not ours to look at.
    }
  }
  return pids;
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
  return Date.now() - start;
}

export function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

const homes: { home: string; cleanup: () => void }[] = [];

/** A fresh initialized home, registered for stopDaemons(). */
export async function vaultHome(sub?: (dir: string) => string): Promise<string> {
  const t = tempHome();
  const entry = { home: sub ? sub(t.dir) : t.home, cleanup: t.cleanup };
  homes.push(entry);
  await initVault(entry.home);
  return entry.home;
}

/** afterEach: `authy lock`, then SIGKILL anything left, then remove the homes. */
export async function stopDaemons(): Promise<void> {
  for (const h of homes.splice(0)) {
    await authy(["lock"], { home: h.home }).catch(() => undefined);
    for (const pid of daemonPids(h.home)) process.kill(pid, "SIGKILL");
    h.cleanup();
  }
}

export interface Unlocked extends Result {
  /** The exported session, with `--export-session` only. */
  session: string | null;
  pid: number;
}

/**
 * `authy unlock` from this test process's session: this process and every one it starts
 * without a new session are then the owner (by terminal session, without any credential).
 */
export async function unlock(home: string, args: string[] = []): Promise<Unlocked> {
  const r = await authy(["unlock", ...args], { home, env: withPass });
  const m = SESSION_LINE.exec(r.stdout);
  if (r.code !== 0 || (args.includes("--export-session") && !m)) throw new Error(`unlock failed (${r.code}): ${r.stderr}`);
  const pids = daemonPids(home);
  if (pids.length !== 1) throw new Error(`expected one daemon, found ${pids.length}`);
  return { ...r, session: m?.[1] ?? null, pid: pids[0]! };
}

export interface Reply {
  status: number;
  body: string;
}

/** One HTTP request on the daemon's socket, with no connection reuse. */
export function request(
  socket: string,
  method: string,
  url: string,
  opts: { bearer?: string; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
    if (opts.body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(opts.body));
    }
    const req = http.request({ socketPath: socket, method, path: url, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error("client timeout")));
    req.on("error", reject);
    req.end(opts.body);
  });
}

export async function socketOf(home: string): Promise<string> {
  const r = await authy(["status", "--json"], { home });
  const s = JSON.parse(r.stdout) as { daemon: { socket: string } | null };
  if (!s.daemon) throw new Error("no daemon running");
  return s.daemon.socket;
}

/** A fresh home, unlocked by a daemon of this process's session, holding `secrets` (path to value). */
export async function unlockedWith(secrets: Record<string, string>): Promise<string> {
  const home = await vaultHome();
  await unlock(home);
  for (const [p, v] of Object.entries(secrets)) {
    const r = await authy(["secrets", "set", p], { home, input: v });
    if (r.code !== 0) throw new Error(`secrets set ${p} failed (${r.code}): ${r.stderr}`);
  }
  return home;
}
