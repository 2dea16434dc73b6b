/**
 * People on a team server, end to end: `authy init --database` on a real PostgreSQL prints the
 * first admin key, two `authy serve` processes share the vault, and the built CLI talks to
 * them as a user would: `authy login` with the key on stdin (stored 0600 in a 0700 directory),
 * an admin doing owner things, a member held to its scope (exit 4), a revoked member refused,
 * local-only commands refused in one line (exit 2), an approval decided on one server process
 * releasing an agent waiting on the other, and a CI job with nothing but AUTHY_API_URL and an
 * agent key in its environment.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../setup/postgres-database.js";
import { authy, CLI, finished, type Result } from "./cli.js";
import { startServe, stopServe, TEST_PASSPHRASE, type Served } from "./serve-helpers.js";

let dir: string;
let db: TestDatabase;
let a: Served;
let b: Served;
let adminKey: string;
const cfg = () => path.join(dir, "config");

/** The CLI as a person on a laptop: no vault of their own, a config dir of their own. */
function person(args: string[], opts: { input?: string; env?: Record<string, string | undefined> } = {}): Promise<Result> {
  return authy(args, {
    home: path.join(dir, "laptop"),
    ...(opts.input === undefined ? {} : { input: opts.input }),
    env: { XDG_CONFIG_HOME: cfg(), ...opts.env },
  });
}

/** A process with exactly this environment (and PATH to find sh), as a CI runner starts a job. */
function ciJob(args: string[], env: Record<string, string>): Promise<Result> {
  const child = spawn(process.execPath, ["--", CLI, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdio: ["pipe", "pipe", "pipe"] });
  return finished(child, undefined, 60_000);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-members-"));
  db = await createTestDatabase("members");
  const init = await authy(["init", "--database", db.url, "--work-factor", "15"], {
    home: path.join(dir, "unused"),
    env: { AUTHY_PASSPHRASE: TEST_PASSPHRASE },
  });
  expect(init.code, init.stderr).toBe(0);
  adminKey = init.stdout.trim();
  const passFile = path.join(dir, "pass");
  writeFileSync(passFile, `${TEST_PASSPHRASE}\n`, { mode: 0o600 });
  const serve = ["--listen", "127.0.0.1:0", "--database", db.url, "--passphrase-file", passFile];
  [a, b] = await Promise.all([startServe(serve, { home: path.join(dir, "srv-a") }), startServe(serve, { home: path.join(dir, "srv-b") })]);
});
afterAll(async () => {
  await Promise.all([a, b].filter(Boolean).map((s) => stopServe(s)));
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("members on a team server", () => {
  it("creates the vault in PostgreSQL with its first admin key printed once, and refuses a second init", async () => {
    expect(adminKey).toMatch(/^authy_mk_[a-z2-7]+_[A-Za-z0-9_-]+$/);
    const again = await authy(["init", "--database", db.url, "--work-factor", "15"], {
      home: path.join(dir, "unused"),
      env: { AUTHY_PASSPHRASE: TEST_PASSPHRASE },
    });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^authy: a vault already exists in postgres/);
    expect(again.stderr).not.toContain(db.url.split("@")[0]!.split(":").at(-1)); // never the URL's password
  });

  it("logs in with the key on stdin, stores it 0600 in a 0700 directory, and never takes it from argv", async () => {
    const r = await person(["login", "--api-url", a.url], { input: `${adminKey}\n` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`logged in to ${a.url} as admin admin`);
    const file = path.join(cfg(), "authy", "profiles", "default.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(cfg(), "authy")).mode & 0o777).toBe(0o700);
    const argv = await person(["login", "--api-url", a.url, adminKey]);
    expect(argv.code).toBe(2);
    const bad = await person(["login", "--api-url", a.url, "--profile", "x"], { input: "authy_mk_aaaa_wrongwrong\n" });
    expect(bad.code).toBe(4);
    // Refused while logging in: nothing had been stored, so the message must not say it was.
    expect(bad.stderr.trim().split("\n")[0]).toBe("authy: the server refused this member key: it is unknown, rotated or revoked; nothing was stored");
    expect(existsSync(path.join(cfg(), "authy", "profiles", "x.json"))).toBe(false);
    const who = await person(["whoami", "--json"]);
    expect(JSON.parse(who.stdout)).toMatchObject({ kind: "member", member: "admin", role: "admin", server: a.url, profile: "default" });
    const status = await person(["status"]);
    expect(status.stdout).toContain(`server:   ${a.url}`);
  });

  it("lets the admin do owner things through the server, and holds a member to its scope", async () => {
    const policy = path.join(dir, "policy.yaml");
    writeFileSync(policy, 'scopes:\n  deploy:\n    allow:\n      - { path: "prod/*", capabilities: [read, list] }\n');
    expect((await person(["policy", "apply", policy])).code).toBe(0);
    for (const [p, v, tier] of [
      ["prod/API_KEY", "prod-value-1", "standard"],
      ["ops/DB", "db-value-1", "sensitive"],
      ["staging/K", "staging-value", "standard"],
    ] as const) {
      const r = await person(["secrets", "set", p, "--tier", tier], { input: v });
      expect(r.code, r.stderr).toBe(0);
    }
    const added = await person(["members", "add", "bob", "--role", "member", "--scope", "secrets:read+list:staging/*", "--json"]);
    expect(added.code, added.stderr).toBe(0);
    const bobKey = (JSON.parse(added.stdout) as { key: string }).key;
    expect((await person(["login", "--api-url", b.url, "--profile", "bob"], { input: bobKey })).code).toBe(0);
    const bob = (args: string[]) => person(["--profile", "bob", ...args]);
    expect((await bob(["secrets", "get", "staging/K"])).stdout).toBe("staging-value");
    const denied = await bob(["secrets", "get", "prod/API_KEY"]);
    expect(denied.code).toBe(4);
    expect(denied.stderr).toBe("authy: not allowed to read prod/API_KEY\nhint: member bob's scope does not allow it\n");
    expect((await bob(["members", "list"])).code).toBe(4);
    expect((await bob(["agents", "create", "x", "--scope", "deploy"])).code).toBe(4);
    const list = JSON.parse((await person(["members", "list", "--json"])).stdout) as { items: { name: string; role: string; scope: string | null }[] };
    expect(list.items.map((m) => [m.name, m.role, m.scope])).toEqual([
      ["admin", "admin", null],
      ["bob", "member", "secrets:read+list:staging/*"],
    ]);
    // Revoked on one server process, refused on the other at once.
    expect((await person(["members", "revoke", "bob"])).code).toBe(0);
    const revoked = await bob(["secrets", "get", "staging/K"]);
    expect(revoked.code).toBe(4);
    expect(revoked.stderr).toContain("was refused");
    const audit = JSON.parse((await person(["audit", "--json", "--limit", "100"])).stdout) as { entries: { actor: string; action: string }[] };
    const actions = audit.entries.map((e) => `${e.actor} ${e.action}`);
    expect(actions).toEqual(
      expect.arrayContaining(["member:admin member.add", "member:bob secret.read", "member:bob secret.read.denied", "member:admin member.revoke"]),
    );
  });

  it("refuses commands that mean nothing on a server in one line, exit 2", async () => {
    for (const cmd of [["unlock"], ["lock"], ["passwd"], ["backup", "x"], ["keys", "list"]]) {
      const r = await person(cmd);
      expect(r.code, cmd.join(" ")).toBe(2);
      expect(r.stderr.split("\n")[0]).toBe(`authy: \`authy ${cmd[0]!}\` works on a local vault, not on the team server at ${a.url} (from authy login)`);
    }
  });

  it("gives an agent started by `authy run` the run's scope, never the member key `authy login` stored", async () => {
    const child = [process.execPath, CLI];
    const own = await person(["run", "--scope", "deploy", "--", ...child, "secrets", "get", "staging/K"]);
    expect(own.code).toBe(4);
    expect(own.stderr).toContain("authy: inside `authy run`, the member key stored by `authy login` is not used\n");
    expect(own.stdout).not.toContain("staging-value");
    // --pass-token: a token of the run's scope and the server's address, revoked when the run ends.
    const script = `"$0" "$1" secrets get prod/API_KEY && "$0" "$1" secrets get staging/K; echo " exit=$?"`;
    const passed = await person(["run", "--scope", "deploy", "--pass-token", "--", "sh", "-c", script, ...child]);
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stdout).toBe("<authy:masked> exit=4\n");
    expect(passed.stderr).toContain("authy: not allowed to read staging/K\n");
    const tokens = JSON.parse((await person(["tokens", "list", "--json"])).stdout) as { items: { label: string | null; status: string }[] };
    expect(tokens.items.filter((t) => t.label === "run sh").map((t) => t.status)).toEqual(["revoked"]);
    // A named profile's key goes to its own server only.
    const elsewhere = await person(["--profile", "default", "--api-url", "http://127.0.0.1:9", "whoami"]);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr.split("\n")[0]).toBe(`authy: profile "default" is for ${a.url}, not http://127.0.0.1:9 (from --api-url)`);
    // A typo in the address is bad input (exit 2), not a login to do (exit 4).
    for (const [args, env] of [
      [["--api-url", "notaurl", "whoami"], {}],
      [["whoami"], { AUTHY_API_URL: "ftp://example.com" }],
    ] as const) {
      const typo = await person([...args], { env });
      expect(typo.code).toBe(2);
      expect(typo.stderr).toMatch(/^authy: (--api-url|AUTHY_API_URL) is not an http:\/\/ or https:\/\/ address: "/);
    }
  });

  it("releases an agent waiting on one server process when an admin approves on the other", async () => {
    const key = (await person(["agents", "create", "waiter", "--scope", "secrets:read:ops/*"])).stdout.trim();
    expect((await person(["login", "--api-url", b.url, "--profile", "admin-b"], { input: adminKey })).code).toBe(0);
    const waiting = ciJob(["secrets", "get", "ops/DB", "--reason", "deploy", "--wait", "60s"], { AUTHY_API_URL: a.url, AUTHY_AGENT_KEY: key });
    let id: string | undefined;
    for (let i = 0; i < 200 && id === undefined; i++) {
      const pending = JSON.parse((await person(["--profile", "admin-b", "approvals", "list", "--json"])).stdout) as { items: { id: string; status: string }[] };
      id = pending.items.find((x) => x.status === "pending")?.id;
    }
    expect(id).toBeDefined();
    expect((await person(["--profile", "admin-b", "approvals", "approve", id!, "--reason", "ok"])).code).toBe(0);
    const r = await waiting;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("db-value-1");
  });

  it("runs a CI job with only AUTHY_API_URL and an agent key in its environment", async () => {
    const key = (await person(["agents", "create", "ci", "--scope", "deploy"])).stdout.trim();
    const env = { AUTHY_API_URL: b.url, AUTHY_AGENT_KEY: key };
    const exported = await ciJob(["env", "export", "prod", "--keys", "API_KEY"], env);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toBe("API_KEY=prod-value-1\n");
    const run = await ciJob(["run", "--scope", "deploy", "--", "sh", "-c", 'test "$API_KEY" = prod-value-1 && echo deployed'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe("deployed\n");
    const outside = await ciJob(["secrets", "get", "staging/K"], env);
    expect(outside.code).toBe(4);
    // On a machine that also holds a login for that server, the agent key speaks, not the profile.
    const who = await person(["whoami", "--json"], { env: { AUTHY_API_URL: a.url, AUTHY_AGENT_KEY: key } });
    expect(JSON.parse(who.stdout)).toMatchObject({ kind: "agent", server: a.url, profile: null });
    expect((await person(["whoami"], { env: { AUTHY_API_URL: a.url, AUTHY_AGENT_KEY: key } })).stdout).not.toContain("(profile");
    expect((await person(["status"], { env: { AUTHY_API_URL: a.url, AUTHY_AGENT_KEY: key } })).stdout).toContain(`server:   ${a.url}\n`);
  });
});
