/**
 * Storage faults, through the built CLI: corrupt, truncated and foreign vault files; several
 * processes writing one secret at once; writers killed with SIGKILL at random moments; a disk
 * that fills up mid-write. What must hold: a clear exit code and one line on stderr, nothing
 * half-written, every write that reported success still there, and a file that SQLite and
 * `authy doctor` both call healthy.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statfsSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authy, baseEnv, CLI, ROOT, tempHome, type Result } from "./cli.js";

/** The parts of the built library these tests use to read every version back. */
interface LibVault {
  history(p: string): Promise<{ versions: { version: number }[] }>;
  getSecret(p: string, o?: { version?: number }): Promise<{ value: Uint8Array }>;
  close(): Promise<void>;
}
interface Lib {
  openVault(o: { home: string; identities: string[] }): Promise<LibVault>;
}

let t: ReturnType<typeof tempHome>;
let idFile: string;
let identity: string;
let recipient: string;
let homes = 0;
const byId = () => ({ AUTHY_IDENTITY: idFile });

async function ok(args: string[], home: string, input?: string | Buffer): Promise<Result> {
  const r = await authy(args, { home, input, env: byId() });
  if (r.code !== 0) throw new Error(`authy ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r;
}

/** A fresh identity-unlocked vault (fast to open: no scrypt) in a new home. */
async function newVault(home = path.join(t.dir, `h${++homes}`)): Promise<string> {
  await ok(["init", "--no-passphrase", "--recipient", recipient], home);
  return home;
}

function integrityCheck(file: string): string {
  const db = new Database(file);
  try {
    return (db.pragma("integrity_check") as { integrity_check: string }[]).map((r) => r.integrity_check).join("; ");
  } finally {
    db.close();
  }
}

async function library(): Promise<Lib> {
  return (await import(pathToFileURL(path.join(ROOT, "dist/index.js")).href)) as Lib;
}

/** Every version of `p`, as text, by version number. */
async function allVersions(vault: LibVault, p: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const { versions } = await vault.history(p).catch(() => ({ versions: [] }));
  for (const v of versions) out.set(v.version, Buffer.from((await vault.getSecret(p, { version: v.version })).value).toString("utf8"));
  return out;
}

/** One line on stderr, no stack trace, nothing on stdout. */
function expectCleanFailure(r: Result, code: number): void {
  expect(r.code, `exit ${r.code}, stderr: ${r.stderr}`).toBe(code);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(/^authy: [^\n]+\n(hint: [^\n]+\n)?$/); // one line, and what to do next
  expect(r.stderr).not.toMatch(/\n\s+at |SQLITE_BUSY|database is locked/i);
}

beforeAll(async () => {
  t = tempHome();
  idFile = path.join(t.dir, "id.txt");
  recipient = (await authy(["keys", "generate", "--out", idFile], { home: t.home })).stdout.trim();
  identity = readFileSync(idFile, "utf8")
    .split("\n")
    .find((l) => l.startsWith("AGE-SECRET-KEY-"))!;
  expect(recipient).toMatch(/^age1/);
});

afterAll(() => t.cleanup());

describe("file modes", () => {
  it("makes the vault 0600 under a umask of 022, and doctor warns about a -wal or -shm file others can read", async () => {
    const before = process.umask(0o022);
    let home: string;
    try {
      home = await newVault();
    } finally {
      process.umask(before);
    }
    const file = path.join(home, "vault.db");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    for (const f of [`${file}-wal`, `${file}-shm`]) if (existsSync(f)) expect(statSync(f).mode & 0o777, f).toBe(0o600);

    // As a crash of an older authy could leave them: empty, and readable by everyone.
    for (const f of [`${file}-wal`, `${file}-shm`]) {
      writeFileSync(f, "");
      chmodSync(f, 0o644);
    }
    const r = await authy(["doctor", "--json"], { home, env: byId() });
    expect(r.code, r.stderr).toBe(0);
    const checks = (JSON.parse(r.stdout) as { checks: { name: string; ok: boolean; severity: string; detail: string }[] }).checks;
    for (const suffix of ["-wal", "-shm"]) {
      expect(checks.find((c) => c.name === `vault.db${suffix} file is private (0600)`)).toMatchObject({ ok: false, severity: "warning", detail: "mode 644" });
    }
  });
});

describe("a corrupt, truncated or foreign vault file", () => {
  let template: Buffer;
  const VALUE = "the-value-of-prod-A-0123456789";

  beforeAll(async () => {
    const home = await newVault();
    const env = Array.from({ length: 60 }, (_, i) => `K${i}=${randomBytes(45).toString("base64")}`).join("\n");
    await ok(["env", "import", "-", "--namespace", "prod"], home, env);
    await ok(["secrets", "set", "prod/A"], home, VALUE);
    template = readFileSync(path.join(home, "vault.db"));
    expect(template.length).toBeGreaterThan(16 * 4096);
  });

  /** A home whose vault.db is made by `make`; returns it and a snapshot of the file. */
  function homeWith(make: (file: string) => void): { home: string; file: string } {
    const home = path.join(t.dir, `h${++homes}`);
    mkdirSync(home, { mode: 0o700 });
    const file = path.join(home, "vault.db");
    make(file);
    return { home, file };
  }

  const bytes = (b: Buffer) => (file: string) => writeFileSync(file, b, { mode: 0o600 });
  const sqliteFile = (setup: (db: Database.Database) => void) => (file: string) => {
    const db = new Database(file);
    setup(db);
    db.close();
  };

  const variants: [string, () => (file: string) => void][] = [
    ...[0, 1, 50, 99, 100, 512, 4096, 4097, 8192].map((n): [string, () => (file: string) => void] => [
      `truncated to ${n} bytes`,
      () => bytes(template.subarray(0, n)),
    ]),
    ["truncated to half", () => bytes(template.subarray(0, template.length / 2))],
    ["missing its last page", () => bytes(template.subarray(0, template.length - 4096))],
    ["missing its last byte", () => bytes(template.subarray(0, template.length - 1))],
    ["overwritten with random bytes", () => bytes(randomBytes(template.length))],
    ["overwritten with zeros", () => bytes(Buffer.alloc(template.length))],
    ["a valid header followed by random bytes", () => bytes(Buffer.concat([template.subarray(0, 100), randomBytes(template.length - 100)]))],
    [
      "another application's SQLite database",
      () => sqliteFile((db) => db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('hello')")),
    ],
    [
      "another application's SQLite database in WAL mode",
      () => sqliteFile((db) => (db.pragma("journal_mode = WAL"), db.exec("CREATE TABLE t (a); INSERT INTO t VALUES (1)"))),
    ],
    ["an empty SQLite database", () => sqliteFile((db) => db.exec("VACUUM"))],
  ];

  it.each(variants.map(([name, make], i) => [name, make, i % 3 === 0] as const))(
    "refuses a vault file %s with exit 7 and never modifies it",
    async (_name, make, everyCommand) => {
      const { home, file } = homeWith(make());
      const before = readFileSync(file);
      // A write is where a damaged file would most likely be "repaired"; reads and doctor too, for a third of the variants.
      const commands = everyCommand ? [["secrets", "set", "prod/NEW"], ["secrets", "get", "prod/A"], ["doctor"]] : [["secrets", "set", "prod/NEW"]];
      for (const args of commands) {
        const r = await authy(args, { home, env: byId(), input: "new-value" });
        expectCleanFailure(r, 7);
        expect(readFileSync(file).equals(before), `${args.join(" ")} modified the file`).toBe(true);
      }
    },
  );

  it("refuses a vault file that carries authy's mark but none of its tables with exit 7", async () => {
    // E.g. a newer or half-made file: "no such table" is a damaged vault, not an internal error.
    const { home } = homeWith(
      sqliteFile((db) => {
        db.pragma("application_id = 1096111193");
        db.pragma("journal_mode = WAL");
        db.exec("CREATE TABLE unrelated (a)");
        db.pragma("user_version = 3");
      }),
    );
    for (const args of [["secrets", "get", "prod/A"], ["doctor"]]) expectCleanFailure(await authy(args, { home, env: byId() }), 7);
  });

  it("reads the right value or exits 7 when any one page holds garbage, and doctor always exits 7", async () => {
    // SQLite keeps no page checksums: a damaged page is found when it is read (and by doctor's
    // integrity_check), never silently turned into another value, because every value and
    // every row that matters is authenticated.
    const pages = template.length / 4096;
    const sample = [...new Set([1, 2, 3, Math.floor(pages / 2), pages - 2, pages - 1])];
    for (const page of sample) {
      const damaged = Buffer.from(template);
      randomBytes(4096).copy(damaged, page * 4096);
      const { home } = homeWith(bytes(damaged));
      const r = await authy(["secrets", "get", "prod/A"], { home, env: byId() });
      if (r.code === 0) expect(r.stdout).toBe(VALUE);
      else expectCleanFailure(r, 7);
      if (page === 3 || page === pages - 1) {
        const d = await authy(["doctor"], { home, env: byId() });
        expect(d.code, `doctor with page ${page} damaged`).toBe(7);
        expect(d.stderr).not.toMatch(/\n\s+at /);
      }
    }
  });
});

/** A CLI process that can be killed; resolves with how it ended. */
function start(args: string[], home: string, input: string) {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...baseEnv(home), ...byId() }, stdio: ["pipe", "ignore", "pipe"] });
  const err: Buffer[] = [];
  child.stderr.on("data", (d: Buffer) => err.push(d));
  child.stdin.on("error", () => undefined);
  child.stdin.end(input);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stderr: Buffer.concat(err).toString("utf8") }));
  });
  return { child, started: Date.now(), done };
}

describe("several processes writing at once", () => {
  it("loses no update when 8 processes each set the same secret 10 times", async () => {
    const home = await newVault();
    const LANES = 8;
    const EACH = 10;
    const results: { value: string; code: number | null; stderr: string }[] = [];
    await Promise.all(
      Array.from({ length: LANES }, async (_, lane) => {
        for (let i = 0; i < EACH; i++) {
          const value = `lane${lane}-write${i}-${randomBytes(6).toString("hex")}`;
          const r = await start(["secrets", "set", "conc/SAME"], home, value).done;
          results.push({ value, code: r.code, stderr: r.stderr });
        }
      }),
    );
    const failures = results.filter((r) => r.code !== 0);
    // A clean "busy" (exit 8) would be acceptable; with the busy timeout none is expected.
    for (const f of failures) expectCleanFailure({ code: f.code ?? -1, stdout: "", stderr: f.stderr, stdoutBytes: Buffer.alloc(0) }, 8);
    expect(failures).toEqual([]);
    for (const r of results) expect(r.stderr).not.toMatch(/SQLITE_BUSY|database is locked/i);

    const file = path.join(home, "vault.db");
    expect(integrityCheck(file)).toBe("ok");
    const vault = await (await library()).openVault({ home, identities: [identity] });
    try {
      const versions = await allVersions(vault, "conc/SAME");
      const written = results.filter((r) => r.code === 0).map((r) => r.value);
      expect(versions.size).toBe(written.length);
      expect([...versions.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: written.length }, (_, i) => i + 1));
      expect([...versions.values()].sort()).toEqual([...written].sort());
    } finally {
      await vault.close();
    }
    const doctor = await authy(["doctor"], { home, env: byId() });
    expect(doctor.code, doctor.stderr).toBe(0);
  }, 240_000);
});

describe("writers killed with SIGKILL at random moments", () => {
  /** Kills wanted: enough to land in every phase of a write (start-up, unlock, transaction, commit) many times. */
  const TARGET_KILLS = 120;
  /** The loop stops here even if fewer kills were reached (a loaded machine runs fewer processes). */
  const MAX_MS = 60_000;
  /** Fewer would make kills rare on a loaded machine; more would not hurry two cores. */
  const LANES = 3;
  /** Each writer is killed with this probability, at a random point of a typical run. */
  const KILL_PROBABILITY = 0.6;
  const KEYS = 8;

  it("keeps every acknowledged write, applies each import all or nothing, and leaves a healthy file", async () => {
    const home = await newVault();
    const file = path.join(home, "vault.db");
    type Attempt = { kind: "set" | "import"; id: string; value: string; outcome?: "ok" | "killed" | "failed"; stderr?: string };
    const attempts: Attempt[] = [];
    const began = Date.now();
    let kills = 0;
    /** A running estimate of how long a writer that is left alone takes. */
    let lifeMs = 500;

    const lane = async (l: number) => {
      for (let n = 0; kills < TARGET_KILLS && Date.now() - began < MAX_MS; n++) {
        const id = `L${l}N${n}`;
        const kind = n % 2 === 0 ? "set" : "import";
        const value = `${id}-${randomBytes(4).toString("hex")}`;
        const attempt: Attempt = { kind, id, value };
        attempts.push(attempt);
        let p: ReturnType<typeof start>;
        if (kind === "set") {
          p = start(["secrets", "set", "kill/SHARED"], home, value);
        } else {
          const envFile = path.join(t.dir, `${id}.env`);
          writeFileSync(envFile, Array.from({ length: KEYS }, (_, k) => `K${k}=${value}-K${k}`).join("\n") + "\n");
          p = start(["env", "import", envFile, "--namespace", "kill/imp"], home, "");
        }
        const timer = Math.random() < KILL_PROBABILITY ? setTimeout(() => p.child.kill("SIGKILL"), Math.random() * lifeMs * 1.1) : undefined;
        const r = await p.done;
        clearTimeout(timer);
        if (r.signal === "SIGKILL") {
          attempt.outcome = "killed";
          kills++;
        } else if (r.code === 0) {
          attempt.outcome = "ok";
          lifeMs = lifeMs * 0.8 + (Date.now() - p.started) * 0.2;
        } else {
          attempt.outcome = "failed";
          attempt.stderr = r.stderr;
        }
      }
    };
    await Promise.all(Array.from({ length: LANES }, (_, l) => lane(l)));

    const acknowledged = attempts.filter((a) => a.outcome === "ok");
    const failed = attempts.filter((a) => a.outcome === "failed");
    // The run's figures, so that a loop that stops killing (or acknowledging) is noticed.
    console.log(
      `kill loop: ${kills} kills, ${attempts.length} writers, ${acknowledged.length} acknowledged, ${Date.now() - began} ms, typical run ${Math.round(lifeMs)} ms`,
    );
    // A writer that was not killed must succeed: a killed one never leaves the vault broken for the next.
    expect(failed.map((a) => a.stderr)).toEqual([]);
    // 100+ on an idle machine; far fewer processes fit in the time on a loaded one.
    expect(kills).toBeGreaterThanOrEqual(30);
    expect(acknowledged.filter((a) => a.kind === "set").length).toBeGreaterThan(3);
    expect(acknowledged.filter((a) => a.kind === "import").length).toBeGreaterThan(3);

    // Reopening after the last kill recovers the WAL; then SQLite and doctor both find the file sound.
    const doctor = await authy(["doctor"], { home, env: byId() });
    expect(doctor.code, doctor.stderr + doctor.stdout).toBe(0);
    expect(integrityCheck(file)).toBe("ok");

    const written = new Set(attempts.filter((a) => a.kind === "set").map((a) => a.value));
    const vault = await (await library()).openVault({ home, identities: [identity] });
    try {
      const shared = new Set((await allVersions(vault, "kill/SHARED")).values());
      const byAttempt = new Map<string, number>();
      for (let k = 0; k < KEYS; k++) {
        for (const v of (await allVersions(vault, `kill/imp/K${k}`)).values()) {
          const m = /^(L\d+N\d+)-[0-9a-f]{8}-K(\d+)$/.exec(v);
          expect(m, `unexpected value ${v}`).not.toBeNull();
          expect(Number(m![2])).toBe(k);
          byAttempt.set(m![1]!, (byAttempt.get(m![1]!) ?? 0) + 1);
        }
      }
      for (const a of attempts) {
        if (a.kind === "set") {
          if (a.outcome === "ok") expect(shared.has(a.value), `acknowledged set ${a.id} is missing`).toBe(true);
        } else {
          // All or nothing, whether acknowledged or killed; and everything acknowledged is there.
          const n = byAttempt.get(a.id) ?? 0;
          expect([0, KEYS], `import ${a.id} wrote ${n} of ${KEYS} keys`).toContain(n);
          if (a.outcome === "ok") expect(n, `acknowledged import ${a.id} is missing`).toBe(KEYS);
        }
      }
      // Nothing appeared that no writer wrote.
      for (const v of shared) expect(written.has(v), `unexpected value ${v}`).toBe(true);
      for (const id of byAttempt.keys()) expect(attempts.some((a) => a.id === id && a.kind === "import")).toBe(true);
    } finally {
      await vault.close();
    }

    // The CLI agrees, version by version, for the newest few.
    const history = JSON.parse((await ok(["secrets", "history", "kill/SHARED", "--json"], home)).stdout) as { versions: { version: number }[] };
    for (const v of history.versions.slice(-3)) {
      const r = await ok(["secrets", "get", "kill/SHARED", "--revision", String(v.version)], home);
      expect(written.has(r.stdout)).toBe(true);
    }
  }, 180_000);
});

describe("a large import killed with SIGKILL", () => {
  // 3,000 keys: a dozen of the import's sealing batches, all inside one transaction.
  const KEYS = 3_000;
  const KILLS = 6;

  it("is all or nothing even when killed between its batches", async () => {
    const home = await newVault();
    const imported = new Map<string, number>(); // completed imports: tag → run number
    let lifeMs = 0;
    for (let n = 0, kills = 0; kills < KILLS && n < 2 + 4 * KILLS; n++) {
      const tag = `R${n}`;
      const envFile = path.join(t.dir, `big-${tag}.env`);
      writeFileSync(envFile, Array.from({ length: KEYS }, (_, k) => `K${String(k).padStart(5, "0")}=${tag}-${k}`).join("\n") + "\n");
      const p = start(["env", "import", envFile, "--namespace", "big/imp"], home, "");
      // The first two runs go uninterrupted: the second (an update, as all later ones are)
      // tells how long one takes. Then kills land in the last 40% of a run, where its
      // transaction is (start-up, unlock and comparing against the stored values come first).
      const timer = n < 2 ? undefined : setTimeout(() => p.child.kill("SIGKILL"), (0.6 + 0.4 * Math.random()) * lifeMs);
      const r = await p.done;
      clearTimeout(timer);
      if (r.signal === "SIGKILL") kills++;
      else expect(r.code, r.stderr).toBe(0);
      if (n === 1) lifeMs = Date.now() - p.started;
      if (r.code === 0) imported.set(tag, n);
    }
    expect(integrityCheck(path.join(home, "vault.db"))).toBe("ok");
    // Every key holds the value of one and the same import: the last one that completed, or a
    // later one killed after its commit; never a mix.
    const out = JSON.parse((await ok(["env", "export", "big/imp", "--format", "json"], home)).stdout) as Record<string, string>;
    expect(Object.keys(out)).toHaveLength(KEYS);
    const tags = new Set(Object.values(out).map((v) => v.split("-")[0]!));
    expect(tags.size).toBe(1);
    const lastDone = Math.max(...imported.values());
    expect(Number([...tags][0]!.slice(1))).toBeGreaterThanOrEqual(lastDone);
    const doctor = await authy(["doctor"], { home, env: byId() });
    expect(doctor.code, doctor.stderr + doctor.stdout).toBe(0);
  }, 180_000);
});

describe("a disk that fills up mid-write", () => {
  let mnt: string | null = null;

  beforeAll(() => {
    // A small tmpfs is a real full disk; mounting needs root (CAP_SYS_ADMIN), so without it
    // this test is skipped and the in-process max_page_count test in src/vault stands in.
    const dir = path.join(t.dir, "small-disk");
    mkdirSync(dir);
    const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", dir], { stdio: "ignore" });
    if (r.status === 0) mnt = dir;
  });

  afterAll(() => {
    if (!mnt) return;
    // A lazy unmount if something still holds a file open there.
    if (spawnSync("umount", [mnt], { stdio: "ignore" }).status !== 0) spawnSync("umount", ["-l", mnt], { stdio: "ignore" });
  });

  /** Fills the disk until only `leaveBytes` (about) remain. */
  function fill(name: string, leaveBytes: number): string {
    const filler = path.join(mnt!, name);
    const { bavail, bsize } = statfsSync(mnt!);
    const want = Math.max(0, bavail * bsize - leaveBytes);
    const fd = openSync(filler, "w");
    const chunk = Buffer.alloc(4096, 1);
    try {
      for (let written = 0; written < want; written += chunk.length) writeSync(fd, chunk);
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe("ENOSPC");
    } finally {
      closeSync(fd);
    }
    return filler;
  }

  const auditCount = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare("SELECT count(*) FROM audit").pluck().get() as number;
    } finally {
      db.close();
    }
  };

  it("fails with exit 8, writes nothing, releases no value, and works again once space is back", async (ctx) => {
    if (!mnt) ctx.skip();
    const home = await newVault(path.join(mnt!, "home"));
    const file = path.join(home, "vault.db");
    await ok(["secrets", "set", "prod/A"], home, "value-A");
    await ok(["secrets", "set", "prod/B"], home, "value-B");
    await ok(["env", "import", "-", "--namespace", "env"], home, "X=1\nY=2\n");
    const big = path.join(t.dir, "big.bin");
    writeFileSync(big, randomBytes(300 * 1024));
    const bigEnv = Array.from({ length: 40 }, (_, i) => `K${i}=${randomBytes(6000).toString("hex")}`).join("\n");
    const before = readFileSync(file);
    const audits = auditCount(file);

    // Room to open the vault and start a write, not to finish it: the commit hits the full disk.
    const filler = fill("filler", 96 * 1024);
    const setBig = await authy(["secrets", "set", "prod/BIG", "--from-file", big], { home, env: byId() });
    expectCleanFailure(setBig, 8);
    expect(setBig.stderr).toMatch(/disk is full|storage error/);
    const imp = await authy(["env", "import", "-", "--namespace", "env"], { home, env: byId(), input: bigEnv });
    expectCleanFailure(imp, 8);

    // No room at all: nothing opens, so nothing is read, written or released.
    const filler2 = fill("filler2", 0);
    const setSmall = await authy(["secrets", "set", "prod/A"], { home, env: byId(), input: "value-A-2" });
    expectCleanFailure(setSmall, 8);
    const get = await authy(["secrets", "get", "prod/A"], { home, env: byId() });
    expectCleanFailure(get, 8);
    expect(readFileSync(file).equals(before)).toBe(true);

    unlinkSync(filler);
    unlinkSync(filler2);
    // Nothing of the failed writes is there: no version, no audit entry.
    expect(auditCount(file)).toBe(audits);
    expect((await ok(["secrets", "get", "prod/A"], home)).stdout).toBe("value-A");
    expect((await ok(["secrets", "get", "prod/B"], home)).stdout).toBe("value-B");
    const hist = JSON.parse((await ok(["secrets", "history", "prod/A", "--json"], home)).stdout) as { versions: unknown[] };
    expect(hist.versions).toHaveLength(1);
    expect((await authy(["secrets", "get", "prod/BIG"], { home, env: byId() })).code).toBe(3);
    expect((await authy(["secrets", "get", "env/K0"], { home, env: byId() })).code).toBe(3);
    expect((await ok(["env", "export", "env", "--format", "json"], home)).stdout).toMatch(/"X": "1",\s*"Y": "2"/);
    // And the same writes now succeed.
    await ok(["secrets", "set", "prod/BIG", "--from-file", big], home);
    expect((await ok(["secrets", "get", "prod/BIG"], home)).stdoutBytes.equals(readFileSync(big))).toBe(true);
    await ok(["env", "import", "-", "--namespace", "env"], home, bigEnv);
    const doctor = await authy(["doctor"], { home, env: byId() });
    expect(doctor.code, doctor.stderr).toBe(0);
    expect(integrityCheck(file)).toBe("ok");
  }, 120_000);
});
