/**
 * What only a shared database has: several OS processes (each its own Node, its own pool, its
 * own unlocked Vault, as several server processes would be) on one real PostgreSQL database.
 * The worker (vault-worker.test-helpers.ts) is bundled from src/ with esbuild, so the children
 * run the code as it is now.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { build } from "esbuild";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/setup/postgres-database.js";
import { systemClock } from "../../vault/clock.js";
import { Vault } from "../../vault/vault.js";
import { openPostgresStore, type PostgresStore } from "./postgres-store.js";
import { MIGRATIONS } from "./postgres-schema.js";

const PASSPHRASE = "shared vault";
let dir: string;
let workerFile: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "authy-pg-workers-"));
  workerFile = path.join(dir, "worker.mjs");
  await build({
    entryPoints: [path.join(import.meta.dirname, "vault-worker.test-helpers.ts")],
    outfile: workerFile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "error",
  });
  await writeFile(path.join(dir, "package.json"), '{ "type": "module" }\n');
  // The bundle imports pg, yaml, zod… by name: resolved through this link to the checkout's node_modules.
  await symlink(path.resolve(import.meta.dirname, "../../../node_modules"), path.join(dir, "node_modules"), "dir");
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Worker {
  child: ChildProcess;
  send(cmd: Record<string, unknown>): Promise<Record<string, unknown>>;
  done: Promise<number | null>;
}

const workers: Worker[] = [];

function startWorker(url: string, ...args: string[]): Worker {
  const child = spawn(process.execPath, [workerFile, url, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const waiting: ((line: Record<string, unknown>) => void)[] = [];
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout }).on("line", (l) => {
    const parsed = JSON.parse(l) as Record<string, unknown>;
    const w = waiting.shift();
    if (w) w(parsed);
    else lines.push(parsed);
  });
  const done = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const l = lines.shift();
      if (l) return resolve(l);
      waiting.push(resolve);
      void done.then((code) => reject(new Error(`worker exited (${code}): ${stderr}`)));
    });
  const w: Worker = {
    child,
    done,
    send: (cmd) => {
      child.stdin.write(JSON.stringify(cmd) + "\n");
      return next();
    },
  };
  if (args[0] === "migrate") w.send = () => next();
  workers.push(w);
  return w;
}

async function stopWorkers(): Promise<void> {
  for (const w of workers.splice(0)) {
    if (w.child.exitCode === null) w.child.kill("SIGKILL");
    await w.done;
  }
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

let db: TestDatabase;
let store: PostgresStore | undefined;
let owner: Vault | undefined;

beforeAll(async () => {
  db = await createTestDatabase("processes");
});
afterAll(async () => {
  await db.drop();
});
afterEach(async () => {
  await stopWorkers();
  await owner?.close();
  await store?.close();
  owner = undefined;
  store = undefined;
  await db.reset();
});

/** The owner's vault, created in this process; `n` workers with the vault unlocked. */
async function sharedVault(n: number): Promise<Worker[]> {
  store = await openPostgresStore(db.url);
  owner = await Vault.init({ store, clock: systemClock }, { passphrase: PASSPHRASE, workFactor: 15 });
  const ws = Array.from({ length: n }, () => startWorker(db.url));
  for (const w of await Promise.all(ws.map((w) => w.send({ op: "unlock", passphrase: PASSPHRASE })))) expect(w).toEqual({ unlocked: true });
  return ws;
}

describe("PostgresStore across OS processes", () => {
  it("runs the numbered migrations once when three processes open a new database at once", async () => {
    const ws = [0, 1, 2].map(() => startWorker(db.url, "migrate"));
    expect(await Promise.all(ws.map((w) => w.send({})))).toEqual([{ opened: true }, { opened: true }, { opened: true }]);
    expect(await Promise.all(ws.map((w) => w.done))).toEqual([0, 0, 0]);
    const applied = await query<{ version: number; applied_by: string }>(db.url, "SELECT version, applied_by FROM authy_migrations ORDER BY version");
    expect(applied.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(ws.map((w) => `pid ${w.child.pid}`)).toContain(applied[0]!.applied_by);
    expect(new Set(applied.map((m) => m.applied_by)).size).toBe(1);
    // And a later open finds nothing to do.
    const again = await openPostgresStore(db.url);
    await again.close();
    expect(await query(db.url, "SELECT version FROM authy_migrations")).toHaveLength(MIGRATIONS.length);
  });

  it("keeps the audit log one chain, with no fork and no gap, when three processes append at once", async () => {
    const ws = await sharedVault(3);
    const before = (await owner!.verifyAudit()).entries;
    const results = await Promise.all(ws.map((w) => w.send({ op: "events", n: 40 })));
    for (const r of results) expect(r).toEqual({ ok: 40, errors: [] });
    const report = await owner!.verifyAudit();
    expect(report.ok).toBe(true);
    expect(report.entries).toBe(before + 120);
    const seqs = await query<{ n: number; lo: number; hi: number; distinct_prev: number }>(
      db.url,
      "SELECT count(*)::int AS n, min(seq)::int AS lo, max(seq)::int AS hi, count(DISTINCT prev_hash)::int AS distinct_prev FROM audit",
    );
    // Contiguous seq 1..n, and no two entries claim the same predecessor (a fork would).
    expect(seqs[0]).toEqual({ n: report.entries, lo: 1, hi: report.entries, distinct_prev: report.entries });
    const events = await query<{ n: number }>(db.url, "SELECT count(*)::int AS n FROM audit WHERE action = 'test.event'");
    expect(events[0]!.n).toBe(120);
  });

  it("lets a single-use token succeed exactly once among 100 concurrent uses spread over four processes", async () => {
    const ws = await sharedVault(4);
    const { secret } = await owner!.createToken({ scope: await owner!.resolveScope("secrets:read:prod/*"), uses: 1, instance: "server", label: "once" });
    const results = await Promise.all(ws.map((w) => w.send({ op: "useToken", token: secret, instance: "server", n: 25 })));
    expect(results.reduce((n, r) => n + (r.ok as number), 0)).toBe(1);
    const refused = results.reduce((n, r) => n + Object.values(r.reasons as Record<string, number>).reduce((a, b) => a + b, 0), 0);
    expect(refused).toBe(99);
    expect((await owner!.listTokens("server"))[0]!.uses).toBe(1);
  });

  it("shows every process a token's uses, its revocation and an approval at once", async () => {
    const [a, b] = await sharedVault(2);
    await owner!.setSecret("prod/DB", Buffer.from("db-value"), { tier: "sensitive" });
    await owner!.setSecret("prod/API", Buffer.from("api-value"));
    const { token, secret } = await owner!.createToken({
      scope: await owner!.resolveScope("secrets:read:prod/*"),
      uses: 10,
      instance: "server",
      label: "shared",
    });
    // Uses: each process counts from what the other spent.
    expect(await a!.send({ op: "useToken", token: secret, instance: "server", n: 1 })).toMatchObject({ ok: 1, uses: [1] });
    expect(await b!.send({ op: "useToken", token: secret, instance: "server", n: 1 })).toMatchObject({ ok: 1, uses: [2] });
    expect(await a!.send({ op: "useToken", token: secret, instance: "server", n: 1 })).toMatchObject({ ok: 1, uses: [3] });
    // An approval asked for in one process, granted by the owner in this one, used in the other.
    const asked = await a!.send({ op: "getAs", token: secret, instance: "server", path: "prod/DB" });
    expect(asked.error).toBe("APPROVAL_REQUIRED");
    expect(asked.approval).toMatch(/^apr_/);
    await owner!.approve(asked.approval as string, { reason: "go" });
    expect(await b!.send({ op: "getAs", token: secret, instance: "server", path: "prod/DB" })).toEqual({ value: "db-value" });
    // Revoked in one process: refused by the other on its very next request.
    expect(await b!.send({ op: "getAs", token: secret, instance: "server", path: "prod/API" })).toEqual({ value: "api-value" });
    expect(await a!.send({ op: "revoke", id: token.id })).toEqual({ revoked: true });
    expect(await b!.send({ op: "useToken", token: secret, instance: "server", n: 1 })).toMatchObject({ ok: 0, reasons: { revoked: 1 } });
    expect(await owner!.useToken(secret, "server")).toEqual({ ok: false, reason: "revoked" });
  });
});
