/**
 * `authy restore` replaces nothing until the backup verifies table by table, exactly as
 * `doctor` checks a vault; it says so when a backup is of another vault; it never runs under a
 * daemon; and the user's backup file is only ever read.
 */
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { sql } from "./sql.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { authy, initVault, PASSPHRASE, tempHome, withPass, type Result } from "./cli.js";
import { stopDaemons, unlock, vaultHome } from "./daemon-helpers.js";

let t: ReturnType<typeof tempHome>;
/** A backup of a vault with prod/A (two versions), prod/B, a policy, an agent. */
let backup: string;
let homes = 0;

async function ok(args: string[], home: string, input?: string): Promise<Result> {
  const r = await authy(args, { home, input, env: withPass });
  if (r.code !== 0) throw new Error(`authy ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r;
}

/** A new home with a vault holding prod/A = "current-vault". */
async function liveHome(): Promise<string> {
  const home = path.join(t.dir, `live${++homes}`);
  await initVault(home);
  await ok(["secrets", "set", "prod/A"], home, "current-vault");
  return home;
}

/** A copy of the backup with one hand edit. */
function tampered(name: string, edit: (db: Database.Database) => void): string {
  const file = path.join(t.dir, `${name}.backup`);
  copyFileSync(backup, file);
  sql(file, edit);
  return file;
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

beforeAll(async () => {
  t = tempHome();
  const home = path.join(t.dir, "source");
  await initVault(home);
  await ok(["secrets", "set", "prod/A"], home, "alpha-one");
  await ok(["secrets", "set", "prod/A"], home, "alpha-two");
  await ok(["secrets", "set", "prod/B"], home, "bravo-one");
  const policy = path.join(t.dir, "policy.yaml");
  writeFileSync(policy, 'scopes:\n  deploy:\n    allow:\n      - { path: "prod/*", capabilities: [read, list] }\n');
  await ok(["policy", "apply", policy], home);
  await ok(["agents", "create", "ci", "--scope", "deploy"], home);
  backup = path.join(t.dir, "good.backup");
  await ok(["backup", backup], home);
});
afterAll(() => t.cleanup());
afterEach(() => stopDaemons());

/** Each edit breaks one authenticated table; restore refuses it and doctor finds it. */
const TAMPERS: { name: string; table: RegExp; doctor?: RegExp; edit: (db: Database.Database) => void }[] = [
  { name: "a policy document edited", table: /policy/, edit: (db) => db.prepare("UPDATE policy SET document = replace(document, 'read', 'write')").run() },
  { name: "an agent's scope edited", table: /agent "ci"/, edit: (db) => db.prepare("UPDATE agents SET scope = 'secrets:read:**' WHERE name = 'ci'").run() },
  {
    name: "a token row inserted by hand",
    table: /token tok_planted/,
    edit: (db) =>
      db
        .prepare(
          "INSERT INTO tokens (id, secret_hash, agent, scope, label, created_at, expires_at, max_uses, uses, revoked_at, instance, parent, pid, mac) VALUES ('tok_planted', zeroblob(32), NULL, '{}', '', 0, 9999999999999, NULL, 0, NULL, 'x', NULL, NULL, zeroblob(32))",
        )
        .run(),
  },
  {
    name: "an approval row inserted by hand",
    table: /approval "apr_planted"/,
    edit: (db) =>
      db
        .prepare(
          "INSERT INTO approvals (id, principal, agent, token, action, path, tier, reason, status, created_at, expires_at, decided_at, decision_reason, grant_kind, grant_until, used_at, mac) VALUES ('apr_planted', 'agent:ci', 'ci', 'tok', 'secret.read', 'prod/B', 'sensitive', '', 'approved', 0, 9999999999999, 0, '', 'window', 9999999999999, NULL, zeroblob(32))",
        )
        .run(),
  },
  {
    name: "an old version row deleted",
    table: /prod\/A is missing version 1/,
    edit: (db) => db.prepare("DELETE FROM secret_versions WHERE path = 'prod/A' AND version = 1").run(),
  },
  {
    name: "an old version row moved to a path with no secret",
    table: /prod\/A is missing version 1 \(and 1 more problem\)/,
    doctor: /version row of prod\/GONE belongs to no secret/,
    edit: (db) => db.prepare("UPDATE secret_versions SET path = 'prod/GONE' WHERE path = 'prod/A' AND version = 1").run(),
  },
  {
    name: "an old version row moved under another secret",
    table: /prod\/B has a version 2 beyond its current version 1|prod\/A is missing version 1/,
    edit: (db) => db.prepare("UPDATE secret_versions SET path = 'prod/B', version = 2 WHERE path = 'prod/A' AND version = 1").run(),
  },
  { name: "a key slot label edited", table: /slot/, edit: (db) => db.prepare("UPDATE key_slots SET label = 'mine'").run() },
];

describe("restore verifies every authenticated table before it replaces anything", () => {
  it.each(TAMPERS)("refuses a backup with $name, and doctor finds it in a vault", async ({ name, table, doctor, edit }) => {
    const home = await liveHome();
    const before = sha256(path.join(home, "vault.db"));
    const file = tampered(name.replace(/\W+/g, "-"), edit);
    const r = await authy(["restore", file, "--yes"], { home, env: withPass });
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toMatch(table);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(sha256(path.join(home, "vault.db"))).toBe(before);
    expect(readdirSync(home).filter((f) => f.includes("restor"))).toEqual([]);
    expect((await ok(["secrets", "get", "prod/A"], home)).stdout).toBe("current-vault");

    // The same edit in a vault in use: doctor fails, naming it.
    const broken = path.join(t.dir, `doctor${++homes}`);
    mkdirSync(broken, { mode: 0o700 });
    copyFileSync(file, path.join(broken, "vault.db"));
    chmodSync(path.join(broken, "vault.db"), 0o600);
    const d = await authy(["doctor"], { home: broken, env: withPass });
    expect(d.code, d.stdout + d.stderr).toBe(7);
    expect(d.stdout + d.stderr).toMatch(doctor ?? table);
  });

  it("restores the intact backup, and doctor passes on every table", async () => {
    const home = await liveHome();
    const r = await authy(["restore", backup, "--yes"], { home, env: withPass });
    expect(r.code, r.stderr).toBe(0);
    expect((await ok(["secrets", "get", "prod/A"], home)).stdout).toBe("alpha-two");
    const d = await ok(["doctor"], home);
    for (const name of ["key slots", "secrets", "secret versions", "policy", "agents", "tokens", "approvals", "audit"])
      expect(d.stdout).toMatch(new RegExp(`ok +[^\\n]*${name}`));
  });
});

describe("restore of another vault", () => {
  it("names both vault ids and asks (--yes otherwise), when the backup opens with the same passphrase", async () => {
    const home = await liveHome();
    const mine = JSON.parse((await ok(["status", "--json"], home)).stdout) as { vaultId: string };
    const theirs = JSON.parse((await ok(["status", "--json"], path.join(t.dir, "source"))).stdout) as { vaultId: string };
    expect(theirs.vaultId).not.toBe(mine.vaultId);
    const refused = await authy(["restore", backup], { home, env: withPass });
    expect(refused.code).toBe(2);
    expect(refused.stderr.split("\n")[0]).toBe(
      `authy: ${backup} is a backup of another vault (id ${theirs.vaultId}), not of the vault in ${home} (id ${mine.vaultId})`,
    );
    expect((await ok(["secrets", "get", "prod/A"], home)).stdout).toBe("current-vault");
    const r = await authy(["restore", backup, "--yes"], { home, env: withPass });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`another vault (id ${theirs.vaultId})`);
    expect(r.stderr).toContain(`(id ${mine.vaultId})`);
    expect(JSON.parse((await ok(["status", "--json"], home)).stdout).vaultId).toBe(theirs.vaultId);
  });
});

describe("restore and the daemon", () => {
  it("refuses while a daemon holds the vault, so no write the daemon acknowledges is lost", async () => {
    const home = await vaultHome();
    await ok(["secrets", "set", "prod/A"], home, "before-backup");
    const file = path.join(path.dirname(home), "own.backup");
    await ok(["backup", file], home);
    const d = await unlock(home, ["--export-session"]);
    const r = await authy(["restore", file, "--yes"], { home, env: withPass });
    expect(r.code).toBe(8);
    expect(r.stderr.split("\n")[0]).toBe(`authy: a daemon (pid ${d.pid}) holds the vault in ${home}; restoring under it would lose what it writes afterwards`);
    // The daemon acknowledges a write; it is in the vault on disk once the daemon is gone.
    expect((await authy(["secrets", "set", "prod/A"], { home, env: { AUTHY_SESSION: d.session! }, input: "after-refusal" })).code).toBe(0);
    await ok(["lock"], home);
    expect((await ok(["secrets", "get", "prod/A"], home)).stdout).toBe("after-refusal");
    const done = await authy(["restore", file, "--yes"], { home, env: withPass });
    expect(done.code, done.stderr).toBe(0);
    expect((await ok(["secrets", "get", "prod/A"], home)).stdout).toBe("before-backup");
  });
});

describe("restore leaves the backup alone", () => {
  it("restores a backup made after a failed unlock, and leaves no -wal or -shm beside it", async () => {
    const home = await liveHome();
    const failed = await authy(["secrets", "list"], { home, env: { AUTHY_PASSPHRASE: `${PASSPHRASE}-wrong` } });
    expect(failed.code).toBe(6);
    const file = path.join(t.dir, "after-failure.backup");
    await ok(["backup", file], home);
    const hash = sha256(file);
    const r = await authy(["restore", file, "--yes"], { home, env: withPass });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(`${file}-wal`)).toBe(false);
    expect(existsSync(`${file}-shm`)).toBe(false);
    expect(sha256(file)).toBe(hash);
    // The failure is in the restored vault's chain, which verifies.
    const audit = await ok(["audit", "--action", "vault.unlock.failed", "--json"], home);
    expect(audit.stdout).toContain("vault.unlock.failed");
    await ok(["audit", "verify"], home);
  });

  it("names the user's file, not its copy beside the vault, when the backup is not a vault", async () => {
    const home = await liveHome();
    const before = sha256(path.join(home, "vault.db"));
    const garbage = path.join(t.dir, "garbage.backup");
    writeFileSync(garbage, "not a database\n");
    const empty = path.join(t.dir, "empty.backup");
    writeFileSync(empty, "");
    const cases: [string, string][] = [
      [garbage, `authy: ${garbage} is corrupt, truncated or not a database`],
      [empty, `authy: ${empty} is not an authy vault`],
    ];
    for (const [file, line] of cases) {
      const r = await authy(["restore", file, "--yes"], { home, env: withPass });
      expect(r.code, r.stderr).toBe(7);
      expect(r.stderr).toBe(`${line}\nhint: nothing was restored; give a file that \`authy backup\` wrote\n`);
      expect(sha256(path.join(home, "vault.db"))).toBe(before);
      expect(readdirSync(home).filter((f) => f.includes("restor"))).toEqual([]);
    }
  });

  it("refuses a device or a directory as a backup with exit 2", async () => {
    const home = await liveHome();
    for (const file of ["/dev/zero", t.dir]) {
      const r = await authy(["restore", file, "--yes"], { home, env: withPass });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(`authy: ${file} is not a regular file, so not a vault backup\n`);
    }
  });
});

describe("backup writes only where it is told", () => {
  it("refuses a file in a directory that does not exist, as `env export --out` does (exit 3), and creates nothing", async () => {
    const home = await liveHome();
    const missing = path.join(t.dir, "no-such-dir", "deeper", "x.db");
    const r = await authy(["backup", missing], { home, env: withPass });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`authy: no such file or directory: ${missing}\n`);
    expect(existsSync(path.join(t.dir, "no-such-dir"))).toBe(false);
    const exported = await authy(["env", "export", "prod", "--out", path.join(t.dir, "no-such-dir", "x.env")], { home, env: withPass });
    expect(exported.code).toBe(r.code);
    // A file where the directory should be: exit 2, one line.
    const file = path.join(t.dir, "plain-file");
    writeFileSync(file, "x");
    const under = await authy(["backup", path.join(file, "x.db")], { home, env: withPass });
    expect(under.code).toBe(2);
    expect(under.stderr).toMatch(/^authy: cannot write \S+: \S+ is not a directory\n$/);
    // The default still goes to the home's backups directory, made on demand.
    const made = await ok(["backup"], home);
    expect(made.stdout.trim().startsWith(path.join(home, "backups") + path.sep)).toBe(true);
    expect(existsSync(made.stdout.trim())).toBe(true);
  });
});
