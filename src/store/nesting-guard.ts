/**
 * Refusing a write() started inside another write()'s callback: it would wait for the write it
 * is part of, a deadlock. Knowing "inside" takes AsyncLocalStorage, which on Node.js 20 and 22
 * is built on async_hooks' promise hooks: once any storage has been entered they run for every
 * promise the process makes, and a server makes many. `authy serve` on PostgreSQL spent 420 µs
 * of CPU per audited token read with them and 271–276 µs without (3,238–3,400 reads/s against
 * 2,243–2,408, 64 clients, 2 cores).
 *
 * So the check runs where it is cheap, on Node.js 24 and later (AsyncContextFrame), and where
 * such a mistake is made and must be caught, the tests (NODE_ENV=test, which vitest sets and
 * the processes they start inherit). Elsewhere a nested write() hangs instead of failing; the
 * stores' conformance suite holds every store to the refusal.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const CHECKED = process.env.NODE_ENV === "test" || Number(process.versions.node.split(".")[0]) >= 24;

export class NestingGuard<T extends { readonly active: boolean }> {
  private readonly storage = CHECKED ? new AsyncLocalStorage<T>() : null;

  /** Runs a transaction's callback, known to be inside `tx` where checked. */
  run<R>(tx: T, fn: () => Promise<R>): Promise<R> {
    return this.storage ? this.storage.run(tx, fn) : fn();
  }

  /** Whether this code runs inside the callback of a transaction still under way (where checked). */
  inside(): boolean {
    return this.storage?.getStore()?.active ?? false;
  }
}
