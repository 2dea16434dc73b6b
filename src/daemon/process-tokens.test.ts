import { spawn, type ChildProcess } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { procStat } from "../os/proc-stat.js";
import { ProcessTokens } from "./process-tokens.js";
import type { Peer } from "./terminal.js";

function peer(pid: number): Peer {
  return { pid, uid: 0, gid: 0, stat: procStat(pid) };
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

function sleeper(): number {
  const c = spawn("sleep", ["30"], { stdio: "ignore" });
  children.push(c);
  return c.pid!;
}

describe.runIf(procStat("self") !== null)("tokens bound to a process", () => {
  it("lets a process-tree token be used by the anchor's descendants only, never the anchor", () => {
    const tokens = new ProcessTokens();
    tokens.track("t", process.pid);
    expect(tokens.admit("t", peer(sleeper()))).toBe(true);
    expect(tokens.admit("t", peer(process.pid))).toBe(false);
    expect(tokens.admit("t", null)).toBe(false);
  });

  it("lets a relayed token (run --sandbox --pass-token) be used by the anchor alone, before and after its child is named", () => {
    const tokens = new ProcessTokens();
    tokens.track("t", process.pid, { relayed: true });
    const child = sleeper();
    expect(tokens.admit("t", peer(process.pid))).toBe(true);
    expect(tokens.admit("t", peer(child))).toBe(false);
    tokens.bind("t", child, peer(process.pid));
    expect(tokens.admit("t", peer(process.pid))).toBe(true);
    expect(tokens.admit("t", peer(child))).toBe(false);
    // The anchor's pid with another start time (a reused pid) is not the anchor.
    expect(tokens.admit("t", { ...peer(process.pid), stat: { ...procStat(process.pid)!, start: "0" } })).toBe(false);
    expect(tokens.exited("t")).toBeNull();
  });

  it("says a relayed token's child has exited, so the daemon revokes it", async () => {
    const tokens = new ProcessTokens();
    tokens.track("t", process.pid, { relayed: true });
    const c = spawn("sleep", ["30"], { stdio: "ignore" });
    children.push(c);
    tokens.bind("t", c.pid!, peer(process.pid));
    c.kill("SIGKILL");
    await new Promise((r) => c.once("exit", r));
    expect(tokens.exited("t")).toBe(c.pid);
  });
});
