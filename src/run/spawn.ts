/**
 * Starting `authy run`'s child and its watchdog with posix_spawn() (os/native.ts) rather than
 * Node.js's spawn(), which fork()s: a fork copies the page tables of a process as large as
 * authy's, and waits for the copy to exec. Starting `true` with a thousand variables took 5-13
 * ms that way and about 1 ms with posix_spawn() (10 starts each, side by side in one process);
 * in `authy run` with 1,000 secrets a CPU profile showed 18 ms in spawn(). posix_spawn() lends
 * the child this process's memory until it execs (vfork), so there is nothing to copy.
 *
 * Only where it is equivalent: descriptors 0-2 inherited, /dev/null or a pipe of ours, and
 * nothing a C string cannot carry. (One difference: glibc leaves its two internal signals, 32
 * and 33, ignored in the child, as for Python's os.posix_spawn; libuv resets 1-31 only, and no
 * program sees those two as SIGRTMIN.) Otherwise, or when the call fails in any way (the program
 * vanished since it was looked up, a C library without posix_spawn_file_actions_addchdir_np),
 * the caller starts it with Node.js's spawn(), which reports every failure as it always has.
 */
import type { ChildProcess, SpawnOptions, SpawnSyncOptions, SpawnSyncReturns } from "node:child_process";
import { createRequire } from "node:module";
import { constants } from "node:os";
import { native, type SpawnStdio } from "../os/native.js";

/**
 * node:child_process, loaded only when it is used: posix_spawn() starts `authy run`'s child and
 * watchdog, and loading the module cost every run 5-9 ms of its start-up (a CPU profile of `run
 * -- true` showed 9.4 ms).
 */
function childProcess(): typeof import("node:child_process") {
  return createRequire(import.meta.url)("node:child_process") as typeof import("node:child_process");
}

/** Node.js's spawn(), loaded on first use. */
export function nodeSpawn(file: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  return childProcess().spawn(file, args, options);
}

/** Node.js's spawnSync(), loaded on first use. */
export function nodeSpawnSync(file: string, args: readonly string[], options: SpawnSyncOptions): SpawnSyncReturns<Buffer> {
  return childProcess().spawnSync(file, args, options) as SpawnSyncReturns<Buffer>;
}

export interface SpawnedNatively {
  pid: number;
  /** Resolves once the child has exited, as Node.js's 'exit' event reports it. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/** Starts `path` in a new session (as Node.js's `detached`), or returns null: then the caller uses Node.js's spawn(). */
export function spawnNatively(
  path: string,
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  options: { cwd: string; stdio: readonly [SpawnStdio, SpawnStdio, SpawnStdio] },
): SpawnedNatively | null {
  const calls = native();
  // Its exit is waited for on a thread of libuv's pool, for as long as it runs: with a pool of
  // one (UV_THREADPOOL_SIZE), the sandbox proxy's name lookups would wait behind it.
  if (!calls || Number(process.env.UV_THREADPOOL_SIZE ?? 4) < 2) return null;
  const vars = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  // Node.js refuses these with an error of its own; as C strings they would be cut short.
  if ([path, options.cwd, ...argv, ...vars].some((s) => s.includes("\0"))) return null;
  let pid: number;
  try {
    pid = calls.spawn(path, argv, vars, options);
  } catch {
    return null;
  }
  return {
    pid,
    exited: async () => {
      const { code, signal } = await calls.waitExit(pid);
      return { code, signal: signal === null ? null : (SIGNAL_NAMES.get(signal) ?? null) };
    },
  };
}
