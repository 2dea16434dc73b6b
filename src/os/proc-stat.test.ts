import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { descendsFrom, procStat, running } from "./proc-stat.js";

describe("procStat", () => {
  it("reads this process's parent, session, terminal and start time", () => {
    const me = procStat("self")!;
    expect(me.pid).toBe(process.pid);
    expect(me.ppid).toBe(process.ppid);
    // 0 when the session's leader is outside this pid namespace (as in some CI containers).
    expect(me.session).toBeGreaterThanOrEqual(0);
    expect(me.start).toMatch(/^\d+$/);
    expect(running(me)).toBe(true);
    expect(procStat(2 ** 22 + 1)).toBeNull();
  });

  it("follows parents: a child descends from this process, this process not from its child, and a wrong start time is another process", async () => {
    const child = spawn("sleep", ["5"], { stdio: "ignore" });
    try {
      await new Promise((r) => child.once("spawn", r));
      const me = procStat("self")!;
      expect(descendsFrom(child.pid!, me)).toBe(true);
      expect(descendsFrom(child.pid!, me, { strict: true })).toBe(true);
      expect(descendsFrom(process.pid, me)).toBe(true);
      expect(descendsFrom(process.pid, me, { strict: true })).toBe(false);
      expect(descendsFrom(process.pid, { pid: child.pid!, start: procStat(child.pid!)!.start })).toBe(false);
      expect(descendsFrom(child.pid!, { pid: process.pid, start: "1" })).toBe(false);
      expect(procStat(child.pid!)!.session).toBe(me.session);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
