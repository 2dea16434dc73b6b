/**
 * A same-user agent against authy, for real: owner and attacker are the same unprivileged
 * account (root could read any process, so an attack run by root proves nothing). The owner
 * works in a real terminal (a PTY whose shell leads its own session, as in a terminal
 * emulator); the attacker runs in another session, as an agent started elsewhere would, or
 * as the child of `authy run`. Each test is one class of attack from issue 10 and fails on
 * code that leaves it open.
 */
import { readFileSync, writeFileSync, existsSync, chownSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, PASSPHRASE } from "./cli.js";
import { alive, sleep, waitFor } from "./daemon-helpers.js";
import { authyAs, hostileEnv, hostileHome, initVaultAs, runAs, spawnAs, unprivileged } from "./unprivileged.js";

const PYTHON = "/usr/bin/python3";
const SECRET = "sk-live-containment-5f1e9a7c3b";
const AUTHY = `${process.execPath} ${CLI}`;

interface Terminal {
  /** The shell's pid: the session id of everything started from this terminal. */
  pid: number;
  /** Everything the terminal showed so far. */
  output(): string;
  type(line: string): void;
  /** Waits until the terminal shows `marker` (a line the typed command echoes at its end). */
  until(marker: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  kill(): void;
}

interface PtyModule {
  spawn(
    file: string,
    args: string[],
    o: { name: string; cols: number; rows: number; cwd: string; env: Record<string, string>; uid: number; gid: number },
  ): {
    pid: number;
    onData(cb: (d: string) => void): void;
    write(d: string): void;
    kill(signal?: string): void;
  };
}

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The owner's terminal: a shell on a PTY, as the unprivileged account, leading its own session. */
async function ownerTerminal(dir: string, home: string): Promise<Terminal> {
  const pty = (await import("node-pty")) as unknown as PtyModule;
  const { uid, gid } = unprivileged();
  const term = pty.spawn("/bin/sh", [], { name: "xterm", cols: 200, rows: 50, cwd: dir, env: hostileEnv(dir, home, { AUTHY: AUTHY, PS1: "$ " }), uid, gid });
  let text = "";
  term.onData((d) => (text += d));
  const t: Terminal = {
    pid: term.pid,
    output: () => text,
    type: (line) => term.write(line + "\r"),
    async until(marker, timeoutMs = 60_000) {
      let m: RegExpExecArray | null = null;
      await waitFor(`${marker} in the terminal (it shows: ${JSON.stringify(text.slice(-400))})`, () => (m = marker.exec(text)) !== null, timeoutMs);
      return m!;
    },
    kill: () => term.kill("SIGKILL"),
  };
  cleanups.push(() => t.kill());
  return t;
}

/** A vault with one secret, unlocked by `authy unlock` typed in the owner's terminal. */
async function unlockedInTerminal(): Promise<{ dir: string; home: string; term: Terminal; daemonPid: number }> {
  const { dir, home, cleanup } = hostileHome();
  cleanups.push(cleanup);
  await initVaultAs(dir, home);
  const set = await authyAs(["secrets", "set", "prod/K"], { dir, home, env: { AUTHY_PASSPHRASE: PASSPHRASE }, input: SECRET });
  expect(set.code, set.stderr).toBe(0);
  const term = await ownerTerminal(dir, home);
  // As the README says to: the old habit `eval "$(authy unlock)"` still works (and now exports nothing).
  term.type(`eval "$(AUTHY_PASSPHRASE='${PASSPHRASE}' $AUTHY unlock)"; echo "UNLOCKED=$?"`);
  expect((await term.until(/UNLOCKED=(\d+)/))[1]).toBe("0");
  const daemonPid = (JSON.parse(readFileSync(path.join(home, "daemon", "daemon.json"), "utf8")) as { pid: number }).pid;
  cleanups.push(async () => {
    if (alive(daemonPid)) process.kill(daemonPid, "SIGTERM");
    await waitFor("the daemon to exit", () => !alive(daemonPid), 10_000).catch(() => process.kill(daemonPid, "SIGKILL"));
  });
  return { dir, home, term, daemonPid };
}

/** Run in the owner's terminal; resolves with the command's exit status. */
async function inTerminal(term: Terminal, command: string, timeoutMs?: number): Promise<number> {
  const tag = `DONE${Math.random().toString(36).slice(2, 8)}`;
  term.type(`${command}; echo "${tag}=$?"`);
  return Number((await term.until(new RegExp(`${tag}=(\\d+)`), timeoutMs))[1]);
}

/** What a process can get out of /proc/PID: its environment, and a read of its memory. */
const PROBE = `
import json, os, sys
def probe(pid):
    r = {}
    try:
        r["environ"] = open(f"/proc/{pid}/environ", "rb").read().decode("latin1")
    except OSError as e:
        r["environ"] = e.errno
    try:
        maps = [l.split() for l in open(f"/proc/{pid}/maps")]
        rw = [m[0].split("-") for m in maps if m[1].startswith("rw")]
        with open(f"/proc/{pid}/mem", "rb") as mem:
            start, end = (int(x, 16) for x in rw[0])
            mem.seek(start)
            r["mem"] = len(mem.read(min(4096, end - start)))
    except OSError as e:
        r["mem"] = e.errno
    return r
out = {"parent": probe(os.getppid())}
if len(sys.argv) > 1:
    out["daemon"] = probe(int(sys.argv[1]))
print("PROBE" + json.dumps(out))
`;

const EACCES = 13;

describe("class 1 and 2: what the child of `authy run` can read of its parent and of the daemon", () => {
  it("reads neither the environment nor the memory of a direct-mode `authy run` given AUTHY_PASSPHRASE", async () => {
    const { dir, home, cleanup } = hostileHome();
    cleanups.push(cleanup);
    await initVaultAs(dir, home);
    expect((await authyAs(["secrets", "set", "prod/K"], { dir, home, env: { AUTHY_PASSPHRASE: PASSPHRASE }, input: SECRET })).code).toBe(0);
    const r = await authyAs(["run", "--env", "K=authy://prod/K", "--", PYTHON, "-c", PROBE], { dir, home, env: { AUTHY_PASSPHRASE: PASSPHRASE } });
    expect(r.code, r.stderr).toBe(0);
    const seen = JSON.parse(/PROBE(.*)/.exec(r.stdout)![1]!) as { parent: { environ: unknown; mem: unknown } };
    expect(seen.parent).toEqual({ environ: EACCES, mem: EACCES });
    expect(r.stdout).not.toContain(PASSPHRASE);
  });

  it("reads neither the daemon's nor its `authy run` parent's environment or memory, and finds no session in any environment", async () => {
    const { dir, home, term, daemonPid } = await unlockedInTerminal();
    const out = path.join(dir, "probe.out");
    const probe = path.join(dir, "probe.py");
    writeFileSync(probe, PROBE);
    chownSync(probe, unprivileged().uid, unprivileged().gid);
    expect(await inTerminal(term, `$AUTHY run --env K=authy://prod/K -- ${PYTHON} ${probe} ${daemonPid} > ${out}`)).toBe(0);
    const seen = JSON.parse(/PROBE(.*)/.exec(readFileSync(out, "utf8"))![1]!) as Record<string, { environ: unknown; mem: unknown }>;
    expect(seen.parent).toEqual({ environ: EACCES, mem: EACCES });
    expect(seen.daemon).toEqual({ environ: EACCES, mem: EACCES });
    // A program the owner starts from that shell carries no authy credential for an agent to find.
    term.type("sleep 30 &");
    await sleep(300);
    // (only that terminal's session: other suites on this machine may run as the same account)
    const scanner = `import glob\nfor d in glob.glob('/proc/[0-9]*'):\n  try:\n    st = open(d + '/stat').read()\n    if int(st[st.rindex(')') + 2:].split()[3]) != ${term.pid}: continue\n    print(open(d + '/environ', 'rb').read().decode('latin1'))\n  except (OSError, ValueError): pass`;
    const scan = await runAs(PYTHON, ["-c", scanner], { env: hostileEnv(dir, home) });
    expect(scan.stdout).toContain("PS1=$ "); // the owner's shell and its children are readable…
    expect(scan.stdout).not.toMatch(/AUTHY_SESSION|authy_os_|AUTHY_PASSPHRASE/); // …and hold nothing of authy's
  });

  it("cannot write past the masker to its parent's stdout through /proc/$PPID/fd/1", async () => {
    const { dir, home, cleanup } = hostileHome();
    cleanups.push(cleanup);
    await initVaultAs(dir, home);
    expect((await authyAs(["secrets", "set", "prod/K"], { dir, home, env: { AUTHY_PASSPHRASE: PASSPHRASE }, input: SECRET })).code).toBe(0);
    const leak =
      "import os\ntry:\n  open(f'/proc/{os.getppid()}/fd/1', 'a').write(os.environ['K'])\n  print('WROTE')\nexcept OSError as e:\n  print('ERRNO', e.errno)";
    // authy's stdout is a file here, as in `authy run … > log`: reopened through /proc, it would take the raw value.
    const out = path.join(dir, "run.out");
    const script = path.join(dir, "leak.py");
    writeFileSync(script, leak);
    chownSync(script, unprivileged().uid, unprivileged().gid);
    const r = await runAs("/bin/sh", ["-c", `${AUTHY} run --env K=authy://prod/K -- ${PYTHON} ${script} > ${out}`], {
      env: hostileEnv(dir, home, { AUTHY_PASSPHRASE: PASSPHRASE }),
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(0);
    const written = readFileSync(out, "utf8");
    expect(written).toContain(`ERRNO ${EACCES}`);
    expect(written).not.toContain(SECRET);
  });
});

describe("class 1: owner rights stay with the terminal session that unlocked", () => {
  it("serves the owner's terminal without a passphrase, and refuses a process in another session (exit 4)", { timeout: 180_000 }, async () => {
    const { dir, home, term } = await unlockedInTerminal();
    expect(await inTerminal(term, `$AUTHY whoami`)).toBe(0);
    expect(term.output()).toContain("owner: this process is in the terminal session that ran `authy unlock`");
    expect(await inTerminal(term, `$AUTHY secrets get prod/K; echo`)).toBe(0);
    expect(term.output()).toContain(SECRET);
    const agent = await authyAs(["secrets", "get", "prod/K"], { dir, home });
    expect(agent.code).toBe(4);
    expect(agent.stdout).toBe("");
    const setsid = await runAs("setsid", ["-w", process.execPath, CLI, "secrets", "list"], { env: hostileEnv(dir, home), cwd: dir });
    expect(setsid.code).toBe(4);
    // A child of `authy run` started from the owner's own terminal is in a new session: not the owner.
    const out = path.join(dir, "child.out");
    // (stdin from /dev/null: on the terminal, it would rightly ask the owner for the passphrase)
    expect(await inTerminal(term, `$AUTHY run --env K=authy://prod/K -- sh -c '$AUTHY secrets list; echo "CHILD=$?"' < /dev/null > ${out} 2>&1`)).toBe(0);
    expect(readFileSync(out, "utf8")).toContain("CHILD=4");
  });
});

describe("class 3: an impostor on the socket path", () => {
  it("a relay harvests nothing from the owner's commands, which refuse it (exit 7), and cannot act as the owner itself", async () => {
    const { dir, home, term } = await unlockedInTerminal();
    const socket = path.join(home, "daemon", "authy.sock");
    const harvest = path.join(dir, "harvest.bin");
    const relay = `
      const net = require("net"), fs = require("fs");
      const sock = ${JSON.stringify(socket)}, real = sock + ".real";
      fs.renameSync(sock, real);
      net.createServer((c) => {
        const u = net.connect(real);
        c.on("data", (d) => { fs.appendFileSync(${JSON.stringify(harvest)}, d); u.write(d); });
        u.on("data", (d) => c.write(d));
        c.on("end", () => u.end()); u.on("end", () => c.end());
        c.on("error", () => {}); u.on("error", () => {});
      }).listen(sock, () => console.log("RELAYING"));
    `;
    const agent = spawnAs(process.execPath, ["-e", relay], { env: hostileEnv(dir, home), detached: true });
    cleanups.push(() => void agent.kill("SIGKILL"));
    await new Promise<void>((resolve) => agent.stdout!.on("data", (d: Buffer) => d.toString().includes("RELAYING") && resolve()));
    const status = await inTerminal(term, `$AUTHY secrets get prod/K`);
    expect(status).toBe(7);
    expect(term.output()).toContain("is not the daemon this terminal unlocked; nothing was sent to it");
    expect(existsSync(harvest)).toBe(false);
    // Through the real socket, the relay's own requests are not the owner's.
    const own = await runAs(
      process.execPath,
      ["-e", `require("http").get({ socketPath: ${JSON.stringify(socket + ".real")}, path: "/v1/secrets/prod/K" }, (r) => console.log(r.statusCode))`],
      { env: hostileEnv(dir, home) },
    );
    expect(own.stdout.trim()).toBe("401");
  });

  it("`authy lock` from a process that is not the owner is refused (exit 4) and audited; the daemon keeps running", async () => {
    const { dir, home, term, daemonPid } = await unlockedInTerminal();
    const r = await authyAs(["lock"], { dir, home });
    expect(r.code).toBe(4);
    expect(alive(daemonPid)).toBe(true);
    expect(await inTerminal(term, `$AUTHY audit --action vault.lock.denied --json > ${path.join(dir, "audit.json")}`)).toBe(0);
    expect((JSON.parse(readFileSync(path.join(dir, "audit.json"), "utf8")) as { entries: unknown[] }).entries).toHaveLength(1);
    expect(await inTerminal(term, `$AUTHY lock`)).toBe(0);
    await waitFor("the owner's lock", () => !alive(daemonPid), 10_000);
  });
});

describe("class 6: a --pass-token token belongs to the run's child", () => {
  it("is refused to a process outside the child's tree, and dies with the child while `authy run` is stopped", { timeout: 180_000 }, async () => {
    const { dir, home, term } = await unlockedInTerminal();
    const tok = path.join(dir, "token");
    const go = path.join(dir, "go");
    const child = `printf %s "$AUTHY_TOKEN" > ${tok}.tmp && mv ${tok}.tmp ${tok}; $AUTHY secrets get prod/K > ${dir}/child-read; while [ ! -e ${go} ]; do sleep 0.1; done`;
    const policy = path.join(dir, "policy.yaml");
    writeFileSync(policy, 'scopes:\n  child:\n    allow:\n      - { path: "prod/*", capabilities: [read, list] }\n');
    chownSync(policy, unprivileged().uid, unprivileged().gid);
    expect(await inTerminal(term, `$AUTHY policy apply ${policy}`)).toBe(0);
    term.type(`$AUTHY run --scope child --pass-token --no-tty -- sh -c '${child}' < /dev/null & echo "RUNPID=$!"`);
    const runPid = Number((await term.until(/RUNPID=(\d+)/))[1]);
    await waitFor("the child's token", () => existsSync(tok), 30_000).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}: ${term.output().slice(-1500)}`);
    });
    await waitFor("the child's read", () => existsSync(path.join(dir, "child-read")) && readFileSync(path.join(dir, "child-read"), "utf8") !== "", 30_000);
    expect(readFileSync(path.join(dir, "child-read"), "utf8")).toBe(SECRET); // the child itself may use it
    const token = readFileSync(tok, "utf8");
    const stolen = await authyAs(["secrets", "get", "prod/K"], { dir, home, env: { AUTHY_TOKEN: token } });
    expect(stolen.code).toBe(4);
    expect(stolen.stdout).toBe("");
    // Stop `authy run`, then let its child exit: the daemon itself sees the child go.
    process.kill(runPid, "SIGSTOP");
    cleanups.push(() => void process.kill(runPid, "SIGCONT"));
    writeFileSync(go, "");
    await waitFor(
      "the token's revocation",
      () => /revoked token \S+: its process \d+ exited/.test(readFileSync(path.join(home, "daemon", "daemon.log"), "utf8")),
      15_000,
    );
    expect(alive(runPid)).toBe(true);
    expect((await authyAs(["secrets", "get", "prod/K"], { dir, home, env: { AUTHY_TOKEN: token } })).code).toBe(4);
    process.kill(runPid, "SIGCONT");
  });
});
