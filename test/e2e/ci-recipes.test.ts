/**
 * The README's CI recipes (Team server › CI jobs), run as written: each job's deploy script is
 * a separate process with only the environment the recipe gives it (its secrets, and PATH,
 * where the recipe's install step puts `authy`), against a real `authy serve`.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { authy, CLI, finished, ROOT } from "./cli.js";
import { startServe, stopServe, TEST_PASSPHRASE, type Served } from "./serve-helpers.js";

const README = readFileSync(path.join(ROOT, "README.md"), "utf8");
let dir: string;
let bin: string;
let work: string;
let served: Served;
let agentKey: string;

/** The first ```yaml block after `marker` in the README, and the prose between them. */
function recipe(marker: string): { yaml: unknown; intro: string } {
  const at = README.indexOf(marker);
  expect(at, `README has no "${marker}"`).toBeGreaterThan(-1);
  const m = /```yaml\n([\s\S]*?)^```$/m.exec(README.slice(at));
  expect(m, `no yaml block after "${marker}"`).not.toBeNull();
  return { yaml: parse(m![1]!), intro: README.slice(at, at + m!.index) };
}

function job(shell: string, script: string, env: Record<string, string>) {
  const child = spawn(shell, ["-e", "-c", script], { cwd: work, env: { PATH: `${bin}:/usr/bin:/bin`, ...env }, stdio: ["pipe", "pipe", "pipe"] });
  return finished(child, undefined, 60_000);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-ci-"));
  const home = path.join(dir, "home");
  const env = { AUTHY_PASSPHRASE: TEST_PASSPHRASE };
  expect((await authy(["init", "--work-factor", "15"], { home, env })).code).toBe(0);
  const policy = path.join(dir, "policy.yaml");
  writeFileSync(policy, 'scopes:\n  deploy:\n    allow:\n      - { path: "prod/*", capabilities: [read, list] }\n');
  expect((await authy(["policy", "apply", policy], { home, env })).code).toBe(0);
  expect((await authy(["secrets", "set", "prod/API_KEY"], { home, env, input: "prod-value-1" })).code).toBe(0);
  agentKey = (await authy(["agents", "create", "ci", "--scope", "deploy"], { home, env })).stdout.trim();
  const passFile = path.join(dir, "pass");
  writeFileSync(passFile, `${TEST_PASSPHRASE}\n`, { mode: 0o600 });
  served = await startServe(["--listen", "127.0.0.1:0", "--passphrase-file", passFile], { home });
  // What the recipes' install step leaves: `authy` on PATH, and the repository checked out.
  bin = path.join(dir, "bin");
  mkdirSync(bin);
  symlinkSync(CLI, path.join(bin, "authy"));
  writeFileSync(path.join(bin, "node"), `#!/bin/sh\nexec ${process.execPath} "$@"\n`, { mode: 0o755 });
  work = path.join(dir, "repo");
  mkdirSync(work);
  writeFileSync(
    path.join(work, "deploy.sh"),
    // Every authy variable but AUTHY_RUN_CHILD, the marker `authy run` sets (no credential).
    '#!/bin/sh\ntest "$API_KEY" = prod-value-1 && echo "deployed ($(env | grep "^AUTHY_" | grep -vc "^AUTHY_RUN_CHILD=1$") authy variables left)"\n',
  );
  chmodSync(path.join(work, "deploy.sh"), 0o755);
});
afterAll(async () => {
  await stopServe(served);
  rmSync(dir, { recursive: true, force: true });
});

describe("the README's CI recipes", () => {
  it("GitHub Actions: the deploy step, with only its env (the two secrets) and PATH", async () => {
    const { yaml } = recipe("GitHub Actions (");
    const steps = (yaml as { jobs: { deploy: { steps: { name?: string; env?: Record<string, string>; run?: string }[] } } }).jobs.deploy.steps;
    const deploy = steps.find((s) => s.name === "Deploy")!;
    const secrets: Record<string, string> = { AUTHY_API_URL: served.url, AUTHY_AGENT_KEY: agentKey };
    const env = Object.fromEntries(
      Object.entries(deploy.env!).map(([k, v]) => {
        const m = /^\$\{\{ secrets\.(\w+) \}\}$/.exec(v);
        expect(m, `${k} is not a secret`).not.toBeNull();
        return [k, secrets[m![1]!]!];
      }),
    );
    expect(Object.keys(env).sort()).toEqual(["AUTHY_AGENT_KEY", "AUTHY_API_URL"]);
    const r = await job("bash", deploy.run!, env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("deployed (0 authy variables left)\n");
  });

  it("GitLab CI: the job's script, with only the project's CI/CD variables the recipe names and PATH", async () => {
    const { yaml, intro } = recipe("GitLab CI (");
    const names = [...new Set([...intro.matchAll(/`(AUTHY_[A-Z_]+)`/g)].map((m) => m[1]!))].sort();
    expect(names).toEqual(["AUTHY_AGENT_KEY", "AUTHY_API_URL"]);
    const values: Record<string, string> = { AUTHY_API_URL: served.url, AUTHY_AGENT_KEY: agentKey };
    const script = (yaml as { deploy: { script: string[] } }).deploy.script.join("\n");
    const r = await job("sh", script, Object.fromEntries(names.map((n) => [n, values[n]!])));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("deployed (0 authy variables left)\n");
  });

  it("fails the job with exit 4 and one line when the agent key is wrong", async () => {
    const { yaml } = recipe("GitLab CI (");
    const script = (yaml as { deploy: { script: string[] } }).deploy.script.join("\n");
    const r = await job("sh", script, { AUTHY_API_URL: served.url, AUTHY_AGENT_KEY: `${agentKey.slice(0, -4)}AAAA` });
    expect(r.code).toBe(4);
    expect(r.stderr).toBe("authy: AUTHY_AGENT_KEY was refused: it is unknown, or its agent was revoked\nhint: the owner can check with `authy agents list`\n");
  });
});
