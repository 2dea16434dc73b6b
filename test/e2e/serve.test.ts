import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../setup/postgres-database.js";
import { authy } from "./cli.js";
import {
  call,
  initVault,
  openPostgresStore,
  secretUrl,
  serverInstance,
  serverToken,
  SqliteStore,
  startServe,
  stopServe,
  TEST_PASSPHRASE,
} from "./serve-helpers.js";

let dir: string;
let home: string;
let passFile: string;
let db: TestDatabase;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "authy-serve-"));
  home = path.join(dir, "home");
  passFile = path.join(dir, "pass");
  writeFileSync(passFile, `${TEST_PASSPHRASE}\n`, { mode: 0o600 });
  db = await createTestDatabase("serve");
});
afterAll(async () => {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("authy serve", () => {
  it("serves a PostgreSQL vault on TCP, unlocked from a passphrase file, honouring tokens issued for any server on it", async () => {
    const store = await openPostgresStore(db.url);
    const vault = await initVault(store);
    await vault.setSecret("prod/API_KEY", Buffer.from("pg-value-1"));
    const token = await serverToken(vault, "secrets:read:prod/*");
    const vaultId = vault.vaultId;
    vault.lock();
    await store.close();

    const s = await startServe(["--listen", "127.0.0.1:0", "--database", db.url, "--passphrase-file", passFile], { home });
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
      expect((await call(`${s.url}/v1/health`)).json).toMatchObject({ status: "ok", locked: false });
      const read = await call(secretUrl(s.url, "prod/API_KEY"), { bearer: token });
      expect(read.status).toBe(200);
      expect(read.json.value).toBe("pg-value-1");
      const status = await call(`${s.url}/v1/status`, { bearer: token });
      expect(status.json.vaultId).toBe(vaultId);
      expect(s.stderr()).toContain(serverInstance(vaultId));
      expect(await stopServe(s)).toBe(0);
    } finally {
      s.child.kill("SIGKILL");
    }
  });

  it("serves the SQLite vault of AUTHY_HOME without --database, and a restarted server honours the same tokens", async () => {
    const h = path.join(dir, "sqlite-home");
    expect((await authy(["init", "--work-factor", "15"], { home: h, env: { AUTHY_PASSPHRASE: TEST_PASSPHRASE } })).code).toBe(0);
    const store = SqliteStore.open(path.join(h, "vault.db"));
    const vault = await (await import("./serve-helpers.js")).openVault(store);
    await vault.setSecret("dev/DB", Buffer.from("sqlite-value"));
    const token = await serverToken(vault, "secrets:read:dev/*");
    await vault.close();

    for (let round = 0; round < 2; round++) {
      const s = await startServe(["--listen", "127.0.0.1:0"], { home: h, env: { AUTHY_PASSPHRASE: TEST_PASSPHRASE } });
      try {
        const read = await call(secretUrl(s.url, "dev/DB"), { bearer: token });
        expect(read.status).toBe(200);
        expect(read.json.value).toBe("sqlite-value");
        expect(await stopServe(s)).toBe(0);
      } finally {
        s.child.kill("SIGKILL");
      }
    }
  });

  it("refuses to start without a way to unlock, with a bad --listen, with files that are no TLS certificate, or on plain HTTP off loopback: one line, exit 2", async () => {
    const none = await authy(["serve", "--listen", "127.0.0.1:0", "--database", db.url], { home });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^authy: authy serve needs a way to unlock the vault at start/);
    expect(none.stderr).not.toMatch(/\n\s+at /);
    const bad = await authy(["serve", "--listen", "nowhere", "--passphrase-file", passFile], { home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^authy: --listen must be HOST:PORT/);
    const open = await authy(["serve", "--listen", "0.0.0.0:0", "--passphrase-file", passFile], { home });
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/^authy: plain HTTP on 0\.0\.0\.0/);
    const notPem = path.join(dir, "not.pem");
    writeFileSync(notPem, "not a certificate\n");
    const tls = await authy(["serve", "--listen", "127.0.0.1:0", "--passphrase-file", passFile, "--tls-cert", notPem, "--tls-key", notPem], { home });
    expect(tls.code).toBe(2);
    expect(tls.stderr).toMatch(/^authy: --tls-cert \S+ and --tls-key \S+ are not a usable certificate and key: no start line\n/);
    const wrong = path.join(dir, "wrong");
    writeFileSync(wrong, "not the passphrase\n");
    const locked = await authy(["serve", "--listen", "127.0.0.1:0", "--database", db.url, "--passphrase-file", wrong], { home });
    expect(locked.code).toBe(6);
    expect(locked.stderr.trim().split("\n")[0]).toMatch(/^authy: /);
  });

  it("says in one line, exit 8, that its address is already taken, and leaves the server there serving", async () => {
    const taken = await new Promise<net.Server>((resolve) => {
      const srv = net.createServer();
      srv.listen(0, "127.0.0.1", () => resolve(srv));
    });
    try {
      const { port } = taken.address() as net.AddressInfo;
      const r = await authy(["serve", "--listen", `127.0.0.1:${port}`, "--database", db.url, "--passphrase-file", passFile], { home });
      expect(r.code).toBe(8);
      expect(r.stderr.trim().split("\n")).toEqual([
        `authy: cannot listen on 127.0.0.1:${port}: the address is already in use`,
        "hint: another program (perhaps another `authy serve`) listens there: stop it, or choose another port (port 0 picks a free one)",
      ]);
      expect(taken.listening).toBe(true);
    } finally {
      taken.close();
    }
  });
});
