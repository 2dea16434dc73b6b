/**
 * The few system calls authy needs and Node.js does not offer, through koffi (an FFI with
 * prebuilt binaries). Loaded on first use only: a command that holds no credential never pays
 * for it (about 2.5 ms: the addon is loaded directly, not through koffi's JavaScript wrapper,
 * which probes the file system for another 15-20 ms).
 *
 * - prctl(PR_SET_DUMPABLE, 0), as ssh-agent does: other processes of the same user can then
 *   neither attach to this one (ptrace, gdb, gcore), nor read its memory, environment or file
 *   descriptors under /proc/PID (mem, environ, fd/N, pidfd_getfd), and no core dump is written.
 * - getsockopt(SO_PEERCRED): the pid, uid and gid of the process at the other end of a Unix
 *   socket, as the kernel recorded them at connect() (or listen(), seen from the client).
 * - setpgid(0, 0): the daemon's own process group, so a terminal's Ctrl-C does not reach it.
 * - pipe2() and fcntl(F_SETPIPE_SZ): a real pipe, larger than the default, for a child's
 *   output (Node.js gives children socket pairs; see run/pipes.ts).
 * - socket(), connect(), read(), write(), close() and isatty(): a blocking Unix-socket
 *   connection for the one command that cannot afford node:net and node:tty's start-up, 10 ms
 *   (src/client/unix-http-sync.ts).
 * - posix_spawn() and waitpid(): `authy run`'s child and watchdog, started without copying
 *   this process (run/spawn.ts says why).
 * - The process's own symbols, for crypto/openssl.ts: the OpenSSL that Node.js links,
 *   called directly where node:crypto's objects cost more than the work.
 *
 * Linux only. Elsewhere (or when the addon cannot load) `native()` is null and callers say
 * what that leaves open (`authy doctor`).
 */
import { statSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PR_GET_DUMPABLE = 3;
const PR_SET_DUMPABLE = 4;
const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
/** struct ucred { pid_t pid; uid_t uid; gid_t gid; }: three 32-bit integers. */
const UCRED_BYTES = 12;
const O_CLOEXEC = 0o2000000;
const F_SETPIPE_SZ = 1031;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = O_CLOEXEC;
const SO_RCVTIMEO = 20;
const SO_SNDTIMEO = 21;
/** struct sockaddr_un: sa_family_t, then sun_path[108]. */
const SOCKADDR_UN_BYTES = 110;
const EINTR = 4;
/** posix_spawnattr_setflags(): a new session, the signals below reset to default, the mask below. */
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
/** Room for posix_spawnattr_t (336 bytes in glibc), posix_spawn_file_actions_t (80) and sigset_t (128), wherever they are smaller. */
const SPAWN_STRUCT_BYTES = 1024;
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_NONBLOCK = 0o4000;
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const F_GETFL = 3;
const F_SETFL = 4;

interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

interface Native {
  /** Makes this process non-dumpable; throws if the kernel refuses. */
  setNonDumpable(): void;
  dumpable(): boolean;
  /** The credentials of the peer of a connected Unix socket, or null if the call fails. */
  peerCredentials(fd: number): PeerCredentials | null;
  /** Moves this process into a new process group of its own (same session). */
  ownProcessGroup(): void;
  /**
   * A pipe, both ends close-on-exec, asked to hold `bytes` (the kernel may give less); its
   * read and write file descriptors, or null if the call fails.
   */
  pipe(bytes: number): { read: number; write: number } | null;
  /**
   * A blocking connection to a Unix socket whose reads and writes (and the connect itself)
   * fail with EAGAIN after `timeoutMs`. Failures throw errors with Node's codes (ENOENT, …).
   */
  connectUnix(socketPath: string, timeoutMs: number): BlockingSocket;
  isTerminal(fd: number): boolean;
  /**
   * Starts `file` (an absolute path) with `argv` and `env` (NAME=value strings), in a new
   * session with every signal's disposition and the signal mask reset, in `cwd`, and its
   * descriptors 0-2 as `stdio` says: inherited, /dev/null, or a descriptor of ours. Returns its
   * pid; a failure (the exec's own included) throws an error with errno's name as its code.
   */
  spawn(file: string, argv: readonly string[], env: readonly string[], options: { cwd: string; stdio: readonly [SpawnStdio, SpawnStdio, SpawnStdio] }): number;
  /** Resolves once the child `pid` has exited (and is reaped): its exit code, or the number of the signal that ended it. */
  waitExit(pid: number): Promise<{ code: number | null; signal: number | null }>;
}

/** A child's descriptor: this process's own, /dev/null, or (dup2'd onto it) a descriptor of ours. */
export type SpawnStdio = "inherit" | "null" | number;

interface BlockingSocket {
  fd: number;
  /** Writes all of `bytes`. */
  write(bytes: Buffer): void;
  /** Reads what is there (waiting for something) into `into`; 0 at the end. */
  read(into: Buffer): number;
  close(): void;
}

interface KoffiFunction {
  (...args: unknown[]): number;
  async(...args: unknown[]): void;
}
interface KoffiLibrary {
  func(name: string, result: string, params: string[]): KoffiFunction;
}
interface Koffi {
  load(file: string | null): KoffiLibrary;
  errno(): number;
  out(type: unknown): unknown;
  inout(type: unknown): unknown;
  pointer(type: string): unknown;
}

let loaded: Native | null | undefined;
let loadError: string | null = null;
let symbols: ProcessSymbols | null = null;

/** koffi and the symbols of this process: libc, and the OpenSSL that Node.js links (crypto/openssl.ts). */
export interface ProcessSymbols {
  koffi: Koffi;
  library: KoffiLibrary;
}

/**
 * koffi's prebuilt addon for this platform, loaded without its wrapper: the optional package
 * `@koromix/koffi-<platform>-<arch>` installed beside koffi. It is looked for in the
 * node_modules folders above this file, the ones Node.js itself searches, by plain stat
 * calls: `require.resolve("koffi")` reads koffi's package.json and resolves its `exports`,
 * which loads Node.js's ESM resolver first, about 4.5 ms of CPU in every command that holds a
 * credential (a tenth of `node -e 0`). The wrapper is the fallback.
 */
function loadKoffi(): Koffi {
  const require = createRequire(import.meta.url);
  const addonDir = path.join("node_modules", "@koromix", `koffi-${process.platform}-${process.arch}`);
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (path.basename(dir) !== "node_modules" && statSync(path.join(dir, addonDir), { throwIfNoEntry: false })?.isDirectory()) {
      for (const triplet of [`${process.platform}_${process.arch}`, `musl_${process.arch}`]) {
        const file = path.join(dir, addonDir, triplet, "koffi.node");
        if (!statSync(file, { throwIfNoEntry: false })?.isFile()) continue;
        try {
          return require(file) as Koffi;
        } catch {
          // The other libc's build, or none.
        }
      }
      break;
    }
    if (path.dirname(dir) === dir) break;
  }
  return require("koffi") as Koffi;
}

function build(): Native {
  const koffi = loadKoffi();
  const libc = koffi.load(null); // the process's own symbols: libc is loaded already
  symbols = { koffi, library: libc };
  const prctl = libc.func("prctl", "int", ["int", "ulong", "ulong", "ulong", "ulong"]);
  const getsockopt = libc.func("getsockopt", "int", [
    "int",
    "int",
    "int",
    koffi.out(koffi.pointer("uint8_t")) as string,
    koffi.inout(koffi.pointer("uint32_t")) as string,
  ]);
  const setpgid = libc.func("setpgid", "int", ["int", "int"]);
  const pipe2 = libc.func("pipe2", "int", [koffi.out(koffi.pointer("int")) as string, "int"]);
  const fcntl = libc.func("fcntl", "int", ["int", "int", "int"]);
  const socket = libc.func("socket", "int", ["int", "int", "int"]);
  const setsockopt = libc.func("setsockopt", "int", ["int", "int", "int", "const uint8_t *", "uint32_t"]);
  const connect = libc.func("connect", "int", ["int", "const uint8_t *", "uint32_t"]);
  const read = libc.func("read", "long", ["int", koffi.out(koffi.pointer("uint8_t")) as string, "ulong"]);
  const write = libc.func("write", "long", ["int", "const uint8_t *", "ulong"]);
  const close = libc.func("close", "int", ["int"]);
  const isatty = libc.func("isatty", "int", ["int"]);
  const posixSpawn = libc.func("posix_spawn", "int", [
    koffi.out(koffi.pointer("int")) as string,
    "const char *",
    "void *",
    "void *",
    "const char **",
    "const char **",
  ]);
  const attrInit = libc.func("posix_spawnattr_init", "int", ["void *"]);
  const attrDestroy = libc.func("posix_spawnattr_destroy", "int", ["void *"]);
  const attrSetFlags = libc.func("posix_spawnattr_setflags", "int", ["void *", "short"]);
  const attrSetSigDefault = libc.func("posix_spawnattr_setsigdefault", "int", ["void *", "void *"]);
  const attrSetSigMask = libc.func("posix_spawnattr_setsigmask", "int", ["void *", "void *"]);
  const sigFillSet = libc.func("sigfillset", "int", ["void *"]);
  const sigEmptySet = libc.func("sigemptyset", "int", ["void *"]);
  const actionsInit = libc.func("posix_spawn_file_actions_init", "int", ["void *"]);
  const actionsDestroy = libc.func("posix_spawn_file_actions_destroy", "int", ["void *"]);
  const actionsDup2 = libc.func("posix_spawn_file_actions_adddup2", "int", ["void *", "int", "int"]);
  const actionsOpen = libc.func("posix_spawn_file_actions_addopen", "int", ["void *", "int", "const char *", "int", "uint32_t"]);
  // glibc 2.29 and musl 1.1.24; where it is missing, spawn() throws ENOSYS (run/spawn.ts then uses Node.js's).
  let actionsChdir: KoffiFunction | null = null;
  try {
    actionsChdir = libc.func("posix_spawn_file_actions_addchdir_np", "int", ["void *", "const char *"]);
  } catch {
    // an older C library
  }
  const waitpid = libc.func("waitpid", "int", ["int", koffi.out(koffi.pointer("int")) as string, "int"]);
  /** The error of a failed call, with errno's name as its code, as Node.js gives them. */
  /** The error for an errno returned rather than set (posix_spawn's own). */
  const failedWith = (call: string, errno: number): NodeJS.ErrnoException => {
    const code = Object.entries(osConstants.errno).find(([, n]) => n === errno)?.[0] ?? `errno ${errno}`;
    return Object.assign(new Error(`${call} failed: ${code}`), { code, errno });
  };
  const failed = (call: string): NodeJS.ErrnoException => failedWith(call, koffi.errno());
  /** Calls `f` again while a signal interrupts it. */
  const retrying = (call: string, f: () => number): number => {
    for (;;) {
      const r = f();
      if (r >= 0) return r;
      if (koffi.errno() !== EINTR) throw failed(call);
    }
  };
  return {
    setNonDumpable() {
      if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) !== 0 || prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) !== 0) throw new Error("prctl(PR_SET_DUMPABLE) failed");
    },
    dumpable: () => prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) !== 0,
    peerCredentials(fd) {
      const buf = Buffer.alloc(UCRED_BYTES);
      const len = [UCRED_BYTES];
      if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, buf, len) !== 0 || len[0] !== UCRED_BYTES) return null;
      return { pid: buf.readInt32LE(0), uid: buf.readUInt32LE(4), gid: buf.readUInt32LE(8) };
    },
    ownProcessGroup() {
      if (setpgid(0, 0) !== 0) throw new Error("setpgid failed");
    },
    pipe(bytes) {
      const fds = [-1, -1];
      if (pipe2(fds, O_CLOEXEC) !== 0) return null;
      fcntl(fds[1], F_SETPIPE_SZ, bytes); // a smaller pipe still works, only slower
      return { read: fds[0]!, write: fds[1]! };
    },
    connectUnix(socketPath, timeoutMs) {
      const addr = Buffer.alloc(SOCKADDR_UN_BYTES);
      addr.writeUInt16LE(AF_UNIX, 0);
      if (Buffer.byteLength(socketPath) >= SOCKADDR_UN_BYTES - 2) throw Object.assign(new Error("socket path too long"), { code: "ENAMETOOLONG" });
      addr.write(socketPath, 2);
      const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) throw failed("socket");
      try {
        const timeval = Buffer.alloc(16); // struct timeval { long tv_sec; long tv_usec; }
        timeval.writeBigInt64LE(BigInt(Math.floor(timeoutMs / 1000)), 0);
        timeval.writeBigInt64LE(BigInt((timeoutMs % 1000) * 1000), 8);
        for (const opt of [SO_RCVTIMEO, SO_SNDTIMEO]) if (setsockopt(fd, SOL_SOCKET, opt, timeval, 16) !== 0) throw failed("setsockopt");
        if (connect(fd, addr, SOCKADDR_UN_BYTES) !== 0) throw failed("connect"); // not retried: an interrupted connect goes on by itself
      } catch (e) {
        close(fd);
        throw e;
      }
      return {
        fd,
        write(bytes) {
          for (let done = 0; done < bytes.length;) done += retrying("write", () => write(fd, bytes.subarray(done), bytes.length - done));
        },
        read: (into) => retrying("read", () => read(fd, into, into.length)),
        close: () => void close(fd),
      };
    },
    isTerminal: (fd) => isatty(fd) === 1,
    spawn(file, argv, env, { cwd, stdio }) {
      if (!actionsChdir) throw failedWith("posix_spawn_file_actions_addchdir_np", osConstants.errno.ENOSYS);
      const attr = Buffer.alloc(SPAWN_STRUCT_BYTES);
      const actions = Buffer.alloc(SPAWN_STRUCT_BYTES);
      const all = Buffer.alloc(SPAWN_STRUCT_BYTES);
      const none = Buffer.alloc(SPAWN_STRUCT_BYTES);
      const check = (call: string, r: number) => {
        if (r !== 0) throw failedWith(call, r);
      };
      check("posix_spawnattr_init", attrInit(attr));
      try {
        check("posix_spawn_file_actions_init", actionsInit(actions));
        try {
          sigFillSet(all);
          sigEmptySet(none);
          check("posix_spawnattr_setsigdefault", attrSetSigDefault(attr, all));
          check("posix_spawnattr_setsigmask", attrSetSigMask(attr, none));
          check("posix_spawnattr_setflags", attrSetFlags(attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
          stdio.forEach((io, fd) => {
            if (io === "null") {
              check("posix_spawn_file_actions_addopen", actionsOpen(actions, fd, "/dev/null", fd === 0 ? O_RDONLY : O_WRONLY, 0));
              return;
            }
            if (io !== "inherit") check("posix_spawn_file_actions_adddup2", actionsDup2(actions, io, fd));
            // Node.js marks its own 0-2 close-on-exec: kept open across exec, as libuv keeps them.
            else if (fcntl(fd, F_GETFD, 0) & FD_CLOEXEC) fcntl(fd, F_SETFD, 0);
            // The child's descriptors 0-2 block, as libuv makes them for a child of Node.js's spawn()
            // (the same open file, so ours too, as with libuv).
            const from = io === "inherit" ? fd : io;
            const flags = fcntl(from, F_GETFL, 0);
            if (flags >= 0 && flags & O_NONBLOCK) fcntl(from, F_SETFL, flags & ~O_NONBLOCK);
          });
          check("posix_spawn_file_actions_addchdir_np", actionsChdir(actions, cwd));
          const pid = [0];
          check("posix_spawn", posixSpawn(pid, file, actions, attr, [...argv, null], [...env, null]));
          return pid[0]!;
        } finally {
          actionsDestroy(actions);
        }
      } finally {
        attrDestroy(attr);
      }
    },
    waitExit(pid) {
      // On a thread of libuv's pool, where waitpid() blocks until the child exits.
      return new Promise((resolve, reject) => {
        const status = [0];
        waitpid.async(pid, status, 0, (error: unknown, r: number) => {
          // Signals are blocked on the pool's threads (no EINTR); ECHILD would be a bug.
          if (error || r !== pid) {
            reject(error instanceof Error ? error : new Error(`waitpid(${pid}) failed`));
            return;
          }
          const s = status[0]!;
          const signal = s & 0x7f;
          resolve(signal === 0 ? { code: (s >> 8) & 0xff, signal: null } : { code: null, signal });
        });
      });
    },
  };
}

/** The native calls, or null where they are impossible (not Linux, or koffi does not load). */
export function native(): Native | null {
  if (loaded !== undefined) return loaded;
  if (process.platform !== "linux") {
    loadError = `${process.platform} has no prctl(PR_SET_DUMPABLE) or SO_PEERCRED as authy uses them`;
    return (loaded = null);
  }
  try {
    loaded = build();
  } catch (e) {
    loadError = `koffi could not be loaded: ${(e as Error).message}`;
    loaded = null;
  }
  return loaded;
}

/** koffi and this process's own symbols, or null where native() is. */
export function processSymbols(): ProcessSymbols | null {
  return native() ? symbols : null;
}

/** Why native() is null (for `authy doctor`), or null when it is available. */
export function nativeUnavailable(): string | null {
  native();
  return loadError;
}

let protectedOnce = false;

/**
 * Makes this process non-dumpable before it receives or derives a credential (the vault key,
 * an owner session, a token, an agent key, values). Idempotent. Where the call is impossible
 * the process goes on unprotected: `authy doctor` says so.
 */
export function protectProcess(): boolean {
  if (protectedOnce) return true;
  const n = native();
  if (!n) return false;
  n.setNonDumpable();
  protectedOnce = true;
  return true;
}
