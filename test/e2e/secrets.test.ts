import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { authy, baseEnv, CLI, finished, initVault, tempHome, withPass } from "./cli.js";

let t: ReturnType<typeof tempHome>;
beforeEach(async () => {
  t = tempHome();
  await initVault(t.home);
});
afterEach(() => t.cleanup());

const run = (args: string[], input?: string | Buffer, env: Record<string, string | undefined> = withPass) => authy(args, { home: t.home, input, env });

describe("secrets set and get", () => {
  it("stores a value from stdin and prints it raw, with no trailing newline, when piped", async () => {
    expect((await run(["secrets", "set", "prod/API_KEY"], "sk-live-123")).code).toBe(0);
    const r = await run(["secrets", "get", "prod/API_KEY"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("sk-live-123");
  });

  it("keeps binary values byte for byte", async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect((await run(["secrets", "set", "certs/BLOB"], bytes)).code).toBe(0);
    const r = await run(["secrets", "get", "certs/BLOB"]);
    expect(r.stdoutBytes.equals(bytes)).toBe(true);
  });

  it("prints metadata and the value with --json", async () => {
    await run(["secrets", "set", "prod/DB", "--type", "db_credential", "--tier", "sensitive", "--description", "main db", "--tag", "a", "--tag", "b"], "pw");
    const r = await run(["secrets", "get", "prod/DB", "--json"]);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      path: "prod/DB",
      namespace: "prod",
      key: "DB",
      type: "db_credential",
      tier: "sensitive",
      description: "main db",
      tags: ["a", "b"],
      version: 1,
      value: "pw",
    });
  });

  it("never takes a value from argv", async () => {
    const r = await run(["secrets", "set", "prod/X", "value-in-argv"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^authy: /);
  });

  it("refuses an empty value from stdin", async () => {
    const r = await run(["secrets", "set", "prod/X"], "");
    expect(r.code).toBe(2);
  });

  it("reads --from-file and generates with --generate", async () => {
    const g = await run(["secrets", "generate", "prod/TOKEN", "--length", "40", "--charset", "hex", "--print"]);
    expect(g.code).toBe(0);
    expect(g.stdout.trim()).toMatch(/^[0-9a-f]{40}$/);
    const r = await run(["secrets", "get", "prod/TOKEN"]);
    expect(r.stdout).toBe(g.stdout.trim());
  });

  it("reads --from-file from a regular file, from bash process substitution (a /dev/fd pipe) and from a named pipe", async () => {
    const file = path.join(t.dir, "value.txt");
    writeFileSync(file, "from-a-file");
    expect((await run(["secrets", "set", "prod/FILE", "--from-file", file])).code).toBe(0);
    expect((await run(["secrets", "get", "prod/FILE"])).stdout).toBe("from-a-file");

    // `--from-file <(cmd)`: the value never touches the disk or argv.
    const bash = spawn("bash", ["-c", 'exec "$0" -- "$1" secrets set prod/PIPED --from-file <(printf %s from-a-pipe)', process.execPath, CLI], {
      env: { ...baseEnv(t.home), ...withPass },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const piped = await finished(bash, undefined, 30_000);
    expect(piped.code, piped.stderr).toBe(0);
    expect((await run(["secrets", "get", "prod/PIPED"])).stdout).toBe("from-a-pipe");

    const fifo = path.join(t.dir, "value.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const writer = spawn("sh", ["-c", 'printf %s from-a-fifo > "$0"', fifo], { stdio: "ignore" });
    try {
      const r = await run(["secrets", "set", "prod/FIFO", "--from-file", fifo]);
      expect(r.code, r.stderr).toBe(0);
    } finally {
      writer.kill("SIGKILL");
    }
    expect((await run(["secrets", "get", "prod/FIFO"])).stdout).toBe("from-a-fifo");
  });

  it("answers an unknown secret with exit 3", async () => {
    const r = await run(["secrets", "get", "prod/NOPE"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^authy: [^\n]+\n(hint: [^\n]+\n)?$/); // one line, and what to do next
  });

  it.each(["a/../b", "./a", "a//b", "/a/b", "a/b/", "%2e%2e/x", "a\\b/c", "ｐrod/KEY", "a/b\u200bc", "KEY", "a/" + "x".repeat(300)])(
    "rejects the path %j with exit 2 and no stack trace",
    async (bad) => {
      const r = await run(["secrets", "set", bad], "v");
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    },
  );

  it("treats case variants as different secrets", async () => {
    await run(["secrets", "set", "prod/DB"], "lower");
    await run(["secrets", "set", "Prod/DB"], "upper");
    expect((await run(["secrets", "get", "prod/DB"])).stdout).toBe("lower");
    expect((await run(["secrets", "get", "Prod/DB"])).stdout).toBe("upper");
  });

  it("refuses an expired secret unless asked", async () => {
    await run(["secrets", "set", "prod/OLD", "--expires", "1s"], "v");
    await new Promise((r) => setTimeout(r, 1100));
    expect((await run(["secrets", "get", "prod/OLD"])).code).toBe(3);
    expect((await run(["secrets", "get", "prod/OLD", "--allow-expired"])).stdout).toBe("v");
  });
});

describe("wrong credentials", () => {
  it("exits 6 on a wrong passphrase", async () => {
    const r = await run(["secrets", "list"], undefined, { AUTHY_PASSPHRASE: "wrong" });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("wrong passphrase or identity");
  });

  it("exits 6 when there is no vault", async () => {
    const other = tempHome();
    const r = await authy(["secrets", "list"], { home: other.home, env: withPass });
    other.cleanup();
    expect(r.code).toBe(6);
  });

  it("exits 6 with no passphrase and no terminal", async () => {
    const r = await run(["secrets", "list"], undefined, {});
    expect(r.code).toBe(6);
  });

  it("reads the passphrase from --passphrase-stdin and AUTHY_PASSPHRASE_FILE", async () => {
    await run(["secrets", "set", "a/B"], "v");
    expect((await run(["--passphrase-stdin", "secrets", "get", "a/B"], "correct horse battery staple\n", {})).stdout).toBe("v");
  });
});

describe("list, delete, restore, history, rollback", () => {
  it("lists names only, by namespace, recursively on request", async () => {
    for (const p of ["prod/A", "prod/B", "prod/sub/C", "prodX/D", "staging/E"]) await run(["secrets", "set", p], `value-of-${p}`);
    const top = await run(["secrets", "list", "prod"]);
    expect(top.stdout.trim().split("\n")).toEqual(["prod/A", "prod/B"]);
    const rec = await run(["secrets", "list", "prod", "--recursive"]);
    expect(rec.stdout.trim().split("\n")).toEqual(["prod/A", "prod/B", "prod/sub/C"]);
    const all = await run(["secrets", "list", "--json"]);
    expect(JSON.parse(all.stdout).items.map((i: { path: string }) => i.path)).toEqual(["prod/A", "prod/B", "prod/sub/C", "prodX/D", "staging/E"]);
    expect(all.stdout).not.toContain("value-of");
  });

  it("deletes softly with --yes, hides it, and restores it", async () => {
    await run(["secrets", "set", "prod/A"], "v1");
    expect((await run(["secrets", "delete", "prod/A"])).code).toBe(2);
    expect((await run(["secrets", "delete", "prod/A", "--yes"])).code).toBe(0);
    expect((await run(["secrets", "get", "prod/A"])).code).toBe(3);
    expect((await run(["secrets", "list"])).stdout).toBe("");
    expect((await run(["secrets", "restore", "prod/A"])).code).toBe(0);
    expect((await run(["secrets", "get", "prod/A"])).stdout).toBe("v1");
  });

  it("purges for good", async () => {
    await run(["secrets", "set", "prod/A"], "v1");
    expect((await run(["secrets", "delete", "prod/A", "--yes", "--purge"])).code).toBe(0);
    expect((await run(["secrets", "restore", "prod/A"])).code).toBe(3);
  });

  it("keeps every version and rolls back as a new version", async () => {
    for (const v of ["one", "two", "three"]) await run(["secrets", "set", "prod/A"], v);
    const h = JSON.parse((await run(["secrets", "history", "prod/A", "--json"])).stdout);
    expect(h.versions.map((v: { version: number }) => v.version)).toEqual([1, 2, 3]);
    expect((await run(["secrets", "get", "prod/A", "--revision", "1"])).stdout).toBe("one");
    expect((await run(["secrets", "rollback", "prod/A", "1"])).code).toBe(0);
    expect((await run(["secrets", "get", "prod/A"])).stdout).toBe("one");
    const h2 = JSON.parse((await run(["secrets", "history", "prod/A", "--json"])).stdout);
    expect(h2.versions).toHaveLength(4);
    expect((await run(["secrets", "get", "prod/A", "--revision", "9"])).code).toBe(3);
  });

  it("reads authy:// references", async () => {
    await run(["secrets", "set", "prod/openai/API_KEY"], "sk-1");
    expect((await run(["read", "authy://prod/openai/API_KEY"])).stdout).toBe("sk-1");
    expect((await run(["read", "http://prod/openai/API_KEY"])).code).toBe(2);
  });
});
