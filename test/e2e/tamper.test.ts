/**
 * Tampering, seen from the command line: a vault file edited by hand makes the built CLI exit
 * 7 with one line on stderr and nothing on stdout (never a stack trace, never another
 * secret's value); a wrong passphrase or identity exits 6 with the same line every time,
 * slows down after a few tries, and is audited at the next unlock.
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { sql } from "./sql.js";
import { Decrypter, Encrypter } from "age-encryption";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wrapWithPassphrase } from "../../src/crypto/index.js";
import { authy, PASSPHRASE, tempHome, TEST_WORK_FACTOR, type Result } from "./cli.js";

const A1 = "alpha-one-7f3a9c1e5b2d4f60";
const A2 = "alpha-two-0c8e2a4f6b1d3e59";
const B1 = "bravo-one-5d1f3b7a9c2e4f68";
const VALUES = [A1, A2, B1];

let t: ReturnType<typeof tempHome>;
let idFile: string;
let recipient: string;
/** vault.db of a vault with prod/A (two versions) and prod/B; passphrase and identity slots. */
let template: string;
/** Another vault with the same names, under another key. */
let otherTemplate: string;
let homes = 0;

const byId = () => ({ AUTHY_IDENTITY: idFile });
const byPass = () => ({ AUTHY_PASSPHRASE: PASSPHRASE });

async function ok(args: string[], home: string, input?: string, env: Record<string, string> = byId()): Promise<Result> {
  const r = await authy(args, { home, input, env });
  if (r.code !== 0) throw new Error(`authy ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r;
}

async function makeVault(home: string): Promise<string> {
  await ok(["init", "--work-factor", TEST_WORK_FACTOR, "--recipient", recipient], home, undefined, byPass());
  await ok(["secrets", "set", "prod/A", "--type", "api_key"], home, A1);
  await ok(["secrets", "set", "prod/A"], home, A2);
  await ok(["secrets", "set", "prod/B", "--tier", "sensitive"], home, B1);
  return path.join(home, "vault.db");
}

beforeAll(async () => {
  t = tempHome();
  idFile = path.join(t.dir, "id.txt");
  recipient = (await ok(["keys", "generate", "--out", idFile], t.home)).stdout.trim();
  template = await makeVault(path.join(t.dir, "template"));
  otherTemplate = await makeVault(path.join(t.dir, "other"));
});

afterAll(() => t.cleanup());

/** A new AUTHY_HOME holding a copy of `from`. */
function homeWith(from = template): { home: string; db: string } {
  const home = path.join(t.dir, `h${++homes}`);
  mkdirSync(home, { mode: 0o700 });
  const db = path.join(home, "vault.db");
  copyFileSync(from, db);
  chmodSync(db, 0o600);
  return { home, db };
}

/** A refusal as the design wants it: the exit code, one line on stderr, nothing on stdout, no value anywhere. */
function expectRefused(r: Result, code: number, message?: RegExp): void {
  expect(r.code, `exit ${r.code}, stderr: ${r.stderr}`).toBe(code);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(/^authy: [^\n]+\n(hint: [^\n]+\n)?$/); // one line, and what to do next
  expect(r.stderr).not.toMatch(/\n\s+at /);
  if (message) expect(r.stderr).toMatch(message);
  for (const v of VALUES) expect(r.stderr).not.toContain(v);
}

interface Edit {
  table: string;
  column: string;
  set: string;
  where: string;
  args: string[];
  code?: number;
}

const getA = ["secrets", "get", "prod/A"];
const list = ["secrets", "list"];
const EDITS: Edit[] = [
  ...[
    "type = 'ssh_key'",
    "tier = 'critical'",
    "description = 'x'",
    "tags = '[\"x\"]'",
    "expires_at = 1",
    "current_version = 1",
    "deleted_at = 1",
    "created_at = created_at + 1",
    "updated_at = updated_at + 1",
    "namespace = 'staging'",
    "mac = randomblob(32)",
  ].map((s): Edit => ({ table: "secrets", column: s.split(" ")[0]!, set: s, where: "path = 'prod/A'", args: getA })),
  ...[
    "type = 'ssh_key'",
    "tier = 'critical'",
    "sealed = randomblob(length(sealed))",
    "wrapped_dek = randomblob(length(wrapped_dek))",
    "created_at = created_at + 1",
    "actor = 'agent:mallory'",
    "version = 7",
  ].map((s): Edit => ({ table: "secret_versions", column: s.split(" ")[0]!, set: s, where: "path = 'prod/A' AND version = 2", args: getA })),
  ...["vault_id = randomblob(16)", "format = 3", "created_at = created_at + 1", "listing_mac = randomblob(32)", "mac = randomblob(32)"].map((s): Edit => ({
    table: "vault",
    column: s.split(" ")[0]!,
    set: s,
    where: "id = 1",
    args: list,
  })),
  ...[
    "id = 'slot_forged'",
    "label = 'mallory'",
    "recipient = 'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq'",
    "created_at = created_at + 1",
    "mac = randomblob(32)",
    "slot = randomblob(length(slot))",
  ].map((s): Edit => ({ table: "key_slots", column: s.split(" ")[0]!, set: s, where: "kind = 'x25519'", args: list })),
  // A slot whose kind was changed no longer opens with anything: indistinguishable from a wrong key.
  { table: "key_slots", column: "kind", set: "kind = 'passphrase'", where: "kind = 'x25519'", args: list, code: 6 },
];

describe("a vault file edited by hand", () => {
  it.each(EDITS.map((e) => ({ ...e, code: e.code ?? 7, command: e.args.join(" "), what: `${e.table}.${e.column}` })))(
    "exits $code from `$command` after $what is edited",
    async ({ table, set, where, args, code }) => {
      const { home, db } = homeWith();
      sql(db, (d) => expect(d.prepare(`UPDATE ${table} SET ${set} WHERE ${where}`).run().changes).toBe(1));
      const r = await authy(args, { home, env: byId() });
      expectRefused(r, code, code === 6 ? /wrong passphrase or identity/ : undefined);
    },
  );

  it.each([
    [
      "inserted",
      "INSERT INTO secrets SELECT 'prod/FORGED', namespace, type, tier, description, tags, expires_at, current_version, deleted_at, created_at, updated_at, mac, listing FROM secrets WHERE path = 'prod/B'",
    ],
    ["deleted", "DELETE FROM secrets WHERE path = 'prod/B'"],
  ])("refuses to list after a secrets row is %s by hand", async (_what, statement) => {
    const { home, db } = homeWith();
    sql(db, (d) => d.prepare(statement).run());
    expectRefused(await authy(list, { home, env: byId() }), 7);
    expectRefused(await authy(["secrets", "list", "prod"], { home, env: byId() }), 7);
  });

  it("refuses A's ciphertext copied into B's row and never prints A's value", async () => {
    const { home, db } = homeWith();
    sql(db, (d) =>
      d.exec(
        "UPDATE secret_versions SET sealed = (SELECT sealed FROM secret_versions WHERE path = 'prod/A' AND version = 2), " +
          "wrapped_dek = (SELECT wrapped_dek FROM secret_versions WHERE path = 'prod/A' AND version = 2) WHERE path = 'prod/B'",
      ),
    );
    expectRefused(await authy(["secrets", "get", "prod/B"], { home, env: byId() }), 7);
    const json = await authy(["secrets", "get", "prod/B", "--json"], { home, env: byId() });
    expect(json.code).toBe(7);
    expect(json.stdout).toBe("");
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: "INTEGRITY" } });
    for (const v of VALUES) expect(json.stderr).not.toContain(v);
    expectRefused(await authy(["env", "export", "prod"], { home, env: byId() }), 7);
    expectRefused(await authy(["read", "authy://prod/B"], { home, env: byId() }), 7);
  });

  it("refuses A's current ciphertext copied into its older version", async () => {
    const { home, db } = homeWith();
    sql(db, (d) =>
      d.exec(
        "UPDATE secret_versions SET sealed = (SELECT sealed FROM secret_versions WHERE path = 'prod/A' AND version = 2), " +
          "wrapped_dek = (SELECT wrapped_dek FROM secret_versions WHERE path = 'prod/A' AND version = 2) WHERE path = 'prod/A' AND version = 1",
      ),
    );
    expectRefused(await authy(["secrets", "get", "prod/A", "--revision", "1"], { home, env: byId() }), 7);
    expectRefused(await authy(["secrets", "rollback", "prod/A", "1"], { home, env: byId() }), 7);
    expect((await ok(getA, home)).stdout).toBe(A2);
  });

  it("refuses a whole version row copied in from another vault's file", async () => {
    const { home, db } = homeWith();
    sql(db, (d) => {
      d.exec(`ATTACH '${otherTemplate}' AS other`);
      d.exec("DELETE FROM secret_versions WHERE path = 'prod/A' AND version = 2");
      const columns = "path, version, type, tier, sealed, wrapped_dek, created_at, actor";
      d.exec(`INSERT INTO secret_versions (${columns}) SELECT ${columns} FROM other.secret_versions WHERE path = 'prod/A' AND version = 2`);
    });
    expectRefused(await authy(getA, { home, env: byId() }), 7);
  });

  it("reports the tampering from doctor with exit 7", async () => {
    const { home, db } = homeWith();
    sql(db, (d) => d.exec("UPDATE secret_versions SET actor = 'agent:mallory' WHERE path = 'prod/A' AND version = 1"));
    const r = await authy(["doctor"], { home, env: byId() });
    expect(r.code).toBe(7);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    for (const v of VALUES) expect(r.stdout + r.stderr).not.toContain(v);
  });
});

describe("a key slot replaced by one someone else made", () => {
  it("refuses an identity slot written with another age implementation (typage) to the vault's own recipient", async () => {
    const { home, db } = homeWith();
    // Anyone can do this: the recipient is public. The slot opens, but its MAC does not verify.
    const encrypter = new Encrypter();
    encrypter.addRecipient(recipient);
    const forged = Buffer.from(await encrypter.encrypt(Buffer.alloc(32, 7)));
    sql(db, (d) => d.prepare("UPDATE key_slots SET slot = ? WHERE kind = 'x25519'").run(forged));
    const decrypter = new Decrypter();
    decrypter.addIdentity(
      readFileSync(idFile, "utf8")
        .split("\n")
        .find((l) => l.startsWith("AGE-SECRET-KEY-"))!,
    );
    expect(Buffer.from(await decrypter.decrypt(forged)).equals(Buffer.alloc(32, 7))).toBe(true);
    expectRefused(await authy(list, { home, env: byId() }), 7, /key slot/);
    // The passphrase slot still opens; doctor then names the forged slot.
    const r = await authy(["doctor"], { home, env: byPass() });
    expect(r.code).toBe(7);
  });

  it("refuses a passphrase slot rewrapped around another vault key by someone who knows the passphrase", async () => {
    const { home, db } = homeWith();
    const forged = await wrapWithPassphrase(new Uint8Array(32).fill(9), PASSPHRASE, Number(TEST_WORK_FACTOR));
    sql(db, (d) => d.prepare("UPDATE key_slots SET slot = ? WHERE kind = 'passphrase'").run(Buffer.from(forged)));
    expectRefused(await authy(list, { home, env: byPass() }), 7, /key slot/);
  });
});

describe("a wrong passphrase or identity", () => {
  it("exits 6 with the same line every time, slows down after three, and is audited at the next unlock", async () => {
    const { home, db } = homeWith();
    const strangerFile = path.join(t.dir, "stranger.txt");
    await ok(["keys", "generate", "--out", strangerFile], home);
    const attempts: { env: Record<string, string>; ms: number; r?: Result }[] = [
      { env: { AUTHY_PASSPHRASE: "wrong one" }, ms: 0 },
      { env: { AUTHY_PASSPHRASE: PASSPHRASE + " " }, ms: 0 },
      { env: { AUTHY_PASSPHRASE: "Correct horse battery staple" }, ms: 0 },
      { env: { AUTHY_IDENTITY: strangerFile }, ms: 0 },
    ];
    for (const a of attempts) {
      const start = Date.now();
      a.r = await authy(["secrets", "get", "prod/A"], { home, env: a.env });
      a.ms = Date.now() - start;
      expectRefused(a.r, 6);
    }
    // One line and one hint, the same whatever was wrong.
    expect(new Set(attempts.map((a) => a.r!.stderr)).size).toBe(1);
    expect(attempts[0]!.r!.stderr).toMatch(/^authy: wrong passphrase or identity\nhint: [^\n]+\n$/);
    // The fourth attempt came after three failures: it waited a second before trying.
    expect(attempts[3]!.ms).toBeGreaterThanOrEqual(1000);
    sql(db, (d) => expect(d.prepare("SELECT count(*) FROM audit WHERE action = 'vault.unlock.failed'").pluck().get()).toBe(0));

    expect((await ok(getA, home)).stdout).toBe(A2);
    sql(db, (d) => {
      const failed = d.prepare("SELECT actor, outcome, details FROM audit WHERE action = 'vault.unlock.failed' ORDER BY seq").all() as {
        actor: string;
        outcome: string;
        details: string;
      }[];
      expect(failed.map((f) => [f.outcome, JSON.parse(f.details).method])).toEqual([
        ["denied", "passphrase"],
        ["denied", "passphrase"],
        ["denied", "passphrase"],
        ["denied", "identity"],
      ]);
      expect(d.prepare("SELECT count(*) FROM unlock_failures").pluck().get()).toBe(0);
    });
    // Audited failures no longer slow anyone down, and the log still verifies.
    const doctor = await authy(["doctor"], { home, env: byId() });
    expect(doctor.code, doctor.stderr).toBe(0);
  });

  it("says the same for a vault that has no slot for the identity at all", async () => {
    const { home, db } = homeWith();
    sql(db, (d) => d.exec("DELETE FROM key_slots WHERE kind = 'x25519'"));
    expectRefused(await authy(getA, { home, env: byId() }), 6, /^authy: wrong passphrase or identity\nhint: [^\n]+\n$/);
  });
});
