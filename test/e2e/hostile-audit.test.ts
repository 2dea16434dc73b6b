/**
 * Hostile tests, run as the unprivileged account against the built CLI (test/e2e/unprivileged.ts):
 * token arithmetic, existence oracles, refusals before the core, what the owner sees, grants
 * keyed by name, a tier lowered and rolled back, a critical secret deleted or purged without the
 * owner's approval, and masking of lower-case percent-encoding.
 * Each attack is one the code before this change let through.
 */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { finished, PASSPHRASE, ROOT, type Result } from "./cli.js";
import { daemonPids, SESSION_LINE } from "./daemon-helpers.js";
import { authyAs, hostileHome, initVaultAs, runAs, spawnAs, hostileEnv } from "./unprivileged.js";
import { CLI } from "./cli.js";

const HTTP_AS = path.join(ROOT, "test/e2e/testdata/http-as.mjs");
/** Each attack is a few dozen CLI runs as another account; on two busy cores that can pass a minute. */
const ATTACK_TIMEOUT_MS = 180_000;
const owner = { AUTHY_PASSPHRASE: PASSPHRASE };

interface Home {
  dir: string;
  home: string;
  session: string;
  socket: string;
  cleanup: () => void;
}
const homes: Home[] = [];

afterEach(async () => {
  for (const h of homes.splice(0)) {
    await authyAs(["lock"], h).catch(() => undefined);
    for (const pid of daemonPids(h.home)) process.kill(pid, "SIGKILL");
    h.cleanup();
  }
});

/** A vault of the unprivileged account with these secrets, unlocked by a daemon. */
async function unlockedVault(secrets: [path: string, value: string, tier?: string][], policy?: string): Promise<Home> {
  const { dir, home, cleanup } = hostileHome();
  await initVaultAs(dir, home);
  for (const [p, v, tier] of secrets) {
    const r = await authyAs(["secrets", "set", p, ...(tier ? ["--tier", tier] : [])], { dir, home, env: owner, input: v });
    expect(r.code, r.stderr).toBe(0);
  }
  if (policy) {
    const r = await runAs("/bin/sh", ["-c", `printf '%s' "$POLICY" > policy.yaml && "${process.execPath}" "${CLI}" policy apply policy.yaml`], {
      env: hostileEnv(dir, home, { ...owner, POLICY: policy }),
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(0);
  }
  const u = await authyAs(["unlock", "--export-session"], { dir, home, env: owner });
  const m = SESSION_LINE.exec(u.stdout);
  if (u.code !== 0 || !m) throw new Error(`unlock failed (${u.code}): ${u.stderr}`);
  const status = JSON.parse((await authyAs(["status", "--json"], { dir, home })).stdout) as { daemon: { socket: string } };
  const h = { dir, home, session: m[1]!, socket: status.daemon.socket, cleanup };
  homes.push(h);
  return h;
}

/** The CLI as the unprivileged account, acting as the owner's session, a token or an agent key. */
const as = (h: Home, env: Record<string, string>) => (args: string[], input?: string) => authyAs(args, { dir: h.dir, home: h.home, env, input });
const asOwner = (h: Home) => as(h, { AUTHY_SESSION: h.session });

async function tokenFor(h: Home, args: string[]): Promise<{ token: string; id: string }> {
  const r = await asOwner(h)(["tokens", "create", "--json", ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { token: string; id: string };
}

/** Raw requests to the daemon, sent by the unprivileged account. */
async function http(h: Home, spec: Record<string, unknown>): Promise<unknown> {
  const r = await runAs(process.execPath, [HTTP_AS, JSON.stringify({ socket: h.socket, ...spec })], { env: hostileEnv(h.dir, h.home), timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

interface Entry {
  actor: string;
  action: string;
  resource: string;
  outcome: string;
  details: Record<string, unknown>;
}

/** The whole audit log, read by the owner in direct mode (its passphrase). */
async function auditLog(h: Home): Promise<Entry[]> {
  const r = await authyAs(["audit", "--json", "--limit", "10000"], { dir: h.dir, home: h.home, env: owner });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { entries: Entry[] }).entries;
}

const same = (a: Result, b: Result, nameA: string, nameB: string) => {
  expect(a.code).toBe(b.code);
  expect(a.stdout.replaceAll(nameA, "NAME")).toBe(b.stdout.replaceAll(nameB, "NAME"));
  expect(a.stderr.replaceAll(nameA, "NAME")).toBe(b.stderr.replaceAll(nameB, "NAME"));
};

describe("hostile: token arithmetic", () => {
  it(
    "refused and not-found calls spend none of a token's uses",
    async () => {
      const h = await unlockedVault([
        ["prod/A", "value-a-123456"],
        ["other/B", "value-b-123456"],
      ]);
      const t = await tokenFor(h, ["--scope", "secrets:read:prod/*", "--uses", "2"]);
      const asToken = as(h, { AUTHY_TOKEN: t.token });
      for (let i = 0; i < 3; i++) {
        expect((await asToken(["secrets", "get", "other/B"])).code).toBe(4);
        expect((await asToken(["secrets", "get", "prod/MISSING"])).code).toBe(3);
      }
      const listed = JSON.parse((await asOwner(h)(["tokens", "list", "--json"])).stdout) as { items: { id: string; uses: number; status: string }[] };
      expect(listed.items.find((x) => x.id === t.id)).toMatchObject({ uses: 0, status: "active" });
      for (let i = 0; i < 2; i++) expect((await asToken(["secrets", "get", "prod/A"])).stdout).toBe("value-a-123456");
      expect((await asToken(["secrets", "get", "prod/A"])).code).toBe(4);
    },
    ATTACK_TIMEOUT_MS,
  );

  it(
    "a 5-use token family makes exactly 5 reads, however it issues children, and shows as spent",
    async () => {
      const h = await unlockedVault([["prod/A", "value-a-123456"]]);
      const parent = await tokenFor(h, ["--scope", "secrets:read:prod/*", "--uses", "5"]);
      const asParent = as(h, { AUTHY_TOKEN: parent.token });
      const child = JSON.parse((await asParent(["tokens", "create", "--json", "--scope", "secrets:read:prod/*", "--uses", "5"])).stdout) as {
        token: string;
        id: string;
      };
      const grandchild = JSON.parse((await as(h, { AUTHY_TOKEN: child.token })(["tokens", "create", "--json", "--scope", "secrets:read:prod/*"])).stdout) as {
        token: string;
        id: string;
      };
      const family = [parent, child, grandchild, child, parent, grandchild];
      let reads = 0;
      for (let i = 0; i < 18; i++) {
        const r = await as(h, { AUTHY_TOKEN: family[i % family.length]!.token })(["secrets", "get", "prod/A"]);
        if (r.code === 0) {
          expect(r.stdout).toBe("value-a-123456");
          reads++;
        } else expect(r.code).toBe(4);
      }
      expect(reads).toBe(5);
      const listed = JSON.parse((await asOwner(h)(["tokens", "list", "--json"])).stdout) as { items: { id: string; status: string }[] };
      for (const t of [parent, child, grandchild]) expect(listed.items.find((x) => x.id === t.id)?.status).toBe("spent");
      const table = await asOwner(h)(["tokens", "list"]);
      expect(table.stdout).toMatch(new RegExp(`${parent.id}.*spent`));
    },
    ATTACK_TIMEOUT_MS,
  );

  it(
    "records run.end for a token's run, even when the run spent its last use",
    async () => {
      const h = await unlockedVault([["prod/A", "value-a-123456"]]);
      const t = await tokenFor(h, ["--scope", "secrets:read:prod/*", "--uses", "1"]);
      const r = await as(h, { AUTHY_TOKEN: t.token })(["run", "--env", "A=authy://prod/A", "--", "/bin/sh", "-c", "exit 3"]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).not.toContain("could not record run.end");
      const log = await auditLog(h);
      const start = log.find((e) => e.action === "run.start")!;
      const end = log.find((e) => e.action === "run.end")!;
      expect(start.actor).toBe(`token:${t.id}`);
      expect(end).toMatchObject({ actor: `token:${t.id}`, resource: "sh", outcome: "ok" });
      expect(end.details).toMatchObject({ run: start.details.run, exitCode: 3 });
    },
    ATTACK_TIMEOUT_MS,
  );
});

describe("hostile: existence oracles", () => {
  const policy = 'scopes:\n  admin:\n    allow:\n      - { path: "**", capabilities: [read, list] }\n';

  it(
    "probes for an existing and a missing name get the same answer and exit code, and are audited",
    async () => {
      const h = await unlockedVault(
        [
          ["prod/A", "value-a-123456"],
          ["other/EXISTS", "hidden-123456"],
        ],
        policy,
      );
      const t = await tokenFor(h, ["--scope", "secrets:read:prod/*"]);
      const attacker = as(h, { AUTHY_TOKEN: t.token });
      const probes: [string[], string[]][] = [
        [
          ["env", "export", "other", "--keys", "EXISTS"],
          ["env", "export", "other", "--keys", "MISSING"],
        ],
        [
          ["run", "--env", "X=authy://other/EXISTS", "--", "true"],
          ["run", "--env", "X=authy://other/MISSING", "--", "true"],
        ],
        [
          ["secrets", "get", "other/EXISTS"],
          ["secrets", "get", "other/MISSING"],
        ],
      ];
      for (const [existing, missing] of probes) {
        const a = await attacker(existing);
        const b = await attacker(missing);
        same(a, b, "EXISTS", "MISSING");
        expect(a.code, a.stderr).toBe(4);
      }
      // Which scopes the policy holds is not the token's to learn either.
      const scoped = await attacker(["run", "--scope", "admin", "--", "true"]);
      const unscoped = await attacker(["run", "--scope", "nosuch", "--", "true"]);
      same(scoped, unscoped, "admin", "nosuch");
      expect(scoped.code).toBe(4);
      const denied = (await auditLog(h)).filter((e) => e.actor === `token:${t.id}` && e.outcome === "denied");
      for (const name of ["other/EXISTS", "other/MISSING"]) expect(denied.filter((e) => e.resource === name).length).toBeGreaterThanOrEqual(3);
      expect(denied.filter((e) => e.action === "scope.use.denied")).toHaveLength(2);
    },
    ATTACK_TIMEOUT_MS,
  );

  it(
    "a probe for a missing name the token may read is audited too",
    async () => {
      const h = await unlockedVault([["prod/A", "value-a-123456"]]);
      const t = await tokenFor(h, ["--scope", "secrets:read:prod/*"]);
      expect((await as(h, { AUTHY_TOKEN: t.token })(["secrets", "get", "prod/NOPE"])).code).toBe(3);
      expect((await as(h, { AUTHY_TOKEN: t.token })(["run", "--env", "X=authy://prod/NOPE", "--", "true"])).code).toBe(3);
      const probes = (await auditLog(h)).filter((e) => e.actor === `token:${t.id}` && e.outcome === "error");
      expect(probes.map((e) => e.action).sort()).toEqual(["run.start", "secret.read"]);
    },
    ATTACK_TIMEOUT_MS,
  );
});

describe("hostile: refusals before the core", () => {
  it(
    "audits owner-only routes called by a token or an agent, guessed sessions and bearers of no known kind",
    async () => {
      const h = await unlockedVault([["prod/A", "value-a-123456"]]);
      const t = await tokenFor(h, ["--scope", "secrets:read:prod/*"]);
      const agent = await asOwner(h)(["agents", "create", "bot", "--scope", "secrets:read:prod/*"]);
      expect(agent.code, agent.stderr).toBe(0);
      const replies = (await http(h, {
        requests: [
          { method: "GET", url: "/v1/agents", bearer: t.token },
          { method: "GET", url: "/v1/audit", bearer: agent.stdout.trim() },
          { method: "GET", url: "/v1/secrets/prod/A", bearer: `authy_os_${"A".repeat(43)}` },
          { method: "GET", url: "/v1/secrets/prod/A", bearer: "hello" },
        ],
      })) as { status: number }[];
      expect(replies.map((r) => r.status)).toEqual([403, 403, 401, 401]);
      const log = await auditLog(h);
      expect(log).toContainEqual(expect.objectContaining({ actor: `token:${t.id}`, action: "request.denied", resource: "GET /v1/agents", outcome: "denied" }));
      expect(log).toContainEqual(expect.objectContaining({ actor: "agent:bot", action: "request.denied", resource: "GET /v1/audit", outcome: "denied" }));
      expect(log).toContainEqual(expect.objectContaining({ actor: "session:unknown", action: "auth.denied", outcome: "denied" }));
      expect(log).toContainEqual(expect.objectContaining({ actor: "bearer:unknown", action: "auth.denied", outcome: "denied" }));
    },
    ATTACK_TIMEOUT_MS,
  );

  it(
    "a flood of 10,000 bad credentials leaves a bounded number of entries that count them all",
    async () => {
      const h = await unlockedVault([["prod/A", "value-a-123456"]]);
      const counts = (await http(h, {
        requests: [{ method: "GET", url: "/v1/secrets/prod/A" }],
        randomToken: true,
        repeat: 10_000,
        concurrency: 16,
      })) as Record<string, number>;
      expect(counts).toEqual({ 401: 10_000 });
      expect((await asOwner(h)(["lock"])).code).toBe(0); // the daemon writes the counts still open before it locks
      const refused = (await auditLog(h)).filter((e) => e.action === "token.use.denied");
      expect(refused.length).toBeGreaterThanOrEqual(1);
      expect(refused.length).toBeLessThanOrEqual(4);
      expect(refused.every((e) => e.actor === "token:unknown")).toBe(true);
      // The first of a window is written as it happens; the rest of the window as one count.
      expect(refused.reduce((n, e) => n + (e.details.repeats === undefined ? 1 : Number(e.details.repeats)), 0)).toBe(10_000);
      const verify = await authyAs(["audit", "verify"], { dir: h.dir, home: h.home, env: owner });
      expect(verify.code, verify.stderr).toBe(0);
    },
    ATTACK_TIMEOUT_MS,
  );
});

describe("hostile: what the owner sees", () => {
  const ESC = "\u001b";
  const fakeRow = "2026-01-01T00:00:00Z  ok  owner  secret.read  prod/ROOT";

  it(
    "audit and audit --follow print escapes, newlines and padding of a caller's command visibly",
    async () => {
      const h = await unlockedVault([["prod/A", "value-a-123456"]]);
      const t = await tokenFor(h, ["--scope", "secrets:read:prod/*"]);
      const command = `deploy${ESC}[2J${ESC}[H\n${fakeRow}${" ".repeat(150)}${fakeRow}`;
      const [r] = (await http(h, {
        requests: [{ method: "POST", url: "/v1/dispatch", bearer: t.token, body: { command, refs: [{ name: "A", path: "prod/A", source: "--env" }] } }],
      })) as { status: number }[];
      expect(r!.status).toBe(200);
      const shown = await authyAs(["audit", "--action", "run.start"], { dir: h.dir, home: h.home, env: owner });
      expect(shown.code, shown.stderr).toBe(0);
      const check = (out: string) => {
        expect(out).not.toContain(ESC);
        expect(out).toContain("\\x1b[2J");
        expect(out).toContain("[150 spaces]");
        for (const line of out.split("\n")) expect(line.startsWith("2026-01-01T00:00:00Z")).toBe(false);
        expect(out.split("\n").filter((l) => l.trim() !== "")).toHaveLength(2); // the header and one row
      };
      check(shown.stdout);
      // --follow prints the same rows, and keeps going until interrupted.
      const follow = spawnAs(process.execPath, [CLI, "audit", "--follow", "--action", "run.start"], { env: hostileEnv(h.dir, h.home, owner), cwd: h.dir });
      let out = "";
      follow.stdout!.on("data", (d: Buffer) => (out += d.toString("utf8")));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`--follow printed nothing: ${out}`)), 20_000);
        follow.stdout!.on("data", () => {
          if (out.includes("run.start")) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      follow.kill("SIGINT");
      await new Promise((r) => follow.on("close", r));
      check(out);
    },
    ATTACK_TIMEOUT_MS,
  );

  it(
    "approvals list shows a reason padded with spaces on its own row, visibly, never a fake request below it",
    async () => {
      const h = await unlockedVault([["prod/SENS", "sensitive-123456", "sensitive"]]);
      const t = await tokenFor(h, ["--scope", "secrets:read:prod/*"]);
      const reason = `backup${" ".repeat(180)}apr_fakefakefa  pending  agent-x  read  prod/ROOT  critical`;
      const asked = await as(h, { AUTHY_TOKEN: t.token })(["secrets", "get", "prod/SENS", "--no-wait", "--reason", reason]);
      expect(asked.code, asked.stderr).toBe(5);
      const list = await authyAs(["approvals", "list"], { dir: h.dir, home: h.home, env: owner });
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toContain("backup[180 spaces]apr_fakefakefa[2 spaces]pending");
      expect(list.stdout.split("\n").filter((l) => l.includes("apr_"))).toHaveLength(1);
      expect(list.stdout).not.toMatch(/^apr_fake/m);
    },
    ATTACK_TIMEOUT_MS,
  );
});

describe("hostile: grants by identity", () => {
  it(
    "a grant to agent x does not serve a new agent x, and revoking x ends its grants and its tokens for good",
    async () => {
      const h = await unlockedVault([["prod/SENS", "sensitive-123456", "sensitive"]]);
      const created = await asOwner(h)(["agents", "create", "x", "--scope", "secrets:read:prod/*"]);
      expect(created.code, created.stderr).toBe(0);
      const oldKey = created.stdout.trim();
      const oldToken = JSON.parse((await as(h, { AUTHY_AGENT_KEY: oldKey })(["tokens", "create", "--json", "--ttl", "1h"])).stdout) as { token: string };
      const asked = await as(h, { AUTHY_TOKEN: oldToken.token })(["secrets", "get", "prod/SENS", "--no-wait", "--json"]);
      expect(asked.code).toBe(5);
      const id = (JSON.parse((await authyAs(["approvals", "list", "--json"], { dir: h.dir, home: h.home, env: owner })).stdout) as { items: { id: string }[] })
        .items[0]!.id;
      expect((await asOwner(h)(["approvals", "approve", id, "--for", "1h"])).code).toBe(0);
      expect((await as(h, { AUTHY_TOKEN: oldToken.token })(["secrets", "get", "prod/SENS"])).stdout).toBe("sensitive-123456");

      expect((await asOwner(h)(["agents", "revoke", "x"])).code).toBe(0);
      const again = await asOwner(h)(["agents", "create", "x", "--scope", "secrets:read:prod/*"]);
      expect(again.code, again.stderr).toBe(0);
      const newKey = again.stdout.trim();
      const read = await as(h, { AUTHY_AGENT_KEY: newKey })(["secrets", "get", "prod/SENS", "--no-wait"]);
      expect(read.code, read.stderr).toBe(5);
      expect(read.stdout).not.toContain("sensitive-123456");
      // The old agent's token does not come back with the name.
      const old = await as(h, { AUTHY_TOKEN: oldToken.token })(["secrets", "get", "prod/SENS"]);
      expect(old.code).toBe(4);
      expect(old.stdout).not.toContain("sensitive-123456");
      const grants = (
        JSON.parse((await authyAs(["approvals", "list", "--json"], { dir: h.dir, home: h.home, env: owner })).stdout) as {
          items: { id: string; status: string }[];
        }
      ).items;
      expect(grants.find((g) => g.id === id)?.status).toBe("expired");
    },
    ATTACK_TIMEOUT_MS,
  );
});

describe("hostile: tiers", () => {
  it(
    "a token with write cannot open a sensitive value by lowering its tier and rolling back: the value comes back sensitive",
    async () => {
      const v1 = "db-v1-canary-8c1e5d";
      const h = await unlockedVault([["prod/DB", v1, "sensitive"]]);
      const t = await tokenFor(h, ["--scope", "secrets:read+write:prod/*"]);
      const attacker = as(h, { AUTHY_TOKEN: t.token });
      const lowered = await attacker(["secrets", "set", "prod/DB", "--tier", "standard"], "junk-v2");
      expect(lowered.code, lowered.stderr).toBe(0);
      const rolled = await attacker(["secrets", "rollback", "prod/DB", "1", "--json"]);
      expect(rolled.code, rolled.stderr).toBe(0);
      for (const attempt of [
        ["secrets", "get", "prod/DB"],
        ["secrets", "get", "prod/DB", "--revision", "1"],
        ["read", "authy://prod/DB"],
      ]) {
        const r = await attacker([...attempt, "--no-wait"]);
        expect(r.stdout + r.stderr).not.toContain(v1);
        expect(r.code, `${attempt.join(" ")}: ${r.stderr}`).toBe(5);
      }
      expect(JSON.parse(rolled.stdout)).toMatchObject({ path: "prod/DB", version: 3, tier: "sensitive" });
      const listed = JSON.parse((await asOwner(h)(["secrets", "list", "prod", "--json"])).stdout) as { items: { path: string; tier: string }[] };
      expect(listed.items.find((s) => s.path === "prod/DB")?.tier).toBe("sensitive");
      expect((await asOwner(h)(["secrets", "get", "prod/DB"])).stdout).toBe(v1);

      // The owner's own rollback is unchanged: it keeps the current tier.
      expect((await asOwner(h)(["secrets", "set", "prod/DB", "--tier", "standard"], "owner-v4")).code).toBe(0);
      const byOwner = await asOwner(h)(["secrets", "rollback", "prod/DB", "1", "--json"]);
      expect(byOwner.code, byOwner.stderr).toBe(0);
      expect(JSON.parse(byOwner.stdout)).toMatchObject({ version: 5, tier: "standard" });
    },
    ATTACK_TIMEOUT_MS,
  );

  it(
    "a token with read+write+delete cannot soft-delete or purge a critical secret without the owner's approval (exit 5 with --no-wait, value and history intact); with --wait it deletes once approved; standard and sensitive deletes and the owner's need none",
    async () => {
      const v2 = "root-v2-canary-9d41c7";
      const h = await unlockedVault([
        ["prod/ROOT", "root-v1-canary-2b7e", "critical"],
        ["prod/PLAIN", "plain-v1"],
        ["prod/DB", "db-v1", "sensitive"],
        ["prod/OWNED", "owned-v1", "critical"],
      ]);
      expect((await asOwner(h)(["secrets", "set", "prod/ROOT"], v2)).code).toBe(0);
      const t = await tokenFor(h, ["--scope", "secrets:read+write+delete:prod/*"]);
      const token = as(h, { AUTHY_TOKEN: t.token });
      const intact = async () => {
        expect((await asOwner(h)(["secrets", "get", "prod/ROOT"])).stdout).toBe(v2);
        const history = await asOwner(h)(["secrets", "history", "prod/ROOT", "--json"]);
        expect(history.code, history.stderr).toBe(0);
        expect((JSON.parse(history.stdout) as { versions: { version: number }[] }).versions.map((v) => v.version)).toEqual([1, 2]);
      };

      const soft = await token(["secrets", "delete", "prod/ROOT", "--yes", "--no-wait", "--reason", "key retired"]);
      expect(soft.code, soft.stderr).toBe(5);
      expect(soft.stderr).toContain("the owner's approval is needed to delete prod/ROOT (critical)");
      const softId = soft.stdout.trim();
      expect(softId).toMatch(/^apr_\w+$/);
      expect(await hintNamesOnlyItsFlags(token, soft, ["secrets", "delete"])).toContain("--wait");
      const purge = await token(["secrets", "delete", "prod/ROOT", "--yes", "--purge", "--no-wait", "--reason", "key retired"]);
      expect(purge.code, purge.stderr).toBe(5);
      expect(purge.stderr).toContain("the owner's approval is needed to purge prod/ROOT (critical)");
      const purgeId = purge.stdout.trim();
      expect(purgeId).toMatch(/^apr_\w+$/);
      expect(purgeId).not.toBe(softId);
      const pending = await approvalsOf(h);
      expect(pending).toHaveLength(2);
      expect(pending).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: softId, status: "pending", action: "secret.delete", path: "prod/ROOT", tier: "critical", reason: "key retired" }),
          expect.objectContaining({ id: purgeId, status: "pending", action: "secret.purge", path: "prod/ROOT", tier: "critical", reason: "key retired" }),
        ]),
      );
      await intact();

      // --wait joins the pending request; the owner approves (both), and the soft delete goes through.
      const deleted = await approvedWhileWaiting(h, t.token, ["secrets", "delete", "prod/ROOT", "--yes", "--wait", "30s", "--json"], [softId]);
      expect(deleted.code, deleted.stderr).toBe(0);
      expect(deleted.stderr).toContain(`waiting for approval ${softId} (token ${t.id} wants to delete prod/ROOT: "key retired")`);
      expect(JSON.parse(deleted.stdout)).toMatchObject({ path: "prod/ROOT", purged: false });
      expect((await asOwner(h)(["secrets", "get", "prod/ROOT"])).code).toBe(3);
      expect((await asOwner(h)(["secrets", "restore", "prod/ROOT"])).code).toBe(0);
      await intact();
      // Single use: the next delete asks again.
      expect((await token(["secrets", "delete", "prod/ROOT", "--yes", "--no-wait"])).code).toBe(5);
      await intact();
      // The purge request was approved too: it is spent by the purge, and only by it.
      const purged = await token(["secrets", "delete", "prod/ROOT", "--yes", "--purge", "--no-wait", "--json"]);
      expect(purged.code, purged.stderr).toBe(0);
      expect(JSON.parse(purged.stdout)).toMatchObject({ path: "prod/ROOT", purged: true });
      expect((await asOwner(h)(["secrets", "history", "prod/ROOT"])).code).toBe(3);
      expect((await approvalsOf(h)).filter((a) => a.id === softId || a.id === purgeId).map((a) => a.status)).toEqual(["used", "used"]);

      // Standard and sensitive: by scope alone. The owner's own delete of a critical one: no approval.
      const before = (await approvalsOf(h)).length;
      for (const args of [
        ["secrets", "delete", "prod/PLAIN", "--yes", "--no-wait"],
        ["secrets", "delete", "prod/DB", "--yes", "--purge", "--no-wait"],
      ]) {
        const r = await token(args);
        expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
      }
      for (const args of [
        ["secrets", "delete", "prod/OWNED", "--yes"],
        ["secrets", "delete", "prod/OWNED", "--yes", "--purge"],
      ]) {
        const r = await asOwner(h)(args);
        expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
      }
      expect(await approvalsOf(h)).toHaveLength(before);
      const left = JSON.parse((await asOwner(h)(["secrets", "list", "prod", "--deleted", "--json"])).stdout) as { items: { path: string }[] };
      expect(left.items.map((i) => i.path)).toEqual(["prod/PLAIN"]);
    },
    ATTACK_TIMEOUT_MS,
  );
});

describe("hostile: a rollback that needs the write approval", () => {
  it(
    "a token's rollback of a critical secret takes --no-wait (exit 5, a hint naming only flags it has) and --wait (the owner approves, it completes)",
    async () => {
      const v1 = "root-v1-canary-41d0b2";
      const h = await unlockedVault([["prod/ROOT", v1, "critical"]]);
      expect((await asOwner(h)(["secrets", "set", "prod/ROOT"], "root-v2-3f9a")).code).toBe(0);
      const t = await tokenFor(h, ["--scope", "secrets:read+write:prod/*"]);
      const token = as(h, { AUTHY_TOKEN: t.token });

      const asked = await token(["secrets", "rollback", "prod/ROOT", "1", "--no-wait", "--reason", "undo a bad deploy"]);
      expect(asked.code, asked.stderr).toBe(5);
      const id = asked.stdout.trim();
      expect(id).toMatch(/^apr_\w+$/);
      const hint = asked.stderr.split("\n").find((l) => l.startsWith("hint: "));
      expect(hint, asked.stderr).toBeDefined();
      const named = hint!.match(/--[a-z][a-z-]*/g) ?? [];
      expect(named, hint).toContain("--wait");
      const help = await token(["secrets", "rollback", "--help"]);
      expect(help.code, help.stderr).toBe(0);
      for (const flag of named) expect(help.stdout, `the hint names ${flag}`).toContain(flag);
      const pending = JSON.parse((await asOwner(h)(["approvals", "list", "--json"])).stdout) as { items: Record<string, unknown>[] };
      expect(pending.items).toMatchObject([{ id, status: "pending", action: "secret.write", path: "prod/ROOT", reason: "undo a bad deploy" }]);

      // --wait: the command says what it waits for, the owner approves, and the rollback goes through.
      const child = spawnAs(process.execPath, ["--", CLI, "secrets", "rollback", "prod/ROOT", "1", "--wait", "30s", "--json"], {
        env: hostileEnv(h.dir, h.home, { AUTHY_TOKEN: t.token }),
        cwd: h.dir,
      });
      const waited = finished(child, undefined, 60_000);
      let stderr = "";
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
      for (let i = 0; i < 300 && !stderr.includes(`waiting for approval ${id}`); i++) {
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(stderr).toContain(`waiting for approval ${id} (token ${t.id} wants to write prod/ROOT: "undo a bad deploy")`);
      const approved = await asOwner(h)(["approvals", "approve", id]);
      expect(approved.code, approved.stderr).toBe(0);
      const rolled = await waited;
      expect(rolled.code, rolled.stderr).toBe(0);
      expect(rolled.stderr).toContain("approved; continuing");
      expect(JSON.parse(rolled.stdout)).toMatchObject({ path: "prod/ROOT", version: 3, tier: "critical" });
      expect((await asOwner(h)(["secrets", "get", "prod/ROOT"])).stdout).toBe(v1);
      const used = JSON.parse((await asOwner(h)(["approvals", "list", "--json"])).stdout) as { items: Record<string, unknown>[] };
      expect(used.items).toMatchObject([{ id, status: "used" }]);
    },
    ATTACK_TIMEOUT_MS,
  );
});

/**
 * The flags an exit-5 hint names, each checked against `--help` of the command that printed
 * it: a hint that says "--wait" to a command without --wait sends an agent to a usage error.
 */
async function hintNamesOnlyItsFlags(run: ReturnType<typeof as>, asked: Result, command: string[]): Promise<string[]> {
  const hint = asked.stderr.split("\n").find((l) => l.startsWith("hint: "));
  expect(hint, asked.stderr).toBeDefined();
  const named = hint!.match(/--[a-z][a-z-]*/g) ?? [];
  const help = await run([...command, "--help"]);
  expect(help.code, help.stderr).toBe(0);
  for (const flag of named) expect(help.stdout, `\`authy ${command.join(" ")}\`'s hint names ${flag}`).toContain(flag);
  return named;
}

/**
 * Runs a command of the token's that waits for the owner (--wait): once it says on stderr
 * that it waits for every one of `ids`, the owner approves them all (`approve --all`), and
 * the command's result is returned.
 */
async function approvedWhileWaiting(h: Home, token: string, args: string[], ids: string[], input?: string): Promise<Result> {
  const child = spawnAs(process.execPath, ["--", CLI, ...args], { env: hostileEnv(h.dir, h.home, { AUTHY_TOKEN: token }), cwd: h.dir });
  const waited = finished(child, input, 60_000);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  for (let i = 0; i < 300 && !ids.every((id) => stderr.includes(`waiting for approval ${id}`)); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const id of ids) expect(stderr).toContain(`waiting for approval ${id}`);
  const approved = await asOwner(h)(["approvals", "approve", "--all", "--yes"]);
  expect(approved.code, approved.stderr).toBe(0);
  const done = await waited;
  expect(done.stderr).toContain("approved; continuing");
  return done;
}

const approvalsOf = async (h: Home) => (JSON.parse((await asOwner(h)(["approvals", "list", "--json"])).stdout) as { items: Record<string, unknown>[] }).items;

describe("hostile: generate and the importers, when writing a critical secret needs the approval", () => {
  it(
    "a token's `secrets generate --force` over a critical secret takes --no-wait and --reason (exit 5, a hint naming only its flags) and --wait (the owner approves, it completes)",
    async () => {
      const v1 = "root-v1-canary-5be2a0";
      const h = await unlockedVault([["prod/ROOT", v1, "critical"]]);
      const t = await tokenFor(h, ["--scope", "secrets:read+write:prod/*"]);
      const token = as(h, { AUTHY_TOKEN: t.token });

      const asked = await token(["secrets", "generate", "prod/ROOT", "--force", "--no-wait", "--reason", "rotate after the leak"]);
      expect(asked.code, asked.stderr).toBe(5);
      const id = asked.stdout.trim();
      expect(id).toMatch(/^apr_\w+$/);
      expect(await hintNamesOnlyItsFlags(token, asked, ["secrets", "generate"])).toContain("--wait");
      expect(await approvalsOf(h)).toMatchObject([{ id, status: "pending", action: "secret.write", path: "prod/ROOT", reason: "rotate after the leak" }]);
      expect((await asOwner(h)(["secrets", "get", "prod/ROOT"])).stdout).toBe(v1);

      // --wait joins the pending request; once approved the new value is stored, as version 2.
      const made = await approvedWhileWaiting(h, t.token, ["secrets", "generate", "prod/ROOT", "--force", "--wait", "30s", "--json"], [id]);
      expect(made.code, made.stderr).toBe(0);
      expect(JSON.parse(made.stdout)).toMatchObject({ path: "prod/ROOT", version: 2, tier: "critical" });
      const now = (await asOwner(h)(["secrets", "get", "prod/ROOT"])).stdout;
      expect(now).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(await approvalsOf(h)).toMatchObject([{ id, status: "used" }]);
    },
    ATTACK_TIMEOUT_MS,
  );

  it(
    "a token's `env import` and `authy import json` over critical secrets take --no-wait and --reason (exit 5, a hint naming only their flags); with --wait the import waits for every request and writes all of it once approved",
    async () => {
      const h = await unlockedVault([
        ["prod/ROOT", "root-v1-canary-77c1", "critical"],
        ["prod/SIGNING", "signing-v1-canary-0d9e", "critical"],
        ["prod/PLAIN", "plain-v1"],
      ]);
      const t = await tokenFor(h, ["--scope", "secrets:read+write:prod/*"]);
      const token = as(h, { AUTHY_TOKEN: t.token });
      const dotenv = "ROOT=root-v2\nSIGNING=signing-v2\nPLAIN=plain-v2\n";

      const asked = await token(["env", "import", "-", "--namespace", "prod", "--no-wait", "--reason", "sync from staging"], dotenv);
      expect(asked.code, asked.stderr).toBe(5);
      const ids = asked.stdout.trim().split("\n");
      expect(ids).toHaveLength(2);
      for (const id of ids) expect(id).toMatch(/^apr_\w+$/);
      expect(await hintNamesOnlyItsFlags(token, asked, ["env", "import"])).toContain("--wait");
      const pending = await approvalsOf(h);
      expect(pending).toHaveLength(2);
      expect(pending).toEqual(
        expect.arrayContaining(
          ["prod/ROOT", "prod/SIGNING"].map((path) =>
            expect.objectContaining({ status: "pending", action: "secret.write", path, reason: "sync from staging" }),
          ),
        ),
      );
      // All or nothing: not even the standard secret is written while the approvals are pending.
      expect((await asOwner(h)(["secrets", "get", "prod/PLAIN"])).stdout).toBe("plain-v1");

      // The importers write through the same import: their hint, too, names only their flags.
      const json = JSON.stringify({ ROOT: "root-v2", SIGNING: "signing-v2", PLAIN: "plain-v2" });
      const imported = await token(["import", "json", "-", "--namespace", "prod", "--no-wait", "--reason", "sync from staging"], json);
      expect(imported.code, imported.stderr).toBe(5);
      expect(imported.stdout.trim().split("\n").sort()).toEqual([...ids].sort());
      expect(await hintNamesOnlyItsFlags(token, imported, ["import"])).toContain("--wait");

      // --wait: both requests are waited for; approved, the whole import is written at once.
      const done = await approvedWhileWaiting(h, t.token, ["env", "import", "-", "--namespace", "prod", "--wait", "30s", "--json"], ids, dotenv);
      expect(done.code, done.stderr).toBe(0);
      expect(JSON.parse(done.stdout)).toMatchObject({ namespace: "prod", counts: { create: 0, update: 3, unchanged: 0, skip: 0 } });
      for (const [key, value] of [
        ["ROOT", "root-v2"],
        ["SIGNING", "signing-v2"],
        ["PLAIN", "plain-v2"],
      ]) {
        expect((await asOwner(h)(["secrets", "get", `prod/${key}`])).stdout).toBe(value);
      }
      expect((await approvalsOf(h)).map((a) => a.status)).toEqual(["used", "used"]);
    },
    ATTACK_TIMEOUT_MS,
  );
});

describe("hostile: masking", () => {
  it(
    "masks a value printed with lower-case percent-encoding (%2f)",
    async () => {
      const { dir, home, cleanup } = hostileHome();
      try {
        await initVaultAs(dir, home);
        const value = "pa/ss:w@rd?1234567890";
        expect((await authyAs(["secrets", "set", "prod/URLISH"], { dir, home, env: owner, input: value })).code).toBe(0);
        const print = "process.stdout.write(encodeURIComponent(process.env.S).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()))";
        const r = await authyAs(["run", "--env", "S=authy://prod/URLISH", "--", process.execPath, "-e", print], { dir, home, env: owner });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).not.toContain("pa%2fss%3aw%40rd%3f1234567890");
        expect(r.stdout).toBe("<authy:masked>");
      } finally {
        cleanup();
      }
    },
    ATTACK_TIMEOUT_MS,
  );
});
