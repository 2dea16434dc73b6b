/**
 * Read snapshots for a store's read connection (SqliteStore.open with `sharedReads`, as the
 * daemon and the server open it): the reads of one callback of the event loop, with the promise
 * continuations it runs (a request's reads, up to its first real wait), share one read
 * transaction, which ends when they are done (process.nextTick) or when any store of this
 * process commits, whichever comes first.
 *
 * Why: outside a transaction each statement is a read transaction of its own, and in WAL
 * mode starting one takes and drops a lock on the -shm file (two fcntl calls) and re-reads the
 * WAL index. A token read on the server is four such reads (the token, its bucket's state,
 * the secret, its bucket's state). Measured on 2026-12-05 (Node 20.20, SQLite 3.53, the
 * 2-core build machine, whose system calls are slow): a primary-key read 16.9 µs alone, 7.5 µs
 * inside a transaction; `authy serve` made 8.2 fcntl calls per audited read, and used 268-312
 * µs of CPU per audited read with 64 clients; 237-248 µs with its reads sharing snapshots.
 *
 * What a read sees does not change in kind: every read of a snapshot sees one committed state
 * of the database. A write by this process is never missed (every commit ends the snapshots
 * first, so the next read starts after it); a write by another process is seen from the next
 * callback on, as if the read had simply come a little earlier. Never later: a snapshot that
 * outlived its callback (setImmediate, tried first) could last through the wait for the next
 * request of an idle daemon, and answer it from a state seconds old.
 */
import type { Connection } from "./sqlite-reader.js";

/** The read connections of this process that hold a snapshot now. */
const open = new Set<Connection>();

/** Makes sure `conn` is inside a snapshot; call before each read through it. */
export function inSnapshot(conn: Connection): void {
  if (open.has(conn)) return;
  // A transaction still open here is one whose end failed (see endSnapshot): keep it, end it next time.
  if (!conn.db.inTransaction) conn.stmt("BEGIN").run();
  open.add(conn);
  process.nextTick(endSnapshot, conn);
}

/** Ends `conn`'s snapshot, if it has one; the next read starts a new one. */
export function endSnapshot(conn: Connection): void {
  if (!open.delete(conn)) return;
  if (!conn.db.open || !conn.db.inTransaction) return;
  try {
    conn.stmt("COMMIT").run();
  } catch {
    // A read transaction cannot fail to end but by a statement still running on it: the
    // next read marks it open again and it ends with that read's callback.
  }
}

/** Before a commit: no read of this process may go on seeing the state before it. */
export function endAllSnapshots(): void {
  for (const conn of open) endSnapshot(conn);
}
