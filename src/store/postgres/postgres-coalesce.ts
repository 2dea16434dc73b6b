/**
 * Identical reads from concurrent requests, coalesced: what lets one server process answer 64
 * clients reading the same token and secret without 64 times the queries. Measured on the
 * team server bench (bench/figures/server.mjs, issue 14 item 8): every query costs the server
 * and PostgreSQL a round trip of system calls, and those were most of a request's time.
 *
 * A read asked for while the same read (same SQL, same parameters) is in flight does not
 * share that one, which may have started before the caller asked and so miss a commit the
 * caller has already seen acknowledged (a token just revoked). It waits for the next one,
 * which starts once the one in flight is done, and which every caller who asked in the
 * meantime shares: each caller gets rows read by a statement that began after it asked, as if
 * it had run the statement itself a little later. Each gets its own copy of the rows.
 */

interface Next<R> {
  promise: Promise<R>;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
  /** Callers sharing it so far. */
  callers: number;
}

interface Flight<R> {
  /** The read asked for while this one runs, if any: it starts when this one settles. */
  next: Next<R> | null;
}

export class Coalescer<R> {
  private readonly flights = new Map<string, Flight<R>>();

  constructor(private readonly copy: (value: R) => R) {}

  /** `exec()`'s result for `key`: run now if none is in flight, else by the next run, shared. */
  run(key: string, exec: () => Promise<R>): Promise<R> {
    const flight = this.flights.get(key);
    if (!flight) return this.start(key, { next: null }, exec);
    if (!flight.next) {
      let resolve!: (value: R) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<R>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      flight.next = { promise, resolve, reject, callers: 0 };
    }
    const next = flight.next;
    // The first caller gets the rows as read; every other one a copy.
    return next.callers++ === 0 ? next.promise : next.promise.then(this.copy);
  }

  private start(key: string, flight: Flight<R>, exec: () => Promise<R>): Promise<R> {
    this.flights.set(key, flight);
    const done = exec();
    const settle = () => {
      const next = flight.next;
      if (!next) {
        this.flights.delete(key);
        return;
      }
      const following: Flight<R> = { next: null };
      this.start(key, following, exec).then(next.resolve, next.reject);
    };
    done.then(settle, settle);
    return done;
  }
}

/** A value of a row as its own copy: Buffers and arrays (of Buffers: bytea[]) copied, the rest immutable. */
function copyValue(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  return Array.isArray(v) ? v.map(copyValue) : v;
}

/** A copy of query rows (objects or arrays) whose Buffers are copies too: no caller sees another's changes. */
export function copyRows<T extends { rows: unknown[] }>(result: T): T {
  const rows = result.rows.map((r) => {
    if (Array.isArray(r)) return r.map(copyValue);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r as Record<string, unknown>)) out[k] = copyValue(v);
    return out;
  });
  return { ...result, rows };
}
