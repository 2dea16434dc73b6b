import { describe, expect, it } from "vitest";
import { Coalescer, copyRows } from "./postgres-coalesce.js";

/** An exec whose runs are settled by hand, recording when each began. */
function manual() {
  const runs: { began: number; settle: (v: { rows: { n: number; b: Buffer }[] }) => void; fail: (e: Error) => void }[] = [];
  let clock = 0;
  const exec = () =>
    new Promise<{ rows: { n: number; b: Buffer }[] }>((resolve, reject) => {
      runs.push({ began: clock, settle: resolve, fail: reject });
    });
  return { runs, exec, tick: () => ++clock, now: () => clock };
}

type Result = { rows: { n: number; b: Buffer }[] };
const flush = () => new Promise((r) => setImmediate(r));

describe("Coalescer", () => {
  it("runs a read at once when none is in flight, and again for those who asked meanwhile, once for all of them", async () => {
    const c = new Coalescer<Result>(copyRows);
    const m = manual();
    const first = c.run("k", m.exec);
    m.tick();
    const later = [c.run("k", m.exec), c.run("k", m.exec), c.run("k", m.exec)];
    expect(m.runs).toHaveLength(1);
    m.runs[0]!.settle({ rows: [{ n: 1, b: Buffer.from([1]) }] });
    expect((await first).rows[0]!.n).toBe(1);
    await flush();
    // The later callers asked after the first read began: they get a read that began after them.
    expect(m.runs).toHaveLength(2);
    expect(m.runs[1]!.began).toBe(1);
    m.runs[1]!.settle({ rows: [{ n: 2, b: Buffer.from([2]) }] });
    const got = await Promise.all(later);
    expect(got.map((r) => r.rows[0]!.n)).toEqual([2, 2, 2]);
    // Each its own copy.
    got[0]!.rows[0]!.b[0] = 9;
    expect(got.slice(1).map((r) => r.rows[0]!.b[0])).toEqual([2, 2]);
    await flush();
    expect(m.runs).toHaveLength(2);
    // Nothing in flight any more: the next caller runs at once.
    void c.run("k", m.exec);
    expect(m.runs).toHaveLength(3);
  });

  it("copies the Buffers of rows and of arrays in rows", () => {
    const b = Buffer.from([1]);
    const original = { rows: [{ n: 1, b, list: [b] }, [b]] };
    const copy = copyRows(original);
    b[0] = 2;
    expect(copy.rows).toEqual([{ n: 1, b: Buffer.from([1]), list: [Buffer.from([1])] }, [Buffer.from([1])]]);
  });

  it("keeps different keys apart and passes a failure to everyone who shared the read", async () => {
    const c = new Coalescer<Result>(copyRows);
    const m = manual();
    const a = c.run("a", m.exec);
    const b = c.run("b", m.exec);
    expect(m.runs).toHaveLength(2);
    const waiting = [c.run("a", m.exec), c.run("a", m.exec)];
    m.runs[0]!.fail(new Error("first"));
    await expect(a).rejects.toThrow("first");
    await flush();
    m.runs[2]!.fail(new Error("second"));
    for (const w of waiting) await expect(w).rejects.toThrow("second");
    m.runs[1]!.settle({ rows: [] });
    await expect(b).resolves.toEqual({ rows: [] });
  });
});
