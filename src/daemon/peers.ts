/**
 * The process at the other end of each connection to the daemon, read once at accept time:
 * SO_PEERCRED (pid, uid, gid, as the kernel recorded them at connect()) and that pid's
 * /proc stat (session, terminal, start time). Read at once, so that the pid cannot have been
 * reused by another process in between; the connection keeps its peer for its lifetime.
 */
import type { Socket } from "node:net";
import { native } from "../os/native.js";
import { socketFd } from "../os/socket-fd.js";
import { procStat } from "../os/proc-stat.js";
import type { Peer } from "./terminal.js";

export class PeerTable {
  private readonly peers = new WeakMap<object, Peer | null>();

  record(socket: Socket): void {
    const fd = socketFd(socket);
    const creds = fd === null ? null : (native()?.peerCredentials(fd) ?? null);
    this.peers.set(socket, creds === null ? null : { ...creds, stat: procStat(creds.pid) });
  }

  /** The peer of a connection, or null when the kernel would not say. */
  of(socket: object): Peer | null {
    return this.peers.get(socket) ?? null;
  }
}
