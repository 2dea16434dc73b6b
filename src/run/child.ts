/**
 * Running the child of `authy run`: no shell, its own session and process group (so signals
 * reach everything it starts), signals forwarded, its exit status returned the way a shell
 * reports it, output optionally masked, and a watchdog in case authy itself dies.
 *
 * The child is the leader of a new session (`detached`), which Node offers instead of a bare
 * new process group. In pipe mode it therefore has no controlling terminal: it reads the
 * inherited stdin as it is, but cannot open /dev/tty, and the terminal's Ctrl-C reaches it
 * through authy's forwarding, once. In PTY mode the PTY is its controlling terminal.
 *
 * A background process the child leaves behind that keeps the output pipe open keeps `run`
 * waiting for the end of the output, as a shell pipeline would.
 */
import { rmdirSync, statSync } from "node:fs";
import { AuthyError } from "../errors.js";
import { resolveCommand } from "./command.js";
import { removeMountFile } from "./mount.js";
import { startOnPipes } from "./pipes.js";
import { exitStatus, killGroup, SignalForwarder } from "./process-group.js";
import type { Launch, RunChildOptions, Started } from "./launch.js";
import { loadNodePty, startOnPty } from "./pty.js";
import type { PtyModule } from "./pty-module.js";
import { startWatchdog } from "./watchdog.js";

export type { RunChildOptions } from "./launch.js";

export interface RunChildResult {
  /** The child's exit status; 128+N if killed by signal N; 127/126 if it could not start. */
  exitCode: number;
  signal: NodeJS.Signals | null;
  durationMs: number;
  /** Set when the child could not be started. */
  failure?: "not-found" | "not-executable";
  /** The reader of our stdout went away (EPIPE) before the child was done. */
  stdoutClosed: boolean;
}

export async function runChild(options: RunChildOptions): Promise<RunChildResult> {
  // process.hrtime, not performance.now(): the first use of the global `performance` loads
  // node:perf_hooks and seven modules of its own, 3.4 M instructions (~1 ms) in every run.
  const startedAt = process.hrtime.bigint();
  const stderr = options.stderr ?? process.stderr;
  const diagnose = options.onDiagnostic ?? ((message: string) => void stderr.write(`authy: ${message}\n`));
  try {
    const outcome = await run(options, diagnose);
    return { ...outcome, durationMs: Math.round(Number(process.hrtime.bigint() - startedAt) / 1e6) };
  } finally {
    // On every path, the child started or not: mount files hold secrets.
    for (const file of options.cleanupFiles ?? []) {
      try {
        removeMountFile(file);
      } catch (e) {
        diagnose(`could not remove ${file}: ${(e as Error).message}`);
      }
    }
    for (const dir of options.cleanupDirs ?? []) {
      try {
        rmdirSync(dir);
      } catch {
        // not empty, or gone: whoever made it removes the rest
      }
    }
  }
}

async function run(options: RunChildOptions, diagnose: (message: string) => void): Promise<Omit<RunChildResult, "durationMs">> {
  const cwd = options.cwd ?? process.cwd();
  checkDirectory(cwd);
  for (const arg of [options.command, ...options.args]) {
    if (arg.includes("\0")) throw new AuthyError("INVALID_INPUT", "a command argument contains a NUL byte");
  }
  const lookup = resolveCommand(options.command, options.env.PATH, cwd);
  if (!lookup.ok) {
    diagnose(lookup.message);
    return { exitCode: lookup.exitCode, signal: null, failure: lookup.reason, stdoutClosed: false };
  }
  let pty: PtyModule | null = null;
  if (options.pty) {
    try {
      pty = await (options.loadPty ?? loadNodePty)();
    } catch (e) {
      diagnose(`${(e as Error).message}; running the command without a terminal`);
    }
  }
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const wrapped = options.wrap?.(lookup.path, options.args);
  const launched = wrapped ? { ...options, command: wrapped.path, args: wrapped.args } : options;
  const launch: Launch = { path: wrapped?.path ?? lookup.path, options: launched, cwd, stdout, stderr, diagnose };
  // Listening before the child starts: a signal in between must not kill authy alone.
  const forwarder = new SignalForwarder();
  let started: Started;
  try {
    started = pty ? startOnPty(pty, launch) : await startOnPipes(launch);
  } catch (e) {
    forwarder.stop();
    throw e;
  }
  if (!("pid" in started)) {
    forwarder.stop();
    diagnose(started.message);
    return { exitCode: started.exitCode, signal: null, failure: started.failure, stdoutClosed: false };
  }

  const { pid } = started;
  const watchdog = startWatchdog(pid, options.cleanupFiles ?? [], diagnose, options.cleanupDirs ?? []);
  forwarder.forwardTo(pid);
  try {
    try {
      await options.onStart?.(pid);
    } catch (e) {
      killGroup(pid, "SIGKILL");
      await started.done;
      throw e;
    }
    const { code, signal } = await started.done;
    return { exitCode: exitStatus(code, signal), signal, stdoutClosed: started.stdoutClosed() };
  } finally {
    forwarder.stop();
    started.restore();
    watchdog.release();
  }
}

function checkDirectory(cwd: string): void {
  let ok = false;
  try {
    ok = statSync(cwd).isDirectory();
  } catch {
    // reported below
  }
  if (!ok) throw new AuthyError("INVALID_INPUT", `cannot run the command in ${cwd}: not a directory`);
}
