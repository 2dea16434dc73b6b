import { spawn } from "node:child_process";
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { authy, PASSPHRASE, withPass } from "./cli.js";
import { alive, daemonPids, exists, request, sleep, socketOf, stopDaemons, unlock, vaultHome, waitFor } from "./daemon-helpers.js";

afterEach(stopDaemons);

describe("authy unlock", () => {
  it("prints nothing to eval, leaves owner rights with this session, and status shows the daemon unlocked", async () => {
    const home = await vaultHome();
    const u = await unlock(home);
    expect(u.stdout).toBe("");
    expect(u.stderr).toContain(`unlocked: daemon ${u.pid} locks after 15m idle, 8h at the latest`);
    const text = await authy(["status"], { home });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`state:    unlocked (daemon pid ${u.pid})`);
    // This process's session unlocked: its commands are the owner's, with no credential at all.
    const s = JSON.parse((await authy(["status", "--json"], { home })).stdout);
    expect(s.locked).toBe(false);
    expect(s.daemon.pid).toBe(u.pid);
    expect(s.daemon.idleTimeoutMs).toBe(15 * 60_000);
    expect(s.daemon.maxLifetimeMs).toBe(8 * 3600_000);
    expect(s.daemon.idleLeftMs).toBeGreaterThan(14 * 60_000);
    expect(s.daemon.lifetimeLeftMs).toBeGreaterThan(7.9 * 3600_000);
    const me = await authy(["whoami", "--json"], { home });
    expect(me.code, me.stderr).toBe(0);
    expect(JSON.parse(me.stdout)).toMatchObject({ principal: "owner", via: "terminal" });
    // From another session the daemon will not say how long it stays idle, but the rest is known.
    const anon = JSON.parse((await authy(["status", "--json"], { home, detached: true })).stdout);
    expect(anon.daemon.pid).toBe(u.pid);
    expect(anon.daemon.idleLeftMs).toBeNull();
    const stranger = await authy(["whoami"], { home, detached: true });
    expect(stranger.code).toBe(4);
    expect(stranger.stderr).toContain("this process is no principal");
  });

  it("--export-session prints one eval-able export line, warns what it gives away, and the session works from another session", async () => {
    const home = await vaultHome();
    const u = await unlock(home, ["--export-session"]);
    expect(u.stderr).toContain("AUTHY_SESSION makes whoever reads it the owner");
    const evaluated = await new Promise<string>((resolve) => {
      const sh = spawn("/bin/sh", ["-c", 'eval "$(cat)"; printf %s "$AUTHY_SESSION"'], { stdio: ["pipe", "pipe", "inherit"] });
      let out = "";
      sh.stdout.on("data", (d: Buffer) => (out += d.toString()));
      sh.on("close", () => resolve(out));
      sh.stdin.end(u.stdout);
    });
    expect(evaluated).toBe(u.session);
    const me = await authy(["whoami", "--json"], { home, detached: true, env: { AUTHY_SESSION: u.session! } });
    expect(me.code, me.stderr).toBe(0);
    expect(JSON.parse(me.stdout)).toMatchObject({ principal: "owner", via: "session" });
    // The session itself is not a credential on the wire: only a proof bound to the sending process is.
    const socket = await socketOf(home);
    const raw = await new Promise<number>((resolve) => {
      const c = spawn(
        process.execPath,
        [
          "-e",
          `require("http").get({ socketPath: ${JSON.stringify(socket)}, path: "/v1/status", headers: { authorization: "Bearer ${u.session}" } }, (r) => { console.log(r.statusCode); r.resume(); })`,
        ],
        { detached: true, stdio: ["ignore", "pipe", "inherit"] },
      );
      let out = "";
      c.stdout.on("data", (d: Buffer) => (out += d.toString()));
      c.on("close", () => resolve(Number(out.trim())));
    });
    expect(raw).toBe(401);
  });

  it("puts the socket (0600) in a 0700 directory, no secret in the log, argv or environment, and no core dumps", async () => {
    const home = await vaultHome();
    const u = await unlock(home, ["--export-session"]);
    const dir = path.join(home, "daemon");
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
    const sock = lstatSync(path.join(dir, "authy.sock"));
    expect(sock.isSocket()).toBe(true);
    expect(sock.mode & 0o777).toBe(0o600);
    for (const f of ["daemon.json", "daemon.lock", "daemon.log"]) expect(lstatSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    const log = readFileSync(path.join(dir, "daemon.log"), "utf8");
    expect(log).toContain(`authy-daemon[${u.pid}] unlocked`);
    expect(log).not.toContain(u.session!);
    expect(log).not.toContain(u.session!.slice("authy_os_".length));
    expect(log).not.toContain(PASSPHRASE);
    // The daemon's argv and environment carry neither the passphrase nor the session.
    const environ = readFileSync(`/proc/${u.pid}/environ`, "utf8");
    const cmdline = readFileSync(`/proc/${u.pid}/cmdline`, "utf8");
    for (const blob of [environ, cmdline]) {
      expect(blob).not.toContain(PASSPHRASE);
      expect(blob).not.toContain("AUTHY_");
    }
    // No core dump can write the key to disk.
    expect(readFileSync(`/proc/${u.pid}/limits`, "utf8")).toMatch(/^Max core file size\s+0\s+0\s/m);
  });

  it("refuses a second unlock while a daemon runs (exit 2, naming it), without asking for the passphrase", async () => {
    const home = await vaultHome();
    const u = await unlock(home);
    const again = await authy(["unlock"], { home });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`pid ${u.pid}`);
    expect(daemonPids(home)).toEqual([u.pid]);
  });

  it("starts no daemon on a wrong passphrase (exit 6) or a bad duration (exit 2)", async () => {
    const home = await vaultHome();
    expect((await authy(["unlock"], { home, env: { AUTHY_PASSPHRASE: "wrong" } })).code).toBe(6);
    expect((await authy(["unlock", "--idle", "0"], { home, env: withPass })).code).toBe(2);
    expect((await authy(["unlock", "--max", "30d"], { home, env: withPass })).code).toBe(2);
    expect((await authy(["unlock", "--idle", "15"], { home, env: withPass })).code).toBe(2);
    expect(daemonPids(home)).toEqual([]);
  });

  it("says there is no vault (exit 6) in a home that does not exist, and creates nothing there", async () => {
    const home = path.join(path.dirname(await vaultHome()), "none");
    const r = await authy(["unlock"], { home, env: withPass });
    expect(r.code).toBe(6);
    expect(r.stderr).toBe(`authy: no vault in ${home}\nhint: run \`authy init\`\n`);
    expect(exists(home)).toBe(false);
  });

  it("leaves exactly one daemon when three unlocks start at once", async () => {
    const home = await vaultHome();
    const results = await Promise.all([1, 2, 3].map(() => authy(["unlock"], { home, env: withPass })));
    const codes = results.map((r) => r.code).sort();
    expect(codes).toEqual([0, 2, 2]);
    for (const r of results.filter((x) => x.code === 2)) expect(r.stderr).toMatch(/already/);
    await sleep(300); // the losers exit right after answering
    const pids = daemonPids(home);
    expect(pids).toHaveLength(1);
    const s = JSON.parse((await authy(["status", "--json"], { home })).stdout);
    expect(s.daemon.pid).toBe(pids[0]);
  });

  it("falls back to /tmp/authy-<uid> when the home is too deep for a socket path", async () => {
    const home = await vaultHome((dir) => path.join(dir, "d".repeat(60), "e".repeat(60), "home"));
    const u = await unlock(home);
    const socket = await socketOf(home);
    expect(socket).toMatch(new RegExp(`^/tmp/authy-${process.getuid!()}/[0-9a-f]{16}\\.sock$`));
    expect(lstatSync(socket).mode & 0o777).toBe(0o600);
    expect(lstatSync(path.dirname(socket)).mode & 0o777).toBe(0o700);
    expect((await request(socket, "GET", "/v1/health")).status).toBe(200);
    expect((await authy(["lock"], { home })).code).toBe(0);
    expect(alive(u.pid)).toBe(false);
    expect(exists(socket)).toBe(false);
  });
});

describe("authy lock", () => {
  it("from the session that unlocked: asks the daemon, which exits and removes its socket, state and lock", async () => {
    const home = await vaultHome();
    const u = await unlock(home);
    const r = await authy(["lock"], { home });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`locked: daemon ${u.pid} stopped`);
    expect(alive(u.pid)).toBe(false);
    for (const f of ["authy.sock", "daemon.json", "daemon.lock"]) expect(exists(path.join(home, "daemon", f))).toBe(false);
    const log = readFileSync(path.join(home, "daemon", "daemon.log"), "utf8");
    expect(log).toContain("locking: lock requested");
    const s = JSON.parse((await authy(["status", "--json"], { home })).stdout);
    expect(s.locked).toBe(true);
    expect(s.daemon).toBeNull();
  });

  it("from another session without a credential: refused (exit 4), audited, and the daemon keeps running", async () => {
    const home = await vaultHome();
    const u = await unlock(home);
    const r = await authy(["lock", "--json"], { home, detached: true });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("only the owner can lock the vault");
    expect(alive(u.pid)).toBe(true);
    const audit = JSON.parse((await authy(["audit", "--action", "vault.lock.denied", "--json"], { home })).stdout) as {
      entries: { details: { pid: number } }[];
    };
    expect(audit.entries).toHaveLength(1);
    // With the passphrase, another session proves it is the owner: audited, then the daemon gets SIGTERM.
    const owner = await authy(["lock", "--json"], { home, detached: true, env: withPass });
    expect(owner.code, owner.stderr).toBe(0);
    expect(JSON.parse(owner.stdout)).toEqual({ locked: true, wasRunning: true, pid: u.pid });
    expect(alive(u.pid)).toBe(false);
    expect(readFileSync(path.join(home, "daemon", "daemon.log"), "utf8")).toContain("locking: signal SIGTERM");
  });

  it("says so, with exit 0, when nothing is running", async () => {
    const home = await vaultHome();
    const r = await authy(["lock"], { home });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("no daemon is running");
  });
});

describe("the daemon's lifetime", () => {
  it("locks itself after the idle timeout", async () => {
    const home = await vaultHome();
    const u = await unlock(home, ["--idle", "2s"]);
    const elapsed = await waitFor("the idle lock", () => !alive(u.pid), 10_000);
    expect(elapsed).toBeGreaterThanOrEqual(1_000);
    expect(exists(path.join(home, "daemon", "authy.sock"))).toBe(false);
    expect(readFileSync(path.join(home, "daemon", "daemon.log"), "utf8")).toContain("locking: idle timeout");
  });

  it("counts only authenticated requests as activity", async () => {
    const home = await vaultHome();
    const u = await unlock(home, ["--idle", "3s"]);
    const socket = path.join(home, "daemon", "authy.sock");
    for (let i = 0; i < 6; i++) {
      expect((await request(socket, "GET", "/v1/status")).status).toBe(200); // the owner, by this process's session
      await sleep(1_000);
    }
    expect(alive(u.pid)).toBe(true); // 6 s > 3 s idle: the requests kept it open
    // Health checks and refused credentials do not.
    const busy = setInterval(() => {
      void request(socket, "GET", "/v1/health").catch(() => undefined);
      void request(socket, "GET", "/v1/status", { bearer: "authy_os_wrong" }).catch(() => undefined);
    }, 200);
    try {
      await waitFor("the idle lock", () => !alive(u.pid), 10_000);
    } finally {
      clearInterval(busy);
    }
  });

  it("locks at the maximum lifetime however busy it is", async () => {
    const home = await vaultHome();
    const u = await unlock(home, ["--max", "3s"]);
    const socket = path.join(home, "daemon", "authy.sock");
    const busy = setInterval(() => void request(socket, "GET", "/v1/status").catch(() => undefined), 100);
    try {
      await waitFor("the lifetime lock", () => !alive(u.pid), 15_000);
    } finally {
      clearInterval(busy);
    }
    expect(readFileSync(path.join(home, "daemon", "daemon.log"), "utf8")).toContain("locking: maximum lifetime reached");
  });

  it("honours no token from before a restart", async () => {
    const home = await vaultHome();
    const first = await unlock(home);
    const socket = path.join(home, "daemon", "authy.sock");
    const issued = await request(socket, "POST", "/v1/tokens", { body: JSON.stringify({ scopes: "secrets:read:prod/*", ttl: "1h" }) });
    expect(issued.status).toBe(201);
    const token = (JSON.parse(issued.body) as { token: string }).token;
    expect((await request(socket, "GET", "/v1/status", { bearer: token })).status).toBe(200);
    expect((await authy(["lock"], { home })).code).toBe(0);
    const second = await unlock(home);
    expect(second.pid).not.toBe(first.pid);
    expect((await request(socket, "GET", "/v1/status", { bearer: token })).status).toBe(401);
    expect((await request(socket, "GET", "/v1/status")).status).toBe(200);
  });

  it("refuses a token with a line break (no header smuggled to the daemon), with exit 2", async () => {
    const home = await vaultHome();
    await unlock(home);
    const r = await authy(["secrets", "list"], { home, env: { AUTHY_TOKEN: `authy_tk_x\r\nAuthorization: Bearer authy_op_x` } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("authy: the credential for the daemon is malformed (invalid characters in the authorization header)\n");
    expect(r.stdout).toBe("");
  });

  it("revokes a process-bound token when its process exits", async () => {
    const home = await vaultHome();
    await unlock(home);
    const socket = path.join(home, "daemon", "authy.sock");
    const child = spawn("sleep", ["2"], { stdio: "ignore" });
    const issued = await request(socket, "POST", "/v1/tokens", { body: JSON.stringify({ scopes: "secrets:read:prod/*", ttl: "1h", pid: child.pid }) });
    expect(issued.status).toBe(201);
    const token = (JSON.parse(issued.body) as { token: string }).token;
    expect((await request(socket, "GET", "/v1/status", { bearer: token })).status).toBe(200);
    await new Promise((r) => child.on("exit", r));
    await waitFor("the token's revocation", async () => (await request(socket, "GET", "/v1/status", { bearer: token })).status === 401, 5_000);
    expect(readFileSync(path.join(home, "daemon", "daemon.log"), "utf8")).toMatch(/revoked token \S+: its process \d+ exited/);
  });
});

describe("stale and planted sockets", () => {
  it("cleans up the socket a daemon killed with -9 left behind", async () => {
    const home = await vaultHome();
    const first = await unlock(home);
    process.kill(first.pid, "SIGKILL");
    await waitFor("the kill", () => !alive(first.pid), 5_000);
    const socket = path.join(home, "daemon", "authy.sock");
    expect(lstatSync(socket).isSocket()).toBe(true); // left behind
    const s = JSON.parse((await authy(["status", "--json"], { home })).stdout);
    expect(s.locked).toBe(true);
    const second = await unlock(home);
    expect(second.pid).not.toBe(first.pid);
    expect((await request(socket, "GET", "/v1/health")).status).toBe(200);
  });

  for (const kind of ["symbolic link", "regular file"] as const) {
    it(`refuses a ${kind} planted at the socket path, and leaves it alone`, async () => {
      const home = await vaultHome();
      const dir = path.join(home, "daemon");
      mkdirSync(dir, { mode: 0o700 });
      const socket = path.join(dir, "authy.sock");
      const target = path.join(home, "precious.txt");
      writeFileSync(target, "keep me");
      if (kind === "symbolic link") symlinkSync(target, socket);
      else writeFileSync(socket, "keep me too");
      const r = await authy(["unlock"], { home, env: withPass });
      expect(r.code).toBe(8);
      expect(r.stderr).toContain(`${socket} is a ${kind}, not a socket`);
      expect(r.stdout).toBe("");
      const st = lstatSync(socket);
      expect(kind === "symbolic link" ? st.isSymbolicLink() : st.isFile()).toBe(true);
      expect(readFileSync(target, "utf8")).toBe("keep me");
      expect(daemonPids(home)).toEqual([]);
    });
  }
});

describe("serving clients", () => {
  it("serves 1,000 concurrent clients", async () => {
    const home = await vaultHome();
    await unlock(home);
    const socket = path.join(home, "daemon", "authy.sock");
    const health = await Promise.all(Array.from({ length: 1000 }, () => request(socket, "GET", "/v1/health")));
    expect(health.filter((r) => r.status === 200)).toHaveLength(1000);
    const status = await Promise.all(Array.from({ length: 200 }, () => request(socket, "GET", "/v1/status")));
    expect(status.filter((r) => r.status === 200)).toHaveLength(200);
  });

  it("keeps serving while a client sends half a request, and times that client out", async () => {
    const home = await vaultHome();
    await unlock(home);
    const socket = path.join(home, "daemon", "authy.sock");
    const slow = net.connect(socket);
    let answer = "";
    const closed = new Promise<number>((resolve) => {
      const start = Date.now();
      slow.on("data", (d: Buffer) => (answer += d.toString()));
      slow.on("close", () => resolve(Date.now() - start));
      slow.on("error", () => undefined);
    });
    slow.write("GET /v1/health HTTP/1.1\r\nHost: authy\r\nX-Slow: ");
    // Twenty more: half headers, or an authenticated request whose body never comes.
    const others = Array.from({ length: 20 }, (_, i) => {
      const c = net.connect(socket);
      c.on("error", () => undefined);
      c.write(
        i % 2 === 0
          ? "GET /v1/health HTTP/1.1\r\nHost: authy\r\n"
          : `PUT /v1/secrets/prod%2FSLOW HTTP/1.1\r\nHost: authy\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
      );
      return c;
    });
    const t0 = Date.now();
    const served = await Promise.all(Array.from({ length: 50 }, () => request(socket, "GET", "/v1/health", { timeoutMs: 5_000 })));
    expect(served.every((r) => r.status === 200)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5_000);
    const after = await closed;
    expect(after).toBeLessThan(20_000);
    expect(answer === "" || answer.startsWith("HTTP/1.1 408")).toBe(true);
    for (const c of others) c.destroy();
  }, 40_000);

  it("rejects an oversized body without reading it, and stays up", async () => {
    const home = await vaultHome();
    const u = await unlock(home);
    const socket = path.join(home, "daemon", "authy.sock");
    const big = JSON.stringify({ value: "x".repeat(3 * 1024 * 1024) });
    const r = await request(socket, "PUT", "/v1/secrets/prod%2FBIG", { body: big }).catch((e: unknown) => ({ status: -1, body: (e as Error).message }));
    // 413, or the connection cut while we were still sending (the server refuses without reading).
    expect([413, -1]).toContain(r.status);
    const anon = await request(socket, "PUT", "/v1/secrets/prod%2FBIG", { bearer: "authy_tk_nobody_x", body: big }).catch((e: unknown) => ({
      status: -1,
      body: (e as Error).message,
    }));
    expect([401, 413, -1]).toContain(anon.status); // refused before the body: the server may close while we still send
    expect(alive(u.pid)).toBe(true);
    expect((await request(socket, "GET", "/v1/health")).status).toBe(200);
  });
});
