import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { PassThrough, Writable } from "node:stream";
import { AuthyError } from "../errors.js";
import { runChild } from "./child.js";
import { buildChildEnv } from "./env.js";
import { loadNodePty } from "./pty.js";
import { planMounts, type PathKind, type PathProbe } from "./sandbox-mounts.js";
import { checkSandboxSupport, type SupportProbe } from "./sandbox-support.js";
import { sandboxCommand } from "./sandbox.js";

/** A file system of the given paths (directories end in /), nothing else. */
function fakeFs(entries: string[]): PathProbe {
  const kinds = new Map<string, PathKind>(entries.map((e) => (e.endsWith("/") ? [e.slice(0, -1), "dir"] : [e, "file"])));
  return { kind: (p) => kinds.get(p) ?? "missing", real: (p) => p };
}

const HOME = "/home/ada";
const fs = fakeFs([`${HOME}/`, `${HOME}/.ssh/`, `${HOME}/.ssh/known_hosts`, `${HOME}/.netrc`, `${HOME}/.authy/`, `${HOME}/src/`, "/data/"]);
const plan = (input: Partial<Parameters<typeof planMounts>[0]>) =>
  planMounts({ home: HOME, cwd: `${HOME}/src`, write: [], read: [], hide: [`${HOME}/.authy`], ...input }, fs);

describe("the sandbox's mounts", () => {
  it("hides credential homes and authy's home that exist, after the binds that contain them", () => {
    expect(plan({ cwd: HOME })).toEqual([
      { op: "tmpfs", path: "/tmp" },
      { op: "bind", path: HOME, writable: true },
      { op: "tmpfs", path: `${HOME}/.ssh` },
      { op: "hide-file", path: `${HOME}/.netrc` },
      { op: "tmpfs", path: `${HOME}/.authy` },
    ]);
  });

  it("shows a hidden path named exactly, and re-binds an allowed path inside a hidden one", () => {
    const ops = plan({ read: [`${HOME}/.netrc`, `${HOME}/.ssh/known_hosts`] });
    expect(ops).not.toContainEqual({ op: "hide-file", path: `${HOME}/.netrc` });
    const mask = ops.findIndex((o) => o.op === "tmpfs" && o.path === `${HOME}/.ssh`);
    const rebind = ops.findIndex((o) => o.op === "bind" && o.path === `${HOME}/.ssh/known_hosts` && !o.writable);
    expect(mask).toBeGreaterThanOrEqual(0);
    expect(rebind).toBeGreaterThan(mask);
  });

  it("refuses a working directory inside a hidden path, and --allow-write paths that do not exist", () => {
    expect(() => plan({ cwd: `${HOME}/.authy` })).toThrow(/inside .*\.authy, which the sandbox hides/);
    expect(() => plan({ write: ["/nowhere"] })).toThrow(/--allow-write \/nowhere: no such file or directory/);
  });
});

describe("checking that the sandbox can run", () => {
  const probe = (over: Partial<SupportProbe>): SupportProbe => ({ platform: "linux", readSysctl: () => null, findBwrap: () => "/usr/bin/bwrap", ...over });
  const code = (p: SupportProbe) => {
    try {
      checkSandboxSupport(p);
      return "ok";
    } catch (e) {
      return `${(e as AuthyError).code}: ${(e as Error).message}`;
    }
  };

  it("says a system other than Linux is not supported yet (usage, exit 2)", () => {
    expect(code(probe({ platform: "darwin" }))).toMatch(/^INVALID_INPUT: .*not supported on this system yet/);
  });

  it("names the package when bwrap is missing, and the switch when user namespaces are off", () => {
    expect(code(probe({ findBwrap: () => null }))).toMatch(/^UNAVAILABLE: .*install the bubblewrap package/);
    const off = probe({ readSysctl: (f) => (f.endsWith("unprivileged_userns_clone") ? "0" : null) });
    expect(code(off)).toMatch(/^UNAVAILABLE: .*user namespaces.*unprivileged_userns_clone is 0.*check with `unshare --user/);
    expect(code(probe({}))).toBe("ok");
  });
});

const hasBwrap = spawnSync("which", ["bwrap"]).status === 0;

describe("a real interactive program in the sandbox, on a PTY", () => {
  it("runs python3 -i: its own pid namespace, Ctrl-C reaches it as KeyboardInterrupt, its exit status comes back", async () => {
    if (!hasBwrap) throw new Error("this test needs bwrap, which is not on PATH; install it (apt-get install bubblewrap)");
    // Through node-pty directly: the built CLI's loading of node-pty is fixed on another branch.
    const pty = await loadNodePty();
    expect(pty).not.toBeNull();
    const bwrap = checkSandboxSupport();
    const stdin = new PassThrough();
    let out = "";
    const waiters: { test: RegExp; resolve: () => void }[] = [];
    const stdout = new Writable({
      write(chunk: Buffer, _e, callback) {
        out += chunk.toString("utf8");
        for (const w of waiters.splice(0)) (w.test.test(out) ? w.resolve : () => waiters.push(w))();
        callback();
      },
    });
    const seen = (test: RegExp) => new Promise<void>((resolve) => (test.test(out) ? resolve() : waiters.push({ test, resolve })));
    const cwd = process.cwd();
    const running = runChild({
      command: "/usr/bin/python3",
      args: ["-i", "-q"],
      env: buildChildEnv(process.env, { TERM: "xterm" }),
      pty: true,
      stdin,
      stdout,
      loadPty: async () => pty,
      wrap: (p, a) => sandboxCommand(p, a, { bwrap, network: { kind: "none" }, mounts: { home: "/nonexistent", cwd, write: [], read: [], hide: [] } }),
    });
    await seen(/>>> /);
    stdin.write("import os, sys, time; print('pid', os.getpid(), sys.stdin.isatty())\n");
    await seen(/pid \d+ True/);
    stdin.write("time.sleep(30)\n");
    await new Promise((r) => setTimeout(r, 500));
    stdin.write("\x03");
    await seen(/KeyboardInterrupt/);
    stdin.write("print('after', 6 * 7)\n");
    await seen(/after 42/);
    stdin.write("sys.exit(5)\n");
    const result = await running;
    expect(out).toMatch(/pid 2 True/); // bwrap's init is 1: nothing of the host's process tree
    expect(result.exitCode).toBe(5);
  }, 60_000);
});
