/**
 * The Agent Secret Store's own CLI, `ass` 1.0.0 (the published package, a devDependency),
 * against `authy serve` on SQLite and on PostgreSQL, run as a team migrating to authy would:
 * ASS_API_URL pointing at the server, ASS_API_KEY (an admin's member key, or a token) or
 * ASS_AGENT_KEY (a CI job holding only an agent key), values typed on stdin, `--json` and the
 * tables. Every command exits 0 with what it should print, no table shows `undefined` or
 * `NaN`, and refusals come back as `ass` shows them, each with its audit entry.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../setup/postgres-database.js";
import { finished, ROOT, type Result } from "./cli.js";
import { hasTmux, Terminal } from "./terminal.js";
import { initVault, openPostgresStore, SqliteStore, startServe, stopServe, TEST_PASSPHRASE, type Served } from "./serve-helpers.js";

const ASS = path.join(ROOT, "node_modules/@agentsecretstore/cli/dist/index.js");
if (!hasTmux) process.stderr.write("SKIPPED: `ass agents create` is interactive only and needs tmux for its terminal\n");

/** What `ass` would never print for a real value. */
const BROKEN = /undefined|NaN|Invalid Date|\[object Object\]/;

interface Fixture {
  dir: string;
  served: Served;
  admin: string;
  agentKey: string;
  /** Webhook deliveries the vault's notify.webhook received. */
  hooks: Record<string, unknown>[];
  hookServer: Server;
  db?: TestDatabase;
}

/** Starts a webhook receiver on loopback: every JSON body POSTed to it lands in `hooks`. */
async function webhookReceiver(hooks: Record<string, unknown>[]): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      hooks.push(JSON.parse(body) as Record<string, unknown>);
      res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
}

async function setUp(backend: "sqlite" | "postgres"): Promise<Fixture> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `authy-ass-${backend}-`));
  const home = path.join(dir, "home");
  mkdirSync(home, { mode: 0o700 });
  const db = backend === "postgres" ? await createTestDatabase("ass") : undefined;
  const store = db ? await openPostgresStore(db.url) : SqliteStore.open(path.join(home, "vault.db"), { create: true });
  const vault = await initVault(store);
  const hooks: Record<string, unknown>[] = [];
  const hook = await webhookReceiver(hooks);
  await vault.setSetting("notify.webhook", hook.url);
  await vault.setSetting("notify.desktop", "false");
  const { key: admin } = await vault.addMember("ana@example.com", { role: "admin" });
  await vault.setSecret("production/OPENAI_API_KEY", Buffer.from("sk-proj-123456"), { type: "api_key" });
  await vault.setSecret("production/STRIPE_KEY", Buffer.from("sk_live_123456"), { type: "api_key", tier: "sensitive" });
  await vault.setSecret("production/SESSION_SECRET", Buffer.from("x"), { generator: { length: 24, charset: "alnum" } });
  await vault.setSecret("production/TLS_CERT", Buffer.from("-----BEGIN CERTIFICATE-----"), { type: "certificate" });
  const { key: agentKey } = await vault.createAgent("ci", { scope: "secrets:read+list+rotate:production/*" });
  await vault.close();
  const served = await startServe(["--listen", "127.0.0.1:0", ...(db ? ["--database", db.url] : [])], {
    home,
    env: { AUTHY_PASSPHRASE: TEST_PASSPHRASE },
  });
  return { dir, served, admin, agentKey, hooks, hookServer: hook.server, ...(db ? { db } : {}) };
}

/** The environment of a shell that has only what `ass` reads: its own config dir, the server, a key. */
function assEnv(f: Fixture, key: { api?: string; agent?: string }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("ASS_") && !k.startsWith("AUTHY_")) env[k] = v;
  Object.assign(env, { HOME: f.dir, XDG_CONFIG_HOME: path.join(f.dir, "config"), ASS_API_URL: f.served.url, NO_COLOR: "1", CI: "1" });
  if (key.api !== undefined) env.ASS_API_KEY = key.api;
  if (key.agent !== undefined) env.ASS_AGENT_KEY = key.agent;
  return env;
}

/** Runs `ass ARGS` as a user would; `input` is what they type (a prompt submits on Enter, a carriage return). */
function ass(f: Fixture, args: string[], key: { api?: string; agent?: string } = {}, input?: string): Promise<Result> {
  const child = spawn(process.execPath, [ASS, ...args], { env: assEnv(f, key), cwd: f.dir, stdio: ["pipe", "pipe", "pipe"] });
  return finished(child, input, 30_000);
}

/** Exit 0, and neither stream shows a broken value. */
function ok(r: Result): Result {
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.stdout + r.stderr).not.toMatch(BROKEN);
  return r;
}

/** The JSON `ass --json` printed, as the shape the test expects (checked by its assertions). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape it reads
function json<T = Record<string, unknown>>(r: Result): T {
  return JSON.parse(ok(r).stdout) as T;
}

interface AuditEvent {
  id: string;
  created_at: string;
  event_type: string;
  actor_id: string;
  resource_id: string;
}

describe.each(["sqlite", "postgres"] as const)("the real `ass` 1.0.0 against authy serve on %s", (backend) => {
  let f: Fixture;
  const admin = () => ({ api: f.admin });
  const ci = () => ({ agent: f.agentKey });
  /** The newest audit events, as `ass audit --json` shows them (newest first). */
  const events = async (limit = 100) => json<{ events: AuditEvent[] }>(await ass(f, ["audit", "--json", "-l", String(limit)], admin())).events;

  beforeAll(async () => {
    f = await setUp(backend);
  }, 120_000);
  afterAll(async () => {
    expect(await stopServe(f.served)).toBe(0);
    f.hookServer.close();
    await f.db?.drop();
    rmSync(f.dir, { recursive: true, force: true });
  });

  it("status, login, whoami and logout, with an admin's member key", async () => {
    const status = json<{ api: { status: string; version: string; url: string } }>(await ass(f, ["status", "--json"]));
    expect(status.api).toMatchObject({ status: "ok", version: "0.1.0", url: f.served.url });
    const login = ok(await ass(f, ["login", "--key", f.admin]));
    expect(login.stdout).toMatch(/email\s+ana@example\.com/);
    expect(login.stdout).toMatch(/secrets 4/);
    expect(login.stdout).toMatch(/agents\s+1/);
    // The stored key is used from now on, with no ASS_API_KEY.
    const me = json(await ass(f, ["whoami", "--json"]));
    expect(me).toMatchObject({ email: "ana@example.com", plan: "self-hosted", secret_count: 4, agent_count: 1, role: "admin" });
    expect((me.tenant as { name: string }).name).toBe(os.hostname());
    expect(ok(await ass(f, ["whoami"])).stdout).toMatch(/email\s+ana@example\.com[\s\S]*secrets\s+4[\s\S]*status\s+active/);
    expect(ok(await ass(f, ["status"])).stdout).toMatch(/Operational[\s\S]*logged in\s+yes[\s\S]*email\s+ana@example\.com/);
    expect(ok(await ass(f, ["logout", "-f"])).stdout).toMatch(/Signed out successfully/);
    const out = await ass(f, ["whoami"]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/Not authenticated/);
  });

  it("secrets set (the value typed on stdin), get, list and delete", async () => {
    const set = ok(
      await ass(f, ["secrets", "set", "production/DATABASE_URL", "-t", "db_credential", "--tier", "standard"], admin(), "postgres://app@db/prod\r"),
    );
    expect(set.stdout).toMatch(/Secret stored at production\/DATABASE_URL/);
    // Into a pipe, `get` prints the value alone.
    expect(ok(await ass(f, ["secrets", "get", "production/DATABASE_URL"], admin())).stdout).toBe("postgres://app@db/prod");
    const got = json(await ass(f, ["secrets", "get", "production/DATABASE_URL", "--json"], admin()));
    expect(got).toEqual({
      path: "production/DATABASE_URL",
      value: "postgres://app@db/prod",
      version: 1,
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const list = json<{ items: { key: string; secret_type: string; access_tier: string }[] }>(
      await ass(f, ["secrets", "list", "production", "--json"], admin()),
    );
    expect(list.items.map((i) => [i.key, i.secret_type, i.access_tier])).toEqual([
      ["DATABASE_URL", "db_credential", "standard"],
      ["OPENAI_API_KEY", "api_key", "standard"],
      ["SESSION_SECRET", "custom", "standard"],
      ["STRIPE_KEY", "api_key", "sensitive"],
      ["TLS_CERT", "certificate", "standard"],
    ]);
    const table = ok(await ass(f, ["secrets", "list", "production"], admin())).stdout;
    expect(table).toMatch(/production\/STRIPE_KEY\s+api_key\s+sensitive\s+\d+s ago/);
    expect(ok(await ass(f, ["secrets", "delete", "production/DATABASE_URL", "-f"], admin())).stdout).toMatch(/Secret deleted: production\/DATABASE_URL/);
    const gone = await ass(f, ["secrets", "get", "production/DATABASE_URL"], admin());
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/Not found\.\s+.*production\/DATABASE_URL/);
    expect((await events(10)).map((e) => e.event_type)).toContain("secret.delete");
  });

  it("secrets rotate: a new value shown once from the generator; a hand-set secret flagged rotation-pending, the owner told", async () => {
    const before = ok(await ass(f, ["secrets", "get", "production/SESSION_SECRET"], admin())).stdout;
    const rotated = ok(await ass(f, ["secrets", "rotate", "production/SESSION_SECRET", "-f"], admin())).stdout;
    const value = /new value\s+([A-Za-z0-9]{24})\s/.exec(rotated)?.[1];
    expect(value).toBeDefined();
    expect(value).not.toBe(before);
    expect(ok(await ass(f, ["secrets", "get", "production/SESSION_SECRET"], admin())).stdout).toBe(value);

    // The CI job's agent may rotate production: TLS_CERT has no generator, so the owner must issue a new one.
    const pending = ok(await ass(f, ["secrets", "rotate", "production/TLS_CERT", "-f"], ci())).stdout;
    expect(pending).toMatch(/Secret rotated: production\/TLS_CERT/);
    expect(pending).not.toMatch(/new value/);
    const list = json<{ items: { key: string; rotation_pending: boolean }[] }>(await ass(f, ["secrets", "list", "production", "--json"], admin()));
    expect(list.items.filter((i) => i.rotation_pending).map((i) => i.key)).toEqual(["TLS_CERT"]);
    expect(ok(await ass(f, ["secrets", "get", "production/TLS_CERT"], admin())).stdout).toBe("-----BEGIN CERTIFICATE-----");
    await expect
      .poll(() => f.hooks.filter((h) => h.event === "secret.rotation_pending"))
      .toEqual([expect.objectContaining({ path: "production/TLS_CERT", by: "agent:ci" })]);
    const rotations = (await events()).filter((e) => e.event_type === "secret.rotate").map((e) => [e.actor_id, e.resource_id]);
    expect(rotations).toEqual([
      ["agent:ci", "production/TLS_CERT"],
      ["member:ana@example.com", "production/SESSION_SECRET"],
    ]);
    if (hasTmux) {
      // authy's own `secrets list` (a table, on a terminal) marks it too.
      const token = /(authy_tk_\S+)/.exec(ok(await ass(f, ["tokens", "issue", "-s", "read:secrets", "--ttl", "900"], ci())).stdout)![1]!;
      const t = new Terminal(f.dir, path.join(f.dir, "home"), "authy secrets list production", {
        env: { AUTHY_API_URL: f.served.url, AUTHY_TOKEN: token },
        cols: 140,
      });
      try {
        const screen = await t.waitFor(/\[exit \d+\]/);
        expect(screen).toMatch(/production\/TLS_CERT \(rotation pending\)\s+certificate/);
        expect(screen).toMatch(/production\/OPENAI_API_KEY\s+api_key/);
        expect(screen).toContain("[exit 0]");
      } finally {
        t.close();
      }
    }
    // A new value written by hand ends the pending rotation.
    ok(await ass(f, ["secrets", "set", "production/TLS_CERT", "-t", "certificate", "--tier", "standard"], admin(), "-----BEGIN CERTIFICATE----- 2\r"));
    const after = json<{ items: { key: string; rotation_pending: boolean }[] }>(await ass(f, ["secrets", "list", "production", "--json"], admin()));
    expect(after.items.some((i) => i.rotation_pending)).toBe(false);
  });

  it("env import and env export", async () => {
    writeFileSync(path.join(f.dir, ".env"), '# staging\nOPENAI_API_KEY=sk-proj-staging1\nGREETING="hello world"\n');
    const imported = ok(await ass(f, ["env", "import", ".env", "--namespace", "staging"], admin())).stdout;
    expect(imported).toMatch(/Imported 2 secrets to staging/);
    expect(imported).toMatch(/staging\/OPENAI_API_KEY\s+← stored/);
    const exported = ok(await ass(f, ["env", "export", "staging"], admin())).stdout;
    expect(exported).toMatch(/^GREETING="hello world"$/m);
    expect(exported).toMatch(/^OPENAI_API_KEY=sk-proj-staging1$/m);
    ok(await ass(f, ["env", "export", "staging", "-o", "staging.env"], admin()));
    expect(readFileSync(path.join(f.dir, "staging.env"), "utf8")).toContain("OPENAI_API_KEY=sk-proj-staging1\n");
    expect((await events(30)).filter((e) => e.event_type === "env.import").map((e) => [e.actor_id, e.resource_id])).toEqual([
      ["member:ana@example.com", "staging"],
    ]);
  });

  it("a CI job with only an agent key: reads within the agent's scope, refused outside it, audited as the agent", async () => {
    expect(ok(await ass(f, ["secrets", "get", "production/OPENAI_API_KEY"], ci())).stdout).toBe("sk-proj-123456");
    const listed = json<{ items: { key: string }[] }>(await ass(f, ["secrets", "list", "production", "--json"], ci()));
    expect(listed.items.map((i) => i.key)).toContain("OPENAI_API_KEY");
    const outside = await ass(f, ["secrets", "get", "staging/OPENAI_API_KEY"], ci());
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/Permission denied\.\s+not allowed to read staging\/OPENAI_API_KEY/);
    const write = await ass(f, ["secrets", "set", "production/NEW", "v", "-t", "custom", "--tier", "standard"], ci());
    expect(write.code).toBe(1);
    expect(write.stderr).toMatch(/Permission denied/);
    const trail = (await events(10)).map((e) => [e.actor_id, e.event_type, e.resource_id]);
    expect(trail).toContainEqual(["agent:ci", "secret.read", "production/OPENAI_API_KEY"]);
    expect(trail).toContainEqual(["agent:ci", "secret.read.denied", "staging/OPENAI_API_KEY"]);
    expect(trail).toContainEqual(["agent:ci", "secret.write.denied", "production/NEW"]);
  });

  it("a sensitive read waits for an approval: approvals list, approve (no body) and deny (with a reason)", async () => {
    const first = await ass(f, ["secrets", "get", "production/STRIPE_KEY"], ci());
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/approval is needed to read production\/STRIPE_KEY \(sensitive\): request apr_\w+ pending/);
    const pending = json<{ items: { id: string; agent_id: string; access_tier: string; status: string }[] }>(
      await ass(f, ["approvals", "list", "--status", "pending", "--json"], admin()),
    );
    expect(pending.items).toEqual([expect.objectContaining({ agent_id: "ci", access_tier: "sensitive", status: "pending" })]);
    const table = ok(await ass(f, ["approvals", "list"], admin())).stdout;
    expect(table).toMatch(/apr_\S+\s+ci\s+sensitive\s+pending ○\s+\d+s ago/);
    expect(ok(await ass(f, ["approvals", "approve", pending.items[0]!.id, "-f"], admin())).stdout).toMatch(/Request approved/);
    expect(ok(await ass(f, ["secrets", "get", "production/STRIPE_KEY"], ci())).stdout).toBe("sk_live_123456");

    // The grant was for one read: the next one asks again, and is denied.
    expect((await ass(f, ["secrets", "get", "production/STRIPE_KEY"], ci())).code).toBe(1);
    const again = json<{ items: { id: string }[] }>(await ass(f, ["approvals", "list", "--status", "pending", "--json"], admin()));
    const deny = ok(await ass(f, ["approvals", "deny", again.items[0]!.id, "-r", "not during the freeze", "-f"], admin())).stdout;
    expect(deny).toMatch(/Request denied[\s\S]*Reason: not during the freeze/);
    const denied = json<{ items: { id: string; status: string }[] }>(await ass(f, ["approvals", "list", "--status", "denied", "--json"], admin()));
    expect(denied.items.map((i) => i.id)).toEqual([again.items[0]!.id]);
    const trail = (await events(20)).map((e) => [e.actor_id, e.event_type]);
    expect(trail).toContainEqual(["agent:ci", "approval.request"]);
    expect(trail).toContainEqual(["member:ana@example.com", "approval.approve"]);
    expect(trail).toContainEqual(["member:ana@example.com", "approval.deny"]);
  });

  it("tokens issue: scope words narrowed to the caller's own scope; manage:agents only for admins", async () => {
    const issued = ok(await ass(f, ["tokens", "issue", "-s", "read:secrets", "--ttl", "900"], ci())).stdout;
    const token = /(authy_tk_\S+)/.exec(issued)?.[1];
    expect(token).toBeDefined();
    expect(issued).toMatch(/scopes\s+read:secrets/);
    expect(issued).toMatch(/expires\s+\S/);
    expect(ok(await ass(f, ["secrets", "get", "production/OPENAI_API_KEY"], { api: token! })).stdout).toBe("sk-proj-123456");
    // Narrowed to read: the agent's rotate is not in it.
    const rotate = await ass(f, ["secrets", "rotate", "production/SESSION_SECRET", "-f"], { api: token! });
    expect(rotate.code).toBe(1);
    expect(rotate.stderr).toMatch(/Permission denied\.\s+not allowed to rotate production\/SESSION_SECRET/);
    const manage = await ass(f, ["tokens", "issue", "-s", "manage:agents", "--ttl", "900"], ci());
    expect(manage.code).toBe(1);
    expect(manage.stderr).toMatch(/Permission denied\.\s+manage:agents is for admins only/);
  });

  it("agents list, create (its prompts answered in a terminal) and revoke", async () => {
    const table = ok(await ass(f, ["agents", "list"], admin())).stdout;
    // The CI job has used its key: its last activity is a real time, not "never".
    expect(table).toMatch(/ci\s+authy_ak_[a-z2-7]+…\s+active\s+\d+[smh] ago/);
    let id: string;
    let key: string;
    if (hasTmux) {
      const t = new Terminal(f.dir, f.dir, `"${process.execPath}" "${ASS}" agents create`, { env: assEnv(f, admin()), cols: 140, rows: 50 });
      try {
        await t.waitFor(/Agent name/);
        t.type(["deploy-bot"], true);
        t.type(["Enter"]);
        await t.waitFor(/Description/);
        t.type(["Enter"]);
        await t.waitFor(/Allowed namespaces/);
        t.type(["staging"], true);
        t.type(["Enter"]);
        await t.waitFor(/Allowed scopes/);
        t.type(["Enter"]);
        const screen = await t.waitFor(/ASS_AGENT_KEY=authy_ak_\S+[\s\S]*\[exit 0\]/);
        expect(screen).not.toMatch(BROKEN);
        key = /ASS_AGENT_KEY=(authy_ak_\S+)/.exec(screen)![1]!;
        id = /ID: (\S+)/.exec(screen)![1]!;
      } finally {
        t.close();
      }
      expect(ok(await ass(f, ["secrets", "get", "staging/GREETING"], { agent: key })).stdout).toBe("hello world");
    } else {
      // No terminal to answer its prompts: the same request, as `ass agents create` sends it.
      const res = await fetch(`${f.served.url}/v1/agents`, {
        method: "POST",
        headers: { authorization: `Bearer ${f.admin}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "deploy-bot", allowed_namespaces: ["staging"], allowed_scopes: ["read:secrets"] }),
      });
      const made = (await res.json()) as { id: string; api_key: string };
      ({ id, api_key: key } = made);
    }
    const agents = json<{ items: { id: string; name: string; allowed_namespaces: string[]; allowed_scopes: string[]; active: boolean }[] }>(
      await ass(f, ["agents", "list", "--json"], admin()),
    );
    expect(agents.items.find((a) => a.name === "deploy-bot")).toMatchObject({
      id,
      allowed_namespaces: ["staging"],
      allowed_scopes: ["read:secrets"],
      active: true,
    });
    expect(ok(await ass(f, ["agents", "revoke", id, "-f"], admin())).stdout).toMatch(/Agent revoked/);
    const refused = await ass(f, ["secrets", "get", "staging/GREETING"], { agent: key });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Not authenticated/);
    expect(ok(await ass(f, ["agents", "list"], admin())).stdout).toMatch(/deploy-bot\s+authy_ak_\S+\s+revoked\s+never/);
    expect((await events(10)).map((e) => [e.event_type, e.resource_id])).toContainEqual(["agent.revoke", "agent:deploy-bot"]);
  });

  it("audit: the newest events first, in pages, and a table of real values", async () => {
    const all = await events(100);
    const times = all.map((e) => e.created_at);
    expect([...times].sort().reverse()).toEqual(times);
    const page = await events(3);
    expect(page.map((e) => e.id)).toEqual(all.slice(0, 3).map((e) => e.id));
    const table = ok(await ass(f, ["audit", "-l", "10"], admin())).stdout;
    expect(table).toMatch(/AUDIT LOG\s+last 10 events/);
    expect(table).toMatch(/\d+[smh] ago\s+\S+\s+(member|agent):/);
  });
});
