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
 *
 * Linux only. Elsewhere (or when the addon cannot load) `native()` is null and callers say
 * what that leaves open (`authy doctor`).
 */
import { statSync } from "node:fs";
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
}

interface KoffiFunction {
  (...args: unknown[]): number;
}
interface KoffiLibrary {
  func(name: string, result: string, params: string[]): KoffiFunction;
}
interface Koffi {
  load(file: string | null): KoffiLibrary;
  out(type: unknown): unknown;
  inout(type: unknown): unknown;
  pointer(type: string): unknown;
}

let loaded: Native | null | undefined;
let loadError: string | null = null;

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

/** The fd of a connected net.Socket (a Unix socket), or null. */
export function socketFd(socket: unknown): number | null {
  const fd = (socket as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : null;
}
