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
import { spawn } from "node:child_process";

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

export interface Watchdog {
  /** The child has exited and authy is cleaning up itself: stand down. */
  release(): void;
}

/** Guards process group `pgid` (and `files`, then `dirs`) until `release()` is called. */
export function startWatchdog(pgid: number, files: readonly string[], onError: (message: string) => void, dirs: readonly string[] = []): Watchdog {
  const proc = spawn("/bin/sh", ["-c", SCRIPT, "authy-watchdog", String(pgid), String(files.length), ...files, ...dirs], {
    stdio: ["pipe", "ignore", "ignore"],
    detached: true,
    env: { PATH: "/usr/bin:/bin" },
  });
  proc.on("error", (e) => onError(`could not start the run watchdog: ${e.message}`));
  proc.stdin.on("error", () => {}); // a watchdog that is gone has nothing left to do
  proc.unref();
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      proc.stdin.end("done\n");
    },
  };
}
