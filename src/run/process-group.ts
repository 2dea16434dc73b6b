/**
 * The child's process group, seen from authy: signals passed on to it, and its exit status.
 * The child leads a group of its own, so a signal reaches everything it started.
 */
import { constants } from "node:os";

/** Signals that authy passes on to the child's process group instead of dying of them. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

/** Catches FORWARDED_SIGNALS and passes them on to a process group, once it is known. */
export class SignalForwarder {
  private pgid: number | null = null;
  private readonly early: NodeJS.Signals[] = [];
  private readonly handlers = FORWARDED_SIGNALS.map((signal) => {
    const handler = () => (this.pgid === null ? this.early.push(signal) : killGroup(this.pgid, signal));
    process.on(signal, handler);
    return [signal, handler] as const;
  });

  forwardTo(pgid: number): void {
    this.pgid = pgid;
    for (const signal of this.early.splice(0)) killGroup(pgid, signal);
  }

  stop(): void {
    for (const [signal, handler] of this.handlers) process.off(signal, handler);
  }
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone
  }
}

export function signalName(signal: number): NodeJS.Signals | null {
  const entry = Object.entries(constants.signals).find(([, n]) => n === signal);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}

/** A shell's exit status: the code, or 128 + N for a process killed by signal N. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? 128 + (signal ? constants.signals[signal] : 0);
}
