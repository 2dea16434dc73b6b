import { execFile, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authy, baseEnv, CLI, initVault, tempHome, withPass } from "./cli.js";

let t: ReturnType<typeof tempHome>;
const run = (args: string[], env: Record<string, string | undefined> = withPass, input?: string) => authy(args, { home: t.home, env, input });

beforeAll(async () => {
  t = tempHome();
  await initVault(t.home);
  await run(["secrets", "set", "production/DB_PASSWORD"], withPass, "hunter2-prod-password");
  await run(["secrets", "set", "production/API_KEY"], withPass, "sk-live-abcdef123456");
  await run(["secrets", "set", "production/ROOT_TOKEN"], withPass, "root-token-never-share");
  await run(["secrets", "set", "staging/API_KEY"], withPass, "sk-staging-999999");
  await run(["secrets", "set", "production/PIN"], withPass, "1234");
  const policy = path.join(t.dir, "policy.yaml");
  writeFileSync(
    policy,
    `scopes:\n  deploy:\n    allow:\n      - { path: "production/*", capabilities: [read, list] }\n    deny:\n      - { path: "production/ROOT_*" }\n`,
  );
  await run(["policy", "apply", policy]);
});
afterAll(() => t.cleanup());

describe("authy run", () => {
  it("injects what the scope may read, named by key, and masks it in the output", async () => {
    const r = await run(["run", "--scope", "deploy", "--", "sh", "-c", 'printf "%s|%s|%s" "$DB_PASSWORD" "$API_KEY" "${ROOT_TOKEN:-none}"']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("<authy:masked>|<authy:masked>|none");
    expect(r.stdout).not.toContain("hunter2");
  });

  it("passes values through unmasked with --no-mask", async () => {
    const r = await run(["run", "--no-mask", "--only", "DB_PASSWORD", "--scope", "deploy", "--", "sh", "-c", 'printf %s "$DB_PASSWORD"']);
    expect(r.stdout).toBe("hunter2-prod-password");
  });

  it("masks megabytes of output byte for byte when its own stdout is read slowly", async () => {
    // authy reads the child's output into one buffer it reuses (src/run/pipes.ts): a write to
    // a full stdout is queued holding that buffer, so the next read must wait for it.
    const lines: string[] = [];
    for (let n = 0; lines.length < 150_000; n++) {
      lines.push(n % 5 === 0 ? `${n} db=hunter2-prod-password key=sk-live-abcdef123456 ok` : `${n} nothing secret on this line`);
    }
    const text = lines.join("\n") + "\n";
    const file = path.join(t.dir, "long-output.txt");
    writeFileSync(file, text);
    const child = spawn(process.execPath, [CLI, "run", "--scope", "deploy", "--", "cat", file], { env: { ...baseEnv(t.home), ...withPass } });
    const out: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => {
      out.push(d);
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 1);
    });
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    const expected = text.replaceAll("hunter2-prod-password", "<authy:masked>").replaceAll("sk-live-abcdef123456", "<authy:masked>");
    const got = Buffer.concat(out).toString();
    expect(got.length).toBe(expected.length);
    expect(got === expected).toBe(true);
  });

  it("ends like a Unix tool when the reader of its output goes away (`run -- yes | head -1`), masked or not", async () => {
    for (const mask of [[], ["--no-mask"]]) {
      const line = `"$0" "$1" run ${mask.join(" ")} --scope deploy -- yes | head -1; echo "status \${PIPESTATUS[0]}"`;
      const r = await promisify(execFile)("bash", ["-c", line, process.execPath, CLI], { env: { ...baseEnv(t.home), ...withPass }, timeout: 20_000 });
      expect(r.stdout).toBe("y\nstatus 141\n"); // 128 + SIGPIPE, as the shell reports `yes` itself
    }
  });

  it("warns about values too short to mask", async () => {
    const r = await run(["run", "--only", "PIN", "--scope", "deploy", "--", "true"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/not masked: PIN/);
  });

  it("scrubs authy credentials from the child's environment, marking it only as a run's child", async () => {
    const r = await run(["run", "--scope", "deploy", "--", "env"], { ...withPass, AUTHY_SOMETHING_ELSE: "x" });
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^AUTHY_.*$/gm)).toEqual(["AUTHY_RUN_CHILD=1"]);
  });

  it("resolves --env-file references and passes plain values through", async () => {
    const file = path.join(t.dir, "app.env");
    writeFileSync(file, "DATABASE=authy://production/DB_PASSWORD\nMODE=plain-value\n");
    const r = await run(["run", "--no-mask", "--env-file", file, "--", "sh", "-c", 'printf "%s %s" "$DATABASE" "$MODE"']);
    expect(r.stdout).toBe("hunter2-prod-password plain-value");
  });

  it("refuses a reference the scope denies, with exit 4 and nothing started", async () => {
    const r = await run(["run", "--scope", "deploy", "--env", "R=authy://production/ROOT_TOKEN", "--", "sh", "-c", "echo started"]);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe("");
  });

  it("names both secrets when two map to one variable", async () => {
    const r = await run(["run", "--scope", "secrets:read:*/API_KEY", "--", "true"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("production/API_KEY");
    expect(r.stderr).toContain("staging/API_KEY");
  });

  it("refuses dangerous names unless allowed", async () => {
    const refused = await run(["run", "--env", "LD_PRELOAD=authy://production/API_KEY", "--", "true"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("LD_PRELOAD");
    expect(refused.stderr).toMatch(/^authy: [^\n]+\n(hint: [^\n]+\n)?$/); // one line, and what to do next
    const allowed = await run([
      "run",
      "--no-mask",
      "--allow-env",
      "PATH",
      "--env",
      "PATH=authy://production/API_KEY",
      "--",
      "/bin/sh",
      "-c",
      'printf %s "$PATH"',
    ]);
    expect(allowed.stdout).toBe("sk-live-abcdef123456");
  });

  it("refuses a dangerous name with a plain value in an --env-file, naming the file and line, before the vault is asked", async () => {
    const file = path.join(t.dir, "plain-danger.env");
    writeFileSync(file, "MODE=plain\nDATABASE=authy://production/DB_PASSWORD\nNODE_OPTIONS=--require /tmp/x.js\n");
    const before = (await run(["audit", "--action", "run.start", "--json"])).stdout;
    const r = await run(["run", "--env-file", file, "--", "sh", "-c", 'echo "started $NODE_OPTIONS"']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")[0]).toBe(`authy: refusing to inject NODE_OPTIONS (from ${file}:3): it can change which code the child runs`);
    expect((await run(["audit", "--action", "run.start", "--json"])).stdout).toBe(before);
    const allowed = await run(["run", "--allow-env", "NODE_OPTIONS", "--env-file", file, "--", "sh", "-c", 'printf %s "$NODE_OPTIONS"']);
    expect(allowed.stdout).toBe("--require /tmp/x.js");
  });

  it("applies the rule to every source: LD_LIBRARY_PATH, DYLD_*, PATH, BASH_ENV, ENV, PYTHONPATH, by --env and by scope", async () => {
    for (const name of ["LD_LIBRARY_PATH", "DYLD_INSERT_LIBRARIES", "PATH", "BASH_ENV", "ENV", "PYTHONPATH"]) {
      const file = path.join(t.dir, `${name}.env`);
      writeFileSync(file, `# a comment\n${name}=/tmp/evil\n`);
      const r = await run(["run", "--env-file", file, "--", "true"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`refusing to inject ${name} (from ${file}:2)`);
    }
    const byEnv = await run(["run", "--env", "BASH_ENV=authy://production/API_KEY", "--", "true"]);
    expect(byEnv.stderr).toContain("refusing to inject BASH_ENV (from --env)");
    await run(["secrets", "set", "danger/LD_PRELOAD"], withPass, "/tmp/evil.so");
    const byScope = await run(["run", "--scope", "secrets:read:danger/*", "--", "sh", "-c", "echo started"]);
    expect(byScope.code).toBe(2);
    expect(byScope.stdout).toBe("");
    expect(byScope.stderr).toContain("refusing to inject LD_PRELOAD (from secret danger/LD_PRELOAD in scope secrets:read:danger/*)");
  });

  it.each([0, 1, 2, 255])("returns the child's exit code %i", async (code) => {
    expect((await run(["run", "--scope", "deploy", "--", "sh", "-c", `exit ${code}`])).code).toBe(code);
  });

  it("returns 128+N when the child is killed by signal N, 127 when not found", async () => {
    expect((await run(["run", "--scope", "deploy", "--", "sh", "-c", "kill -TERM $$"])).code).toBe(143);
    expect((await run(["run", "--scope", "deploy", "--", "no-such-command-here"])).code).toBe(127);
  });

  it("mounts a 0600 dotenv file for the child and removes it afterwards", async () => {
    const mount = path.join(t.dir, "mounted.env");
    const r = await run([
      "run",
      "--no-mask",
      "--only",
      "API_KEY",
      "--scope",
      "deploy",
      "--mount",
      mount,
      "--",
      "sh",
      "-c",
      `stat -c %a ${mount}; cat ${mount}`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("600\nAPI_KEY=sk-live-abcdef123456\n");
    expect(existsSync(mount)).toBe(false);
  });

  it("passes stdin through", async () => {
    const r = await run(["run", "--scope", "deploy", "--", "cat"], withPass, "piped input\n");
    expect(r.stdout).toBe("piped input\n");
  });
});
