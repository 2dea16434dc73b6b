/**
 * Starting the daemon from `authy unlock`. The daemon is this same CLI (`main.js __daemon`)
 * that stays in the session that unlocked (in a process group of its own, which it makes
 * itself: terminal.ts says why the session matters), with:
 *   - core dumps off (`ulimit -c 0` in a /bin/sh that then execs node, keeping the pid): a
 *     crash must not write the vault key to disk;
 *   - stdin: a pipe carrying the handoff (the key), written only after the daemon said hello
 *     on fd 3, that is once it is non-dumpable; never argv or environment;
 *   - stdout: /dev/null; stderr: the log file (0600, appended);
 *   - fd 3: a pipe on which it says hello, then "ready" (or why not), then closes it;
 *   - an environment without any AUTHY_* variable (no passphrase in its /proc/<pid>/environ).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, constants, existsSync, lstatSync, openSync, renameSync } from "node:fs";
import type { Readable } from "node:stream";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AuthyError } from "../errors.js";
import { encodeHandoff, isHello, parseReady, type Ready } from "./handoff.js";
import { daemonPaths, inspectSocketPath, prepareDaemonDirs, type DaemonPaths } from "./paths.js";
import { sessionHash } from "./session.js";
import { socketRequest } from "./socket-client.js";

/** How long `authy unlock` waits for the daemon to answer on its socket (node start, SQLite open). */
const DAEMON_START_TIMEOUT_MS = 20_000;
/** The log is rotated (one old copy kept) when it grows past this at a daemon start. */
const LOG_ROTATE_BYTES = 1024 * 1024;
/** Between health probes while waiting for the socket. */
const HEALTH_RETRY_MS = 50;
/** A ready line is well under this; more means something else is writing on the pipe. */
const MAX_READY_BYTES = 4096;
const SHELL = "/bin/sh";
/** `$0` is node and `$@` its arguments: the shell only lowers the core limit, then becomes node. */
const NO_CORE_SCRIPT = 'ulimit -c 0 2>/dev/null; exec "$0" "$@"';

interface StartOptions {
  home: string;
  vaultPath: string;
  /** The raw vault key; the caller wipes it afterwards. */
  key: Uint8Array;
  /** An exported owner session (`--export-session`); only its hash is sent. */
  session: string | null;
  idleMs: number;
  maxMs: number;
}

interface StartedDaemon {
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
  // Not detached: the daemon stays in this session (it moves to its own process group first thing).
  return spawn(cmd, argv, { stdio: ["pipe", "ignore", logFd, "pipe"], env: daemonEnv(), cwd: "/" });
}

/** Reads the daemon's lines on fd 3: its hello, then its ready line. */
class DaemonLines {
  private text = "";
  private waiting: ((r: string | Error) => void) | null = null;
  private failure: Error | null = null;
  private readonly pipe: Readable;

  constructor(private readonly child: ChildProcess) {
    this.pipe = child.stdio[3] as Readable;
    this.pipe.setEncoding("utf8");
    this.pipe.on("data", (chunk: string) => {
      this.text += chunk;
      if (this.text.length > MAX_READY_BYTES) this.fail("the daemon answered something unexpected while starting");
      this.deliver();
    });
    this.pipe.on("end", () => this.fail("the daemon exited while starting"));
    this.pipe.on("error", () => this.fail("the daemon exited while starting"));
    child.on("exit", (code, signal) => setTimeout(() => this.fail(`the daemon exited while starting (${signal ?? `status ${code}`})`), 100));
  }

  private fail(message: string): void {
    this.failure ??= new Error(message);
    this.deliver();
  }

  private deliver(): void {
    if (!this.waiting) return;
    const nl = this.text.indexOf("\n");
    if (nl === -1 && !this.failure) return;
    const give = this.waiting;
    this.waiting = null;
    if (nl === -1) return give(this.failure!);
    const line = this.text.slice(0, nl);
    this.text = this.text.slice(nl + 1);
    give(line);
  }

  /** The next line, or an Error when the daemon exits, garbles or stays silent until `deadline`. */
  next(deadline: number): Promise<string | Error> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.fail(`the daemon did not start within ${DAEMON_START_TIMEOUT_MS / 1000}s`), Math.max(0, deadline - Date.now()));
      this.waiting = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.deliver();
    });
  }

  close(): void {
    this.pipe.destroy();
    this.child.removeAllListeners("exit");
  }
}

function notReady(e: Error): Ready {
  return { ok: false, error: { code: "UNAVAILABLE", message: e.message, hint: null } };
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
  child.on("error", () => undefined); // reported through the lines on fd 3
  const stdin = child.stdin!;
  stdin.on("error", () => undefined); // a daemon that died early: its lines say so
  const lines = new DaemonLines(child);
  let ready: Ready;
  // The key goes out only once the daemon says it is non-dumpable (its hello).
  const hello = await lines.next(deadline);
  if (hello instanceof Error) ready = notReady(hello);
  else if (!isHello(hello)) ready = parseReady(hello);
  else {
    const key = Buffer.from(opts.key.buffer, opts.key.byteOffset, opts.key.byteLength).toString("base64");
    stdin.end(
      encodeHandoff({
        key,
        sessionHash: opts.session === null ? null : Buffer.from(sessionHash(opts.session)).toString("base64"),
        idleMs: opts.idleMs,
        maxMs: opts.maxMs,
        home: opts.home,
        vault: opts.vaultPath,
      }),
    );
    const line = await lines.next(deadline);
    ready = line instanceof Error ? notReady(line) : parseReady(line);
  }
  lines.close();
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
