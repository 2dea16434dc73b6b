/**
 * `authy run --scope S -- CMD…` as the owner through the daemon has a path of its own that
 * loads no CLI (src/cli/fast-run.ts). It must do exactly what the CLI does, hand the CLI every
 * other case and every answer it does not carry out, and never send a request twice. A copy
 * of the executable whose cli.js only says that it was loaded shows which path a command took.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { authy } from "./cli.js";
import { CLI_LOADED, cliStandIn } from "./cli-stand-in.js";
import { stopDaemons, unlockedWith, vaultHome } from "./daemon-helpers.js";

let noCli: string;
let standIn: ReturnType<typeof cliStandIn>;

beforeAll(() => {
  standIn = cliStandIn("fast-run-test");
  noCli = standIn.cli;
});
afterAll(() => standIn.remove());
afterEach(stopDaemons);

interface Entry {
  action: string;
  outcome: string;
  resource: string;
  details: Record<string, unknown>;
}

async function runsOf(home: string): Promise<Entry[]> {
  const r = await authy(["audit", "--json"], { home });
  return (JSON.parse(r.stdout) as { entries: Entry[] }).entries.filter((e) => e.action.startsWith("run."));
}

describe("authy run --scope S -- CMD, as the owner through the daemon", () => {
  it("runs the command with the scope's secrets, masked, without loading the CLI, and records its start and end", async () => {
    const home = await unlockedWith({ "app/API_KEY": "sk-fast-run-0123456789", "app/DB_URL": "postgres://u:p@db/app" });
    const r = await authy(["run", "--scope", "secrets:read:app/*", "--", "sh", "-c", 'echo "$API_KEY ${#DB_URL} $AUTHY_RUN_CHILD"; exit 7'], {
      home,
      cli: noCli,
    });
    expect([r.code, r.stderr, r.stdout]).toEqual([7, "", "<authy:masked> 21 1\n"]);
    const runs = await runsOf(home);
    expect(runs.map((e) => [e.action, e.outcome])).toEqual([
      ["run.start", "ok"],
      ["run.end", "ok"],
    ]);
    expect(runs[0]!.details).toMatchObject({ command: "sh", scope: "secrets:read:app/*" });
    expect(runs[1]!.details).toMatchObject({ command: "sh", exitCode: 7, run: runs[0]!.details.run });
  });

  it("takes --scope=S and --no-tty in any order, and reports a missing command as the CLI does", async () => {
    const home = await unlockedWith({ "app/K": "value-long-enough" });
    const a = await authy(["run", "--no-tty", "--scope=secrets:read:app/*", "--", "sh", "-c", 'printf %s "$K"'], { home, cli: noCli });
    expect([a.code, a.stderr, a.stdout]).toEqual([0, "", "<authy:masked>"]);
    const missing = await authy(["run", "--scope", "secrets:read:app/*", "--", "no-such-command-here"], { home });
    const fast = await authy(["run", "--scope", "secrets:read:app/*", "--", "no-such-command-here"], { home, cli: noCli });
    expect([fast.code, fast.stderr]).toEqual([missing.code, missing.stderr]);
    expect(fast.code).toBe(127);
  });

  // (A process with its own way to unlock goes to plain.js: test/e2e/plain-line.test.ts.)
  it("leaves every other case to the CLI: other flags, credentials, other homes, other sessions", async () => {
    const home = await unlockedWith({ "app/K": "value-long-enough" });
    const elsewhere = await vaultHome();
    const run = (...flags: string[]) => ["run", ...flags, "--", "true"];
    const cases: [string, string[], Parameters<typeof authy>[1]][] = [
      ["--only", run("--scope", "secrets:read:app/*", "--only", "K"), { home }],
      ["--env", ["run", "--env", "K=authy://app/K", "--", "true"], { home }],
      ["--no-mask", run("--scope", "secrets:read:app/*", "--no-mask"), { home }],
      ["a global flag", ["--quiet", ...run("--scope", "secrets:read:app/*")], { home }],
      ["--scope twice", run("--scope", "a", "--scope", "b"), { home }],
      ["an empty scope", run("--scope="), { home }],
      ["a scope that looks like a flag", run("--scope", "--no-tty"), { home }],
      ["no --", ["run", "--scope", "secrets:read:app/*", "true"], { home }],
      ["no command", ["run", "--scope", "secrets:read:app/*", "--"], { home }],
      ["a token in the environment", run("--scope", "secrets:read:app/*"), { home, env: { AUTHY_TOKEN: "authy_tk_x" } }],
      ["an empty session", run("--scope", "secrets:read:app/*"), { home, env: { AUTHY_SESSION: "" } }],
      ["a server URL", run("--scope", "secrets:read:app/*"), { home, env: { AUTHY_API_URL: "http://127.0.0.1:9" } }],
      ["a home without a daemon", run("--scope", "secrets:read:app/*"), { home: elsewhere }],
      ["another session", run("--scope", "secrets:read:app/*"), { home, detached: true }],
    ];
    for (const [what, args, opts] of cases) {
      const r = await authy(args, { ...opts, cli: noCli });
      expect([r.code, r.stderr], what).toEqual([CLI_LOADED, "cli.js loaded\n"]);
    }
    expect(await runsOf(home)).toEqual([]);
  });

  it("hands the CLI what only it does (a refused name, a warning), which finishes the run; the dispatch is sent once", async () => {
    const home = await unlockedWith({ "short/PIN": "ab", "bad/PATH": "/tmp/x", "good/K": "value-long-enough" });
    // Each answer reaches the CLI: loading it at all shows it was handed over.
    for (const scope of ["secrets:read:short/*", "secrets:read:bad/*", "secrets:read:empty/*"]) {
      expect((await authy(["run", "--scope", scope, "--", "true"], { home, cli: noCli })).code, scope).toBe(CLI_LOADED);
    }
    const before = (await runsOf(home)).length;
    expect(before).toBe(3); // one run.start each, and no run.end: the CLI stand-in ended there

    // With the real CLI, each is reported as always, from the one answer.
    const short = await authy(["run", "--scope", "secrets:read:short/*", "--", "true"], { home });
    expect([short.code, short.stderr]).toEqual([0, "warning: too short to mask safely, not masked: PIN\n"]);
    const empty = await authy(["run", "--scope", "secrets:read:empty/*", "--", "true"], { home });
    expect([empty.code, empty.stderr]).toEqual([
      0,
      "warning: scope secrets:read:empty/* gives the command no secret: it matches none that this caller may read\n",
    ]);
    const bad = await authy(["run", "--scope", "secrets:read:bad/*", "--", "true"], { home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^authy: refusing to inject PATH \(from secret bad\/PATH in scope secrets:read:bad\/\*\)/);
    const after = (await runsOf(home)).slice(before);
    expect(after.map((e) => `${e.action} ${e.resource}`)).toEqual([
      "run.start secrets:read:short/*",
      "run.end secrets:read:short/*",
      "run.start secrets:read:empty/*",
      "run.end secrets:read:empty/*",
      "run.start secrets:read:bad/*",
    ]);
  });

  it("hands the CLI a refusal, which reports it as always", async () => {
    const home = await unlockedWith({});
    const r = await authy(["run", "--scope", "no-such-scope", "--", "true"], { home });
    expect([r.code, r.stderr]).toEqual([
      3,
      'authy: no scope named "no-such-scope"\nhint: see `authy policy show`, or give a compact scope like secrets:read:prod/*\n',
    ]);
  });
});
