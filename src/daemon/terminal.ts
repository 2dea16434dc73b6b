/**
 * Owner rights bound to the terminal session that unlocked, instead of a secret in the
 * environment (which every program started from the shell would carry, readable by any
 * process of the user in /proc/PID/environ).
 *
 * The rule: a process is the owner when the kernel says, for the connection it made
 * (SO_PEERCRED), that it runs as the daemon's user, in the daemon's session, with the
 * terminal the daemon had when it started as its controlling terminal, and that terminal is
 * still there. Why this holds against a process of the same user elsewhere:
 * - The daemon stays a member of the session that ran `authy unlock` (its own process group,
 *   not its own session). A process cannot join a session it is not in (setsid only makes
 *   a new one, setpgid only moves within one), and a session id cannot be reused while the
 *   daemon is still in that session: the session is the unforgeable record of who unlocked.
 * - A controlling terminal is inherited, or acquired only by a session leader; when the
 *   terminal closes, the kernel clears it for every process of the session, so leftovers of a
 *   closed terminal are not the owner (and the daemon locks, see server.ts).
 * - `authy run` starts its child in a new session (with a PTY: a terminal of its own), so the
 *   child and everything it starts are never the owner.
 * Like sudo's tty tickets, this trusts everything the owner runs in that terminal: an agent
 * started there outside `authy run` is the owner (README, "Threat model").
 *
 * The same test, from the other side, lets the owner's CLI check the daemon: the process
 * listening on the socket must be in this session too, which a relay planted on the socket
 * path by a process elsewhere cannot be.
 */
import { AuthyError } from "../errors.js";
import { native } from "../os/native.js";
import { procStat, type ProcStat } from "../os/proc-stat.js";

export interface OwnerTerminal {
  session: number;
  /** 0 when `authy unlock` ran without a terminal (a script): then the session alone decides. */
  tty: number;
}

/** A connected client, as the kernel and /proc describe it at accept time. */
export interface Peer {
  pid: number;
  uid: number;
  gid: number;
  /** Null when the process was already gone when looked at. */
  stat: ProcStat | null;
}

export function ownerTerminalOf(stat: ProcStat): OwnerTerminal {
  return { session: stat.session, tty: stat.tty };
}

/** The daemon's test: is this peer a process of the owner's terminal session? */
export function isOwnerPeer(peer: Peer, owner: OwnerTerminal, uid: number): boolean {
  return peer.uid === uid && peer.stat !== null && peer.stat.session === owner.session && peer.stat.tty === owner.tty;
}

/** The client's test, either way round: two processes of one terminal session. */
function sameTerminal(a: ProcStat, b: ProcStat): boolean {
  return a.session === b.session && a.tty === b.tty;
}

/** Whether this process is in the terminal session of the daemon `daemonPid` (no request needed to know). */
export function inDaemonTerminal(daemonPid: number): boolean {
  const me = procStat("self");
  const daemon = procStat(daemonPid);
  return me !== null && daemon !== null && sameTerminal(me, daemon);
}

/**
 * The owner's CLI, before it sends anything on a connection: the process listening at the
 * other end (SO_PEERCRED, recorded by the kernel at listen()) must be a process of this user
 * in this terminal session, as the daemon this terminal unlocked is. Throws INTEGRITY otherwise.
 */
export function checkDaemonPeer(fd: number | null, socketPath: string): void {
  const creds = fd === null ? null : (native()?.peerCredentials(fd) ?? null);
  const peer = creds ? procStat(creds.pid) : null;
  const me = procStat("self");
  if (creds && peer && me && creds.uid === process.getuid?.() && sameTerminal(me, peer)) return;
  throw new AuthyError(
    "INTEGRITY",
    `the process answering on ${socketPath}${creds ? ` (pid ${creds.pid})` : ""} is not the daemon this terminal unlocked; nothing was sent to it`,
    {
      hint: "something replaced the daemon's socket: find what did, then `authy lock` and `authy unlock` again",
    },
  );
}
