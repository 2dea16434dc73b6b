import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startThrowawayPostgres, type ThrowawayPostgres } from "../setup/postgres.js";
import { createTestDatabase, type TestDatabase } from "../setup/postgres-database.js";
import { call, initVault, openPostgresStore, openVault, secretUrl, serverToken, startServe, TEST_PASSPHRASE, type Served } from "./serve-helpers.js";

/**
 * Several `authy serve` processes on one PostgreSQL, under load from clients spread over
 * them: one is killed and restarted; the database itself is stopped and restarted. Nothing
 * acknowledged is lost, the audit chain verifies, and every refusal is a clean JSON answer.
 */
/** Three servers, scrypt in each, and load on two cores shared with other suites: minutes, not seconds. */
const CLUSTER_TEST_TIMEOUT_MS = 300_000;

let dir: string;
let passFile: string;
const servers: Served[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-serve-cluster-"));
  passFile = path.join(dir, "pass");
  writeFileSync(passFile, `${TEST_PASSPHRASE}\n`, { mode: 0o600 });
});
afterAll(() => {
  for (const s of servers) s.child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

async function serve(url: string): Promise<Served> {
  const s = await startServe(["--listen", "127.0.0.1:0", "--database", url, "--passphrase-file", passFile], { home: path.join(dir, "home") });
  servers.push(s);
  return s;
}

/** A vault with prod/READ and a token that reads and writes prod/*, honoured by every server on it. */
async function fixture(url: string): Promise<string> {
  const store = await openPostgresStore(url);
  const vault = await initVault(store);
  await vault.setSecret("prod/READ", Buffer.from("shared-read-value"));
  const token = await serverToken(vault, "secrets:read:prod/*,secrets:write:prod/*");
  vault.lock();
  await store.close();
  return token;
}

interface Load {
  /** Writes the server acknowledged (200), path → value. */
  acked: Map<string, string>;
  /** Acknowledged reads, per server URL. */
  reads: Map<string, number>;
  /** Non-2xx answers by status, each checked to be a JSON error without a stack. */
  refusals: Map<number, number>;
  /** Requests that got no HTTP answer at all (a killed server, a refused connection). */
  dropped: number;
  stop(): Promise<void>;
}

/** `clients` loops, each writing its own keys and reading prod/READ, round-robin over `targets()`. */
function load(targets: () => string[], token: string, clients: number): Load {
  const l: Load = { acked: new Map(), reads: new Map(), refusals: new Map(), dropped: 0, stop: async () => undefined };
  let running = true;
  const loop = async (c: number) => {
    for (let i = 0; running; i++) {
      const urls = targets();
      const base = urls[(c + i) % urls.length]!;
      const write = i % 2 === 0;
      const key = `prod/W${c}_${i}`;
      const value = `v-${c}-${i}`;
      try {
        const r = write
          ? await call(secretUrl(base, key), { method: "PUT", bearer: token, body: { value } })
          : await call(secretUrl(base, "prod/READ"), { bearer: token });
        if (r.status === 200) {
          if (write) l.acked.set(key, value);
          else {
            expect(r.json.value).toBe("shared-read-value");
            l.reads.set(base, (l.reads.get(base) ?? 0) + 1);
          }
        } else {
          l.refusals.set(r.status, (l.refusals.get(r.status) ?? 0) + 1);
          expect(r.json).toHaveProperty("error.code");
          expect(r.text).not.toMatch(/\bat .*\.js:\d+/);
          if (r.status === 503) expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
          await new Promise((res) => setTimeout(res, 50));
        }
      } catch {
        l.dropped++;
        await new Promise((res) => setTimeout(res, 50));
      }
    }
  };
  const done = Promise.all(Array.from({ length: clients }, (_, c) => loop(c)));
  l.stop = async () => {
    running = false;
    await done;
  };
  return l;
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every acknowledged write is there with its value, and the audit chain verifies. */
async function checkVault(url: string, l: Load): Promise<void> {
  const store = await openPostgresStore(url);
  const vault = await openVault(store);
  try {
    for (const [key, value] of l.acked) expect(Buffer.from((await vault.getSecret(key)).value).toString(), key).toBe(value);
    const report = await vault.verifyAudit();
    expect(report.firstBad).toBeNull();
    expect(report.ok).toBe(true);
  } finally {
    await vault.close();
  }
}

describe("several authy serve processes on one PostgreSQL", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("cluster");
  });
  afterAll(async () => {
    await db.drop();
  });

  it(
    "keeps serving when one process is killed mid-load; the restarted one rejoins; nothing acknowledged is lost",
    async () => {
      const token = await fixture(db.url);
      const s = [await serve(db.url), await serve(db.url), await serve(db.url)];
      let urls = s.map((x) => x.url);
      const l = load(() => urls, token, 9);
      await until("50 acknowledged writes", () => l.acked.size >= 50);
      s[1]!.child.kill("SIGKILL");
      expect(await s[1]!.exited).toBe(137);
      const readsBefore = new Map(l.reads);
      const ackedAtKill = l.acked.size;
      await until("40 more acknowledged writes on the others", () => l.acked.size >= ackedAtKill + 40);
      for (const other of [s[0]!, s[2]!]) expect(l.reads.get(other.url) ?? 0).toBeGreaterThan(readsBefore.get(other.url) ?? 0);
      const back = await serve(db.url);
      urls = [s[0]!.url, back.url, s[2]!.url];
      await until("reads through the restarted process", () => (l.reads.get(back.url) ?? 0) >= 5);
      await l.stop();
      expect(l.refusals.size, JSON.stringify([...l.refusals])).toBe(0);
      await checkVault(db.url, l);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});

describe("authy serve when PostgreSQL stops and comes back", () => {
  // A PostgreSQL of its own: stopping the shared one would fail every other test file.
  let pgServer: ThrowawayPostgres;
  beforeAll(async () => {
    pgServer = await startThrowawayPostgres();
  });
  afterAll(async () => {
    await pgServer.stop();
  });

  it(
    "answers clean 503s with Retry-After while the database is down, and recovers without a restart",
    async () => {
      const token = await fixture(pgServer.url);
      const s = [await serve(pgServer.url), await serve(pgServer.url)];
      const l = load(() => s.map((x) => x.url), token, 6);
      await until("20 acknowledged writes", () => l.acked.size >= 20);
      await pgServer.halt();
      await until("503s from both servers", () => (l.refusals.get(503) ?? 0) >= 10, 30_000);
      for (const x of s) {
        const ready = await call(`${x.url}/v1/ready`);
        expect(ready.status).toBe(503);
        expect(ready.json).toMatchObject({ error: { code: "UNAVAILABLE" } });
        expect(Number(ready.headers.get("retry-after"))).toBeGreaterThan(0);
        expect((await call(`${x.url}/v1/health`)).status).toBe(200);
      }
      const ackedDuringOutage = l.acked.size;
      await pgServer.resume();
      await until("writes acknowledged again", () => l.acked.size >= ackedDuringOutage + 20);
      for (const x of s) await until(`${x.url} ready again`, async () => (await call(`${x.url}/v1/ready`)).status === 200);
      await l.stop();
      expect(l.dropped).toBe(0);
      expect([...l.refusals.keys()]).toEqual([503]);
      for (const x of s) expect(x.child.exitCode).toBeNull();
      await checkVault(pgServer.url, l);
    },
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
