/**
 * What /proc/PID/stat says about a process (Linux): its parent, session, controlling terminal
 * and start time. The file is readable by anyone, for non-dumpable processes too, and these
 * fields are never hidden; a pid and its start time together name one process per boot.
 */
import { readFileSync } from "node:fs";

export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
  /** Session id: the pid of the session's leader. */
  session: number;
  /** The controlling terminal's device number; 0 when the process has none. */
  tty: number;
  /** Clock ticks after boot at which the process started. */
  start: string;
}

/** The stat of `pid` ("self" for this process), or null when it is gone or /proc is absent. */
export function procStat(pid: number | "self"): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const n = (i: number) => Number(f[i]);
  if (f.length < 20) return null;
  return { pid: Number.parseInt(text, 10), state: f[0]!, ppid: n(1), pgrp: n(2), session: n(3), tty: n(4), start: f[19]! };
}

/** Alive and not a zombie. */
export function running(stat: ProcStat | null): stat is ProcStat {
  return stat !== null && stat.state !== "Z" && stat.state !== "X";
}

/** The most ancestors looked at: a process tree is never this deep, a loop would be. */
const MAX_ANCESTRY = 256;

/**
 * Whether `pid` is the process `root` (same pid and start time) or one of its descendants,
 * following parents in /proc. A descendant orphaned by an exit in between (reparented to init)
 * is no longer one: the tree is the one that exists now.
 */
export function descendsFrom(pid: number, root: { pid: number; start: string }, opts: { strict?: boolean } = {}): boolean {
  let current = pid;
  for (let i = 0; i < MAX_ANCESTRY && current > 1; i++) {
    const st = procStat(current);
    if (!running(st)) return false;
    if (st.pid === root.pid && st.start === root.start) return !(opts.strict && i === 0);
    current = st.ppid;
  }
  return false;
}
