/**
 * The daemon process (`authy __daemon`, started by `authy unlock`, see spawn.ts). It reads
 * the handoff (handoff.ts) on stdin, takes the lock, opens the vault from the raw key,
 * serves the HTTP API on the Unix socket and answers "ready" on fd 3. It locks itself after
 * the idle timeout or the maximum lifetime (lifetime.ts), on `POST /v1/lock`, or on
 * SIGTERM/SIGINT/SIGHUP: stop accepting, let in-flight requests finish (bounded), audit,
 * wipe the keys, close the store, remove the socket, state file and lock, and return.
 *
 * Tokens are bound to this daemon's instance id, a fresh random value per start: when it
 * locks, every token it issued dies with it, and a restarted daemon honours none of them.
 *
 * stderr is the log file (`daemon.log`): times, pids and reasons, never a key or a value.
 */
import { chmodSync, closeSync, lstatSync, unlinkSync, writeSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import type { Socket } from "node:net";
import { buildApi } from "../api/index.js";
import { closeGracefully } from "../api/graceful-close.js";
import { randomId } from "../crypto/index.js";
import { approvalSettings } from "../notify/notifier.js";
import { legacyConfigNotice } from "../notify/config.js";
import { AuthyError, isAuthyError } from "../errors.js";
import { writeFileAtomic } from "../files/atomic-write.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import { systemClock } from "../vault/clock.js";
import { Vault } from "../vault/vault.js";
import { encodeHello, encodeReady, MAX_HANDOFF_BYTES, parseHandoff, type Handoff, type Ready } from "./handoff.js";
import { Lifetime, SHUTDOWN_GRACE_MS } from "./lifetime.js";
import { acquireLock, releaseLock } from "./lock.js";
import { daemonPaths, inspectSocketPath, prepareDaemonDirs, type DaemonPaths } from "./paths.js";
import { processAlive } from "./process.js";
import { proofMatches } from "./session.js";
import { native, nativeUnavailable, protectProcess } from "../os/native.js";
import { procStat } from "../os/proc-stat.js";
import { PeerTable } from "./peers.js";
import { ProcessTokens } from "./process-tokens.js";
import { isOwnerPeer, ownerTerminalOf, type OwnerTerminal, type Peer } from "./terminal.js";
import { probeSocket } from "./socket-client.js";

/** How often the idle timeout and the maximum lifetime are checked. */
const LIFETIME_CHECK_INTERVAL_MS = 1_000;
/** How often tokens bound to a process are checked against that process being alive. */
const PID_CHECK_INTERVAL_MS = 1_000;
/** A daemon nobody sends a handoff to (started by hand) gives up after this. */
const HANDOFF_TIMEOUT_MS = 10_000;
/**
 * Pending connections the kernel queues before accept(). Above Node's 511 so that a burst of
 * a thousand local clients is queued rather than refused (Linux caps it at somaxconn).
 */
const LISTEN_BACKLOG = 4096;
/**
 * How often node enforces the API's headers and request timeouts. Its default, 30 s, would
 * let a client that sends half a request hold its connection up to 30 s past the timeout.
 */
const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;
/** The file descriptor on which `authy unlock` waits for the ready line. */
const READY_FD = 3;

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} authy-daemon[${process.pid}] ${message}\n`);
}

function describe(e: unknown): string {
  return isAuthyError(e) ? `${e.code}: ${e.message}` : ((e as Error | null)?.message ?? String(e));
}

function readHandoff(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const timer = setTimeout(
      () => fail(new AuthyError("INVALID_INPUT", "no start message arrived on stdin", { hint: "the daemon is started by `authy unlock`, not by hand" })),
      HANDOFF_TIMEOUT_MS,
    );
    const fail = (e: Error) => {
      clearTimeout(timer);
      process.stdin.destroy();
      reject(e);
    };
    process.stdin.on("data", (c: Buffer) => {
      total += c.length;
      if (total > MAX_HANDOFF_BYTES) fail(new AuthyError("INVALID_INPUT", "the start message is too large"));
      else chunks.push(c);
    });
    process.stdin.on("end", () => {
      clearTimeout(timer);
      process.stdin.destroy();
      const text = Buffer.concat(chunks);
      resolve(text.toString("utf8"));
      text.fill(0);
      for (const c of chunks) c.fill(0);
    });
    process.stdin.on("error", fail);
  });
}

/** Tells `authy unlock` it may send the key now (this process is non-dumpable). */
function sendHello(): boolean {
  try {
    writeSync(READY_FD, encodeHello(process.pid));
    return true;
  } catch {
    return false;
  }
}

/**
 * Before anything secret arrives: non-dumpable (no other process of the user can read this
 * one's memory, environment or descriptors, nor attach to it), and out of the terminal's
 * foreground process group (Ctrl-C in the terminal that unlocked is not for the daemon).
 * Then this process's session and terminal are the owner's (terminal.ts).
 */
function protect(): OwnerTerminal {
  const n = native();
  if (!n)
    throw new AuthyError("UNAVAILABLE", `the daemon cannot protect itself here: ${nativeUnavailable()}`, {
      hint: "use direct mode (AUTHY_PASSPHRASE or an identity) on this system",
    });
  protectProcess();
  n.ownProcessGroup();
  const self = procStat("self");
  if (!self) throw new AuthyError("UNAVAILABLE", "the daemon cannot read /proc/self/stat", { hint: "the daemon needs /proc (Linux)" });
  return ownerTerminalOf(self);
}

/** Tells `authy unlock` how the start went. False if it is no longer there to hear it. */
function sendReady(r: Ready): boolean {
  try {
    writeSync(READY_FD, encodeReady(r));
    return true;
  } catch {
    return false;
  } finally {
    try {
      closeSync(READY_FD);
    } catch {
      // Not open: started by hand.
    }
  }
}

/** Removes a socket left by a daemon that died, and refuses anything else at that path. */
async function clearStaleSocket(socket: string): Promise<void> {
  if (inspectSocketPath(socket) === "absent") return;
  if ((await probeSocket(socket)) === "live") {
    throw new AuthyError("ALREADY_EXISTS", `something is already listening on ${socket}`, { hint: "`authy lock` stops a running daemon" });
  }
  // Checked again right before unlinking: only ever a socket, in our private directory.
  if (lstatSync(socket).isSocket()) unlinkSync(socket);
}

/** Removes the socket this daemon bound (by inode), never one it did not. */
function unlinkOwnSocket(socket: string, ino: number | null): void {
  if (ino === null) return;
  try {
    const st = lstatSync(socket);
    if (st.isSocket() && st.ino === ino) unlinkSync(socket);
  } catch {
    // Already gone (closing the server removes it).
  }
}

/** Signals that lock the daemon. The CLI's own SIGINT handler exits at once; the daemon locks cleanly instead. */
const SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

/**
 * Runs the daemon until it locks. Resolves when everything is closed; the process then
 * exits on its own (nothing is left on the event loop).
 */
export async function runDaemon(): Promise<number> {
  process.umask(0o077);
  process.title = "authy-daemon"; // what ps shows, instead of node and a path
  let handoff: Handoff;
  let owner: OwnerTerminal;
  try {
    owner = protect();
    if (!sendHello())
      throw new AuthyError("INVALID_INPUT", "nobody is waiting for this daemon", { hint: "the daemon is started by `authy unlock`, not by hand" });
    handoff = parseHandoff(await readHandoff());
  } catch (e) {
    log(`not starting: ${describe(e)}`);
    sendReady({ ok: false, error: errorOf(e) });
    return 2;
  }
  const paths = daemonPaths(handoff.home);
  let locked = false;
  let store: SqliteStore | undefined;
  let vault: Vault | undefined;
  let approvals: Awaited<ReturnType<typeof approvalSettings>> | undefined;
  const key = Buffer.from(handoff.key, "base64");
  try {
    prepareDaemonDirs(paths);
    const lock = await acquireLock(paths.lock);
    if (!lock.ok)
      throw new AuthyError("ALREADY_EXISTS", `a daemon is already running for ${handoff.home} (pid ${lock.holder.pid})`, {
        hint: "use it from the terminal that unlocked it, or `authy lock` first",
      });
    locked = true;
    await clearStaleSocket(paths.socket);
    // Several reads a request: they share a snapshot (read-snapshot.ts).
    store = SqliteStore.open(handoff.vault, { sharedReads: true });
    // Approval requests notify the owner (webhook, desktop) per the settings in the vault.
    approvals = approvalSettings((m) => log(`notification: ${m}`));
    const legacy = await legacyConfigNotice(handoff.home).catch(() => null);
    if (legacy) log(legacy);
    // The keyring keeps this buffer and wipes it when the vault locks.
    vault = await Vault.fromKey({ store, clock: systemClock, approvals }, new Uint8Array(key.buffer, key.byteOffset, key.byteLength));
  } catch (e) {
    key.fill(0);
    vault?.lock();
    await store?.close().catch(() => undefined);
    if (locked) releaseLock(paths.lock);
    log(`not starting: ${describe(e)}`);
    sendReady({ ok: false, error: errorOf(e) });
    return 1;
  }
  return serve(handoff, owner, paths, store, vault, approvals);
}

function errorOf(e: unknown): { code: AuthyError["code"]; message: string; hint: string | null } {
  if (isAuthyError(e)) return { code: e.code, message: e.message, hint: e.hint ?? null };
  return { code: "INTERNAL", message: `the daemon failed to start: ${describe(e)}`, hint: "see the daemon log" };
}

async function serve(
  handoff: Handoff,
  owner: OwnerTerminal,
  paths: DaemonPaths,
  store: SqliteStore,
  vault: Vault,
  approvals: Awaited<ReturnType<typeof approvalSettings>> | undefined,
): Promise<number> {
  const sessionHash = handoff.sessionHash === null ? null : Buffer.from(handoff.sessionHash, "base64");
  const uid = process.getuid?.() ?? -1;
  const peers = new PeerTable();
  const processTokens = new ProcessTokens();
  const instance = randomId("dmn_");
  const lifetime = new Lifetime(handoff.idleMs, handoff.maxMs);
  let current: Vault | null = vault;
  let app: FastifyInstance | undefined;
  let socketIno: number | null = null;
  let tokenCheck: Promise<void> | undefined;
  let started = false;
  let stopping: Promise<void> | undefined;
  let onStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (onStopped = resolve));
  const timers: NodeJS.Timeout[] = [];

  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      for (const t of timers) clearInterval(t);
      log(`locking: ${reason}`);
      if (app)
        await closeGracefully(app, SHUTDOWN_GRACE_MS, () => log(`in-flight requests still running after ${SHUTDOWN_GRACE_MS} ms; closing their connections`));
      // No request is left: from here on the vault is never handed out again.
      current = null;
      await tokenCheck;
      if (started)
        await vault.recordEvent("vault.lock", "vault", { mode: "daemon", reason }).catch((e: unknown) => log(`could not audit the lock: ${describe(e)}`));
      vault.lock();
      sessionHash?.fill(0);
      await approvals?.notifier.flush().catch((e: unknown) => log(`notifications: ${describe(e)}`));
      await store.close().catch((e: unknown) => log(`closing the store: ${describe(e)}`));
      unlinkOwnSocket(paths.socket, socketIno);
      try {
        unlinkSync(paths.state);
      } catch {
        // Never written, or already gone.
      }
      releaseLock(paths.lock);
      for (const s of SIGNALS) process.removeAllListeners(s);
      log("locked; exiting");
    })().finally(onStopped);
    return stopping;
  };

  try {
    app = await buildApi({
      vault: () => current,
      instance,
      peer: (req) => peers.of(req.raw.socket),
      isOwnerPeer: (peer) => isOwnerPeer(peer as Peer, owner, uid),
      isOwnerSession: (bearer, peer) =>
        sessionHash !== null && peer !== null && (peer as Peer).stat !== null && proofMatches(sessionHash, bearer, (peer as Peer).stat!),
      processTokens,
      // A refused `authy lock` (a process that is not the owner) is audited, with who tried.
      onRefused: async (action, peer, error) => {
        const p = peer as Peer | null;
        log(`refused ${action}: pid ${p?.pid ?? "unknown"}`);
        await current
          ?.recordEvent(action, "vault", {
            pid: p?.pid ?? null,
            uid: p?.uid ?? null,
            session: p?.stat?.session ?? null,
            reason: isAuthyError(error) ? error.message : "refused",
          })
          .catch((e: unknown) => log(`could not audit ${action}: ${describe(e)}`));
      },
      onActivity: () => lifetime.touch(),
      onInternalError: (e) => log(`internal error answering a request: ${describe(e)}`),
      // Answer the request first: shutting down waits for in-flight requests, this one included.
      lock: async () => {
        setImmediate(() => void shutdown("lock requested"));
      },
      status: () => ({
        state: "unlocked",
        pid: process.pid,
        socket: paths.socket,
        startedAt: lifetime.startedAt,
        idleTimeoutMs: lifetime.idleMs,
        maxLifetimeMs: lifetime.maxMs,
        ...lifetime.remaining(),
      }),
    });
    // Read by node when the server starts listening (missing from @types/node 20).
    (app.server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = CONNECTIONS_CHECK_INTERVAL_MS;
    // Who is at the other end, as the kernel recorded it at connect(): read at once, before
    // the pid could be reused.
    app.server.on("connection", (socket: Socket) => peers.record(socket));
    await app.listen({ path: paths.socket, backlog: LISTEN_BACKLOG });
    // The umask already made it 0600; the chmod says so and does not depend on it.
    chmodSync(paths.socket, 0o600);
    socketIno = lstatSync(paths.socket).ino;
    const state = { pid: process.pid, socket: paths.socket, startedAt: lifetime.startedAt, idleTimeoutMs: handoff.idleMs, maxLifetimeMs: handoff.maxMs };
    await writeFileAtomic(paths.state, JSON.stringify(state) + "\n");
    await vault.recordEvent("vault.unlock", "vault", { mode: "daemon", pid: process.pid, idleTimeoutMs: handoff.idleMs, maxLifetimeMs: handoff.maxMs });
    started = true;
  } catch (e) {
    log(`not starting: ${describe(e)}`);
    await shutdown("failed to start");
    sendReady({ ok: false, error: errorOf(e) });
    return 1;
  }

  // Only now: a signal while starting ends the process at once (the key dies with it, and
  // the next start cleans up the socket and lock it leaves).
  for (const s of SIGNALS) {
    process.removeAllListeners(s);
    process.on(s, () => void shutdown(`signal ${s}`));
  }
  timers.push(
    setInterval(() => {
      const why = lifetime.expired();
      if (why) void shutdown(why === "idle" ? "idle timeout" : "maximum lifetime reached");
      // Nobody can be the owner any more: the terminal is gone for the whole session.
      else if (owner.tty !== 0 && procStat("self")?.tty !== owner.tty) void shutdown("the terminal that unlocked it closed");
    }, LIFETIME_CHECK_INTERVAL_MS),
    setInterval(() => {
      if (tokenCheck || !current) return;
      tokenCheck = revokeOrphanedTokens(current, instance, processTokens)
        .catch((e: unknown) => log(`checking process-bound tokens: ${describe(e)}`))
        .finally(() => (tokenCheck = undefined));
    }, PID_CHECK_INTERVAL_MS),
  );

  log(`unlocked: socket ${paths.socket}, idle timeout ${handoff.idleMs} ms, maximum lifetime ${handoff.maxMs} ms`);
  if (!sendReady({ ok: true, pid: process.pid, socket: paths.socket })) {
    // Whoever started us is gone and never printed the session: nobody could use this daemon.
    await shutdown("the `authy unlock` that started it went away");
    return 0;
  }
  // Until something calls shutdown() (a timer, POST /v1/lock or a signal) and it completes.
  await stopped;
  return 0;
}

/**
 * Revokes this daemon's live tokens whose bound process has exited: the process given at
 * issue, and for a `run --pass-token` token the run's child too, watched here by pid and
 * start time, so the token dies with the child whatever happens to `authy run` (stopped,
 * or waiting on a background job that holds its output).
 */
async function revokeOrphanedTokens(vault: Vault, instance: string, processTokens: ProcessTokens): Promise<void> {
  const now = Date.now();
  for (const t of await vault.listTokens(instance)) {
    if (t.pid === null || t.revokedAt !== null || t.expiresAt <= now) {
      processTokens.forget(t.id);
      continue;
    }
    const gone = !processAlive(t.pid) ? t.pid : processTokens.exited(t.id);
    if (gone !== null) {
      await vault.revokeToken(t.id);
      processTokens.forget(t.id);
      log(`revoked token ${t.id}: its process ${gone} exited`);
    }
  }
}
