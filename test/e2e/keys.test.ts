import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { describeStockAge } from "../../src/crypto/stock-age.test-helpers.js";
import { authy, initVault, tempHome, withPass } from "./cli.js";

let t: ReturnType<typeof tempHome>;
beforeEach(() => {
  t = tempHome();
});
afterEach(() => t.cleanup());

async function identity(name: string): Promise<{ file: string; recipient: string }> {
  const file = path.join(t.dir, name);
  const r = await authy(["keys", "generate", "--out", file], { home: t.home });
  expect(r.code, r.stderr).toBe(0);
  return { file, recipient: r.stdout.trim() };
}

describe("identity slots", () => {
  it("unlocks with an identity file added by keys add, and stops after keys remove", async () => {
    await initVault(t.home);
    await authy(["secrets", "set", "a/B"], { home: t.home, env: withPass, input: "v" });
    const id = await identity("id.txt");
    expect((await authy(["keys", "add", id.recipient], { home: t.home, env: withPass })).code).toBe(0);
    const viaId = await authy(["secrets", "get", "a/B"], { home: t.home, env: { AUTHY_IDENTITY: id.file } });
    expect(viaId.stdout).toBe("v");
    const list = JSON.parse((await authy(["keys", "list", "--json"], { home: t.home, env: withPass })).stdout);
    expect(list.items.map((s: { kind: string }) => s.kind).sort()).toEqual(["passphrase", "x25519"]);
    expect((await authy(["keys", "remove", id.recipient], { home: t.home, env: withPass })).code).toBe(0);
    expect((await authy(["secrets", "get", "a/B"], { home: t.home, env: { AUTHY_IDENTITY: id.file } })).code).toBe(6);
  });

  it("creates an identity-only vault and refuses another identity with exit 6", async () => {
    const id = await identity("id.txt");
    const other = await identity("other.txt");
    expect((await authy(["init", "--no-passphrase", "--recipient", id.recipient], { home: t.home })).code).toBe(0);
    expect((await authy(["secrets", "list"], { home: t.home, env: { AUTHY_IDENTITY: id.file } })).code).toBe(0);
    const r = await authy(["secrets", "list"], { home: t.home, env: { AUTHY_IDENTITY: other.file } });
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/^authy: wrong passphrase or identity\n(hint: [^\n]+\n)?$/);
  });

  it("never replaces an existing identity file without --force: it may be a slot's only key", async () => {
    await initVault(t.home);
    await authy(["secrets", "set", "a/B"], { home: t.home, env: withPass, input: "v" });
    const id = await identity("id.txt");
    expect((await authy(["keys", "add", id.recipient], { home: t.home, env: withPass })).code).toBe(0);
    const again = await authy(["keys", "generate", "--out", id.file], { home: t.home });
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`authy: ${id.file} already exists\nhint: pass --force to replace it\n`);
    expect((await authy(["secrets", "get", "a/B"], { home: t.home, env: { AUTHY_IDENTITY: id.file } })).stdout).toBe("v");
    const forced = await authy(["keys", "generate", "--out", id.file, "--force"], { home: t.home });
    expect(forced.code).toBe(0);
    expect(forced.stdout.trim()).not.toBe(id.recipient);
  });

  it("never removes the last slot", async () => {
    await initVault(t.home);
    const slots = JSON.parse((await authy(["keys", "list", "--json"], { home: t.home, env: withPass })).stdout).items;
    expect((await authy(["keys", "remove", slots[0].id], { home: t.home, env: withPass })).code).toBe(2);
  });

  it("changes the passphrase without touching secrets", async () => {
    await initVault(t.home);
    await authy(["secrets", "set", "a/B"], { home: t.home, env: withPass, input: "v" });
    const r = await authy(["passwd", "--work-factor", "15"], { home: t.home, env: { ...withPass, AUTHY_NEW_PASSPHRASE: "new pass" } });
    expect(r.code, r.stderr).toBe(0);
    expect((await authy(["secrets", "get", "a/B"], { home: t.home, env: withPass })).code).toBe(6);
    expect((await authy(["secrets", "get", "a/B"], { home: t.home, env: { AUTHY_PASSPHRASE: "new pass" } })).stdout).toBe("v");
  });

  it("refuses a work factor outside 15..20", async () => {
    for (const wf of ["14", "21"]) {
      const r = await authy(["init", "--work-factor", wf], { home: t.home, env: withPass });
      expect(r.code).toBe(2);
      expect(existsSync(path.join(t.home, "vault.db"))).toBe(false);
    }
  });
});

describeStockAge("the stock age tool opens what authy writes", () => {
  it("decrypts an identity key slot with age -d", async () => {
    const id = await identity("id.txt");
    await authy(["init", "--no-passphrase", "--recipient", id.recipient], { home: t.home });
    const slot = execFileSync("node", [
      "-e",
      `
      const D = require(${JSON.stringify(path.resolve("node_modules/better-sqlite3"))});
      const db = new D(process.argv[1], { readonly: true });
      process.stdout.write(db.prepare("select slot from key_slots where kind = 'x25519'").pluck().get());
    `,
      path.join(t.home, "vault.db"),
    ]);
    const slotFile = path.join(t.dir, "slot.age");
    writeFileSync(slotFile, slot);
    const key = execFileSync("age", ["-d", "-i", id.file, slotFile]);
    expect(key.length).toBe(32);
  });

  it("exports to an age file that age -d decrypts to JSON", async () => {
    await initVault(t.home);
    await authy(["secrets", "set", "prod/A"], { home: t.home, env: withPass, input: "alpha" });
    await authy(["secrets", "set", "prod/sub/B"], { home: t.home, env: withPass, input: "beta" });
    const id = await identity("id.txt");
    const out = path.join(t.dir, "export.age");
    const r = await authy(["export", "--to", id.recipient, "--out", out], { home: t.home, env: withPass });
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(execFileSync("age", ["-d", "-i", id.file, out]).toString());
    expect(json.secrets).toEqual({ "prod/A": "alpha", "prod/sub/B": "beta" });
  });
});

describe("export of a namespace", () => {
  it("exits 3 with one line, as `env export` does, for a namespace with no secrets, and writes no file", async () => {
    await initVault(t.home);
    await authy(["secrets", "set", "prod/sub/B"], { home: t.home, env: withPass, input: "beta" });
    const id = await identity("id.txt");
    const out = path.join(t.dir, "nope.age");
    const r = await authy(["export", "--to", id.recipient, "--namespace", "nope", "--out", out], { home: t.home, env: withPass });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^authy: no secrets in nope\nhint: [^\n]*secrets list --recursive[^\n]*\n$/);
    expect(existsSync(out)).toBe(false);
    const env = await authy(["env", "export", "nope"], { home: t.home, env: withPass });
    expect(env.code).toBe(r.code);
    expect(env.stderr.split("\n")[0]).toBe("authy: no secrets in nope");
    // A namespace whose secrets are all in namespaces under it still exports them.
    const some = await authy(["export", "--to", id.recipient, "--namespace", "prod", "--out", out], { home: t.home, env: withPass });
    expect(some.code, some.stderr).toBe(0);
    expect(some.stderr).toMatch(/exported 1 secrets/);
    expect(existsSync(out)).toBe(true);
  });
});

describe("backup and restore", () => {
  it("restores a verified backup and keeps the replaced vault aside", async () => {
    await initVault(t.home);
    await authy(["secrets", "set", "a/B"], { home: t.home, env: withPass, input: "before" });
    const backupFile = path.join(t.dir, "vault.backup");
    expect((await authy(["backup", backupFile], { home: t.home, env: withPass })).code).toBe(0);
    await authy(["secrets", "set", "a/B"], { home: t.home, env: withPass, input: "after" });
    expect((await authy(["restore", backupFile], { home: t.home, env: withPass })).code).toBe(2);
    const r = await authy(["restore", backupFile, "--yes", "--json"], { home: t.home, env: withPass });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(JSON.parse(r.stdout).previous)).toBe(true);
    expect((await authy(["secrets", "get", "a/B"], { home: t.home, env: withPass })).stdout).toBe("before");
  });

  it("refuses a corrupt backup and leaves the vault alone", async () => {
    await initVault(t.home);
    await authy(["secrets", "set", "a/B"], { home: t.home, env: withPass, input: "keep" });
    const bad = path.join(t.dir, "bad.backup");
    writeFileSync(bad, Buffer.alloc(8192, 7));
    const r = await authy(["restore", bad, "--yes"], { home: t.home, env: withPass });
    expect(r.code).toBe(7);
    expect((await authy(["secrets", "get", "a/B"], { home: t.home, env: withPass })).stdout).toBe("keep");
  });
});
