import { ApiError } from "./http-status.js";

/**
 * Failed authentication, limited per identity (the credential's id: a token or key being
 * guessed) and per address (a client guessing many). The counts live where every process
 * serving the vault sees them (src/server: memory for one process, PostgreSQL for several).
 * While a key is over its limit every attempt under it is refused with 429 before any
 * credential is checked, a right one included: a guesser learns nothing more.
 */
export interface AuthFailureLimiter {
  /** Seconds until none of `keys` is over its limit (0: go ahead). */
  blockedFor(keys: readonly string[]): Promise<number>;
  /** Counts one failed attempt against each of `keys`. */
  failed(keys: readonly string[]): Promise<void>;
}

/** The counting window. */
const AUTH_FAILURE_WINDOW_MS = 60_000;
/** Failures per identity per window: a person mistyping a key does not get near it. */
const AUTH_FAILURES_PER_IDENTITY = 10;
/** Failures per address per window: several CI jobs behind one NAT with a stale token stay under it. */
const AUTH_FAILURES_PER_ADDRESS = 30;

/** The limit of a key, by its kind (`id:` or `ip:`). */
function limitOf(key: string): number {
  return key.startsWith("ip:") ? AUTH_FAILURES_PER_ADDRESS : AUTH_FAILURES_PER_IDENTITY;
}

/** `authy_tk_<id>_…`, `authy_ak_<id>_…`, `authy_mk_<id>_…`: the kind and the public id, never the secret part. */
const CREDENTIAL_ID = /^authy_([a-z]{2})_([a-z2-7]{1,64})_/;

/** The keys an attempt counts against: the credential's public id when it has one, and the client's address. */
export function limitKeys(bearer: string | undefined, address: string | null): string[] {
  const keys: string[] = [];
  const m = bearer === undefined ? null : CREDENTIAL_ID.exec(bearer);
  if (m) keys.push(`id:${m[1]!}:${m[2]!}`);
  if (address) keys.push(`ip:${address}`);
  return keys;
}

export function tooManyFailures(seconds: number): ApiError {
  return new ApiError(429, "ACCESS_DENIED", "too many failed authentication attempts; try again later", {
    hint: `wait ${seconds} s (Retry-After) and check the credential`,
    details: { retryAfterSeconds: seconds },
  });
}

/** Counts of failures per key and window, wherever they are kept (memory, or a shared database). */
export interface WindowCounts {
  /** Adds one to each key's count in `window`. */
  add(keys: readonly string[], window: number): Promise<void>;
  /** The counts of `keys` in `window` (absent: none). */
  get(keys: readonly string[], window: number): Promise<Map<string, number>>;
  close?(): Promise<void>;
}

/** Fixed windows of AUTH_FAILURE_WINDOW_MS over some counts. */
export class WindowedAuthLimiter implements AuthFailureLimiter {
  constructor(
    readonly counts: WindowCounts,
    private readonly now: () => number = Date.now,
  ) {}

  async blockedFor(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const now = this.now();
    const window = Math.floor(now / AUTH_FAILURE_WINDOW_MS);
    const counts = await this.counts.get(keys, window);
    for (const [key, n] of counts) if (n >= limitOf(key)) return Math.ceil(((window + 1) * AUTH_FAILURE_WINDOW_MS - now) / 1000);
    return 0;
  }

  async failed(keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.counts.add(keys, Math.floor(this.now() / AUTH_FAILURE_WINDOW_MS));
  }
}

/** One process's counts (the SQLite server): only the current window is kept. */
export class MemoryWindowCounts implements WindowCounts {
  private window = -1;
  private readonly counts = new Map<string, number>();

  async add(keys: readonly string[], window: number): Promise<void> {
    this.roll(window);
    for (const key of keys) this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  async get(keys: readonly string[], window: number): Promise<Map<string, number>> {
    this.roll(window);
    const out = new Map<string, number>();
    for (const key of keys) {
      const n = this.counts.get(key);
      if (n !== undefined) out.set(key, n);
    }
    return out;
  }

  /** A new window forgets the last one: a flood of addresses cannot grow the map for ever. */
  private roll(window: number): void {
    if (window === this.window) return;
    this.window = window;
    this.counts.clear();
  }
}
