import { execFileSync } from "node:child_process";
import https from "node:https";
import net from "node:net";
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateIdentity, identityToRecipient } from "../../src/crypto/index.js";
import { Vault } from "../../src/vault/vault.js";
import { createTestDatabase, type TestDatabase } from "../setup/postgres-database.js";
import { CLI, PASSPHRASE } from "./cli.js";
import { hostileEnv, hostileHome, initVaultAs, runAs, spawnAs, unprivileged } from "./unprivileged.js";
import { call, openPostgresStore, openVault, secretUrl, serverToken, startServe, stopServe, TEST_PASSPHRASE, type Served } from "./serve-helpers.js";

/**
 * `authy serve` attacked over TCP: rate limits shared by two processes on one PostgreSQL,
 * credentials that look alike, body and nesting caps, slow headers, CORS, TLS, the log, a
 * graceful stop. Each test that trips the per-address limit has a database of its own.
 */
let dir: string;
let passFile: string;
const dbs: TestDatabase[] = [];
const servers: Served[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-serve-hard-"));
  passFile = path.join(dir, "pass");
  writeFileSync(passFile, `${TEST_PASSPHRASE}\n`, { mode: 0o600 });
});
afterAll(async () => {
  for (const s of servers) s.child.kill("SIGKILL");
  for (const d of dbs) await d.drop();
  rmSync(dir, { recursive: true, force: true });
});

const CANARY = "canary-0c7f3e5a9b2d";

/** A PostgreSQL vault with prod/API_KEY (the canary), a read token and a write token. */
async function fixture(label: string, opts: { recipients?: string[] } = {}) {
  const db = await createTestDatabase(label);
  dbs.push(db);
  const store = await openPostgresStore(db.url);
  const vault = await Vault.init({ store, clock: { now: () => Date.now() } }, { passphrase: TEST_PASSPHRASE, workFactor: 15, ...opts });
  await vault.setSecret("prod/API_KEY", Buffer.from(CANARY));
  const reader = await serverToken(vault, "secrets:read:prod/*");
  const writer = await serverToken(vault, "secrets:read:prod/*,secrets:write:prod/*");
  vault.lock();
  await store.close();
  return { db, reader, writer };
}

async function serve(db: TestDatabase, extra: string[] = []): Promise<Served> {
  const s = await startServe(["--listen", "127.0.0.1:0", "--database", db.url, "--passphrase-file", passFile, ...extra], { home: path.join(dir, "home") });
  servers.push(s);
  return s;
}

/** The token with its secret part changed: a known id, a wrong secret. */
function wrongSecret(token: string): string {
  return token.slice(0, -4) + (token.endsWith("aaaa") ? "bbbb" : "aaaa");
}

/**
 * Failed authentication is counted per fixed minute (src/api/auth-limit.ts): a test that counts
 * up to a limit waits, when it starts late in a minute, for the next one to begin, so that the
 * turn of a minute never splits its count.
 */
async function clearOfMinuteTurn(needMs = 20_000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await new Promise((r) => setTimeout(r, left + 50));
}

describe("authy serve hardening", () => {
  it("limits failed authentication per identity across processes (429 with Retry-After, even for the right secret), audited", async () => {
    const { db, reader } = await fixture("limit_id");
    const [a, b] = [await serve(db), await serve(db)];
    const url = (s: Served) => secretUrl(s.url, "prod/API_KEY");
    await clearOfMinuteTurn();
    for (let i = 0; i < 10; i++) expect((await call(url(i % 2 ? a : b), { bearer: wrongSecret(reader) })).status).toBe(401);
    for (const s of [a, b]) {
      const limited = await call(url(s), { bearer: reader });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(limited.json).toMatchObject({ error: { code: "ACCESS_DENIED" } });
    }
    const store = await openPostgresStore(db.url);
    const vault = await openVault(store);
    const page = await vault.queryAudit({ action: "auth.limited" });
    expect(page.entries.length).toBeGreaterThan(0);
    expect((await vault.queryAudit({ action: "token.use.denied" })).entries.length).toBeGreaterThan(0);
    await vault.close();
  });

  it("limits failed authentication per address, and answers unknown and wrong credentials with the same body", async () => {
    const { db, reader } = await fixture("limit_ip");
    const s = await serve(db);
    await clearOfMinuteTurn();
    const unknown = await call(secretUrl(s.url, "prod/API_KEY"), { bearer: "authy_tk_abcdefgh_notasecretatall0000" });
    const wrong = await call(secretUrl(s.url, "prod/API_KEY"), { bearer: wrongSecret(reader) });
    expect(unknown.status).toBe(401);
    expect(wrong.text).toBe(unknown.text);
    let last = 0;
    for (let i = 0; i < 40 && last !== 429; i++) {
      last = (await call(`${s.url}/v1/secrets/prod`, { bearer: `authy_tk_guess${"abcdefghijklmnopqrstuvwxyz"[i % 26]}${i}_nope` })).status;
    }
    expect(last).toBe(429);
    // A fresh credential from the same address is refused too while the address is over its limit.
    expect((await call(secretUrl(s.url, "prod/API_KEY"), { bearer: reader })).status).toBe(429);
  });

  it("refuses bodies over the cap (413), nesting bombs (400) and sends no CORS headers; logs hold no value, token or header", async () => {
    const { db, reader, writer } = await fixture("caps");
    const s = await serve(db);
    const big = await fetch(secretUrl(s.url, "prod/BIG"), {
      method: "PUT",
      headers: { authorization: `Bearer ${writer}`, "content-type": "application/json" },
      body: JSON.stringify({ value: "x".repeat(3 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe("INVALID_INPUT");
    const bomb = await fetch(secretUrl(s.url, "prod/BOMB"), {
      method: "PUT",
      headers: { authorization: `Bearer ${writer}`, "content-type": "application/json" },
      body: "[".repeat(100_000) + "]".repeat(100_000),
    });
    expect(bomb.status).toBe(400);
    const put = await call(secretUrl(s.url, "prod/OTHER"), { method: "PUT", bearer: writer, body: { value: `${CANARY}-written` } });
    expect(put.status).toBe(200);
    const read = await call(secretUrl(s.url, "prod/API_KEY"), { bearer: reader, headers: { origin: "https://evil.example" } });
    expect(read.json.value).toBe(CANARY);
    const preflight = await fetch(secretUrl(s.url, "prod/API_KEY"), {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
    });
    for (const h of [...read.headers.keys(), ...preflight.headers.keys()]) expect(h).not.toMatch(/^access-control-/);
    expect(await stopServe(s)).toBe(0);
    const store = await openPostgresStore(db.url);
    const vault = await openVault(store);
    const refused = (await vault.queryAudit({ action: "request.refused" })).entries.map((e) => e.details.reason);
    expect(refused).toEqual(expect.arrayContaining(["request body is too large", "request body is nested deeper than 32 levels"]));
    await vault.close();
    const log = s.stderr();
    expect(log).toContain('"statusCode":200');
    for (const line of log.trim().split("\n")) expect(() => JSON.parse(line) as unknown).not.toThrow();
    // The token's secret part alone (authy_tk_ID_SECRET; the secret is base64url and may itself hold "_").
    const readerSecret = /^authy_tk_[a-z2-7]+_(.+)$/.exec(reader)![1]!;
    for (const secret of [CANARY, reader, writer, readerSecret, Buffer.from(CANARY).toString("base64")]) expect(log).not.toContain(secret);
    expect(log.toLowerCase()).not.toContain("authorization");
    expect(log).not.toContain("Bearer");
  });

  it("closes a connection whose headers never finish, answering 408 in authy's error body", async () => {
    const { db } = await fixture("slow");
    const s = await serve(db);
    const { port } = new URL(s.url);
    let answer = "";
    const closed = await new Promise<boolean>((resolve) => {
      const sock = net.connect(Number(port), "127.0.0.1", () => sock.write("GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: "));
      const timer = setTimeout(() => {
        sock.destroy();
        resolve(false);
      }, 25_000);
      sock.on("close", () => {
        clearTimeout(timer);
        resolve(true);
      });
      sock.on("error", () => undefined);
      sock.on("data", (d: Buffer) => (answer += d.toString()));
    });
    expect(closed).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toMatchObject({
      error: { code: "INVALID_INPUT", message: "the request did not arrive in time" },
    });
  });

  it("lets an in-flight request finish on SIGTERM, takes no new one, and exits 0", async () => {
    const { db, writer } = await fixture("graceful");
    const s = await serve(db);
    const { port } = new URL(s.url);
    const body = JSON.stringify({ value: "finished-after-sigterm" });
    const target = new URL(secretUrl(s.url, "prod/LATE"));
    const answer = new Promise<string>((resolve, reject) => {
      const sock = net.connect(Number(port), "127.0.0.1");
      let got = "";
      sock.on("data", (d: Buffer) => (got += d.toString()));
      sock.on("close", () => resolve(got));
      sock.on("error", reject);
      sock.write(
        `PUT ${target.pathname} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${writer}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 5)}`,
      );
      // Half the body is in; the server is told to stop; then the rest arrives.
      setTimeout(() => {
        s.child.kill("SIGTERM");
        setTimeout(() => sock.write(body.slice(5)), 500);
      }, 300);
    });
    const response = await answer;
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(await s.exited).toBe(0);
    await expect(fetch(`${s.url}/v1/health`)).rejects.toThrow();
    const store = await openPostgresStore(db.url);
    const vault = await openVault(store);
    expect(Buffer.from((await vault.getSecret("prod/LATE")).value).toString()).toBe("finished-after-sigterm");
    await vault.close();
  });

  it("serves TLS from --tls-cert/--tls-key (also off loopback), unlocked by an age identity", async () => {
    const identity = await generateIdentity();
    const idFile = path.join(dir, "server.key");
    writeFileSync(idFile, identity + "\n", { mode: 0o600 });
    const { db, reader } = await fixture("tls", { recipients: [await identityToRecipient(identity)] });
    const cert = path.join(dir, "cert.pem");
    const key = path.join(dir, "key.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    const s = await startServe(["--listen", "0.0.0.0:0", "--database", db.url, "--identity", idFile, "--tls-cert", cert, "--tls-key", key], {
      home: path.join(dir, "home"),
    });
    servers.push(s);
    expect(s.url).toMatch(/^https:\/\/0\.0\.0\.0:\d+$/);
    const port = new URL(s.url).port;
    const target = new URL(secretUrl(`https://127.0.0.1:${port}`, "prod/API_KEY"));
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.get(target, { ca: readFileSync(cert), headers: { authorization: `Bearer ${reader}` } }, (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
    });
    expect((JSON.parse(body) as { value: string }).value).toBe(CANARY);
    const half = await startServe(["--listen", "127.0.0.1:0", "--database", db.url, "--identity", idFile, "--tls-cert", cert], {
      home: path.join(dir, "home"),
    }).catch((e: unknown) => (e as Error).message);
    expect(half).toMatch(/--tls-cert was given without --tls-key/);
    expect(await stopServe(s)).toBe(0);
  });

  it("is non-dumpable: another process of its user cannot read its environment or memory", async () => {
    const h = hostileHome();
    try {
      await initVaultAs(h.dir, h.home);
      // From a file: a passphrase in the environment would make the CLI protect itself before any command runs.
      const pass = path.join(h.dir, "pass");
      writeFileSync(pass, `${PASSPHRASE}\n`, { mode: 0o600 });
      chownSync(pass, unprivileged().uid, unprivileged().gid);
      const child = spawnAs(process.execPath, ["--", CLI, "serve", "--listen", "127.0.0.1:0", "--passphrase-file", pass], {
        env: hostileEnv(h.dir, h.home, { CANARY_ENV: CANARY }),
        cwd: h.dir,
        stdio: ["ignore", "pipe", "pipe"],
      });
      try {
        const pid = await new Promise<number>((resolve, reject) => {
          let out = "";
          let err = "";
          child.stdout!.on("data", (d: Buffer) => {
            out += d.toString();
            const m = /pid (\d+)/.exec(out);
            if (m) resolve(Number(m[1]));
          });
          child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
          child.on("exit", (code) => reject(new Error(`authy serve exited with ${code}: ${err}`)));
        });
        const env = hostileEnv(h.dir, h.home);
        for (const file of [`/proc/${pid}/environ`, `/proc/${pid}/mem`]) {
          const r = await runAs("cat", [file], { env });
          expect(r.code, file).not.toBe(0);
          expect(r.stdout).not.toContain(CANARY);
        }
      } finally {
        child.kill("SIGKILL");
      }
    } finally {
      h.cleanup();
    }
  });
});
