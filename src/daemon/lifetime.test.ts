import { describe, expect, it } from "vitest";
import { Lifetime, type Instant } from "./lifetime.js";

/** A clock whose monotonic and wall readings the test moves independently. */
function fakeClock() {
  const t: Instant = { mono: 1_000, wall: 1_700_000_000_000 };
  return {
    now: () => ({ ...t }),
    advance: (ms: number) => ((t.mono += ms), (t.wall += ms)),
    suspend: (ms: number) => (t.wall += ms), // the monotonic clock stops while suspended
    setWall: (delta: number) => (t.wall += delta),
  };
}

describe("Lifetime", () => {
  it("locks for idleness one millisecond after the idle timeout, not before", () => {
    const c = fakeClock();
    const l = new Lifetime(15 * 60_000, 8 * 3600_000, c.now);
    c.advance(15 * 60_000 - 1);
    expect(l.expired()).toBeNull();
    expect(l.remaining().idleLeftMs).toBe(1);
    c.advance(1);
    expect(l.expired()).toBe("idle");
  });

  it("starts the idle countdown again on activity", () => {
    const c = fakeClock();
    const l = new Lifetime(10_000, 3600_000, c.now);
    for (let i = 0; i < 10; i++) {
      c.advance(9_000);
      l.touch();
    }
    expect(l.expired()).toBeNull();
    expect(l.remaining()).toEqual({ idleLeftMs: 10_000, lifetimeLeftMs: 3600_000 - 90_000 });
  });

  it("locks at the maximum lifetime however active it is", () => {
    const c = fakeClock();
    const l = new Lifetime(10_000, 30_000, c.now);
    for (let i = 0; i < 29; i++) {
      c.advance(1_000);
      l.touch();
    }
    expect(l.expired()).toBeNull();
    c.advance(1_000);
    l.touch();
    expect(l.expired()).toBe("max-lifetime");
  });

  it("counts time spent suspended (the monotonic clock stops, the wall clock does not)", () => {
    const c = fakeClock();
    const l = new Lifetime(15 * 60_000, 8 * 3600_000, c.now);
    c.suspend(9 * 3600_000);
    expect(l.expired()).toBe("max-lifetime");
  });

  it("is not extended by setting the system clock back", () => {
    const c = fakeClock();
    const l = new Lifetime(60_000, 120_000, c.now);
    c.advance(30_000);
    c.setWall(-3600_000);
    c.advance(30_001);
    expect(l.expired()).toBe("idle");
    expect(l.remaining().lifetimeLeftMs).toBe(120_000 - 60_001);
  });

  it("locks early, never late, when the clock jumps forward", () => {
    const c = fakeClock();
    const l = new Lifetime(60_000, 3600_000, c.now);
    c.setWall(60_000);
    expect(l.expired()).toBe("idle");
  });
});
