import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { authy, initVault, tempHome, withPass } from "./cli.js";
import { daemonPids, unlock } from "./daemon-helpers.js";
import { ageEntry, dotenvxFile, gpgHome, missingTools, passageStore, passStore, type GpgHome } from "./stores.js";

let t: ReturnType<typeof tempHome>;
beforeEach(async () => {
  t = tempHome();
  await initVault(t.home);
});
afterEach(() => t.cleanup());

const run = (args: string[], env: Record<string, string> = {}, input?: string) => authy(args, { home: t.home, input, env: { ...withPass, ...env } });
const exported = async (ns: string) => JSON.parse((await run(["env", "export", ns, "--format", "json"])).stdout) as Record<string, string>;
/** Every secret in the vault, recursively: what "nothing imported" is checked against. */
const meta = async (p: string) => JSON.parse((await run(["secrets", "get", p, "--json"])).stdout) as { description: string; tier: string };
const allPaths = async () => (JSON.parse((await run(["secrets", "list", "-r", "--json"])).stdout) as { items: { path: string }[] }).items.map((i) => i.path);
const NOT_UTF8 = Buffer.from([0x70, 0x77, 0xff, 0xfe, 0x0a]);

describe.skipIf(missingTools("gpg", "pass", "gpgconf").length > 0)("import pass (a store made by Debian's pass, a throwaway GnuPG key)", () => {
  let gpg: GpgHome;
  let other: GpgHome;
  let dir: ReturnType<typeof tempHome>;
  beforeAll(() => {
    dir = tempHome();
    gpg = gpgHome(dir.dir, "owner");
    other = gpgHome(dir.dir, "other");
  });
  afterAll(() => {
    gpg.stop();
    other.stop();
    dir.cleanup();
  });

  const store = (entries: Record<string, string | Buffer>) => passStore(path.join(t.dir), gpg, entries);

  it("makes folders namespaces, takes the first line as the value, and keeps notes only with --keep-notes", async () => {
    const s = store({ "work/aws/key": "AKIA-first-line\nlogin: me\nurl: https://aws.example\n", top: "just-a-password\n", "email/github.com": "gh-pass" });
    const r = await run(["import", "pass", s.store, "--namespace", "imp"], s.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("1 entries had lines after the first");
    expect(await exported("imp/work/aws")).toEqual({ key: "AKIA-first-line" });
    expect(await exported("imp")).toEqual({ top: "just-a-password" });
    expect(await exported("imp/email")).toEqual({ "github.com": "gh-pass" });
    expect((await meta("imp/work/aws/key")).description).toBe("");

    const again = await run(["import", "pass", s.store, "--namespace", "imp", "--keep-notes", "--json"], s.env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).counts).toEqual({ create: 0, update: 1, unchanged: 2, skip: 0 });
    expect((await meta("imp/work/aws/key")).description).toBe("login: me\nurl: https://aws.example");
  });

  it("plans with --dry-run, keeps existing secrets with --no-overwrite, and sets --tier", async () => {
    const s = store({ "db/password": "new-value" });
    expect((await run(["secrets", "set", "imp/db/password"], {}, "old-value")).code).toBe(0);
    const dry = await run(["import", "pass", s.store, "--namespace", "imp", "--dry-run"], s.env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/update\s+imp\/db\/password/);
    expect(await exported("imp/db")).toEqual({ password: "old-value" });
    expect((await run(["import", "pass", s.store, "--namespace", "imp", "--no-overwrite"], s.env)).code).toBe(0);
    expect(await exported("imp/db")).toEqual({ password: "old-value" });
    expect((await run(["import", "pass", s.store, "--namespace", "imp", "--tier", "sensitive"], s.env)).code).toBe(0);
    expect(await exported("imp/db")).toEqual({ password: "new-value" });
    expect((await meta("imp/db/password")).tier).toBe("sensitive");
  });

  it("lists every name that cannot be a path and imports nothing (never mangled)", async () => {
    const s = store({ "mail/me@example.com": "a", "wifi/home net": "b", "ok/KEY": "c" });
    const r = await run(["import", "pass", s.store, "--namespace", "imp"], s.env);
    expect(r.code).toBe(2);
    expect(
      r.stderr
        .trim()
        .split("\n")
        .filter((l) => !l.startsWith("hint: ")),
    ).toEqual([expect.stringMatching(/^authy: 2 names in the pass store cannot be an authy path below imp: /)]);
    expect(r.stderr).toContain('"mail/me@example.com"');
    expect(r.stderr).toContain('"wifi/home net"');
    expect(r.stderr).not.toContain("ok/KEY");
    expect(await allPaths()).toEqual([]);
  });

  it("a file that does not decrypt: a clear error naming the entry, nothing imported", async () => {
    const s = store({ "a/first": "one", "b/second": "two" });
    writeFileSync(path.join(s.store, "b", "second.gpg"), "this is not an OpenPGP message");
    const r = await run(["import", "pass", s.store, "--namespace", "imp"], s.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^authy: pass entry b\/second does not decrypt/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await allPaths()).toEqual([]);
  });

  it("an entry for someone else's key: a wrong-key error naming it (exit 6), nothing imported", async () => {
    const s = store({ "a/mine": "one" });
    const foreign = passStore(path.join(t.dir, "foreign"), other, { "x/theirs": "two" });
    writeFileSync(path.join(s.store, "a", "theirs.gpg"), readFileSync(path.join(foreign.store, "x", "theirs.gpg")));
    const r = await run(["import", "pass", s.store, "--namespace", "imp"], s.env);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("pass entry a/theirs does not decrypt: none of your GnuPG secret keys opens it");
    expect(await allPaths()).toEqual([]);
  });

  it("an entry that is not UTF-8 text: an error naming it, nothing imported", async () => {
    const s = store({ "a/good": "fine", "a/binary": NOT_UTF8 });
    const r = await run(["import", "pass", s.store, "--namespace", "imp"], s.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("pass entry a/binary is not valid UTF-8 text");
    expect(await allPaths()).toEqual([]);
  });

  it("reads PASSWORD_STORE_DIR when no SOURCE is given", async () => {
    const s = store({ "svc/token": "t0k" });
    expect((await run(["import", "pass", "--namespace", "imp"], s.env)).code).toBe(0);
    expect(await exported("imp/svc")).toEqual({ token: "t0k" });
  });
});

describe.skipIf(missingTools("age", "age-keygen").length > 0)("import passage (folders encrypted by the stock age)", () => {
  it("imports with the identities file, folders as namespaces", async () => {
    const s = passageStore(t.dir, { "work/aws/key": "AKIA\nnote line\n", root: "r00t" });
    const r = await run(["import", "passage", s.store, "--namespace", "pg", "--identities", s.identities, "--keep-notes"]);
    expect(r.code, r.stderr).toBe(0);
    expect(await exported("pg/work/aws")).toEqual({ key: "AKIA" });
    expect(await exported("pg")).toEqual({ root: "r00t" });
    expect((await meta("pg/work/aws/key")).description).toBe("note line");
  });

  it("imports through the daemon as the owner's session, notes included, nested namespaces planned right", async () => {
    const s = passageStore(t.dir, { "work/aws/key": "AKIA\nthe note\n", "work/aws/other": "o1" });
    try {
      const session = (await unlock(t.home, ["--export-session"])).session!;
      const viaDaemon = { AUTHY_SESSION: session, AUTHY_PASSPHRASE: "" };
      const r = await run(["import", "passage", s.store, "--namespace", "pg", "--identities", s.identities, "--keep-notes", "--json"], viaDaemon);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).counts).toEqual({ create: 2, update: 0, unchanged: 0, skip: 0 });
      const again = await run(["import", "passage", s.store, "--namespace", "pg", "--identities", s.identities, "--keep-notes", "--json"], viaDaemon);
      expect(JSON.parse(again.stdout).counts).toEqual({ create: 0, update: 0, unchanged: 2, skip: 0 });
      expect(JSON.parse((await run(["secrets", "get", "pg/work/aws/key", "--json"], viaDaemon)).stdout).description).toBe("the note");
    } finally {
      await run(["lock"]);
      for (const pid of daemonPids(t.home)) process.kill(pid, "SIGKILL");
    }
  });

  it("finds the identities in PASSAGE_IDENTITIES_FILE", async () => {
    const s = passageStore(t.dir, { k: "v" });
    expect((await run(["import", "passage", s.store, "--namespace", "pg"], { PASSAGE_IDENTITIES_FILE: s.identities })).code).toBe(0);
    expect(await exported("pg")).toEqual({ k: "v" });
  });

  it("an entry for another identity: exit 6 naming it, nothing imported", async () => {
    const s = passageStore(t.dir, { "a/mine": "one" });
    const other = passageStore(path.join(t.dir, "other"), {});
    ageEntry(s.store, "a/theirs", "two", other.recipient);
    const r = await run(["import", "passage", s.store, "--namespace", "pg", "--identities", s.identities]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("passage entry a/theirs does not decrypt: no identity");
    expect(await allPaths()).toEqual([]);
  });

  it("a damaged entry: exit 2 naming it, nothing imported", async () => {
    const s = passageStore(t.dir, { "a/one": "1", "a/two": "2" });
    const file = path.join(s.store, "a", "two.age");
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 5));
    const r = await run(["import", "passage", s.store, "--namespace", "pg", "--identities", s.identities]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("passage entry a/two does not decrypt");
    expect(await allPaths()).toEqual([]);
  });

  it("an entry that is not UTF-8: exit 2 naming it", async () => {
    const s = passageStore(t.dir, { "a/bin": NOT_UTF8 });
    const r = await run(["import", "passage", s.store, "--namespace", "pg", "--identities", s.identities]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("passage entry a/bin is not valid UTF-8 text");
    expect(await allPaths()).toEqual([]);
  });
});

describe("import dotenvx (files encrypted by @dotenvx/dotenvx)", () => {
  it("decrypts with .env.keys beside the file, per environment, and skips the public key", async () => {
    const file = path.join(t.dir, ".env.production");
    dotenvxFile(file, { API_KEY: "sk-live-1", MULTI: "line1\nline2", EMPTY: "" });
    expect(readFileSync(file, "utf8")).toContain("encrypted:");
    const r = await run(["import", "dotenvx", file, "--namespace", "dx", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(await exported("dx")).toEqual({ API_KEY: "sk-live-1", MULTI: "line1\nline2", EMPTY: "" });
  });

  it("takes the key from the environment before .env.keys, and refuses a wrong one (exit 6, nothing imported)", async () => {
    const file = path.join(t.dir, ".env");
    dotenvxFile(file, { A: "one" });
    const other = path.join(t.dir, "other", ".env");
    (await import("node:fs")).mkdirSync(path.dirname(other));
    dotenvxFile(other, { B: "two" });
    const otherKey = /DOTENV_PRIVATE_KEY=(\w+)/.exec(readFileSync(path.join(t.dir, "other", ".env.keys"), "utf8"))![1]!;
    const r = await run(["import", "dotenvx", file, "--namespace", "dx"], { DOTENV_PRIVATE_KEY: otherKey });
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/dotenvx entry A \(\.env:\d+\) does not decrypt with DOTENV_PRIVATE_KEY/);
    expect(await allPaths()).toEqual([]);
    expect((await run(["import", "dotenvx", other, "--namespace", "dx"], { DOTENV_PRIVATE_KEY: otherKey })).code).toBe(0);
    expect(await exported("dx")).toEqual({ B: "two" });
  });

  it("a damaged value: exit 2 naming the entry, nothing imported", async () => {
    const file = path.join(t.dir, ".env");
    dotenvxFile(file, { GOOD: "1", BAD: "2" });
    writeFileSync(file, readFileSync(file, "utf8").replace(/BAD="?encrypted:[^"\n]{20}/, 'BAD="encrypted:'));
    const r = await run(["import", "dotenvx", file, "--namespace", "dx"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("dotenvx entry BAD");
    expect(await allPaths()).toEqual([]);
  });

  it("a value that is not UTF-8 (encrypted to the file's own key): exit 2 naming it", async () => {
    const file = path.join(t.dir, ".env");
    dotenvxFile(file, { GOOD: "1" });
    const pub = /DOTENV_PUBLIC_KEY="?(\w+)/.exec(readFileSync(file, "utf8"))![1]!;
    const { encrypt } = await import("eciesjs");
    writeFileSync(file, `${readFileSync(file, "utf8")}BIN="encrypted:${Buffer.from(encrypt(pub, NOT_UTF8)).toString("base64")}"\n`);
    const r = await run(["import", "dotenvx", file, "--namespace", "dx"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("dotenvx entry BIN");
    expect(r.stderr).toContain("is not valid UTF-8 text");
    expect(await allPaths()).toEqual([]);
  });

  it("no private key anywhere: exit 3 saying which key and where to put it", async () => {
    const file = path.join(t.dir, ".env.staging");
    dotenvxFile(file, { A: "1" });
    const r = await run(["import", "dotenvx", file, "--namespace", "dx", "--env-keys-file", path.join(t.dir, "nope.keys")]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("DOTENV_PRIVATE_KEY_STAGING");
  });
});

describe("import json and yaml (flat maps)", () => {
  it("imports what env export writes, from a file and from stdin", async () => {
    const json = path.join(t.dir, "m.json");
    writeFileSync(json, JSON.stringify({ A: "1", "sub/B": "two\nlines", C: "" }));
    expect((await run(["import", "json", json, "--namespace", "j"])).code).toBe(0);
    expect(await exported("j")).toEqual({ A: "1", C: "" });
    expect(await exported("j/sub")).toEqual({ B: "two\nlines" });
    const y = await run(["import", "yaml", "-", "--namespace", "y"], {}, 'A: "0123"\nB: plain text\nC: |\n  block\n');
    expect(y.code, y.stderr).toBe(0);
    expect(await exported("y")).toEqual({ A: "0123", B: "plain text", C: "block\n" });
  });

  it.each([
    ["json", '{"A": "1", "PORT": 5432}', /"PORT" is a number/],
    ["json", '{"A": {"B": "x"}}', /"A" is an object; values must be strings/],
    ["json", '{"A": ["x"]}', /"A" is an array; values must be strings/],
    ["json", '{"A": true}', /"A" is a boolean; values must be strings/],
    ["json", '{"A": "1", "A": "2"}', /duplicate key/],
    ["json", '{"A": "sk-secret-in-a-broken-file', /not valid JSON/],
    ["yaml", "A: 0123\n", /"A" is a number/],
    ["yaml", "A: yes\nB: [1]\n", /"B" is a list; values must be strings/],
    ["yaml", "A: {B: x}\n", /"A" is a map; values must be strings/],
    ["yaml", "A: !!binary aGVsbG8=\n", /"A" is binary data \(!!binary\); values must be strings/],
    ["yaml", "A: !!timestamp 2001-12-14\n", /"A" is a date; values must be strings/],
    ["yaml", "A: ~\n", /"A" is empty; values must be strings/],
    ["yaml", '"bad name": x\n"ok": y\n', /"bad name"/],
  ])("refuses a bad %s map (%s) with exit 2 and imports nothing", async (kind, text, message) => {
    const r = await run(["import", kind, "-", "--namespace", "m"], {}, text);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain("sk-secret");
    expect(await allPaths()).toEqual([]);
  });
});
