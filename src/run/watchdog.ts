/**
 * If authy dies while its child runs (SIGKILL, the OOM killer, a crash), the child must not
 * linger holding secrets, and mount files must not stay on disk.
 *
 * SIGKILL cannot be caught, so the cleanup lives in another process: a tiny /bin/sh started
 * next to the child, in its own session (terminal signals do not reach it), with no secrets
 * in its environment or argv. It blocks reading a pipe whose only writer is authy. When the
 * child exits normally authy writes "done" and the watchdog exits. If the pipe reaches EOF
 * without it, authy is gone (the kernel closes a dead process's descriptors): the watchdog
 * sends SIGTERM to the child's process group, SIGKILL after WATCHDOG_GRACE_MS if anything in
 * it is still alive, and removes the mount files, then the directories given (the run
 * socket's, once its socket is gone) if they are empty.
 *
 * Limits: a SIGKILL in the instant between starting the child and starting the watchdog is
 * not covered (two synchronous spawns in a row); where `sleep` takes whole seconds only, the
 * grace period shrinks to nothing and SIGKILL follows SIGTERM at once.
 */
import { closeSync, writeSync } from "node:fs";
import type { Writable } from "node:stream";
import { native } from "../os/native.js";
import { nodeSpawn, spawnNatively } from "./spawn.js";

/** How long the child's group has to exit after SIGTERM before it gets SIGKILL. */
export const WATCHDOG_GRACE_MS = 2_000;
const POLL_MS = 100;

// $1 is the process group, $2 how many files follow; then the files, then the directories.
const SCRIPT = `
read -r line
[ "$line" = done ] && exit 0
pg=$1
n=$2
shift 2
kill -s TERM -- "-$pg" 2>/dev/null
i=0
while [ "$i" -lt ${WATCHDOG_GRACE_MS / POLL_MS} ] && kill -s 0 -- "-$pg" 2>/dev/null; do
  sleep ${POLL_MS / 1000}
  i=$((i + 1))
done
kill -s KILL -- "-$pg" 2>/dev/null
i=0
for f; do
  if [ "$i" -lt "$n" ]; then rm -f -- "$f"; else rmdir -- "$f" 2>/dev/null; fi
  i=$((i + 1))
done
`;

interface Watchdog {
  /** The child has exited and authy is cleaning up itself: stand down. */
  release(): void;
}

/** The watchdog's pipe carries one line: the smallest pipe the kernel makes is plenty. */
const WATCHDOG_PIPE_BYTES = 4096;

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed.
  }
}

/**
 * Guards process group `pgid` (and `files`, then `dirs`) until `release()` is called.
 *
 * The watchdog's stdin is a plain pipe of ours where the native calls are available (its write
 * end close-on-exec, written once with a synchronous write), not Node.js's stdio "pipe": that
 * one is a socket pair wrapped in a stream, and cost authy 4.9 ms of CPU and 37 ms of wall
 * time per run to start the watchdog, against 3.0 and 23 ms with a descriptor (medians of 6,
 * loaded 2-core machine). What the watchdog does is the same either way.
 */
export function startWatchdog(pgid: number, files: readonly string[], onError: (message: string) => void, dirs: readonly string[] = []): Watchdog {
  const pipe = native()?.pipe(WATCHDOG_PIPE_BYTES) ?? null;
  const argv = ["-c", SCRIPT, "authy-watchdog", String(pgid), String(files.length), ...files, ...dirs];
  const env = { PATH: "/usr/bin:/bin" };
  let stdin: Writable | null = null;
  try {
    // Never waited for: it outlives its purpose by a moment (authy's run ends right after), and
    // authy's own end leaves it to init. posix_spawn() where it can (spawn.ts), as the child.
    const spawned = pipe ? spawnNatively("/bin/sh", ["/bin/sh", ...argv], env, { cwd: process.cwd(), stdio: [pipe.read, "null", "null"] }) : null;
    if (!spawned) {
      const proc = nodeSpawn("/bin/sh", argv, { stdio: [pipe ? pipe.read : "pipe", "ignore", "ignore"], detached: true, env });
      proc.on("error", (e) => onError(`could not start the run watchdog: ${e.message}`));
      stdin = proc.stdin;
      stdin?.on("error", () => {}); // a watchdog that is gone has nothing left to do
      proc.unref();
    }
  } catch (e) {
    if (pipe) closeQuietly(pipe.write);
    throw e;
  } finally {
    if (pipe) closeQuietly(pipe.read); // the watchdog has its copy; ours would never see EOF anyway
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      if (!pipe) {
        stdin?.end("done\n");
        return;
      }
      try {
        writeSync(pipe.write, "done\n");
      } catch {
        // EPIPE: a watchdog that is gone has nothing left to do
      }
      closeQuietly(pipe.write);
    },
  };
}
