/**
 * What a new user is told when something is not as they thought: hints always printed, no
 * silent empty results, credential errors that point the right way, values never from argv,
 * and approvals for `run` and `env export` as for `secrets get`. All through the built CLI,
 * with stderr a pipe (as agents and CI run it).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { authy, tempHome, withPass } from "./cli.js";
import { stopDaemons, unlock, vaultHome } from "./daemon-helpers.js";
import { hasTmux, Terminal } from "./terminal.js";

afterEach(stopDaemons);

const json = (s: string) => JSON.parse(s) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function withSecrets(home: string, secrets: [string, string, string?][]): Promise<void> {
  for (const [p, v, tier] of secrets) {
    const r = await authy(["secrets", "set", p, ...(tier ? ["--tier", tier] : [])], { home, env: withPass, input: v });
    expect(r.code, r.stderr).toBe(0);
  }
}

describe("direct mode", () => {
  it("prints the hint on a second line even when stderr is not a terminal", async () => {
    const home = await vaultHome();
    const r = await authy(["secrets", "get", "prod/NOPE"], { home, env: withPass });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^authy: [^\n]+\nhint: [^\n]+\n$/);
  });

  it("refuses --admin without --database (exit 2, one line and a hint) and creates no vault", async () => {
    const t = tempHome();
    try {
      const r = await authy(["init", "--work-factor", "15", "--admin", "alice"], { home: t.home, env: withPass });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^authy: --admin only applies with --database: it names the first admin of a team server's vault\nhint: [^\n]+\n$/);
      expect(existsSync(path.join(t.home, "vault.db"))).toBe(false);
    } finally {
      t.cleanup();
    }
  });

  it("refuses a --reason longer than the vault keeps in one line of its own, whatever the command and the length", async () => {
    const home = await vaultHome();
    expect((await authy(["secrets", "set", "prod/DB"], { home, env: withPass, input: "db-value" })).code).toBe(0);
    for (const length of [501, 5000]) {
      const reason = "x".repeat(length);
      for (const args of [
        ["secrets", "get", "prod/DB", "--reason", reason],
        ["run", "--scope", "secrets:read:prod/*", "--reason", reason, "--", "true"],
        ["env", "export", "prod", "--reason", reason],
      ]) {
        const r = await authy(args, { home, env: withPass });
        expect(r.code).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr).toBe("authy: --reason is longer than 500 characters\n");
      }
    }
    expect((await authy(["secrets", "get", "prod/DB", "--reason", "x".repeat(500)], { home, env: withPass })).code).toBe(0);
  });

  it("says a vault home that is a file (or lies under one) is not a directory (exit 2), for every command and `init`", async () => {
    const t = tempHome();
    try {
      writeFileSync(t.home, "not a directory\n");
      const under = path.join(t.home, "sub");
      for (const [home, args] of [
        [t.home, ["status"]],
        [t.home, ["secrets", "list"]],
        [t.home, ["init", "--work-factor", "15"]],
        [under, ["status"]],
        [under, ["init", "--work-factor", "15"]],
      ] as [string, string[]][]) {
        const r = await authy(args, { home, env: withPass });
        expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(/^authy: the vault home \S+ is not a directory[^\n]*\nhint: set AUTHY_HOME \(or --home\) to a directory[^\n]*\n$/);
        expect(r.stderr).not.toMatch(/no vault|authy init/);
      }
      expect(readFileSync(t.home, "utf8")).toBe("not a directory\n");
      // A home that does not exist yet is still fine: `init` makes it.
      const fresh = path.join(t.dir, "fresh");
      expect((await authy(["init", "--work-factor", "15"], { home: fresh, env: withPass })).code).toBe(0);
    } finally {
      t.cleanup();
    }
  });

  it("refuses a value on the command line, saying why and where values come from, and stores nothing", async () => {
    const home = await vaultHome();
    const r = await authy(["secrets", "set", "prod/KEY", "sk-on-argv-123"], { home, env: withPass });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/shell history and `ps`/);
    expect(r.stderr).toMatch(/^hint: .*printf %s.*--from-file.*--generate/m);
    expect((await authy(["secrets", "get", "prod/KEY"], { home, env: withPass })).code).toBe(3);
  });

  it("sends --api-url and AUTHY_API_URL to that server: one line when it cannot be reached or there is no credential for it", async () => {
    const home = await vaultHome();
    const env = { ...withPass, XDG_CONFIG_HOME: path.join(path.dirname(home), "config") };
    // A port nothing listens on: the local vault is never used instead.
    const down = await authy(["--api-url", "http://127.0.0.1:9", "secrets", "list"], { home, env: { ...env, AUTHY_TOKEN: "authy_tk_aaaa_bbbb" } });
    expect(down.code).toBe(8);
    expect(down.stderr).toMatch(/^authy: cannot reach the authy server at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)\nhint: check --api-url/);
    const none = await authy(["secrets", "list"], { home, env: { ...env, AUTHY_API_URL: "https://vault.example.com" } });
    expect(none.code).toBe(4);
    expect(none.stderr).toBe(
      "authy: no credential for the authy server at https://vault.example.com\nhint: log in with `authy login` (a member key), or set AUTHY_TOKEN or AUTHY_AGENT_KEY\n",
    );
    const bad = await authy(["--api-url", "ftp://x", "secrets", "list"], { home, env: { ...env, AUTHY_TOKEN: "authy_tk_aaaa_bbbb" } });
    expect(bad.code).toBe(2);
    expect(bad.stderr.split("\n")[0]).toBe('authy: --api-url is not an http:// or https:// address: "ftp://x"');
    // A credential goes in clear only to loopback, unless the user says the network is trusted.
    const clear = await authy(["--api-url", "http://10.255.255.1:8420", "secrets", "list"], { home, env: { ...env, AUTHY_TOKEN: "authy_tk_aaaa_bbbb" } });
    expect(clear.code).toBe(2);
    expect(clear.stderr).toBe(
      "authy: will not send a credential in clear to http://10.255.255.1:8420\nhint: use https://, or set AUTHY_INSECURE_HTTP=1 on a network you trust (a server started with --insecure-http)\n",
    );
  });

  it("exits 3 for `env export` of a namespace with no secrets, and writes no file", async () => {
    const home = await vaultHome();
    await withSecrets(home, [["prod/app/A", "alpha"]]);
    const out = path.join(path.dirname(home), "prod.env");
    const r = await authy(["env", "export", "prod", "--out", out], { home, env: withPass });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^authy: no secrets in prod\nhint: .*--recursive/);
    expect(existsSync(out)).toBe(false);
    expect((await authy(["env", "export", "nowhere"], { home, env: withPass })).stdout).toBe("");
  });

  it("warns when `run --scope` gives the command no secret", async () => {
    const home = await vaultHome();
    await withSecrets(home, [["prod/A", "alpha-value-1"]]);
    const r = await authy(["run", "--scope", "secrets:read:staging/*", "--", "true"], { home, env: withPass });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: scope secrets:read:staging\/\* gives the command no secret/);
    const some = await authy(["run", "--scope", "secrets:read:prod/*", "--", "true"], { home, env: withPass });
    expect(some.stderr).not.toMatch(/warning/);
  });

  it("checks a recipient before asking for the passphrase", async () => {
    const home = await vaultHome();
    // No passphrase anywhere: had it asked first, this would be exit 6 (no terminal to ask on).
    const r = await authy(["keys", "add", "age1notarecipient"], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^authy: not an age X25519 recipient/);
  });

  it("names an empty AUTHY_AGENT_KEY or AUTHY_TOKEN instead of sending the user to `authy init`", async () => {
    const home = await vaultHome();
    for (const name of ["AUTHY_AGENT_KEY", "AUTHY_TOKEN"]) {
      const r = await authy(["secrets", "list"], { home, env: { [name]: "" } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^authy: ${name} is set but empty\\n`));
    }
  });
});

describe("nothing is replaced without being asked", () => {
  it("does not overwrite with `secrets generate`, `inject -o` or `env export --out` without --force", async () => {
    const home = await vaultHome();
    await withSecrets(home, [["prod/A", "alpha-value-1"]]);
    const dir = path.dirname(home);
    const gen = await authy(["secrets", "generate", "prod/A"], { home, env: withPass });
    expect(gen.code).toBe(2);
    expect(gen.stderr).toMatch(/^authy: prod\/A already exists.*\nhint: .*--force/);
    expect((await authy(["secrets", "get", "prod/A"], { home, env: withPass })).stdout).toBe("alpha-value-1");
    expect((await authy(["secrets", "generate", "prod/A", "--force"], { home, env: withPass })).code).toBe(0);
    expect((await authy(["secrets", "get", "prod/A"], { home, env: withPass })).stdout).not.toBe("alpha-value-1");

    const tpl = path.join(dir, "c.tpl");
    writeFileSync(tpl, "a={{ authy://prod/A }}\n");
    for (const args of [
      ["inject", "-i", tpl, "-o"],
      ["env", "export", "prod", "--out"],
    ]) {
      const out = path.join(dir, `${args[0]}.out`);
      writeFileSync(out, "precious\n");
      const r = await authy([...args, out], { home, env: withPass });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/already exists\nhint: pass --force/);
      expect(readFileSync(out, "utf8")).toBe("precious\n");
      expect((await authy([...args, out, "--force"], { home, env: withPass })).code).toBe(0);
      expect(readFileSync(out, "utf8")).not.toBe("precious\n");
    }
  });

  it.runIf(hasTmux)("deletes only on a typed yes: Enter, or an arrow key then Enter, is a No", async () => {
    const home = await vaultHome();
    await withSecrets(home, [["prod/A", "alpha-value-1"]]);
    const script = 'authy secrets delete prod/A; echo "rc=$?"; authy secrets delete prod/A; echo "rc=$?"; authy secrets delete prod/A';
    const term = new Terminal(path.dirname(home), home, script, { env: withPass });
    try {
      await term.waitFor(/Delete prod\/A.*\[y\/N\] $/m);
      term.type(["Enter"]);
      await term.waitFor(/rc=130/);
      await term.waitFor(/rc=130\n.*\[y\/N\] $/);
      term.type(["Right", "Enter"]);
      await term.waitFor(/rc=130\n(.*\n)*rc=130/);
      term.type(["yes", "Enter"]);
      const text = await term.waitFor(/\[exit \d+\]/);
      expect(text).toMatch(/\[exit 0\]$/);
    } finally {
      term.close();
    }
    expect((await authy(["secrets", "get", "prod/A"], { home, env: withPass })).code).toBe(3);
  });
});

describe("through the daemon", () => {
  it("says a stale session is stale (exit 6, unlock again), not a token problem", async () => {
    const home = await vaultHome();
    const session = (await unlock(home, ["--export-session"])).session!;
    expect((await authy(["lock"], { home })).code).toBe(0);
    await unlock(home, ["--export-session"]);
    const r = await authy(["secrets", "list"], { home, env: { AUTHY_SESSION: session } });
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/AUTHY_SESSION is no longer valid/);
    expect(r.stderr).toMatch(/^hint: .*authy unlock/m);
    expect(r.stderr).not.toMatch(/AUTHY_TOKEN/);
  });

  it("names the home when an agent key finds no daemon there (while another home has one)", async () => {
    const home = await vaultHome();
    const session = (await unlock(home, ["--export-session"])).session!;
    const key = (await authy(["agents", "create", "bot", "--scope", "secrets:read:prod/*"], { home, env: { AUTHY_SESSION: session } })).stdout.trim();
    const other = path.join(path.dirname(home), "elsewhere");
    const r = await authy(["secrets", "list"], { home: other, env: { AUTHY_AGENT_KEY: key } });
    expect(r.code).toBe(8);
    expect(r.stderr).toContain(`no daemon is running for the vault in ${other}`);
    expect(r.stderr).toMatch(/^hint: is AUTHY_HOME/m);
  });

  it("runs a token without --scope with the token's own scope", async () => {
    const home = await vaultHome();
    await withSecrets(home, [
      ["prod/A", "alpha-value-1"],
      ["staging/B", "beta-value-2"],
    ]);
    const session = (await unlock(home, ["--export-session"])).session!;
    const token = (
      await authy(["tokens", "create", "--scopes", "secrets:read:prod/*", "--ttl", "5m"], { home, env: { AUTHY_SESSION: session } })
    ).stdout.trim();
    const r = await authy(["run", "--no-mask", "--", "sh", "-c", 'echo "A=$A B=$B"'], { home, env: { AUTHY_TOKEN: token } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("A=alpha-value-1 B=\n");
    // `env export` of the namespace hands over what `run` injects, list capability or not.
    const exported = await authy(["env", "export", "prod"], { home, env: { AUTHY_TOKEN: token } });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toBe("A=alpha-value-1\n");
  });

  it("lists tokens without a limit as unlimited, and revokes a token given whole without ever echoing its secret", async () => {
    const home = await vaultHome();
    await withSecrets(home, [["prod/A", "alpha-value-1"]]);
    const owner = { AUTHY_SESSION: (await unlock(home, ["--export-session"])).session! };
    const token = (await authy(["tokens", "create", "--scopes", "secrets:read:prod/*", "--ttl", "5m"], { home, env: owner })).stdout.trim();
    for (let i = 0; i < 2; i++) expect((await authy(["secrets", "get", "prod/A"], { home, env: { AUTHY_TOKEN: token } })).code).toBe(0);
    expect((await authy(["tokens", "list"], { home, env: owner })).stdout).toMatch(/ unlimited +active\n/);
    const listed = json((await authy(["tokens", "list", "--json"], { home, env: owner })).stdout).items as { uses: number | null }[];
    expect(listed.map((t) => t.uses)).toEqual([null]);
    const secretPart = /^authy_tk_[a-z2-7]+_(.+)$/.exec(token)![1]!;
    const unknown = await authy(["tokens", "revoke", `authy_tk_zzzz_${secretPart}`], { home, env: owner });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/^authy: no token zzzz\n/);
    const revoked = await authy(["tokens", "revoke", token], { home, env: owner });
    expect(revoked.code, revoked.stderr).toBe(0);
    for (const out of [unknown.stdout, unknown.stderr, revoked.stdout, revoked.stderr]) expect(out).not.toContain(secretPart);
    expect((await authy(["secrets", "get", "prod/A"], { home, env: { AUTHY_TOKEN: token } })).code).toBe(4);
  });

  it("revokes an agent's per-command token when the command ends", async () => {
    const home = await vaultHome();
    await withSecrets(home, [["prod/A", "alpha-value-1"]]);
    const session = (await unlock(home, ["--export-session"])).session!;
    const owner = { AUTHY_SESSION: session };
    const key = (await authy(["agents", "create", "bot", "--scope", "secrets:read:prod/*"], { home, env: owner })).stdout.trim();
    for (let i = 0; i < 2; i++) expect((await authy(["secrets", "get", "prod/A"], { home, env: { AUTHY_AGENT_KEY: key } })).stdout).toBe("alpha-value-1");
    const made = await authy(["tokens", "create", "--ttl", "5m"], { home, env: { AUTHY_AGENT_KEY: key } });
    expect(made.code, made.stderr).toBe(0);
    const items = json((await authy(["tokens", "list", "--json"], { home, env: owner })).stdout).items as {
      id: string;
      revokedAt: string | null;
      label: string | null;
    }[];
    const perCommand = items.filter((t) => t.label === "cli");
    expect(perCommand.length).toBeGreaterThanOrEqual(2);
    expect(perCommand.every((t) => t.revokedAt !== null)).toBe(true);
    // A token the agent asked for with `tokens create` is not one of them: it still works.
    expect((await authy(["secrets", "get", "prod/A"], { home, env: { AUTHY_TOKEN: made.stdout.trim() } })).stdout).toBe("alpha-value-1");
  });

  it("gives `run` and `env export` --no-wait and --reason, naming every pending request", async () => {
    const home = await vaultHome();
    await withSecrets(home, [
      ["prod/A", "alpha-value-1", "sensitive"],
      ["prod/B", "beta-value-2", "sensitive"],
    ]);
    const session = (await unlock(home, ["--export-session"])).session!;
    const token = (
      await authy(["tokens", "create", "--scopes", "secrets:read:prod/*", "--ttl", "5m"], { home, env: { AUTHY_SESSION: session } })
    ).stdout.trim();
    const asToken = { AUTHY_TOKEN: token };
    const run = await authy(["run", "--scope", "secrets:read:prod/*", "--no-wait", "--reason", "deploy", "--", "true"], { home, env: asToken });
    expect(run.code).toBe(5);
    const ids = run.stdout.trim().split("\n");
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(run.stderr).toContain(`authy approvals approve ${id}`);
    // Another token: the same one would be pointed at the requests it already has pending.
    const other = (
      await authy(["tokens", "create", "--scopes", "secrets:read:prod/*", "--ttl", "5m"], { home, env: { AUTHY_SESSION: session } })
    ).stdout.trim();
    const exported = await authy(["env", "export", "prod", "--keys", "A,B", "--no-wait", "--reason", "backup"], { home, env: { AUTHY_TOKEN: other } });
    expect(exported.code).toBe(5);
    expect(exported.stdout.trim().split("\n")).toHaveLength(2);
    const listed = json((await authy(["approvals", "list", "--json"], { home, env: { AUTHY_SESSION: session } })).stdout).items as { reason: string | null }[];
    expect(listed.map((a) => a.reason).sort()).toEqual(["backup", "backup", "deploy", "deploy"]);

    // approve --all without a terminal: only with --yes, and it names what it approved.
    const refused = await authy(["approvals", "approve", "--all"], { home, env: { AUTHY_SESSION: session } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^authy: refusing to approve 4 requests without confirmation\nhint: .*--yes/);
    const approved = await authy(["approvals", "approve", "--all", "--yes"], { home, env: { AUTHY_SESSION: session } });
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout.trim().split("\n").sort()).toEqual([...ids, ...exported.stdout.trim().split("\n")].sort());
    expect(approved.stderr.match(/^approved apr_\S+ for one use: token \S+ wants to read prod\/[AB]/gm)).toHaveLength(4);
  });
});
