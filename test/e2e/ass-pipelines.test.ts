/**
 * The Agent Secret Store's README pipes `ass … --json` into jq; with `authy` in place of `ass`
 * the same lines work (docs/json.md, "Scripts written for the Agent Secret Store CLI"). Each
 * line below is the README's, run as written by a shell with the built `authy` on PATH.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authy, baseEnv, CLI, finished, withPass } from "./cli.js";
import { stopDaemons, unlock, vaultHome } from "./daemon-helpers.js";
import { ISO_TIME } from "./json-shape.js";

const noJq = spawnSync("sh", ["-c", "command -v jq"]).status !== 0;
if (noJq) process.stderr.write("SKIPPED: the Agent Secret Store pipelines need jq (apt-get install -y jq)\n");

let home = "";
let bin = "";

/** A shell line as a user types it, with `authy` the built CLI. */
async function sh(line: string, env: Record<string, string> = {}) {
  const e = { ...baseEnv(home), ...env, PATH: `${bin}:${process.env.PATH ?? ""}` };
  const r = await finished(spawn("sh", ["-c", line], { env: e, stdio: ["pipe", "pipe", "pipe"] }), undefined, 30_000);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  if (noJq) return;
  home = await vaultHome();
  bin = path.join(path.dirname(home), "bin");
  mkdirSync(bin);
  symlinkSync(CLI, path.join(bin, "authy"));
  const set = async (p: string, value: string, ...flags: string[]) => {
    const r = await authy(["secrets", "set", p, ...flags], { home, input: value, env: withPass });
    if (r.code !== 0) throw new Error(r.stderr);
  };
  await set("production/OPENAI_API_KEY", "sk-proj-123456", "--type", "api_key");
  await set("production/DATABASE_URL", "postgres://app@db/prod", "--type", "db_credential", "--tier", "sensitive");
  await set("production/STRIPE_KEY", "sk_live_123456", "--type", "api_key", "--tier", "sensitive");
  await set("staging/OPENAI_API_KEY", "sk-proj-staging1", "--type", "api_key");
  await unlock(home);
  const key = (await authy(["agents", "create", "deploy-bot", "--scope", "secrets:read:production/*"], { home })).stdout.trim();
  expect((await authy(["secrets", "get", "production/OPENAI_API_KEY"], { home, env: { AUTHY_AGENT_KEY: key } })).stdout).toBe("sk-proj-123456");
  // Two reads that the caller's scope does not allow: audited as secret.read.denied in production.
  const token = (await authy(["tokens", "create", "--scopes", "secrets:read:staging/*", "--ttl", "15m"], { home })).stdout.trim();
  for (const p of ["production/STRIPE_KEY", "production/DATABASE_URL"]) {
    expect((await authy(["secrets", "get", p], { home, env: { AUTHY_TOKEN: token } })).code).toBe(4);
  }
  expect((await authy(["secrets", "get", "staging/NOPE"], { home, env: { AUTHY_TOKEN: token } })).code).toBe(3);
});

afterAll(stopDaemons);

describe.skipIf(noJq)("the Agent Secret Store README's jq pipelines, with authy", () => {
  it("lists the keys of a namespace", async () => {
    const out = await sh(`authy secrets list production --json | jq '[.secrets[].key]'`);
    expect(JSON.parse(out)).toEqual(["DATABASE_URL", "OPENAI_API_KEY", "STRIPE_KEY"]);
  });

  it("finds the sensitive-tier secrets", async () => {
    const out = await sh(`authy secrets list production --json | jq '.secrets[] | select(.access_tier == "sensitive") | .key'`);
    expect(out).toBe('"DATABASE_URL"\n"STRIPE_KEY"\n');
  });

  it("counts denied reads in a namespace over the last hour", async () => {
    const out = await sh(`authy audit --namespace production --action secret.read.denied --since 1h --json | jq '.events | length'`);
    expect(out).toBe("2\n");
  });

  it("exports the audit log as CSV of time, agent, action and resource, newest first", async () => {
    const out = await sh(`authy audit --since 2026-01-01 --json | jq -r '.events[] | [.timestamp, .agent_id, .action, .resource] | @csv'`);
    const rows = out.trim().split("\n");
    const times = rows.map((r) => /^"([^"]+)",/.exec(r)?.[1]);
    for (const t of times) expect(t).toMatch(ISO_TIME);
    expect([...times].sort().reverse()).toEqual(times);
    expect(rows).toContainEqual(expect.stringMatching(/^"[^"]+","deploy-bot","secret\.read","production\/OPENAI_API_KEY"$/));
    expect(rows).toContainEqual(expect.stringMatching(/^"[^"]+",,"secret\.read\.denied","production\/STRIPE_KEY"$/));
  });

  it("gets a secret as JSON with the fields the README shows", async () => {
    const before = Date.now();
    const got = JSON.parse(await sh(`authy secrets get production/OPENAI_API_KEY --json`)) as Record<string, unknown>;
    expect(got).toMatchObject({ key: "OPENAI_API_KEY", namespace: "production", value: "sk-proj-123456", secret_type: "api_key", access_tier: "standard" });
    expect(got.retrieved_at).toMatch(ISO_TIME);
    expect(Date.parse(got.retrieved_at as string)).toBeGreaterThanOrEqual(before - 1);
  });
});
