/**
 * Tokens that only one process tree may use: `authy run --pass-token` gives its child a token
 * that works for the child and its descendants, and for no other process of the user (which
 * could read it from the child's environment), and dies when the child exits.
 *
 * The token is issued before the child exists (it goes in its environment), bound to
 * `authy run` itself (the anchor); until `run` names its child, only strict descendants of
 * the anchor may use it. Then only the child and its descendants, by pid and start time,
 * following parents in /proc at each request. The daemon watches the child itself (server.ts,
 * every PID_CHECK_INTERVAL_MS), so a stopped `authy run`, or one still waiting on a background
 * job that holds its output, cannot keep the token alive. Kept in the daemon's memory only:
 * such tokens die with the daemon anyway.
 *
 * A relayed token (`run --sandbox --pass-token`) is used by the anchor alone: the sandboxed
 * child reaches the daemon only through the run's own socket, which `authy run` relays (see
 * run/run-socket.ts), so every connection that carries the token comes from `authy run`
 * itself, and a connection from anywhere else (the token copied out of the sandbox) is
 * refused. The child is still named, so that the token dies when it exits.
 */
import { AuthyError } from "../errors.js";
import { descendsFrom, procStat, running } from "../os/proc-stat.js";
import type { Peer } from "./terminal.js";

interface ProcessRef {
  pid: number;
  start: string;
}

interface Binding {
  anchor: ProcessRef;
  child: ProcessRef | null;
  /** Only the anchor itself may use it: it relays for a sandboxed child. */
  relayed: boolean;
}

function refOf(pid: number): ProcessRef | null {
  const st = procStat(pid);
  return running(st) ? { pid, start: st.start } : null;
}

export class ProcessTokens {
  private readonly bindings = new Map<string, Binding>();

  /**
   * A new token for the process tree under `anchorPid` (the `authy run` that asked), or with
   * `relayed` for `anchorPid` alone.
   */
  track(tokenId: string, anchorPid: number, opts: { relayed?: boolean } = {}): void {
    const anchor = refOf(anchorPid);
    if (!anchor) throw new AuthyError("INVALID_INPUT", `process ${anchorPid} is not running`);
    this.bindings.set(tokenId, { anchor, child: null, relayed: opts.relayed === true });
  }

  /** The anchor names its child, once. Only the anchor itself, and only a child of its own. */
  bind(tokenId: string, childPid: number, caller: Peer | null): void {
    const b = this.bindings.get(tokenId);
    const anchorCalls = caller?.stat != null && caller.pid === b?.anchor.pid && caller.stat.start === b.anchor.start;
    const child = procStat(childPid);
    if (!b || !anchorCalls || b.child !== null || !running(child) || child.ppid !== b.anchor.pid) {
      throw new AuthyError("ACCESS_DENIED", "only the process a token was issued to can bind it to a child of its own, once");
    }
    b.child = { pid: childPid, start: child.start };
  }

  /** Whether the process at the other end of a connection may use this token. */
  admit(tokenId: string, peer: Peer | null): boolean {
    const b = this.bindings.get(tokenId);
    if (!b) return true;
    if (!peer) return false;
    if (b.relayed) return peer.pid === b.anchor.pid && peer.stat?.start === b.anchor.start;
    return b.child ? descendsFrom(peer.pid, b.child) : descendsFrom(peer.pid, b.anchor, { strict: true });
  }

  /** The pid of a bound child that has exited (the token must die), or null. */
  exited(tokenId: string): number | null {
    const child = this.bindings.get(tokenId)?.child;
    if (!child) return null;
    const now = procStat(child.pid);
    return running(now) && now.start === child.start ? null : child.pid;
  }

  forget(tokenId: string): void {
    this.bindings.delete(tokenId);
  }
}
