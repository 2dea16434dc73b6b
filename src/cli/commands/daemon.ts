import { AuthyError } from "../../errors.js";
import { stopDaemon } from "../../daemon/control.js";
import { MAX_LIFETIME_LIMIT_MS } from "../../daemon/lifetime.js";
import { runningDaemon } from "../../daemon/paths.js";
import { newOwnerSession } from "../../daemon/session.js";
import { formatDuration, parseDuration } from "../../formats/duration.js";
import type { CliContext } from "../context.js";

function lifetimeFlag(name: string, text: string): number {
  const ms = parseDuration(text);
  if (ms <= 0) throw new AuthyError("INVALID_INPUT", `--${name} must be longer than zero`, { hint: "for example 15m or 8h" });
  if (ms > MAX_LIFETIME_LIMIT_MS) throw new AuthyError("INVALID_INPUT", `--${name} is longer than the ${formatDuration(MAX_LIFETIME_LIMIT_MS)} limit`, { hint: "unlock again when it locks" });
  return ms;
}

/**
 * `authy unlock`: unlock here, hand the key to a new daemon, print the owner session. A
 * running daemon is an error (exit 2): its session was printed once and cannot be shown
 * again, so the answer is `authy lock` and unlock again, never a second daemon.
 */
export async function unlock(ctx: CliContext, flags: { idle: string; max: string; shell?: boolean }): Promise<void> {
  const idleMs = lifetimeFlag("idle", flags.idle);
  const maxMs = lifetimeFlag("max", flags.max);
  const running = runningDaemon(ctx.home);
  if (running) {
    throw new AuthyError("ALREADY_EXISTS", `the vault is already unlocked: a daemon is running (pid ${running.pid}, socket ${running.socket})`, {
      hint: "use the AUTHY_SESSION it printed, or run `authy lock` and then `authy unlock` again",
    });
  }
  const { checkDaemonPaths, startDaemon } = await import("../../daemon/spawn.js");
  checkDaemonPaths(ctx.home); // a planted file at the socket path is refused before the passphrase is asked
  const vault = await ctx.unlock();
  const key = vault.exportKey();
  const session = newOwnerSession();
  let started;
  try {
    started = await startDaemon({ home: ctx.home, vaultPath: ctx.vaultPath, key, session, idleMs, maxMs });
  } finally {
    key.fill(0);
    vault.lock();
  }
  const line = `export AUTHY_SESSION=${session}`;
  if (process.stdout.isTTY && !flags.shell) {
    ctx.out.info(`unlocked: daemon ${started.pid} locks after ${formatDuration(idleMs)} idle, ${formatDuration(maxMs)} at the latest.`);
    ctx.out.info(`To use it, run this line in your shell (next time: eval "$(authy unlock)"):`);
  }
  ctx.out.result({ session, export: line, pid: started.pid, socket: started.socket, idleTimeoutMs: idleMs, maxLifetimeMs: maxMs }, () => line);
}

/** `authy lock`: stop the daemon; "nothing to lock" is success. */
export async function lock(ctx: CliContext): Promise<void> {
  const stopped = await stopDaemon(ctx.home, process.env.AUTHY_SESSION);
  ctx.out.result({ locked: true, wasRunning: stopped !== null, pid: stopped?.pid ?? null }, () => "");
  if (!stopped) ctx.out.info("no daemon is running; the vault is locked");
  else {
    ctx.out.info(`locked: daemon ${stopped.pid} stopped`);
    if (stopped.how === "killed") ctx.out.warn(`the daemon did not exit in time and was killed`);
  }
}

/** The hidden `__daemon` command: the daemon process itself (see src/daemon/server.ts). */
export async function daemon(): Promise<number> {
  const { runDaemon } = await import("../../daemon/server.js");
  return runDaemon();
}
