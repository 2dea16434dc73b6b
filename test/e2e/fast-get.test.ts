/**
 * `authy secrets get PATH` as the owner through the daemon, or with AUTHY_TOKEN against a team
 * server, has a path of its own that loads no CLI (src/cli/fast-secrets-get.ts). It must print
 * exactly what the CLI prints, hand the CLI every other case, and never send a request twice.
 * A copy of the executable whose cli.js only says that it was loaded shows which path a
 * command took.
 */
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { authy, tempHome } from "./cli.js";
import { CLI_LOADED, cliStandIn } from "./cli-stand-in.js";
import { stopDaemons, unlockedWith, vaultHome } from "./daemon-helpers.js";
import { openVault, serverToken, SqliteStore, startServe, stopServe, TEST_PASSPHRASE } from "./serve-helpers.js";

let noCli: string;
let standIn: ReturnType<typeof cliStandIn>;

beforeAll(() => {
  standIn = cliStandIn("fast-test");
  noCli = standIn.cli;
});
afterAll(() => standIn.remove());
afterEach(stopDaemons);

async function auditOf(home: string, resource: string): Promise<{ action: string; outcome: string }[]> {
  const r = await authy(["audit", "--json"], { home });
  return (JSON.parse(r.stdout) as { entries: { action: string; outcome: string; resource: string }[] }).entries.filter((e) => e.resource === resource);
}

describe("authy secrets get PATH, as the owner through the daemon", () => {
  it("prints the value, raw, without loading the CLI, and audits the read once", async () => {
    const home = await unlockedWith({ "app/K": "line one\nline two\n" });
    const r = await authy(["secrets", "get", "app/K"], { home, cli: noCli });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("line one\nline two\n");
    expect(await auditOf(home, "app/K")).toEqual([
      expect.objectContaining({ action: "secret.write" }),
      expect.objectContaining({ action: "secret.read", outcome: "ok" }),
    ]);
  });

  it("prints binary values byte for byte, as the CLI does", async () => {
    const home = await unlockedWith({});
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 10, 13]);
    expect((await authy(["secrets", "set", "app/BIN"], { home, input: bytes })).code).toBe(0);
    const fast = await authy(["secrets", "get", "app/BIN"], { home, cli: noCli });
    expect(fast.code).toBe(0);
    expect(fast.stdoutBytes.equals(bytes)).toBe(true);
  });

  it("leaves every other case to the CLI: flags, credentials, other homes, other sessions, bad paths", async () => {
    const home = await unlockedWith({ "app/K": "v" });
    const elsewhere = await vaultHome();
    const cases: [string, string[], Parameters<typeof authy>[1]][] = [
      ["a flag", ["secrets", "get", "app/K", "--json"], { home }],
      ["a global flag first", ["--quiet", "secrets", "get", "app/K"], { home }],
      ["a token in the environment", ["secrets", "get", "app/K"], { home, env: { AUTHY_TOKEN: "authy_tk_x" } }],
      ["an empty agent key", ["secrets", "get", "app/K"], { home, env: { AUTHY_AGENT_KEY: "" } }],
      ["its own way to unlock (direct mode, as a rule)", ["secrets", "get", "app/K"], { home, env: { AUTHY_IDENTITY: "/nonexistent" } }],
      ["a server URL", ["secrets", "get", "app/K"], { home, env: { AUTHY_API_URL: "http://127.0.0.1:9" } }],
      ["a home without a daemon", ["secrets", "get", "app/K"], { home: elsewhere }],
      ["another session", ["secrets", "get", "app/K"], { home, detached: true }],
      ["a bad path", ["secrets", "get", "app/../K"], { home }],
      ["a path without a namespace", ["secrets", "get", "K"], { home }],
    ];
    for (const [what, args, opts] of cases) {
      const r = await authy(args, { ...opts, cli: noCli });
      expect([r.code, r.stderr], what).toEqual([CLI_LOADED, "cli.js loaded\n"]);
    }
  });

  it("hands a refusal to the CLI, which reports it as always; the request is sent once", async () => {
    const home = await unlockedWith({ "app/OLD": "v" });
    // The CLI's own report, from the real executable.
    const missing = await authy(["secrets", "get", "app/NOPE"], { home });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe("authy: no secret app/NOPE\nhint: see `authy secrets list`\n");
    expect(await auditOf(home, "app/NOPE")).toEqual([expect.objectContaining({ action: "secret.read", outcome: "error" })]);
    // Loading the CLI at all shows the answer was handed over; the audit, that it was not asked again.
    const handed = await authy(["secrets", "get", "app/NOPE"], { home, cli: noCli });
    expect(handed.code).toBe(CLI_LOADED);
    expect(await auditOf(home, "app/NOPE")).toHaveLength(2);
    // A deleted secret: the same, with the core's own words.
    expect((await authy(["secrets", "delete", "app/OLD", "--yes"], { home })).code).toBe(0);
    const deleted = await authy(["secrets", "get", "app/OLD"], { home });
    expect(deleted.code).toBe(3);
    expect(deleted.stderr).toMatch(/^authy: .*app\/OLD.*\nhint: /);
    expect((await auditOf(home, "app/OLD")).filter((e) => e.action === "secret.read")).toHaveLength(1);
  });
});

describe("authy secrets get PATH, with AUTHY_TOKEN against a team server", () => {
  it("prints the value without loading the CLI, hands it the rest, and sends each request once", async () => {
    const t = tempHome();
    try {
      expect((await authy(["init", "--work-factor", "15"], { home: t.home, env: { AUTHY_PASSPHRASE: TEST_PASSPHRASE } })).code).toBe(0);
      const vault = await openVault(SqliteStore.open(path.join(t.home, "vault.db")));
      await vault.setSecret("dev/DB", Buffer.from("server-value\n"));
      const token = await serverToken(vault, "secrets:read:dev/*");
      await vault.close();
      const s = await startServe(["--listen", "127.0.0.1:0"], { home: t.home, env: { AUTHY_PASSPHRASE: TEST_PASSPHRASE } });
      try {
        // A home of its own: the client has no vault, only the server's address and a token.
        const client = { home: path.join(t.dir, "client"), env: { AUTHY_API_URL: s.url, AUTHY_TOKEN: token } };
        const fast = await authy(["secrets", "get", "dev/DB"], { ...client, cli: noCli });
        expect([fast.code, fast.stderr, fast.stdout]).toEqual([0, "", "server-value\n"]);
        // Out of scope: the CLI's report; the request was sent once, by the fast path.
        const refused = await authy(["secrets", "get", "prod/DB"], client);
        expect(refused.code).toBe(4);
        expect(refused.stderr).toMatch(/^authy: .*prod\/DB/);
        expect((await authy(["secrets", "get", "prod/DB"], { ...client, cli: noCli })).code).toBe(CLI_LOADED);
        const audit = await authy(["audit", "--json"], { home: t.home, env: { AUTHY_PASSPHRASE: TEST_PASSPHRASE } });
        const probes = (JSON.parse(audit.stdout) as { entries: { resource: string }[] }).entries.filter((e) => e.resource === "prod/DB");
        expect(probes).toHaveLength(2);
        // A token no header can carry: named as such, by the CLI (not an "unexpected error").
        const malformed = await authy(["secrets", "get", "dev/DB"], { home: client.home, env: { ...client.env, AUTHY_TOKEN: "authy_tk_a\nx-admin: 1" } });
        expect([malformed.code, malformed.stderr]).toEqual([2, `authy: the credential for the authy server at ${s.url} is malformed (invalid characters)\n`]);
        // Not the fast path's: an agent key, a profile named, a credential in clear off loopback.
        for (const env of [{ AUTHY_TOKEN: undefined, AUTHY_AGENT_KEY: "authy_ak_x" }, { AUTHY_PROFILE: "work" }, { AUTHY_API_URL: "http://192.0.2.1:9" }]) {
          const r = await authy(["secrets", "get", "dev/DB"], { home: client.home, env: { ...client.env, ...env }, cli: noCli });
          expect([r.code, r.stderr], JSON.stringify(env)).toEqual([CLI_LOADED, "cli.js loaded\n"]);
        }
      } finally {
        await stopServe(s);
      }
    } finally {
      t.cleanup();
    }
  });
});
