/**
 * How the process ends once the command is done: with process.exit() when the event loop
 * has run dry, rather than by letting Node.js return from its loop.
 *
 * A natural exit frees the whole environment: it tears down the V8 heap page by page (the
 * bundles and their code cache make it large) and runs the addons' clean-up hooks, where
 * better-sqlite3 closes the vault (checkpointing the WAL). process.exit() skips the teardown
 * (the kernel takes the memory back at once) but also the hooks, so the stores registered
 * here are closed first, exactly as the hook would have closed them: the files left behind
 * are the same. 'beforeExit' is emitted only when nothing is pending (no output still being
 * written, no child, no socket), so nothing is cut short.
 *
 * Measured (`secrets get`, direct mode, 25 interleaved runs each on the shared 2-core machine
 * with its load at 8-11): 18-28 ms less wall time per command, 2.23x -> 2.09x of `node -e 0`.
 */
import { EXIT_CODES } from "./exit-codes.js";

const closers = new Set<() => Promise<void>>();

/** Registers a store (or anything) to close before the process exits; returns the unregistration. */
export function closeBeforeExit(close: () => Promise<void>): () => void {
  closers.add(close);
  return () => closers.delete(close);
}

/** Set once the command has finished and its exit status is known (exitWhenIdle). */
let finished = false;

/** Called once the command's exit status is set (process.exitCode): exit as soon as the loop is idle. */
export function exitWhenIdle(): void {
  finished = true;
  process.once("beforeExit", () => {
    void Promise.allSettled([...closers].map((close) => close())).then(() => process.exit());
  });
}

/** Ctrl-C before a command's child runs; while `authy run` forwards signals to it, the child decides and authy follows it. */
export function exitOnInterrupt(): void {
  if (process.listenerCount("SIGINT") > 1) return;
  // A Ctrl-C that arrives while a long write runs is handled only once it has committed (the
  // SQLite write blocks the event loop) and the command has finished: its status, not 130,
  // says what happened (an `env import` reported as interrupted had imported everything).
  if (finished) process.exit();
  process.stderr.write("\nauthy: interrupted\n");
  process.exit(EXIT_CODES.INTERRUPTED);
}

/**
 * A reader that goes away (`authy secrets list | head -1`) is not an error. While `authy run`
 * writes its child's output, the output's own listener handles it (the child gets SIGPIPE, and
 * `run` exits as the child did): exiting here would leave the child blocked on a full pipe, and
 * this process waiting at exit for the thread that waits for that child.
 */
export function exitOnClosedStdout(): void {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE" && process.stdout.listenerCount("error") === 1) process.exit(0);
  });
}
