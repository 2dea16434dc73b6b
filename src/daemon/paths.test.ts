import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { currentIdentity } from "./process.js";
import { checkPrivateDir, daemonPaths, daemonSocket, inspectSocketPath, prepareDaemonDirs, SOCKET_PATH_MAX_BYTES } from "./paths.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "authy-paths-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const isRoot = process.getuid?.() === 0;

describe("daemonPaths", () => {
  it("keeps everything in $AUTHY_HOME/daemon when the socket path fits", () => {
    const p = daemonPaths(path.join(root, "home"));
    expect(p.socket).toBe(path.join(root, "home", "daemon", "authy.sock"));
    expect(p.fallback).toBe(false);
    expect(p.state).toBe(path.join(root, "home", "daemon", "daemon.json"));
  });

  it("moves only the socket to /tmp/authy-<uid> when the home is too deep, one name per home", () => {
    const deep = path.join(root, "x".repeat(SOCKET_PATH_MAX_BYTES), "home");
    const p = daemonPaths(deep);
    expect(p.fallback).toBe(true);
    expect(p.socket).toMatch(new RegExp(`^/tmp/authy-${process.getuid!()}/[0-9a-f]{16}\\.sock$`));
    expect(p.lock).toBe(path.join(deep, "daemon", "daemon.lock"));
    expect(daemonPaths(deep).socket).toBe(p.socket);
    expect(daemonPaths(`${deep}2`).socket).not.toBe(p.socket);
  });

  it("measures the limit in bytes, not characters", () => {
    const home = path.join(root, "é".repeat(Math.ceil((SOCKET_PATH_MAX_BYTES - root.length) / 2)));
    expect(home.length).toBeLessThan(SOCKET_PATH_MAX_BYTES);
    expect(daemonPaths(home).fallback).toBe(true);
  });
});

describe("checkPrivateDir", () => {
  it("creates a 0700 directory and tightens its own daemon directory's mode", () => {
    const dir = path.join(root, "d");
    checkPrivateDir(dir, true);
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
    chmodSync(dir, 0o755);
    checkPrivateDir(dir, true);
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
  });

  it("refuses an existing directory with a loose mode where it must not fix it (/tmp)", () => {
    const dir = path.join(root, "d");
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
    expect(() => checkPrivateDir(dir, false)).toThrow(/its mode is 777, not 700/);
  });

  it("refuses a symbolic link and a regular file", () => {
    mkdirSync(path.join(root, "real"), { mode: 0o700 });
    symlinkSync(path.join(root, "real"), path.join(root, "link"));
    expect(() => checkPrivateDir(path.join(root, "link"), true)).toThrow(/is a symbolic link/);
    writeFileSync(path.join(root, "file"), "");
    expect(() => checkPrivateDir(path.join(root, "file"), true)).toThrow(/is not a directory/);
  });

  it.runIf(isRoot)("refuses a directory that belongs to someone else", () => {
    const dir = path.join(root, "theirs");
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 12345, 12345);
    expect(() => checkPrivateDir(dir, false)).toThrow(/belongs to uid 12345/);
  });

  it("prepares the daemon directory of a home", () => {
    const home = path.join(root, "home");
    mkdirSync(home, { mode: 0o700 });
    prepareDaemonDirs(daemonPaths(home));
    expect(lstatSync(path.join(home, "daemon")).mode & 0o777).toBe(0o700);
  });
});

function listen(socket: string): Promise<net.Server> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(socket, () => resolve(server));
  });
}

describe("inspectSocketPath", () => {
  it("tells a socket from nothing, and refuses anything else", async () => {
    const socket = path.join(root, "s.sock");
    expect(inspectSocketPath(socket)).toBe("absent");
    const server = await listen(socket);
    expect(inspectSocketPath(socket)).toBe("socket");
    await new Promise((r) => server.close(r));
    symlinkSync("/etc/passwd", socket);
    expect(() => inspectSocketPath(socket)).toThrow(/is a symbolic link, not a socket/);
    rmSync(socket);
    writeFileSync(socket, "");
    expect(() => inspectSocketPath(socket)).toThrow(/is a regular file, not a socket/);
  });
});

describe("daemonSocket", () => {
  it("is the socket only while a live process holds the lock", async () => {
    const home = path.join(root, "home");
    mkdirSync(path.join(home, "daemon"), { recursive: true, mode: 0o700 });
    const p = daemonPaths(home);
    expect(daemonSocket(home)).toBeNull();
    const server = await listen(p.socket);
    try {
      expect(daemonSocket(home)).toBeNull(); // a socket, but no lock holder: left by a dead daemon
      writeFileSync(p.lock, JSON.stringify({ pid: 999_999_999, start: null, boot: null }));
      expect(daemonSocket(home)).toBeNull();
      writeFileSync(p.lock, JSON.stringify(currentIdentity()));
      expect(daemonSocket(home)).toBe(p.socket);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(daemonSocket(home)).toBeNull(); // closing removed the socket
  });
});
