/**
 * Where the daemon lives: `$AUTHY_HOME/daemon/` (0700) holds its socket (0600), its state
 * file, its lock and its log. A Unix socket path is limited (sun_path), so when the home is
 * too deep the socket moves to `/tmp/authy-<uid>/<hash of home>.sock`, in a 0700 directory
 * that must be ours; everything else stays in the home.
 *
 * This module is loaded by every CLI command (through daemonSocket), so it stays cheap:
 * a few synchronous stats, no heavy imports.
 */
import { chmodSync, lstatSync, mkdirSync, realpathSync } from "node:fs";
import path from "node:path";
import { sha256OnDemand } from "../crypto/lazy-hash.js";
import { AuthyError } from "../errors.js";
import { readLockHolder } from "./lock.js";
import { identityAlive } from "./process.js";

const DAEMON_DIR = "daemon";
const SOCKET_FILE = "authy.sock";
const STATE_FILE = "daemon.json";
const LOCK_FILE = "daemon.lock";
const LOG_FILE = "daemon.log";
/** sun_path holds 108 bytes on Linux and 104 on macOS and the BSDs, the terminating NUL included. */
export const SOCKET_PATH_MAX_BYTES = process.platform === "linux" ? 107 : 103;
/** The fallback for deep homes. Not os.tmpdir(): TMPDIR is often itself a long path (macOS). */
const FALLBACK_ROOT = "/tmp";
/** 64 bits of the home's hash: enough that two homes of one user never share a socket. */
const FALLBACK_HASH_HEX = 16;

export interface DaemonPaths {
  /** `$AUTHY_HOME/daemon` */
  dir: string;
  socket: string;
  /** The directory holding the socket: `dir`, or the /tmp fallback. */
  socketDir: string;
  /** True when the socket is in the /tmp fallback because the home is too deep. */
  fallback: boolean;
  state: string;
  lock: string;
  log: string;
}

function uid(): number {
  return process.getuid?.() ?? -1;
}

function tooLong(p: string): boolean {
  return Buffer.byteLength(p) > SOCKET_PATH_MAX_BYTES;
}

/** The daemon's paths for a home (pure but for one realpath in the fallback case). */
export function daemonPaths(home: string): DaemonPaths {
  const root = path.resolve(home);
  const dir = path.join(root, DAEMON_DIR);
  const files = { dir, state: path.join(dir, STATE_FILE), lock: path.join(dir, LOCK_FILE), log: path.join(dir, LOG_FILE) };
  const primary = path.join(dir, SOCKET_FILE);
  if (!tooLong(primary)) return { ...files, socket: primary, socketDir: dir, fallback: false };
  let canonical = root;
  try {
    canonical = realpathSync(root);
  } catch {
    // Not created yet: the resolved spelling is all there is.
  }
  const hash = Buffer.from(sha256OnDemand(Buffer.from(canonical, "utf8")))
    .toString("hex")
    .slice(0, FALLBACK_HASH_HEX);
  const socketDir = path.join(FALLBACK_ROOT, `authy-${uid()}`);
  return { ...files, socket: path.join(socketDir, `${hash}.sock`), socketDir, fallback: true };
}

function refuse(message: string, hint: string): AuthyError {
  return new AuthyError("UNAVAILABLE", message, { hint });
}

/**
 * Makes sure `dir` is a real directory, ours, mode 0700. A directory we just created, or
 * (when `fixMode`) one of ours with a looser mode, is tightened; anything else is refused.
 */
export function checkPrivateDir(dir: string, fixMode: boolean): void {
  let created = false;
  try {
    mkdirSync(dir, { mode: 0o700 });
    created = true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EEXIST")
      throw refuse(`cannot create the daemon directory ${dir}: ${code ?? (e as Error).message}`, "check that the vault home exists and is writable");
  }
  const st = lstatSync(dir);
  const hint = `remove or fix ${dir} yourself if it is not expected; authy will not touch it`;
  if (st.isSymbolicLink()) throw refuse(`refusing to use ${dir}: it is a symbolic link`, hint);
  if (!st.isDirectory()) throw refuse(`refusing to use ${dir}: it is not a directory`, hint);
  if (uid() !== -1 && st.uid !== uid()) throw refuse(`refusing to use ${dir}: it belongs to uid ${st.uid}, not to you`, hint);
  if ((st.mode & 0o777) !== 0o700) {
    if (!created && !fixMode) throw refuse(`refusing to use ${dir}: its mode is ${(st.mode & 0o777).toString(8)}, not 700`, hint);
    chmodSync(dir, 0o700);
  }
}

/**
 * Creates (or checks) the daemon directory and, in the fallback case, the /tmp directory for
 * the socket. Throws UNAVAILABLE with a clear message when no safe socket path exists.
 */
export function prepareDaemonDirs(paths: DaemonPaths): void {
  checkPrivateDir(paths.dir, true);
  if (!paths.fallback) return;
  if (tooLong(paths.socket)) {
    throw refuse(`no usable socket path: ${paths.socket} is longer than ${SOCKET_PATH_MAX_BYTES} bytes`, "use a shorter AUTHY_HOME");
  }
  // Anyone can create names in /tmp: a directory there that is not exactly ours, 0700, is refused.
  checkPrivateDir(paths.socketDir, false);
}

/**
 * What is at the socket path: nothing, or a socket (live or stale: the caller probes).
 * Anything else (a symlink, a regular file, a directory) was not made by authy and is
 * refused, never removed.
 */
export function inspectSocketPath(socket: string): "absent" | "socket" {
  let st;
  try {
    st = lstatSync(socket);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "absent";
    throw refuse(`cannot inspect ${socket}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, "check the daemon directory's permissions");
  }
  if (st.isSocket()) return "socket";
  const what = st.isSymbolicLink() ? "a symbolic link" : st.isFile() ? "a regular file" : st.isDirectory() ? "a directory" : "not a socket";
  throw refuse(
    `refusing to start the daemon: ${socket} is ${what}, not a socket`,
    "authy did not create it; inspect it and remove it yourself if it is not needed",
  );
}

/** The running daemon's pid and socket, or null: its lock is held by a live process and its socket exists. */
export function runningDaemon(home: string): { pid: number; socket: string } | null {
  let paths: DaemonPaths;
  try {
    paths = daemonPaths(home);
    if (!lstatSync(paths.socket).isSocket()) return null;
  } catch {
    return null;
  }
  const holder = readLockHolder(paths.lock);
  if (holder === null || !identityAlive(holder)) return null;
  return { pid: holder.pid, socket: paths.socket };
}

/**
 * The socket of the daemon serving `home`, or null when none is running (no socket, or one
 * left behind by a daemon that died). Cheap and synchronous: every CLI command calls it.
 */
export function daemonSocket(home: string): string | null {
  return runningDaemon(home)?.socket ?? null;
}
