/**
 * Starting the daemon from `authy unlock`. The daemon is this same CLI (`main.js __daemon`)
 * in its own session, detached from the terminal, with:
 *   - core dumps off (`ulimit -c 0` in a /bin/sh that then execs node, keeping the pid): a
 *     crash must not write the vault key to disk;
 *   - stdin: a pipe carrying the handoff (the key), then closed; never argv or environment;
 *   - stdout: /dev/null; stderr: the log file (0600, appended);
 *   - fd 3: a pipe on which it answers "ready" (or why not), then closes it;
 *   - an environment without any AUTHY_* variable (no passphrase in its /proc/<pid>/environ).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, constants, existsSync, lstatSync, openSync, renameSync } from "node:fs";
import type { Readable } from "node:stream";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AuthyError } from "../errors.js";
import { encodeHandoff, parseReady, type Ready } from "./handoff.js";
import { daemonPaths, inspectSocketPath, prepareDaemonDirs, type DaemonPaths } from "./paths.js";
import { sessionHash } from "./session.js";
import { socketRequest } from "./socket-client.js";

/** How long `authy unlock` waits for the daemon to answer on its socket (node start, SQLite open). */
export const DAEMON_START_TIMEOUT_MS = 20_000;
/** The log is rotated (one old copy kept) when it grows past this at a daemon start. */
export const LOG_ROTATE_BYTES = 1024 * 1024;
/** Between health probes while waiting for the socket. */
const HEALTH_RETRY_MS = 50;
/** A ready line is well under this; more means something else is writing on the pipe. */
const MAX_READY_BYTES = 4096;
const SHELL = "/bin/sh";
/** `$0` is node and `$@` its arguments: the shell only lowers the core limit, then becomes node. */
const NO_CORE_SCRIPT = 'ulimit -c 0 2>/dev/null; exec "$0" "$@"';

export interface StartOptions {
  home: string;
  vaultPath: string;
  /** The raw vault key; the caller wipes it afterwards. */
  key: Uint8Array;
  /** The owner session secret; only its hash is sent. */
  session: string;
  idleMs: number;
  maxMs: number;
}

export interface StartedDaemon {
  pid: number;
  socket: string;
  log: string;
}

/** Checks that a daemon could start here, before the passphrase is asked for. */
export function checkDaemonPaths(home: string): DaemonPaths {
  const paths = daemonPaths(home);
  prepareDaemonDirs(paths);
  inspectSocketPath(paths.socket);
  return paths;
}

function openLog(file: string): number {
  try {
    if (lstatSync(file).size > LOG_ROTATE_BYTES) renameSync(file, `${file}.1`);
  } catch {
    // No log yet.
  }
  return openSync(file, constants.O_CREAT | constants.O_APPEND | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
}

function daemonEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AUTHY_")) env[k] = v;
  return env;
}

function launch(logFd: number): ChildProcess {
  // The daemon is the program that is running now (the bundle, or dist/cli/main.js in development).
  const main = process.argv[1] ? path.resolve(process.argv[1]) : fileURLToPath(new URL("../cli/main.js", import.meta.url));
  const args = [process.execPath, main, "__daemon"];
  const [cmd, argv] = existsSync(SHELL) ? [SHELL, ["-c", NO_CORE_SCRIPT, ...args]] : [args[0]!, args.slice(1)];
  return spawn(cmd, argv, { detached: true, stdio: ["pipe", "ignore", logFd, "pipe"], env: daemonEnv(), cwd: "/" });
}

/** The daemon's first line on fd 3, or an error if it exits or stays silent. */
function readReady(child: ChildProcess, deadline: number): Promise<Ready> {
  return new Promise((resolve) => {
    const pipe = child.stdio[3] as Readable;
    let text = "";
    const finish = (r: Ready) => {
      clearTimeout(timer);
      pipe.destroy();
      child.removeAllListeners("exit");
      resolve(r);
    };
    const fail = (message: string) => finish({ ok: false, error: { code: "UNAVAILABLE", message, hint: null } });
    const timer = setTimeout(() => fail(`the daemon did not start within ${DAEMON_START_TIMEOUT_MS / 1000}s`), Math.max(0, deadline - Date.now()));
    pipe.setEncoding("utf8");
    pipe.on("data", (chunk: string) => {
      text += chunk;
      const nl = text.indexOf("\n");
      if (nl !== -1) finish(parseReady(text.slice(0, nl)));
      else if (text.length > MAX_READY_BYTES) fail("the daemon answered something unexpected while starting");
    });
    pipe.on("end", () => fail("the daemon exited while starting"));
    pipe.on("error", () => fail("the daemon exited while starting"));
    child.on("exit", (code, signal) => setTimeout(() => fail(`the daemon exited while starting (${signal ?? `status ${code}`})`), 100));
  });
}

async function waitForHealth(socket: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      const r = await socketRequest(socket, "GET", "/v1/health", { timeoutMs: Math.max(1, deadline - Date.now()) });
      if (r.status === 200) return;
    } catch {
      // Not answering yet.
    }
    if (Date.now() >= deadline) throw new AuthyError("UNAVAILABLE", `the daemon did not answer on ${socket} within ${DAEMON_START_TIMEOUT_MS / 1000}s`);
    await new Promise((r) => setTimeout(r, HEALTH_RETRY_MS));
  }
}

/**
 * Starts a daemon holding `key` and waits until it answers GET /v1/health. Throws the
 * daemon's own error when it refuses to start (another daemon won, a planted file at the
 * socket path, …); a daemon that does not come up in time is killed.
 */
export async function startDaemon(opts: StartOptions): Promise<StartedDaemon> {
  const paths = checkDaemonPaths(opts.home);
  const deadline = Date.now() + DAEMON_START_TIMEOUT_MS;
  const logFd = openLog(paths.log);
  let child: ChildProcess;
  try {
    child = launch(logFd);
  } finally {
    closeSync(logFd);
  }
  child.on("error", () => undefined); // reported through readReady
  const stdin = child.stdin!;
  stdin.on("error", () => undefined); // a daemon that died early: readReady says so
  stdin.end(
    encodeHandoff({
      key: Buffer.from(opts.key.buffer, opts.key.byteOffset, opts.key.byteLength).toString("base64"),
      sessionHash: Buffer.from(sessionHash(opts.session)).toString("base64"),
      idleMs: opts.idleMs,
      maxMs: opts.maxMs,
      home: opts.home,
      vault: opts.vaultPath,
    }),
  );
  const ready = await readReady(child, deadline);
  child.unref();
  if (!ready.ok) {
    // A daemon that answered exits by itself once it has cleaned up; a silent one is stopped.
    if (Date.now() >= deadline && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    const hint = ready.error.hint ?? `see ${paths.log}`;
    throw new AuthyError(ready.error.code, ready.error.message, { hint });
  }
  try {
    await waitForHealth(ready.socket, deadline);
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  return { pid: ready.pid, socket: ready.socket, log: paths.log };
}
