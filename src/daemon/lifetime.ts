/**
 * When the daemon locks itself: after `idleMs` without an authenticated request, and in any
 * case `maxMs` after it started.
 *
 * Elapsed time is the larger of a monotonic reading (performance.now) and the wall clock.
 * The monotonic clock alone cannot be moved back by changing the system time, but on Linux
 * it stops while the machine is suspended, so a laptop closed overnight would wake with an
 * 8-hour daemon still unlocked; the wall clock counts the suspension. Taking the larger one
 * means a clock set back extends nothing, and a clock set forward only locks early.
 */

/** In-flight requests get this long to finish when the daemon locks; then their connections are cut. */
export const SHUTDOWN_GRACE_MS = 5_000;
/** A daemon holding the key for weeks defeats the point of locking. */
export const MAX_LIFETIME_LIMIT_MS = 7 * 24 * 60 * 60_000;

export interface Instant {
  /** Monotonic milliseconds (performance.now). */
  mono: number;
  /** Milliseconds since the epoch (Date.now). */
  wall: number;
}

const systemInstant = (): Instant => ({ mono: performance.now(), wall: Date.now() });

type LockReason = "idle" | "max-lifetime";

export class Lifetime {
  private readonly started: Instant;
  private lastActivity: Instant;

  constructor(
    readonly idleMs: number,
    readonly maxMs: number,
    private readonly now: () => Instant = systemInstant,
  ) {
    this.started = now();
    this.lastActivity = this.started;
  }

  /** The wall-clock time the daemon started (for display). */
  get startedAt(): number {
    return this.started.wall;
  }

  /** An authenticated request: the idle countdown starts again. */
  touch(): void {
    this.lastActivity = this.now();
  }

  private static elapsed(from: Instant, to: Instant): number {
    return Math.max(to.mono - from.mono, to.wall - from.wall);
  }

  remaining(): { idleLeftMs: number; lifetimeLeftMs: number } {
    const now = this.now();
    return {
      idleLeftMs: Math.max(0, this.idleMs - Lifetime.elapsed(this.lastActivity, now)),
      lifetimeLeftMs: Math.max(0, this.maxMs - Lifetime.elapsed(this.started, now)),
    };
  }

  /** Why the daemon must lock now, or null. The lifetime wins when both are due. */
  expired(): LockReason | null {
    const r = this.remaining();
    if (r.lifetimeLeftMs <= 0) return "max-lifetime";
    if (r.idleLeftMs <= 0) return "idle";
    return null;
  }
}
