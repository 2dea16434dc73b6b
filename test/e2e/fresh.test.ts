/**
 * Fresh rows, attacked for real: the owner and the attacker are the same unprivileged account
 * (the threat model's same-user agent). The attacker saves a copy of a row with SQLite, lets
 * the owner change it through the built CLI (delete, rotate, tier raise, purge, revoke, policy
 * narrowing, passphrase change), then puts the old copy back. The next command that reads it
 * must fail with INTEGRITY (exit 7), and `authy doctor` must report it. Emptying the record of
 * failed unlocks is caught by the next unlock and reported by doctor.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PASSPHRASE } from "./cli.js";
import { authyAs, hostileEnv, hostileHome, initVaultAs, runAs } from "./unprivileged.js";

const SQLITE_MODULE = createRequire(import.meta.url).resolve("better-sqlite3");

/**
 * The attacker's tool: copies the rows of `table` matching `where` into a side database, or
 * puts them back in place of whatever matches `where` now. Generated columns are SQLite's.
 */
const ROW_TOOL = `
const Database = require(process.env.SQLITE_MODULE);
const [mode, file, side, table, where] = process.argv.slice(1);
const db = new Database(file);
db.exec("ATTACH '" + side + "' AS s");
const cols = db.prepare("PRAGMA main.table_xinfo(" + table + ")").all().filter((c) => c.hidden === 0).map((c) => c.name).join(", ");
if (mode === "save") db.exec("DROP TABLE IF EXISTS s." + table + "; CREATE TABLE s." + table + " AS SELECT " + cols + " FROM main." + table + " WHERE " + where);
else if (mode === "restore") db.exec("DELETE FROM main." + table + " WHERE " + where + "; INSERT INTO main." + table + " (" + cols + ") SELECT " + cols + " FROM s." + table);
else db.exec(where);
db.close();
`;

interface Victim {
  dir: string;
  home: string;
  /** The owner's CLI (passphrase in the environment). */
  owner: (args: string[], input?: string) => Promise<{ code: number; stdout: string; stderr: string }>;
  /** The attacker's SQLite, as the same account. */
  rows: (mode: "save" | "restore" | "exec", table: string, where: string) => Promise<void>;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function victim(): Promise<Victim> {
  const { dir, home, cleanup } = hostileHome();
  cleanups.push(cleanup);
  await initVaultAs(dir, home);
  const owner = (args: string[], input?: string) => authyAs(args, { dir, home, env: { AUTHY_PASSPHRASE: PASSPHRASE }, input });
  const rows = async (mode: "save" | "restore" | "exec", table: string, where: string) => {
    const r = await runAs(process.execPath, ["-e", ROW_TOOL, mode, path.join(home, "vault.db"), path.join(dir, "saved.db"), table, where], {
      env: hostileEnv(dir, home, { SQLITE_MODULE }),
    });
    if (r.code !== 0) throw new Error(`the attacker's sqlite failed: ${r.stderr}`);
  };
  return { dir, home, owner, rows };
}

async function ok(v: Victim, args: string[], input?: string): Promise<string> {
  const r = await v.owner(args, input);
  expect(r.stderr, args.join(" ")).not.toMatch(/^\s+at /m);
  expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The command fails closed with INTEGRITY, one line, and doctor reports the stale rows. */
async function refused(v: Victim, args: string[], doctorSays: RegExp = /do not match the vault state/): Promise<void> {
  const r = await v.owner(args);
  expect(r.code, `${args.join(" ")} should fail with INTEGRITY: ${r.stdout} ${r.stderr}`).toBe(7);
  expect(r.stderr).toMatch(/integrity check failed/);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  const d = await v.owner(["doctor"]);
  expect(d.code).toBe(7);
  expect(d.stdout + d.stderr).toMatch(doctorSays);
}

describe("an earlier copy of a row put back by a same-user agent", () => {
  it("does not undo a delete", async () => {
    const v = await victim();
    await ok(v, ["secrets", "set", "prod/API_KEY"], "the-value");
    await v.rows("save", "secrets", "path = 'prod/API_KEY'");
    await ok(v, ["secrets", "delete", "--yes", "prod/API_KEY"]);
    await v.rows("restore", "secrets", "path = 'prod/API_KEY'");
    await refused(v, ["secrets", "get", "prod/API_KEY"]);
  });

  it("does not undo a purge (row and versions put back)", async () => {
    const v = await victim();
    await ok(v, ["secrets", "set", "prod/API_KEY"], "purged-value");
    await v.rows("save", "secrets", "path = 'prod/API_KEY'");
    await v.rows("save", "secret_versions", "path = 'prod/API_KEY'");
    await ok(v, ["secrets", "delete", "--yes", "--purge", "prod/API_KEY"]);
    await v.rows("restore", "secrets", "path = 'prod/API_KEY'");
    await v.rows("restore", "secret_versions", "path = 'prod/API_KEY'");
    await refused(v, ["secrets", "get", "prod/API_KEY"]);
  });

  it("does not undo a rotation: the old value does not come back as current", async () => {
    const v = await victim();
    await ok(v, ["secrets", "set", "prod/API_KEY"], "old-value");
    await v.rows("save", "secrets", "path = 'prod/API_KEY'");
    await ok(v, ["secrets", "set", "prod/API_KEY"], "new-value");
    await v.rows("restore", "secrets", "path = 'prod/API_KEY'");
    await refused(v, ["secrets", "get", "prod/API_KEY"]);
  });

  it("does not undo a tier raise", async () => {
    const v = await victim();
    await ok(v, ["secrets", "set", "prod/DB_PASSWORD"], "db-value");
    await v.rows("save", "secrets", "path = 'prod/DB_PASSWORD'");
    await v.rows("save", "secret_versions", "path = 'prod/DB_PASSWORD'");
    await ok(v, ["secrets", "set", "prod/DB_PASSWORD", "--tier", "critical"], "db-value");
    await v.rows("restore", "secrets", "path = 'prod/DB_PASSWORD'");
    await v.rows("restore", "secret_versions", "path = 'prod/DB_PASSWORD'");
    await refused(v, ["secrets", "get", "prod/DB_PASSWORD"]);
  });

  it("does not bring a revoked agent back", async () => {
    const v = await victim();
    await ok(v, ["agents", "create", "deploy-bot", "--scope", "secrets:read:prod/*"]);
    await v.rows("save", "agents", "name = 'deploy-bot'");
    await ok(v, ["agents", "revoke", "deploy-bot"]);
    await v.rows("restore", "agents", "name = 'deploy-bot'");
    await refused(v, ["agents", "list"]);
  });

  it("does not bring a wider policy back", async () => {
    const v = await victim();
    const wide = 'scopes:\n  deploy:\n    allow:\n      - { path: "**", capabilities: [read, list] }\n';
    const narrow = 'scopes:\n  deploy:\n    allow:\n      - { path: "prod/*", capabilities: [read] }\n';
    await ok(v, ["policy", "apply", "-"], wide);
    await v.rows("save", "policy", "1 = 1");
    await ok(v, ["policy", "apply", "-"], narrow);
    await v.rows("restore", "policy", "1 = 1");
    await refused(v, ["policy", "show"]);
  });

  it("does not undo a passphrase change: the old slot put back does not open the vault", async () => {
    const v = await victim();
    await v.rows("save", "key_slots", "kind = 'passphrase'");
    const r = await authyAs(["passwd"], { dir: v.dir, home: v.home, env: { AUTHY_PASSPHRASE: PASSPHRASE, AUTHY_NEW_PASSPHRASE: "a brand new passphrase" } });
    expect(r.code, r.stderr).toBe(0);
    await v.rows("restore", "key_slots", "kind = 'passphrase'");
    // The old passphrase opens the old slot: the slot verifies on its own, and is stale.
    await refused(v, ["secrets", "list"], /key slots do not match the vault state/);
  });
});

describe("a daemon that has verified the vault state already", () => {
  it("refuses a secret row put back while it runs, after reading that secret many times", async () => {
    const v = await victim();
    await ok(v, ["secrets", "set", "prod/API_KEY"], "old-value");
    await v.rows("save", "secrets", "path = 'prod/API_KEY'");
    await ok(v, ["unlock"]);
    try {
      await ok(v, ["secrets", "set", "prod/API_KEY"], "new-value");
      for (let i = 0; i < 3; i++) expect(await ok(v, ["secrets", "get", "prod/API_KEY"])).toBe("new-value");
      expect(await ok(v, ["status"])).toMatch(/daemon/i);
      await v.rows("restore", "secrets", "path = 'prod/API_KEY'");
      const r = await v.owner(["secrets", "get", "prod/API_KEY"]);
      expect(r.code, `secrets get through the daemon should fail with INTEGRITY: ${r.stdout} ${r.stderr}`).toBe(7);
      expect(r.stderr).toMatch(/integrity check failed/);
      expect(r.stdout).not.toContain("old-value");
    } finally {
      await v.owner(["lock"]);
    }
  });
});

describe("failed unlocks", () => {
  it("emptied by hand are found by the next unlock, audited, and reported by doctor", async () => {
    const v = await victim();
    for (let i = 0; i < 2; i++) {
      const r = await authyAs(["secrets", "list"], { dir: v.dir, home: v.home, env: { AUTHY_PASSPHRASE: "a wrong guess" } });
      expect(r.code).toBe(6);
    }
    await v.rows("exec", "unlock_failures", "DELETE FROM unlock_failures");
    await ok(v, ["secrets", "list"]);
    const log = await ok(v, ["audit", "--action", "vault.unlock.failed.erased", "--json"]);
    expect(log).toMatch(/"erased":\s*2/);
    const d = await v.owner(["doctor"]);
    expect(d.code).toBe(7);
    expect(d.stdout).toMatch(/2 failed unlock\(s\) had been erased by hand/);
  });
});

describe("notification and approval settings", () => {
  it("live in the vault: a config.yaml written by the agent changes nothing, and an older settings row put back is refused", async () => {
    const v = await victim();
    await ok(v, ["config", "set", "notify.webhook", "https://hooks.example.com/first"]);
    await v.rows("save", "settings", "1 = 1");
    await ok(v, ["config", "set", "notify.webhook", "https://hooks.example.com/owner"]);
    await ok(v, ["config", "set", "approvals.expiry", "5m"]);
    const yaml = "notify:\n  webhook: https://attacker.example/steal\n  desktop: false\napprovals:\n  expiry: 24h\n";
    const w = await runAs("/bin/sh", ["-c", `printf '%s' "$0" > "$1"`, yaml, path.join(v.home, "config.yaml")], { env: hostileEnv(v.dir, v.home) });
    expect(w.code, w.stderr).toBe(0);
    const shown = await v.owner(["config", "list", "--json"]);
    expect(shown.code, shown.stderr).toBe(0);
    const items = (JSON.parse(shown.stdout) as { items: { key: string; value: string }[] }).items;
    expect(Object.fromEntries(items.map((i) => [i.key, i.value]))).toEqual({
      "notify.webhook": "https://hooks.example.com/owner",
      "notify.desktop": "true",
      "approvals.expiry": "5m",
    });
    expect(shown.stderr).toMatch(/config\.yaml is no longer read/);
    await v.rows("restore", "settings", "1 = 1");
    await refused(v, ["config", "get", "notify.webhook"]);
  });
});
