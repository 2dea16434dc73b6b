/**
 * The failed-authentication limiter: attempts sent all at once are counted while they are
 * being checked, so a burst cannot get past the limit before the first failure is recorded.
 */
import { describe, expect, it } from "vitest";
import { limitKeys, MemoryWindowCounts, WindowedAuthLimiter } from "./auth-limit.js";

const T0 = 1_800_000_000_000;

describe("WindowedAuthLimiter", () => {
  it("admits no more attempts at once than the identity's limit, and counts the failed ones", async () => {
    const limiter = new WindowedAuthLimiter(new MemoryWindowCounts(), () => T0);
    const keys = limitKeys("authy_tk_abcdefgh_guess", null);
    const waits = await Promise.all(Array.from({ length: 50 }, () => limiter.admit(keys)));
    expect(waits.filter((w) => w === 0)).toHaveLength(10);
    expect(Math.min(...waits.filter((w) => w > 0))).toBeGreaterThan(0);
    // The ten admitted fail: the identity stays blocked with nothing in flight.
    for (let i = 0; i < 10; i++) await limiter.settle(keys, true);
    expect(await limiter.admit(keys)).toBeGreaterThan(0);
  });

  it("frees the slot of an attempt that did not fail, and forgets a window once it has passed", async () => {
    let now = T0;
    const limiter = new WindowedAuthLimiter(new MemoryWindowCounts(), () => now);
    const keys = limitKeys(undefined, "192.0.2.7");
    for (let i = 0; i < 30; i++) expect(await limiter.admit(keys)).toBe(0);
    expect(await limiter.admit(keys)).toBeGreaterThan(0);
    await limiter.settle(keys, false);
    expect(await limiter.admit(keys)).toBe(0);
    for (let i = 0; i < 30; i++) await limiter.settle(keys, true);
    expect(await limiter.admit(keys)).toBeGreaterThan(0);
    now += 60_000;
    expect(await limiter.admit(keys)).toBe(0);
  });
});
