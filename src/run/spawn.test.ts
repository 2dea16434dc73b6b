import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnNatively } from "./spawn.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "authy-spawn-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `script` under /bin/sh with posix_spawn(), its output into a file of ours (dup2'd onto 1 and 2); what it printed and how it ended. */
async function sh(script: string, options: { env?: Record<string, string>; cwd?: string } = {}) {
  const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const fd = openSync(out, "w");
  try {
    const spawned = spawnNatively("/bin/sh", ["sh", "-c", script], options.env ?? { PATH: "/usr/bin:/bin" }, {
      cwd: options.cwd ?? dir,
      stdio: ["null", fd, fd],
    });
    expect(spawned).not.toBeNull();
    const status = await spawned!.exited();
    return { ...status, pid: spawned!.pid, output: readFileSync(out, "utf8") };
  } finally {
    closeSync(fd);
  }
}

describe("spawnNatively (posix_spawn)", () => {
  it("runs the program with exactly the environment, argv and directory given, and reports its exit code", async () => {
    const r = await sh('printf "%s|%s|%s" "$A" "$(pwd)" "$(env | grep -c .)"; exit 7', { env: { A: "x y", PATH: "/usr/bin:/bin" }, cwd: os.tmpdir() });
    // sh itself adds PWD (and maybe SHLVL, _): at most a few variables besides the two.
    const [a, cwd, count] = r.output.split("|");
    expect([a, cwd]).toEqual(["x y", os.tmpdir()]);
    expect(Number(count)).toBeLessThan(6);
    expect([r.code, r.signal]).toEqual([7, null]);
  });

  it("reports the signal that ended it, by name", async () => {
    expect(await sh("kill -s TERM $$")).toMatchObject({ code: null, signal: "SIGTERM" });
  });

  it("starts it as the leader of a new session, with no signal blocked nor ignored (Node.js ignores SIGPIPE)", async () => {
    const r = await sh("cat /proc/self/stat /proc/self/status");
    // /proc/self/stat is cat's: its session (field 6) is the shell's pid, which leads it.
    const fields = r.output.slice(r.output.indexOf(")") + 2).split(" ");
    expect(Number(fields[3])).toBe(r.pid);
    const mask = (name: string) => BigInt(`0x${new RegExp(`^${name}:\\s+([0-9a-f]+)$`, "m").exec(r.output)![1]}`);
    // Signals 1-31, which libuv resets for a child of Node.js's spawn(); glibc's posix_spawn()
    // leaves its own two (32 and 33, which no program sees as SIGRTMIN) ignored.
    expect(mask("SigIgn") & 0x7fffffffn).toBe(0n);
    expect(mask("SigBlk")).toBe(0n);
  });

  it("gives it /dev/null as stdin when asked", async () => {
    expect((await sh("wc -c")).output.trim()).toBe("0");
  });

  it("leaves strings a C string cannot carry to Node.js's spawn(), which refuses them", () => {
    const stdio = ["null", "null", "null"] as const;
    expect(spawnNatively("/bin/true", ["true"], { A: "a\0b" }, { cwd: dir, stdio })).toBeNull();
    expect(spawnNatively("/bin/true", ["true", "a\0b"], {}, { cwd: dir, stdio })).toBeNull();
  });

  it("leaves a process whose thread pool has one thread to Node.js's spawn() (waiting would take the only one)", () => {
    const before = process.env.UV_THREADPOOL_SIZE;
    process.env.UV_THREADPOOL_SIZE = "1";
    try {
      expect(spawnNatively("/bin/true", ["true"], {}, { cwd: dir, stdio: ["null", "null", "null"] })).toBeNull();
    } finally {
      if (before === undefined) delete process.env.UV_THREADPOOL_SIZE;
      else process.env.UV_THREADPOOL_SIZE = before;
    }
  });

  it("returns null, starting nothing, when the program cannot be started", () => {
    expect(spawnNatively(path.join(dir, "missing"), ["missing"], {}, { cwd: dir, stdio: ["null", "null", "null"] })).toBeNull();
  });
});
