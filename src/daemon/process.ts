import { readFileSync } from "node:fs";

/**
 * Is a process still there? `kill(pid, 0)` alone is not enough on Linux: a daemon killed
 * with -9 whose parent never reaps it (containers whose PID 1 is not an init) stays a zombie
 * that `kill(pid, 0)` still finds, and a pid recorded before a reboot may belong to another
 * process by now. So where /proc exists, a zombie counts as gone, and a process identity
 * records the start time and boot id that make a pid unambiguous.
 */
export interface ProcessIdentity {
  pid: number;
  /** Clock ticks after boot at which the process started (Linux /proc/<pid>/stat field 22). */
  start: string | null;
  /** /proc/sys/kernel/random/boot_id (Linux). */
  boot: string | null;
}

function procStat(pid: number): { state: string; start: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // "pid (comm) state ppid …": comm may contain spaces and parentheses, so split after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "", start: fields[19] ?? "" };
}

function bootId(): string | null {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return null;
  }
}

function aliveStat(pid: number): { alive: boolean; start: string | null } {
  if (!Number.isSafeInteger(pid) || pid <= 0) return { alive: false, start: null };
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return { alive: false, start: null };
  }
  const stat = procStat(pid);
  if (stat === null) return { alive: true, start: null };
  return { alive: stat.state !== "Z" && stat.state !== "X", start: stat.start };
}

/** True if `pid` names a running (not zombie) process. EPERM means it exists but is not ours. */
export function processAlive(pid: number): boolean {
  return aliveStat(pid).alive;
}

export function currentIdentity(): ProcessIdentity {
  return { pid: process.pid, start: procStat(process.pid)?.start ?? null, boot: bootId() };
}

/** True if the process that recorded `id` is still running (not merely a reuse of its pid). */
export function identityAlive(id: ProcessIdentity): boolean {
  const now = aliveStat(id.pid);
  if (!now.alive) return false;
  if (id.start !== null && now.start !== null && now.start !== id.start) return false;
  if (id.boot !== null) {
    const boot = bootId();
    if (boot !== null && boot !== id.boot) return false;
  }
  return true;
}
