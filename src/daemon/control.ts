/**
 * What `authy status` and `authy lock` ask of a running daemon.
 */
import { DAEMON_STATE_LIMIT, readFileBounded } from "../files/bounded-read.js";
import { daemonPaths, runningDaemon } from "./paths.js";
import { readLockHolder } from "./lock.js";
import { identityAlive, type ProcessIdentity } from "./process.js";
import { SHUTDOWN_GRACE_MS } from "./lifetime.js";
import { socketRequest } from "./socket-client.js";

/** How long `authy lock` waits for the daemon to exit: its shutdown grace, plus closing up. */
const LOCK_WAIT_MS = SHUTDOWN_GRACE_MS + 5_000;
const LOCK_POLL_MS = 25;

interface DaemonInfo {
  pid: number;
  socket: string;
  /** Epoch ms. */
  startedAt: number | null;
  idleTimeoutMs: number | null;
  maxLifetimeMs: number | null;
  /** Null when the daemon would not say (status needs the owner session) and it cannot be derived. */
  idleLeftMs: number | null;
  lifetimeLeftMs: number | null;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

function fromRecord(pid: number, socket: string, r: Record<string, unknown>, now: number): DaemonInfo {
  const startedAt = num(r.startedAt);
  const maxLifetimeMs = num(r.maxLifetimeMs);
  const derivedLifetime = startedAt !== null && maxLifetimeMs !== null ? Math.max(0, startedAt + maxLifetimeMs - now) : null;
  return {
    pid,
    socket,
    startedAt,
    idleTimeoutMs: num(r.idleTimeoutMs),
    maxLifetimeMs,
    idleLeftMs: num(r.idleLeftMs),
    lifetimeLeftMs: num(r.lifetimeLeftMs) ?? derivedLifetime,
  };
}

/** The status body's daemon fields, wherever the API put them. */
function statusRecord(body: unknown): Record<string, unknown> | null {
  if (typeof body !== "object" || body === null) return null;
  const b = body as Record<string, unknown>;
  for (const candidate of [b, b.daemon, b.status]) {
    if (typeof candidate === "object" && candidate !== null && "idleLeftMs" in candidate) return candidate;
  }
  return null;
}

/**
 * The running daemon's state, or null when none runs. Asks GET /v1/status (with the owner
 * session when there is one); a daemon that will not tell is described from its state file.
 */
export async function daemonStatus(home: string, bearer?: string): Promise<DaemonInfo | null> {
  const running = runningDaemon(home);
  if (!running) return null;
  try {
    const r = await socketRequest(running.socket, "GET", "/v1/status", { bearer });
    const rec = r.status === 200 ? statusRecord(r.body) : null;
    if (rec) return fromRecord(running.pid, running.socket, rec, Date.now());
  } catch {
    // Fall back to the state file.
  }
  let state: Record<string, unknown> = {};
  try {
    state = JSON.parse((await readFileBounded(daemonPaths(home).state, DAEMON_STATE_LIMIT)).toString("utf8")) as Record<string, unknown>;
  } catch {
    // Not written yet (still starting): pid and socket are all we know.
  }
  return fromRecord(running.pid, running.socket, { ...state, idleLeftMs: null, lifetimeLeftMs: null }, Date.now());
}

interface Stopped {
  pid: number;
  /** How it was stopped: asked over the socket, SIGTERM, or SIGKILL when it did not exit in time. */
  how: "request" | "signal" | "killed";
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The running daemon's pid, from its lock (alive, not a reuse of the pid), or null. */
export function daemonHolder(home: string): ProcessIdentity | null {
  const holder = readLockHolder(daemonPaths(home).lock);
  return holder !== null && identityAlive(holder) ? holder : null;
}

/**
 * Locks the vault: `ask` asks the daemon over its socket (POST /v1/lock as the owner, and
 * throws if it refuses), or, without `ask` (an owner who proved it by the passphrase or an
 * identity in this process), the daemon gets SIGTERM. Waits until the daemon has exited
 * (SIGKILL after LOCK_WAIT_MS). Null when no daemon was running.
 */
export async function stopDaemon(home: string, ask?: (socket: string) => Promise<void>): Promise<Stopped | null> {
  const paths = daemonPaths(home);
  const holder = daemonHolder(home);
  if (holder === null) return null;
  let how: Stopped["how"] = "signal";
  if (ask) {
    await ask(paths.socket);
    how = "request";
  } else signal(holder.pid, "SIGTERM");
  const deadline = Date.now() + LOCK_WAIT_MS;
  while (identityAlive(holder)) {
    if (Date.now() >= deadline) {
      signal(holder.pid, "SIGKILL");
      how = "killed";
      // The kernel frees its memory, key included; the socket and lock it leaves are cleaned at the next start.
      while (identityAlive(holder) && Date.now() < deadline + 2_000) await sleep(LOCK_POLL_MS);
      break;
    }
    await sleep(LOCK_POLL_MS);
  }
  return { pid: holder.pid, how };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}
