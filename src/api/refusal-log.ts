/**
 * Refusals that happen before the core (bad credentials, bearers of no known kind, a route not
 * for the caller's kind) are written to the audit log like every other refusal, but bounded,
 * so that a flood of bad requests cannot fill the disk: per (actor, action, reason), the first
 * refusal in a window is written at once, and the repeats within the window are counted and
 * written as one entry (`repeats: N`) when the window closes. The actor of a credential nobody
 * issued is a fixed name (`token:unknown`), never text from the request, so a flood cannot
 * mint keys either; and the number of keys open at once is capped.
 */

/** One window per (actor, action, reason): a minute of the same refusal is one or two entries. */
export const REFUSAL_WINDOW_MS = 60_000;
/** Distinct (actor, action, reason) keys followed at once; beyond this they share one key. */
export const MAX_REFUSAL_KEYS = 256;

export interface Refusal {
  actor: string;
  action: string;
  resource: string;
  reason: string;
}

/** Writes one audit entry (the daemon's vault); may fail (locked, log not writable). */
type RefusalWriter = (who: string, action: string, resource: string, details: Record<string, unknown>) => Promise<void>;

interface Window {
  refusal: Refusal;
  start: number;
  last: number;
  repeats: number;
}

export class RefusalLog {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly write: RefusalWriter,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a refusal (best effort: a refusal stands whether or not it could be written). */
  async note(r: Refusal): Promise<void> {
    const now = this.now();
    let key = `${r.actor}\u0000${r.action}\u0000${r.reason}`;
    let refusal = r;
    if (!this.windows.has(key) && this.windows.size >= MAX_REFUSAL_KEYS) {
      await this.flushExpired();
      if (this.windows.size >= MAX_REFUSAL_KEYS) {
        refusal = { actor: "various", action: r.action, resource: "various", reason: "various" };
        key = `\u0000overflow\u0000${r.action}`;
      }
    }
    const open = this.windows.get(key);
    if (open && now - open.start < REFUSAL_WINDOW_MS) {
      open.repeats++;
      open.last = now;
      return;
    }
    if (open) await this.close(key, open);
    this.windows.set(key, { refusal, start: now, last: now, repeats: 0 });
    await this.safely(refusal, { reason: refusal.reason });
  }

  /** Writes the counts of windows that have closed (called now and then, and before locking). */
  async flushExpired(): Promise<void> {
    const now = this.now();
    for (const [key, w] of [...this.windows]) if (now - w.start >= REFUSAL_WINDOW_MS) await this.close(key, w);
  }

  /** Writes every count still open (the daemon is about to lock). */
  async flushAll(): Promise<void> {
    for (const [key, w] of [...this.windows]) await this.close(key, w);
  }

  private async close(key: string, w: Window): Promise<void> {
    this.windows.delete(key);
    if (w.repeats > 0) {
      await this.safely(w.refusal, { reason: w.refusal.reason, repeats: w.repeats, from: new Date(w.start).toISOString(), to: new Date(w.last).toISOString() });
    }
  }

  private async safely(r: Refusal, details: Record<string, unknown>): Promise<void> {
    try {
      await this.write(r.actor, r.action, r.resource, details);
    } catch {
      // Locked, or the log is not writable: the refusal stands either way.
    }
  }
}
