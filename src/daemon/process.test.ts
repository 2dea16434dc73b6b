import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { currentIdentity, identityAlive, processAlive } from "./process.js";

function exitedPid(): number {
  const r = spawnSync("true");
  return r.pid;
}

describe("processAlive", () => {
  it("finds this process and not one that has exited", () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(exitedPid())).toBe(false);
    expect(processAlive(0)).toBe(false);
    expect(processAlive(-1)).toBe(false);
  });

  it.runIf(existsSync("/proc/self/stat"))("counts a zombie (killed, never reaped) as gone", async () => {
    // `sleep 5` becomes the parent of the background sleep and never reaps it.
    const sh = spawn("/bin/sh", ["-c", "sleep 30 & echo $!; exec sleep 5"], { stdio: ["ignore", "pipe", "ignore"] });
    const pid = Number(await new Promise<string>((resolve) => sh.stdout.once("data", (d: Buffer) => resolve(d.toString()))));
    expect(processAlive(pid)).toBe(true);
    // Kill only once the shell has become `sleep 5`: a shell that is still a shell reaps it.
    for (let i = 0; i < 250 && readFileSync(`/proc/${sh.pid}/comm`, "utf8").trim() !== "sleep"; i++) await new Promise((r) => setTimeout(r, 20));
    process.kill(pid, "SIGKILL");
    for (let i = 0; i < 100 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
    expect(processAlive(pid)).toBe(false);
    let zombie = true;
    try {
      process.kill(pid, 0); // the kernel still has it
    } catch {
      zombie = false;
    }
    expect(zombie).toBe(true);
    sh.kill("SIGKILL");
  });
});

describe("identityAlive", () => {
  it("matches this process", () => {
    expect(identityAlive(currentIdentity())).toBe(true);
  });

  it.runIf(existsSync("/proc/self/stat"))("does not mistake a reused pid (another start time or boot) for the holder", () => {
    const me = currentIdentity();
    expect(identityAlive({ ...me, start: "1" })).toBe(false);
    expect(identityAlive({ ...me, boot: "00000000-0000-0000-0000-000000000000" })).toBe(false);
  });
});
