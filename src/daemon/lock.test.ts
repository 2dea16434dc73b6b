import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireLock, readLockHolder, releaseLock } from "./lock.js";
import { currentIdentity } from "./process.js";

const DIST_LOCK = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../dist/daemon/lock.js");

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-lock-"));
  file = path.join(dir, "daemon.lock");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function deadPid(): number {
  return spawnSync("true").pid;
}

describe("the daemon lock", () => {
  it("is taken once, names its holder, and is released only by it", async () => {
    expect(await acquireLock(file)).toEqual({ ok: true });
    expect(readLockHolder(file)).toEqual(currentIdentity());
    const again = await acquireLock(file);
    expect(again).toEqual({ ok: false, holder: currentIdentity() });
    releaseLock(file);
    expect(existsSync(file)).toBe(false);
    expect(readdirNames()).toEqual([]); // no temporary files left
  });

  it("never releases someone else's lock", () => {
    const other = JSON.stringify({ pid: 1, start: null, boot: null });
    writeFileSync(file, other);
    releaseLock(file);
    expect(readFileSync(file, "utf8")).toBe(other);
  });

  it("breaks a lock whose holder is dead, or whose pid now belongs to another process", async () => {
    writeFileSync(file, JSON.stringify({ pid: deadPid(), start: null, boot: null }));
    expect(await acquireLock(file)).toEqual({ ok: true });
    releaseLock(file);
    writeFileSync(file, JSON.stringify({ ...currentIdentity(), start: "1" }));
    expect(await acquireLock(file)).toEqual({ ok: true });
    releaseLock(file);
    writeFileSync(file, "not json");
    expect(await acquireLock(file)).toEqual({ ok: true });
  });

  it("waits for another breaker, and recovers from one that died mid-break", async () => {
    writeFileSync(file, JSON.stringify({ pid: deadPid(), start: null, boot: null }));
    writeFileSync(`${file}.break`, "");
    await expect(acquireLock(file)).rejects.toMatchObject({ code: "UNAVAILABLE" });
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}.break`, old, old);
    expect(await acquireLock(file)).toEqual({ ok: true });
  });

  it.runIf(existsSync(DIST_LOCK))("lets exactly one of eight processes break the same stale lock", async () => {
    writeFileSync(file, JSON.stringify({ pid: deadPid(), start: null, boot: null }));
    // The winner holds the lock until the test has heard from every process.
    const script = `
      const { acquireLock } = await import(${JSON.stringify(DIST_LOCK)});
      const r = await acquireLock(${JSON.stringify(file)});
      process.stdout.write(r.ok ? "won" : "lost");
      process.stdin.resume();
    `;
    const children = Array.from({ length: 8 }, () => spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["pipe", "pipe", "inherit"] }));
    const outcomes = await Promise.all(children.map((c) => new Promise<string>((resolve) => c.stdout.once("data", (d: Buffer) => resolve(d.toString())))));
    for (const c of children) c.stdin.end();
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on("close", r)))));
    expect(outcomes.filter((o) => o === "won")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "lost")).toHaveLength(7);
  });
});

function readdirNames(): string[] {
  return readdirSync(dir);
}
