/**
 * The failed-authentication limiter: failures are counted per identity and per address in
 * fixed windows; attempts that succeed are never counted, however many arrive at once.
 */
import { describe, expect, it } from "vitest";
import { limitKeys, MemoryWindowCounts, WindowedAuthLimiter } from "./auth-limit.js";

const T0 = 1_800_000_000_000;

describe("WindowedAuthLimiter", () => {
  it("never blocks a burst of requests that do not fail (64 CI jobs behind one address, one token)", async () => {
    const limiter = new WindowedAuthLimiter(new MemoryWindowCounts(), () => T0);
    const keys = limitKeys("authy_tk_abcdefgh_secret", "192.0.2.7");
    expect(await Promise.all(Array.from({ length: 64 }, () => limiter.blockedFor(keys)))).toEqual(Array(64).fill(0));
  });

  it("blocks an identity after 10 failures and an address after 30, until the window has passed", async () => {
    let now = T0;
    const limiter = new WindowedAuthLimiter(new MemoryWindowCounts(), () => now);
    const id = limitKeys("authy_tk_abcdefgh_guess", null);
    for (let i = 0; i < 9; i++) await limiter.failed(id);
    expect(await limiter.blockedFor(id)).toBe(0);
    await limiter.failed(id);
    expect(await limiter.blockedFor(id)).toBeGreaterThan(0);
    const address = limitKeys(undefined, "192.0.2.8");
    for (let i = 0; i < 30; i++) await limiter.failed(address);
    expect(await limiter.blockedFor(address)).toBeGreaterThan(0);
    now += 60_000;
    expect([await limiter.blockedFor(id), await limiter.blockedFor(address)]).toEqual([0, 0]);
  });
});
