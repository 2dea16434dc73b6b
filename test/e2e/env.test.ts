import { execFileSync, spawn } from "node:child_process";
import { lstatSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { authy, baseEnv, CLI, finished, initVault, tempHome, withPass } from "./cli.js";

let t: ReturnType<typeof tempHome>;
beforeEach(async () => {
  t = tempHome();
  await initVault(t.home);
});
afterEach(() => t.cleanup());

const run = (args: string[], input?: string) => authy(args, { home: t.home, input, env: withPass });

const SAMPLE = [
  "# a comment",
  "export API_KEY=sk-live-123",
  "PLAIN = value with spaces   # trailing comment",
  "SINGLE='literal $HOME \\n'",
  'DOUBLE="line1\\nline2 \\"quoted\\""',
  'MULTI="first',
  'second"',
  "BACK=`tick 'n' \"quote\"`",
  "",
].join("\r\n");

describe("env import", () => {
  it("imports every dotenv form, all values exact", async () => {
    const file = path.join(t.dir, "sample.env");
    writeFileSync(file, SAMPLE);
    const r = await run(["env", "import", file, "--namespace", "app"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse((await run(["env", "export", "app", "--format", "json"])).stdout);
    expect(out).toEqual({
      API_KEY: "sk-live-123",
      BACK: "tick 'n' \"quote\"",
      DOUBLE: 'line1\nline2 "quoted"',
      MULTI: "first\nsecond",
      PLAIN: "value with spaces",
      SINGLE: "literal $HOME \\n",
    });
  });

  it("plans with --dry-run and writes nothing", async () => {
    const r = await run(["env", "import", "-", "--namespace", "app", "--dry-run", "--json"], "A=1\nB=2\n");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).counts).toEqual({ create: 2, update: 0, unchanged: 0, skip: 0 });
    expect((await run(["secrets", "list"])).stdout).toBe("");
  });

  it("keeps existing secrets with --no-overwrite and counts what changed", async () => {
    await run(["env", "import", "-", "--namespace", "app"], "A=1\nB=2\n");
    const r = await run(["env", "import", "-", "--namespace", "app", "--no-overwrite", "--json"], "A=changed\nC=3\n");
    expect(JSON.parse(r.stdout).counts).toEqual({ create: 1, update: 0, unchanged: 0, skip: 1 });
    expect((await run(["secrets", "get", "app/A"])).stdout).toBe("1");
  });

  it("is all or nothing: a bad line anywhere imports nothing and names the line", async () => {
    const r = await run(["env", "import", "-", "--namespace", "app"], "A=1\nB=2\nC='unterminated\n");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/stdin:3/);
    expect((await run(["secrets", "list"])).stdout).toBe("");
  });

  it("refuses bytes that are not UTF-8, naming the line, instead of storing them changed; run --env-file too", async () => {
    const file = path.join(t.dir, "bad.env");
    writeFileSync(file, Buffer.concat([Buffer.from("A=fine\nK=ok"), Buffer.from([0xff, 0xfe]), Buffer.from("ok\n")]));
    const r = await run(["env", "import", file, "--namespace", "be"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^authy: ${file}:2: not valid UTF-8 text\n`));
    expect((await run(["secrets", "list"])).stdout).toBe("");
    const injected = await run(["run", "--env-file", file, "--", "true"]);
    expect(injected.code).toBe(2);
    expect(injected.stderr).toMatch(new RegExp(`^authy: ${file}:2: not valid UTF-8 text\n`));
  });

  it("reports an import interrupted by Ctrl-C as what it did: 130 with nothing imported, or 0 with everything", async () => {
    const file = path.join(t.dir, "big.env");
    writeFileSync(file, Array.from({ length: 20_000 }, (_, i) => `K${i}=value-${i}\n`).join(""));
    // How long an import takes here, to interrupt the next one in the middle of its write.
    const started = Date.now();
    expect((await run(["env", "import", file, "--namespace", "first"])).code).toBe(0);
    const took = Date.now() - started;
    const child = spawn(process.execPath, ["--", CLI, "env", "import", file, "--namespace", "second"], {
      env: { ...baseEnv(t.home), ...withPass },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const timer = setTimeout(() => child.kill("SIGINT"), took * 0.7);
    const r = await finished(child, undefined, 60_000);
    clearTimeout(timer);
    const imported = (await run(["secrets", "list", "second"])).stdout.split("\n").filter((l) => l !== "").length;
    expect({ code: r.code, imported }).toSatisfy(
      (o: { code: number | null; imported: number }) => (o.code === 130 && o.imported === 0) || (o.code === 0 && o.imported === 20_000),
    );
  });

  it("refuses a namespace that is not canonical", async () => {
    const r = await run(["env", "import", "-", "--namespace", "app/../x"], "GOOD=1\n");
    expect(r.code).toBe(2);
    expect((await run(["secrets", "list"])).stdout).toBe("");
  });

  it("sets the tier of imported secrets", async () => {
    await run(["env", "import", "-", "--namespace", "app", "--tier", "sensitive"], "A=1\n");
    expect(JSON.parse((await run(["secrets", "get", "app/A", "--json"])).stdout).tier).toBe("sensitive");
  });
});

describe("env export", () => {
  beforeEach(async () => {
    await run(["env", "import", "-", "--namespace", "app"], 'A=1\nB="two words"\nC="multi\\nline"\n');
  });

  it("writes dotenv that reads back, and shell that a shell evaluates", async () => {
    const dotenv = (await run(["env", "export", "app"])).stdout;
    const back = await run(["env", "import", "-", "--namespace", "copy"], dotenv);
    expect(back.code).toBe(0);
    expect((await run(["secrets", "get", "copy/C"])).stdout).toBe("multi\nline");
    const shell = (await run(["env", "export", "app", "--format", "shell"])).stdout;
    expect(execFileSync("sh", ["-c", `${shell}\nprintf %s "$C"`]).toString()).toBe("multi\nline");
  });

  it("refuses a value the format cannot hold, instead of corrupting it", async () => {
    const r = await run(["env", "export", "app", "--format", "docker-env"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("C");
    expect(r.stderr).not.toContain("multi");
  });

  it("selects --keys and names the missing ones", async () => {
    expect((await run(["env", "export", "app", "--keys", "A,B", "--format", "json"])).stdout).toBe('{\n  "A": "1",\n  "B": "two words"\n}\n');
    const r = await run(["env", "export", "app", "--keys", "A,NOPE"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("app/NOPE");
  });

  it("writes --out as 0600 and refuses a planted symlink", async () => {
    const out = path.join(t.dir, "out.env");
    expect((await run(["env", "export", "app", "--out", out])).code).toBe(0);
    expect(lstatSync(out).mode & 0o777).toBe(0o600);
    const target = path.join(t.dir, "victim.txt");
    writeFileSync(target, "keep me");
    const link = path.join(t.dir, "link.env");
    symlinkSync(target, link);
    const r = await run(["env", "export", "app", "--out", link]);
    expect(r.code).toBe(2);
    expect(readFileSync(target, "utf8")).toBe("keep me");
  });
});
