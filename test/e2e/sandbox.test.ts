import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { CLI, PASSPHRASE, type Result } from "./cli.js";
import { authyAs, hostileEnv, sandboxHome, spawnAs, unprivileged } from "./unprivileged.js";

/**
 * `authy run --sandbox`, attacked from inside: every command below runs as the unprivileged
 * account (the owner's same-user agent), in the sandbox, through the built CLI and real bwrap.
 * Where an attack's failure could come from the test itself, the same attack is run without
 * the sandbox first and must succeed.
 */
const SECRET = "sandboxed-secret-value-4242";

let dir = "";
let home = "";
let work = "";
let cleanup = () => {};

beforeAll(async () => {
  ({ dir, home, work, cleanup } = await sandboxHome(["extra", ".ssh", ".config", ".config/authy", ".config/authy/profiles"]));
  const { uid, gid } = unprivileged();
  writeFileSync(path.join(dir, ".ssh", "id_ed25519"), "PRIVATE-KEY-MATERIAL\n", { mode: 0o600 });
  chownSync(path.join(dir, ".ssh", "id_ed25519"), uid, gid);
  // A member key `authy login --profile team` stored (a named profile: commands here stay local).
  const profile = path.join(dir, ".config", "authy", "profiles", "team.json");
  writeFileSync(profile, JSON.stringify({ url: "https://vault.example", key: "authy_mk_MEMBER-KEY-MATERIAL" }), { mode: 0o600 });
  chownSync(profile, uid, gid);
  const set = await cli(["secrets", "set", "app/TOKEN"], { input: SECRET });
  if (set.code !== 0) throw new Error(`secrets set failed: ${set.stderr}`);
}, 60_000);

afterAll(() => cleanup());

/** The built CLI as the unprivileged account, in the working directory `work`. */
function cli(args: string[], opts: { env?: Record<string, string | undefined>; input?: string; cwd?: string } = {}): Promise<Result> {
  return authyAs(args, { dir, home, env: { AUTHY_PASSPHRASE: PASSPHRASE, ...opts.env }, cwd: opts.cwd ?? work, input: opts.input, timeoutMs: 60_000 });
}

/** `authy run [flags] --env TOKEN=… -- sh -c SCRIPT sh ARGS…` */
function runScript(flags: string[], script: string, args: string[] = [], env?: Record<string, string | undefined>, cwd?: string): Promise<Result> {
  return cli(["run", ...flags, "--env", "TOKEN=authy://app/TOKEN", "--", "/bin/sh", "-c", script, "sh", ...args], { env, cwd });
}

describe("inside authy run --sandbox", () => {
  it("sees no process outside the sandbox and cannot read another process's environment", async () => {
    const canary = "canary-environment-7f3a";
    const sleeper = spawnAs("/bin/sleep", ["60"], { env: { PATH: "/usr/bin:/bin", CANARY: canary }, stdio: "ignore" });
    try {
      const script = 'for p in /proc/[0-9]*; do echo "pid ${p#/proc/}"; done; cat "/proc/$1/environ" | tr "\\0" "\\n"';
      const open = await runScript([], script, [String(sleeper.pid)]);
      expect(open.stdout).toContain(canary); // the same-user attack works without the sandbox

      const boxed = await runScript(["--sandbox"], script, [String(sleeper.pid)]);
      expect(boxed.stdout).not.toContain(canary);
      expect(boxed.stdout).not.toContain(`pid ${sleeper.pid}\n`);
      const pids = boxed.stdout.split("\n").filter((l) => l.startsWith("pid "));
      // bwrap's init, the shell and what the shell started: nothing else.
      expect(pids.length).toBeGreaterThan(0);
      expect(pids.length).toBeLessThanOrEqual(4);
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  it("cannot open AUTHY_HOME, the daemon's socket, ~/.ssh or the member keys of `authy login`, and still gets its secret, masked", async () => {
    const unlocked = await cli(["unlock", "--export-session"]);
    const session = /AUTHY_SESSION=(\S+)/.exec(unlocked.stdout)?.[1];
    expect(unlocked.code, unlocked.stderr).toBe(0);
    const socket = path.join(home, "daemon", "authy.sock");
    const env = { AUTHY_PASSPHRASE: undefined, AUTHY_SESSION: session };
    const script = [
      'ls -A "$1" && echo HOME-LISTED',
      'head -c 16 "$1/vault.db" >/dev/null && echo VAULT-READ',
      '[ -S "$2" ] && echo SOCKET-VISIBLE',
      'curl -s --max-time 5 --unix-socket "$2" http://authy/v1/status >/dev/null && echo SOCKET-REACHED',
      'cat "$HOME/.ssh/id_ed25519"',
      'cat "$HOME/.config/authy/profiles/team.json"',
      'echo "token: $TOKEN"',
    ].join("; ");
    try {
      // From $HOME as the working directory (writable, so bound into the sandbox): only the
      // sandbox's masks stand between the child and ~/.authy and ~/.ssh.
      const open = await runScript([], script, [home, socket], env, dir);
      expect(open.stdout).toContain("VAULT-READ");
      expect(open.stdout).toContain("SOCKET-VISIBLE");
      expect(open.stdout).toContain("PRIVATE-KEY-MATERIAL");
      expect(open.stdout).toContain("MEMBER-KEY-MATERIAL");

      const boxed = await runScript(["--sandbox"], script, [home, socket], env, dir);
      expect(boxed.stdout).not.toContain("VAULT-READ");
      expect(boxed.stdout).not.toContain("SOCKET-VISIBLE");
      expect(boxed.stdout).not.toContain("SOCKET-REACHED");
      expect(boxed.stdout).not.toContain("PRIVATE-KEY-MATERIAL");
      expect(boxed.stdout).not.toContain("MEMBER-KEY-MATERIAL");
      expect(boxed.stdout).toContain("token: <authy:masked>");
      expect(boxed.stdout).not.toContain(SECRET);

      const allowed = await runScript(["--allow-read", "~/.ssh"], 'cat "$HOME/.ssh/id_ed25519"', [], env, dir);
      expect(allowed.stdout).toContain("PRIVATE-KEY-MATERIAL"); // named exactly: shown
    } finally {
      await cli(["lock"], { env });
    }
  });

  it("writes only in the working directory and the --allow-write paths", async () => {
    const probe = `/var/tmp/authy-sandbox-probe-${process.pid}`;
    const extra = path.join(dir, "extra");
    const script = `echo a > inside.txt; echo b > "$1/extra.txt"; echo c > "$HOME/outside.txt"; echo d > ${probe}; echo e > /tmp/private-$$.txt; echo done`;
    try {
      const open = await runScript([], script, [extra]);
      expect(open.code, open.stderr).toBe(0);
      expect(existsSync(probe)).toBe(true); // writable without the sandbox
      rmSync(probe);
      rmSync(path.join(dir, "outside.txt"));
      const before = new Set(readdirSync("/tmp"));

      const boxed = await runScript(["--allow-write", extra], script, [extra]);
      expect(boxed.stdout).toContain("done");
      expect(existsSync(path.join(work, "inside.txt"))).toBe(true);
      expect(existsSync(path.join(extra, "extra.txt"))).toBe(true);
      expect(existsSync(path.join(dir, "outside.txt"))).toBe(false);
      expect(existsSync(probe)).toBe(false);
      expect(boxed.stderr).toMatch(/Read-only file system/);
      expect(readdirSync("/tmp").filter((f) => f.startsWith("private-") && !before.has(f))).toEqual([]);
    } finally {
      rmSync(probe, { force: true });
    }
  });

  it("reaches only the --allow-host hosts, through authy's proxy, and audits a refusal", async () => {
    const serve = (address: string) =>
      new Promise<http.Server>((resolve) => {
        const s = http.createServer((_req, res) => res.end(`hello from ${address}\n`));
        s.listen(0, address, () => resolve(s));
      });
    const allowed = await serve("127.0.0.2");
    const port = (allowed.address() as AddressInfo).port;
    const other = await new Promise<http.Server>((resolve) => {
      const s = http.createServer((_req, res) => res.end("hello from 127.0.0.3\n"));
      s.listen(port, "127.0.0.3", () => resolve(s));
    });
    try {
      const script = [
        `curl -sS --max-time 10 http://127.0.0.2:${port}/`,
        `curl -sS --max-time 10 -p http://127.0.0.3:${port}/`,
        `curl -sS --max-time 10 --socks5-hostname "127.0.0.1:3128" http://127.0.0.3:${port}/`,
        `curl -sS --max-time 10 --noproxy '*' http://127.0.0.3:${port}/`,
        "echo done",
      ].join("; ");
      const open = await runScript([], script);
      expect(open.stdout).toContain("hello from 127.0.0.3"); // reachable without the sandbox

      const boxed = await runScript(["--allow-host", `127.0.0.2:${port}`], script);
      expect(boxed.stdout).toContain("done");
      expect(boxed.stdout).toContain("hello from 127.0.0.2");
      expect(boxed.stdout).not.toContain("hello from 127.0.0.3");
      expect(boxed.stderr).toMatch(/CONNECT tunnel failed, response 403/);
      expect(boxed.stderr).toMatch(/SOCKS5/);

      const audit = await cli(["audit", "--json", "--action", "run.network.denied"]);
      expect(audit.stdout).toContain("127.0.0.3");
      const start = await cli(["audit", "--json", "--action", "run.start", "--limit", "1"]);
      const entry = (JSON.parse(start.stdout) as { entries: { details: Record<string, unknown> }[] }).entries[0]!;
      expect(entry.details.sandboxed).toBe(true);
      expect(entry.details.sandbox).toEqual({ write: [], read: [], hosts: [`127.0.0.2:${port}`], network: "host" });

      const none = await runScript(["--no-network"], `curl -sS --max-time 10 --noproxy '*' http://127.0.0.2:${port}/; echo done`);
      expect(none.stdout).toContain("done");
      expect(none.stdout).not.toContain("hello from");
    } finally {
      allowed.close();
      other.close();
    }
  });

  it("gives the child its signals and returns its exit status", async () => {
    expect((await runScript(["--sandbox"], "exit 3")).code).toBe(3);
    expect((await runScript(["--sandbox"], "kill -KILL $$")).code).toBe(137);
    // The child's own SIGTERM handler runs (bwrap must not die of the signal first).
    const env = hostileEnv(dir, home, { AUTHY_PASSPHRASE: PASSPHRASE });
    const child: ChildProcess = spawnAs(
      process.execPath,
      [
        CLI,
        "run",
        "--sandbox",
        "--env",
        "TOKEN=authy://app/TOKEN",
        "--",
        "/bin/sh",
        "-c",
        'trap "echo trapped; exit 7" TERM; echo ready; while :; do sleep 0.1; done',
      ],
      { env, cwd: work },
    );
    let out = "";
    const status = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    await new Promise<void>((resolve) =>
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("ready")) resolve();
      }),
    );
    child.kill("SIGTERM");
    expect(await status).toBe(7);
    expect(out).toContain("trapped");
  });

  it("refuses a scope that requires the sandbox to an unsandboxed run, and applies its defaults", async () => {
    const extra = path.join(dir, "extra");
    const policy = path.join(work, "policy.yaml");
    writeFileSync(
      policy,
      `scopes:\n  boxed:\n    allow:\n      - { path: "app/*", capabilities: [read, list] }\n    sandbox:\n      required: true\n      write: ["${extra}"]\n      hosts: ["api.example.com:443"]\n`,
    );
    chownSync(policy, unprivileged().uid, unprivileged().gid);
    expect((await cli(["policy", "apply", policy])).code).toBe(0);

    const refused = await cli(["run", "--scope", "boxed", "--", "/bin/sh", "-c", "echo RAN"]);
    expect(refused.code).toBe(4);
    expect(refused.stdout).not.toContain("RAN");
    expect(refused.stderr).toMatch(/only be given to a sandboxed command/);
    expect((await cli(["inject", "--scope", "boxed", "-i", "-"], { input: "{{ authy://app/TOKEN }}" })).code).toBe(4);

    const boxed = await cli([
      "run",
      "--sandbox",
      "--scope",
      "boxed",
      "--",
      "/bin/sh",
      "-c",
      'echo x > "$1/from-scope.txt" && echo "proxy=$HTTPS_PROXY"',
      "sh",
      extra,
    ]);
    expect(boxed.code, boxed.stderr).toBe(0);
    expect(boxed.stdout).toContain("proxy=http://127.0.0.1:3128");
    expect(existsSync(path.join(extra, "from-scope.txt"))).toBe(true);

    expect((await cli(["policy", "show"])).stdout).toMatch(/sandbox:\n\s+required: true/);
    const test = await cli(["policy", "test", "boxed", "app/TOKEN", "read"]);
    expect(test.stdout).toContain(`sandbox: required; write ${extra}; hosts api.example.com:443`);
    const denied = await cli(["audit", "--json", "--action", "run.denied"]);
    expect(denied.stdout).toContain("sandbox required");
  });

  it("refuses flags it cannot honour, without running anything", async () => {
    for (const flags of [
      ["--no-network", "--allow-host", "example.com"],
      ["--allow-host", "not a host"],
      ["--allow-write", path.join(dir, "no-such-dir")],
    ]) {
      const r = await runScript(flags, "echo RAN");
      expect(r.code, flags.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
    }
    const fromRoot = await cli(["run", "--sandbox", "--env", "TOKEN=authy://app/TOKEN", "--", "/bin/true"], { cwd: "/" });
    expect(fromRoot.code).toBe(2);
    expect(fromRoot.stderr).toMatch(/cannot run from \//);
  });

  it("refuses, releasing nothing, where bwrap cannot set up a sandbox", async () => {
    // A bwrap that fails as the real one does where user namespaces are restricted (AppArmor).
    const fake = path.join(dir, "fakebin");
    mkdirSync(fake, { recursive: true, mode: 0o755 });
    writeFileSync(path.join(fake, "bwrap"), '#!/bin/sh\necho "bwrap: setting up uid map: Permission denied" >&2\nexit 1\n', { mode: 0o755 });
    const before = (await cli(["audit", "--json", "--action", "run.start"])).stdout;
    const r = await runScript(["--sandbox"], "echo RAN", [], { PATH: `${fake}:/usr/bin:/bin` });
    expect(r.code).toBe(8);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^authy: bwrap cannot set up a sandbox here: bwrap: setting up uid map: Permission denied\n/);
    expect((await cli(["audit", "--json", "--action", "run.start"])).stdout).toBe(before);
  });

  it("refuses, without running anything, where bwrap is missing", async () => {
    const r = await runScript(["--sandbox"], "echo RAN", [], { PATH: "/nonexistent" });
    expect(r.code).toBe(8);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^authy: --sandbox needs bwrap, which is not installed: install the bubblewrap package/);
  });
});
