import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { chownSync, existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CLI, PASSPHRASE, type Result } from "./cli.js";
import { waitFor } from "./daemon-helpers.js";
import { authyAs, hostileEnv, sandboxHome, spawnAs, unprivileged } from "./unprivileged.js";

/**
 * `authy run --sandbox --pass-token`, attacked from inside and outside: every command runs as
 * the unprivileged account, through the built CLI, real bwrap and a real daemon. The child
 * reaches the vault only through the socket made for its run (AUTHY_SOCKET), with its token.
 */
const IN_SCOPE = "in-scope-value-5150";
const OUT_OF_SCOPE = "out-of-scope-value-8086";

let dir = "";
let home = "";
let work = "";
let session = "";
let cleanup = () => {};

beforeAll(async () => {
  ({ dir, home, work, cleanup } = await sandboxHome());
  const { uid, gid } = unprivileged();
  for (const [p, v] of [
    ["app/TOKEN", IN_SCOPE],
    ["other/KEY", OUT_OF_SCOPE],
  ] as const) {
    const set = await cli(["secrets", "set", p], { input: v, env: { AUTHY_PASSPHRASE: PASSPHRASE } });
    if (set.code !== 0) throw new Error(`secrets set failed: ${set.stderr}`);
  }
  const policy = path.join(work, "policy.yaml");
  writeFileSync(policy, 'scopes:\n  app:\n    allow:\n      - { path: "app/*", capabilities: [read, list] }\n');
  chownSync(policy, uid, gid);
  expect((await cli(["policy", "apply", policy], { env: { AUTHY_PASSPHRASE: PASSPHRASE } })).code).toBe(0);
  const unlocked = await cli(["unlock", "--export-session"], { env: { AUTHY_PASSPHRASE: PASSPHRASE } });
  if (unlocked.code !== 0) throw new Error(`unlock failed: ${unlocked.stderr}`);
  session = /AUTHY_SESSION=(\S+)/.exec(unlocked.stdout)![1]!;
}, 90_000);

afterAll(async () => {
  await cli(["lock"]);
  cleanup();
});

/** The built CLI as the unprivileged account acting as the owner through its exported session. */
function cli(args: string[], opts: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<Result> {
  return authyAs(args, { dir, home, env: { AUTHY_SESSION: session || undefined, ...opts.env }, cwd: work, input: opts.input, timeoutMs: 60_000 });
}

/** `authy run --sandbox --scope app --pass-token -- sh -c SCRIPT sh NODE CLI ARGS…`: the script calls authy as `"$1" "$2"`. */
function sandboxed(script: string, args: string[] = []): Promise<Result> {
  return cli(["run", "--sandbox", "--scope", "app", "--pass-token", "--", "/bin/sh", "-c", script, "sh", process.execPath, CLI, ...args]);
}

/** The run sockets' directories of this account (its TMPDIR is `dir`). */
function runDirs(): string[] {
  return readdirSync(dir).filter((f) => f.startsWith("authy-run-"));
}

function startRun(script: string, args: string[] = []): { child: ChildProcess; output: () => string } {
  const env = hostileEnv(dir, home, { AUTHY_SESSION: session });
  const child = spawnAs(process.execPath, [CLI, "run", "--sandbox", "--scope", "app", "--pass-token", "--", "/bin/sh", "-c", script, "sh", ...args], {
    env,
    cwd: work,
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

describe("authy run --sandbox --pass-token", () => {
  it("gives the child exactly its scope, through the run's own socket, and not the daemon's", async () => {
    const daemonSocket = path.join(home, "daemon", "authy.sock");
    const script = [
      'echo "socket=$AUTHY_SOCKET"',
      '"$1" "$2" secrets get app/TOKEN > in.txt; echo "in=$?"',
      '"$1" "$2" secrets get other/KEY > out.txt; echo "out=$?"',
      '"$1" "$2" secrets list --json > list.json; echo "list=$?"',
      '[ -e "$3" ] && echo DAEMON-SOCKET-VISIBLE',
      'curl -s --max-time 5 --unix-socket "$3" http://authy/v1/status >/dev/null && echo DAEMON-SOCKET-REACHED',
      "echo done",
    ].join("; ");
    const r = await sandboxed(script, [daemonSocket]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("socket=/tmp/.authy/daemon.sock");
    expect(r.stdout).toContain("in=0");
    expect(readFileSync(path.join(work, "in.txt"), "utf8")).toBe(IN_SCOPE);
    expect(r.stdout).toContain("out=4");
    expect(readFileSync(path.join(work, "out.txt"), "utf8")).toBe("");
    expect(r.stdout).toContain("list=0");
    expect(readFileSync(path.join(work, "list.json"), "utf8")).toContain("app/TOKEN");
    expect(readFileSync(path.join(work, "list.json"), "utf8")).not.toContain("other/KEY");
    expect(r.stdout).not.toContain("DAEMON-SOCKET-VISIBLE");
    expect(r.stdout).not.toContain("DAEMON-SOCKET-REACHED");
    expect(r.stdout).toContain("done");

    const denied = await cli(["audit", "--json", "--action", "secret.read.denied"]);
    const entries = (JSON.parse(denied.stdout) as { entries: { actor: string; resource: string }[] }).entries;
    expect(entries.some((e) => e.resource === "other/KEY" && e.actor.startsWith("token:"))).toBe(true);
    expect(runDirs()).toEqual([]); // the socket is gone with the run

    // In a network namespace of its own too (--no-network): the run's socket is a file, not a network.
    const offline = await cli([
      "run",
      "--no-network",
      "--scope",
      "app",
      "--pass-token",
      "--",
      "/bin/sh",
      "-c",
      '"$1" "$2" secrets get app/TOKEN > in2.txt; echo "in=$?"',
      "sh",
      process.execPath,
      CLI,
    ]);
    expect(offline.stdout).toContain("in=0");
    expect(readFileSync(path.join(work, "in2.txt"), "utf8")).toBe(IN_SCOPE);
  });

  it("refuses, on the run's socket, no credential, an owner session and any other token, and audits it", async () => {
    const other = await cli(["tokens", "create", "--scope", "app", "--ttl", "10m", "--json"]);
    expect(other.code, other.stderr).toBe(0);
    const otherToken = (JSON.parse(other.stdout) as { token: string }).token;
    // The other token is good at the daemon's own socket: a refusal below is the run socket's doing.
    expect((await cli(["secrets", "get", "app/TOKEN"], { env: { AUTHY_SESSION: undefined, AUTHY_TOKEN: otherToken } })).code).toBe(0);

    const curl = (bearer: string) =>
      `curl -s --max-time 5 --unix-socket "$AUTHY_SOCKET" ${bearer ? `-H "Authorization: Bearer ${bearer}"` : ""} -w " status=%{http_code}\\n" http://authy/v1/secrets/app/TOKEN`;
    const script = [
      `echo "none: $(${curl("")})"`,
      `echo "session: $(${curl("$3")})"`,
      `echo "other: $(${curl("$4")})"`,
      'AUTHY_TOKEN="$4" "$1" "$2" secrets get app/TOKEN; echo "other-cli=$?"',
      'AUTHY_SESSION="$3" env -u AUTHY_TOKEN "$1" "$2" secrets get app/TOKEN; echo "session-cli=$?"',
      `echo "own: $(${curl("$AUTHY_TOKEN")})"`,
    ].join("; ");
    const r = await sandboxed(script, [session, otherToken]);
    expect(r.code, r.stderr).toBe(0);
    for (const who of ["none", "session", "other"]) {
      const line = r.stdout.split("\n").find((l) => l.startsWith(`${who}: `))!;
      expect(line, who).toMatch(/status=403$/);
      expect(line).toContain('"code":"ACCESS_DENIED"');
      expect(line).toContain("serves only the token of the run");
      expect(line).not.toContain(IN_SCOPE);
    }
    expect(r.stdout).toContain("other-cli=4");
    expect(r.stderr).toMatch(/serves only the token of the run it was made for/);
    expect(r.stdout).toMatch(/session-cli=2/); // AUTHY_SOCKET needs AUTHY_TOKEN: refused before anything is sent
    expect(r.stderr).toMatch(/AUTHY_SOCKET is set but AUTHY_TOKEN is not/);
    expect(r.stdout).toMatch(/own: .*status=200$/m); // the run's own token, the same request: served
    expect(r.stdout).not.toContain(IN_SCOPE); // masked in the child's output
    const audit = await cli(["audit", "--json", "--action", "run.socket.denied"]);
    const reasons = (JSON.parse(audit.stdout) as { entries: { details: { reason: string } }[] }).entries.map((e) => e.details.reason);
    expect(reasons.sort()).toEqual(["no credentials", "not this run's token"]);
  });

  it("is worth nothing outside the sandbox, and nothing anywhere once the run has ended", async () => {
    const tokenFile = path.join(work, "token.txt");
    const go = path.join(work, "go");
    const { child, output } = startRun(`printf %s "$AUTHY_TOKEN" > token.txt; while [ ! -e go ]; do sleep 0.1; done; echo finished`);
    const status = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    await waitFor("the child's token", () => existsSync(tokenFile) && readFileSync(tokenFile, "utf8") !== "", 30_000).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}: ${output()}`);
    });
    const token = readFileSync(tokenFile, "utf8");
    const [runDir] = runDirs();
    const runSocket = path.join(dir, runDir!, "daemon.sock");
    try {
      expect(lstatSync(runSocket).isSocket()).toBe(true);
      expect(lstatSync(path.join(dir, runDir!)).mode & 0o777).toBe(0o700);

      // A process of the same user outside the sandbox, holding the token: at the daemon's socket...
      const atDaemon = await cli(["secrets", "get", "app/TOKEN"], { env: { AUTHY_SESSION: undefined, AUTHY_TOKEN: token } });
      expect(atDaemon.code).toBe(4);
      expect(atDaemon.stdout).toBe("");
      // ...and at the run's socket, by its path on the host.
      const atRunSocket = await cli(["secrets", "get", "app/TOKEN"], { env: { AUTHY_SESSION: undefined, AUTHY_TOKEN: token, AUTHY_SOCKET: runSocket } });
      expect(atRunSocket.code).toBe(4);
      expect(atRunSocket.stderr).toMatch(/serves only the processes of the sandboxed run/);
      expect(atRunSocket.stdout).toBe("");
    } finally {
      writeFileSync(go, "");
    }
    expect(await status).toBe(0);
    expect(output()).toContain("finished");
    expect(existsSync(runSocket)).toBe(false);
    expect(runDirs()).toEqual([]);
    const after = await cli(["secrets", "get", "app/TOKEN"], { env: { AUTHY_SESSION: undefined, AUTHY_TOKEN: token } });
    expect(after.code).toBe(4);
    const tokens = await cli(["tokens", "list", "--json"]);
    const row = (JSON.parse(tokens.stdout) as { items: { token?: string; revokedAt: number | null; label: string | null }[] }).items.filter(
      (t) => t.label === "run sh",
    );
    expect(row.length).toBeGreaterThan(0);
    expect(row.every((t) => t.revokedAt !== null)).toBe(true);
  });

  it("takes the socket and the token with it when authy run is killed", { timeout: 120_000 }, async () => {
    const tokenFile = path.join(work, "token-killed.txt");
    const { child, output } = startRun(`printf %s "$AUTHY_TOKEN" > token-killed.txt; while :; do sleep 0.1; done`);
    const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
    await waitFor("the child's token", () => existsSync(tokenFile) && readFileSync(tokenFile, "utf8") !== "", 30_000).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}: ${output()}`);
    });
    const token = readFileSync(tokenFile, "utf8");
    const [runDir] = runDirs();
    expect(runDir).toBeDefined();
    child.kill("SIGKILL");
    await closed;
    // The watchdog removes the socket and its directory; the daemon revokes the token of a run that is gone.
    await waitFor("the run socket's removal", () => !existsSync(path.join(dir, runDir!)), 15_000);
    await waitFor(
      "the token's revocation",
      async () => (await cli(["secrets", "get", "app/TOKEN"], { env: { AUTHY_SESSION: undefined, AUTHY_TOKEN: token } })).code === 4,
      15_000,
    );
  });
});
