import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { authy, initVault, tempHome, withPass, type Result } from "./cli.js";
import { stopDaemons, unlock, vaultHome } from "./daemon-helpers.js";

/**
 * rotate, mv, cp and the list filters, through the built CLI: directly (the passphrase in this
 * process) and through the owner's daemon (no passphrase at all: served, or refused), and as a
 * token within its scope.
 */
type Mode = "direct" | "daemon";

interface Vault {
  home: string;
  /** As the owner, in this mode. */
  run(args: string[], input?: string): Promise<Result>;
}

async function openVault(mode: Mode): Promise<{ vault: Vault; cleanup: () => void | Promise<void> }> {
  if (mode === "direct") {
    const t = tempHome();
    await initVault(t.home);
    return { vault: { home: t.home, run: (args, input) => authy(["--no-daemon", ...args], { home: t.home, env: withPass, input }) }, cleanup: t.cleanup };
  }
  const home = await vaultHome();
  await unlock(home);
  // No passphrase: only the daemon can serve these.
  return { vault: { home, run: (args, input) => authy(args, { home, input }) }, cleanup: stopDaemons };
}

const ok = (r: Result) => {
  expect(r.code, r.stderr).toBe(0);
  return r;
};

async function history(v: Vault, path: string): Promise<number[]> {
  const r = ok(await v.run(["--json", "secrets", "history", path]));
  return (JSON.parse(r.stdout) as { versions: { version: number }[] }).versions.map((x) => x.version);
}

async function auditActions(v: Vault, action: string): Promise<{ resource: string; outcome: string; details: Record<string, unknown> }[]> {
  const r = ok(await v.run(["--json", "audit", "--action", action]));
  return (JSON.parse(r.stdout) as { entries: { resource: string; outcome: string; details: Record<string, unknown> }[] }).entries;
}

describe.each<Mode>(["direct", "daemon"])("secrets rotate, mv, cp, list filters (%s)", (mode) => {
  let v: Vault;
  let cleanup: () => void | Promise<void>;
  beforeAll(async () => {
    ({ vault: v, cleanup } = await openVault(mode));
  });
  afterAll(async () => {
    await cleanup();
  });

  it("rotates a generated secret with its remembered generator, shows the value only with --show, and audits secret.rotate", async () => {
    ok(await v.run(["secrets", "generate", "gen/HEX", "--length", "20", "--charset", "hex"]));
    const before = ok(await v.run(["secrets", "get", "gen/HEX"])).stdout;
    const quiet = ok(await v.run(["secrets", "rotate", "gen/HEX"]));
    expect(quiet.stdout).toBe("");
    expect(quiet.stderr).toMatch(/rotated gen\/HEX \(version 2\)/);
    const second = ok(await v.run(["secrets", "get", "gen/HEX"])).stdout;
    expect(second).toMatch(/^[0-9a-f]{20}$/);
    expect(second).not.toBe(before);
    const shown = ok(await v.run(["secrets", "rotate", "gen/HEX", "--show"])).stdout.trim();
    expect(shown).toMatch(/^[0-9a-f]{20}$/);
    expect(ok(await v.run(["secrets", "get", "gen/HEX"])).stdout).toBe(shown);
    expect(await history(v, "gen/HEX")).toEqual([1, 2, 3]);
    const entries = await auditActions(v, "secret.rotate");
    expect(entries.map((e) => [e.resource, e.details.version, e.details.shown])).toEqual([
      ["gen/HEX", 2, false],
      ["gen/HEX", 3, true],
    ]);
    expect(JSON.stringify(entries)).not.toContain(shown);
  });

  it("remembers the generator of `secrets set --generate` too", async () => {
    ok(await v.run(["secrets", "set", "gen/SET", "--generate", "--length", "12", "--charset", "numeric"]));
    ok(await v.run(["secrets", "rotate", "gen/SET"]));
    expect(ok(await v.run(["secrets", "get", "gen/SET"])).stdout).toMatch(/^\d{12}$/);
  });

  it("refuses a secret set by hand with exit 2 and says how to give it a generator; --length gives one, remembered", async () => {
    ok(await v.run(["secrets", "set", "hand/PW"], "typed-by-hand"));
    const r = await v.run(["secrets", "rotate", "hand/PW"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/hand\/PW has no generator/);
    expect(r.stderr).toMatch(/hint: .*--length 32 --charset alnum/);
    expect(ok(await v.run(["secrets", "get", "hand/PW"])).stdout).toBe("typed-by-hand");
    ok(await v.run(["secrets", "rotate", "hand/PW", "--length", "40"]));
    expect(ok(await v.run(["secrets", "get", "hand/PW"])).stdout).toMatch(/^[A-Za-z0-9]{40}$/);
    ok(await v.run(["secrets", "rotate", "hand/PW", "--charset", "alpha"]));
    expect(ok(await v.run(["secrets", "get", "hand/PW"])).stdout).toMatch(/^[A-Za-z]{40}$/);
  });

  it("rotate: a missing secret exits 3, a bad length 2", async () => {
    expect((await v.run(["secrets", "rotate", "nope/MISSING"])).code).toBe(3);
    expect((await v.run(["secrets", "rotate", "gen/HEX", "--length", "0"])).code).toBe(2);
    expect((await v.run(["secrets", "rotate", "gen/HEX", "--length", "ten"])).code).toBe(2);
  });

  it("mv keeps the whole history under the new path and removes the old one", async () => {
    ok(await v.run(["secrets", "set", "src/DB", "--tier", "sensitive", "--tag", "db"], "first-value"));
    ok(await v.run(["secrets", "set", "src/DB"], "second-value"));
    ok(await v.run(["secrets", "mv", "src/DB", "moved/deep/DB"]));
    expect(await history(v, "moved/deep/DB")).toEqual([1, 2]);
    expect(ok(await v.run(["secrets", "get", "moved/deep/DB"])).stdout).toBe("second-value");
    expect(ok(await v.run(["secrets", "get", "moved/deep/DB", "--revision", "1"])).stdout).toBe("first-value");
    expect(ok(await v.run(["secrets", "list", "moved", "--recursive", "--tag", "db", "--tier", "sensitive"])).stdout).toBe("moved/deep/DB\n");
    expect((await v.run(["secrets", "get", "src/DB"])).code).toBe(3);
    expect((await v.run(["secrets", "mv", "src/DB", "x/Y"])).code).toBe(3);
    const moved = await auditActions(v, "secret.move");
    expect(moved[0]).toMatchObject({ resource: "src/DB", outcome: "ok", details: { to: "moved/deep/DB", versions: 2 } });
    // Every authenticated row and digest still checks out (in this process, with the passphrase).
    ok(await authy(["--no-daemon", "doctor"], { home: v.home, env: withPass }));
  });

  it("mv and cp refuse an existing destination without --force (exit 2); with it, mv replaces and cp adds a version", async () => {
    ok(await v.run(["secrets", "set", "f/A"], "value-a"));
    ok(await v.run(["secrets", "set", "f/B"], "value-b"));
    const refused = await v.run(["secrets", "mv", "f/A", "f/B"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/f\/B already exists/);
    expect((await v.run(["secrets", "cp", "f/A", "f/B"])).code).toBe(2);
    expect(ok(await v.run(["secrets", "get", "f/B"])).stdout).toBe("value-b");
    ok(await v.run(["secrets", "cp", "f/A", "f/B", "--force"]));
    expect(await history(v, "f/B")).toEqual([1, 2]);
    expect(ok(await v.run(["secrets", "get", "f/B"])).stdout).toBe("value-a");
    ok(await v.run(["secrets", "set", "f/C"], "value-c"));
    ok(await v.run(["secrets", "mv", "f/C", "f/B", "--force"]));
    expect(await history(v, "f/B")).toEqual([1]);
    expect(ok(await v.run(["secrets", "get", "f/B"])).stdout).toBe("value-c");
    expect(ok(await v.run(["secrets", "get", "f/A"])).stdout).toBe("value-a");
  });

  it("cp makes a new secret with the source's current value, metadata and generator; the source stays", async () => {
    ok(await v.run(["secrets", "generate", "c/SRC", "--length", "8", "--charset", "hex", "--type", "api_key"]));
    ok(await v.run(["secrets", "cp", "c/SRC", "c/DST"]));
    expect(ok(await v.run(["secrets", "get", "c/DST"])).stdout).toBe(ok(await v.run(["secrets", "get", "c/SRC"])).stdout);
    ok(await v.run(["secrets", "rotate", "c/DST"]));
    expect(ok(await v.run(["secrets", "get", "c/DST"])).stdout).toMatch(/^[0-9a-f]{8}$/);
    const list = JSON.parse(ok(await v.run(["--json", "secrets", "list", "c"])).stdout) as { items: { path: string; type: string }[] };
    expect(list.items.map((i) => [i.path, i.type])).toEqual([
      ["c/DST", "api_key"],
      ["c/SRC", "api_key"],
    ]);
  });

  it("mv and cp validate both paths (exit 2) and refuse a path onto itself", async () => {
    for (const args of [
      ["mv", "f/A", "../B"],
      ["cp", "f/A", "a//B"],
      ["mv", "bad path/A", "f/Z"],
      ["cp", "f/A", "f/A"],
    ]) {
      const r = await v.run(["secrets", ...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.split("\n").filter((l) => l.startsWith("authy:")).length).toBe(1);
    }
  });

  it("filters the list by --tag, --type and --tier, alone and together", async () => {
    ok(await v.run(["secrets", "set", "flt/ONE", "--tag", "blue", "--tag", "x", "--type", "api_key"], "v1-value"));
    ok(await v.run(["secrets", "set", "flt/TWO", "--tag", "blue", "--tier", "sensitive"], "v2-value"));
    ok(await v.run(["secrets", "set", "flt/THREE", "--type", "api_key", "--tier", "sensitive"], "v3-value"));
    const paths = async (...flags: string[]) =>
      ok(await v.run(["secrets", "list", "flt", ...flags]))
        .stdout.split("\n")
        .filter(Boolean);
    expect(await paths("--tag", "blue")).toEqual(["flt/ONE", "flt/TWO"]);
    expect(await paths("--tag", "blue", "--tag", "x")).toEqual(["flt/ONE"]);
    expect(await paths("--type", "api_key")).toEqual(["flt/ONE", "flt/THREE"]);
    expect(await paths("--tier", "sensitive")).toEqual(["flt/THREE", "flt/TWO"]);
    expect(await paths("--type", "api_key", "--tier", "sensitive")).toEqual(["flt/THREE"]);
    expect(await paths("--tag", "nothing-has-this")).toEqual([]);
    const json = JSON.parse(ok(await v.run(["--json", "secrets", "list", "--tag", "blue"])).stdout) as { items: { path: string }[] };
    expect(json.items.map((i) => i.path)).toEqual(["flt/ONE", "flt/TWO"]);
    expect((await v.run(["secrets", "list", "--tier", "secret"])).code).toBe(2);
  });
});

describe("rotate, mv, cp as a token, within its scope (daemon)", () => {
  let home: string;
  const owner = (args: string[], input?: string) => authy(args, { home, input });
  const as = (token: string, args: string[]) => authy(args, { home, env: { AUTHY_TOKEN: token } });
  const token = async (scopes: string) => ok(await owner(["tokens", "create", "--scopes", scopes, "--ttl", "10m"])).stdout.trim();

  beforeAll(async () => {
    home = await vaultHome();
    await unlock(home);
    ok(await owner(["secrets", "generate", "app/KEY", "--length", "24"]));
    ok(await owner(["secrets", "generate", "app/SENSITIVE", "--tier", "sensitive"]));
    ok(await owner(["secrets", "set", "app/OLD"], "old-value-here"));
  });
  afterEach(() => undefined);
  afterAll(stopDaemons);

  it("rotate needs the rotate capability (write is not enough), and --show needs read too", async () => {
    const writer = await token("secrets:write+read:app/*");
    const denied = await as(writer, ["secrets", "rotate", "app/KEY"]);
    expect(denied.code).toBe(4);
    const rotator = await token("secrets:rotate:app/*");
    ok(await as(rotator, ["secrets", "rotate", "app/KEY"]));
    expect((await as(rotator, ["secrets", "rotate", "app/KEY", "--show"])).code).toBe(4);
    const both = await token("secrets:rotate+read:app/*");
    const shown = ok(await as(both, ["secrets", "rotate", "app/KEY", "--show"])).stdout.trim();
    expect(ok(await owner(["secrets", "get", "app/KEY"])).stdout).toBe(shown);
    // A sensitive value is shown only after an approval: rotate it, then `secrets get` asks.
    const sensitive = await as(both, ["secrets", "rotate", "app/SENSITIVE", "--show"]);
    expect(sensitive.code).toBe(4);
    expect(sensitive.stderr).toMatch(/shown only after the owner's approval/);
    ok(await as(both, ["secrets", "rotate", "app/SENSITIVE"]));
    const denials = JSON.parse(ok(await owner(["--json", "audit", "--action", "secret.rotate.denied"])).stdout) as { entries: { resource: string }[] };
    expect(denials.entries.length).toBeGreaterThanOrEqual(2);
  });

  it("mv needs read and delete on SRC and write on DST; cp needs read on SRC and write on DST", async () => {
    const noDelete = await token("secrets:read:app/*,secrets:write:moved/*");
    expect((await as(noDelete, ["secrets", "mv", "app/OLD", "moved/OLD"])).code).toBe(4);
    ok(await as(noDelete, ["secrets", "cp", "app/OLD", "moved/COPY"]));
    const noWrite = await token("secrets:read+delete:app/*");
    expect((await as(noWrite, ["secrets", "mv", "app/OLD", "moved/OLD"])).code).toBe(4);
    expect((await as(noWrite, ["secrets", "cp", "app/OLD", "moved/OLD2"])).code).toBe(4);
    const mover = await token("secrets:read+delete:app/*,secrets:write:moved/*");
    ok(await as(mover, ["secrets", "mv", "app/OLD", "moved/OLD"]));
    expect(ok(await owner(["secrets", "get", "moved/OLD"])).stdout).toBe("old-value-here");
    expect((await owner(["secrets", "get", "app/OLD"])).code).toBe(3);
    const denied = JSON.parse(ok(await owner(["--json", "audit", "--action", "secret.move.denied"])).stdout) as { entries: unknown[] };
    expect(denied.entries.length).toBe(2);
  });
});
