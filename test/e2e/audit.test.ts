/**
 * The audit commands from the command line: queries and their filters, the --json shapes,
 * `audit verify` exit codes (0 intact, 7 naming the first bad entry), checkpoints kept in a
 * file catching deleted newest entries, export as csv, json and jsonl (never a value), and
 * `--follow` printing new entries until Ctrl-C.
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authy, baseEnv, CLI, initVault, tempHome, withPass, type Result } from "./cli.js";

const CANARY = "canary-e2e-Qx7-5b0d9c2e-not-for-logs";
const ENTRY_KEYS = ["seq", "time", "actor", "action", "resource", "outcome", "details", "prevHash", "hash"];

let t: ReturnType<typeof tempHome>;
/** A vault with: init, prod/DB (written twice, read), prod/sub/K, production/X, agent ci. */
let home: string;
let homes = 0;

const run = (args: string[], h = home, input?: string) => authy(args, { home: h, env: withPass, input });
async function ok(args: string[], h = home, input?: string): Promise<Result> {
  const r = await run(args, h, input);
  if (r.code !== 0) throw new Error(`authy ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}
const json = (s: string) => JSON.parse(s);

/** A new home holding a copy of the shared vault, for edits by hand. */
function copyHome(): { home: string; db: string } {
  const h = path.join(t.dir, `copy${++homes}`);
  mkdirSync(h, { mode: 0o700 });
  for (const f of readdirSync(home).filter((f) => f.startsWith("vault.db"))) copyFileSync(path.join(home, f), path.join(h, f));
  return { home: h, db: path.join(h, "vault.db") };
}

function sql(db: string, statement: string): void {
  const d = new Database(db);
  try {
    d.prepare(statement).run();
  } finally {
    d.close();
  }
}

beforeAll(async () => {
  t = tempHome();
  home = t.home;
  await initVault(home);
  await ok(["secrets", "set", "prod/DB"], home, CANARY);
  await ok(["secrets", "set", "prod/DB"], home, `${CANARY}-2`);
  await ok(["secrets", "get", "prod/DB"]);
  await ok(["secrets", "set", "prod/sub/K"], home, "sub-value-123456");
  await ok(["secrets", "set", "production/X"], home, "production-value-123456");
  await ok(["agents", "create", "ci", "--scope", "secrets:read:prod/*"]);
});

afterAll(() => t.cleanup());

describe("authy audit (query)", () => {
  it("prints the newest entries oldest first as JSON with a stable shape", async () => {
    const r = await ok(["audit", "--json"]);
    const out = json(r.stdout);
    expect(Object.keys(out)).toEqual(["entries", "headSeq", "events"]);
    expect(out.entries.map((e: { action: string }) => e.action)).toEqual([
      "vault.init",
      "secret.write",
      "secret.write",
      "secret.read",
      "secret.write",
      "secret.write",
      "agent.create",
    ]);
    expect(out.headSeq).toBe(7);
    for (const e of out.entries) {
      expect(Object.keys(e)).toEqual(ENTRY_KEYS);
      expect(e.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(out.entries[3]).toMatchObject({ seq: 4, actor: "owner", action: "secret.read", resource: "prod/DB", outcome: "ok", details: { version: 2 } });
    expect(r.stdout).not.toContain(CANARY);
  });

  it("filters by action, namespace, time and limit", async () => {
    const seqs = async (...args: string[]) => json((await ok(["audit", "--json", ...args])).stdout).entries.map((e: { seq: number }) => e.seq);
    expect(await seqs("--action", "secret.read")).toEqual([4]);
    expect(await seqs("--namespace", "prod")).toEqual([2, 3, 4, 5]);
    expect(await seqs("--namespace", "prod/sub")).toEqual([5]);
    expect(await seqs("--since", "1h", "--limit", "2")).toEqual([6, 7]);
    expect(await seqs("--until", "2000-01-01")).toEqual([]);
    expect(await seqs("--agent", "ci")).toEqual([]);
    expect(await seqs("--actor", "owner", "--action", "agent.create")).toEqual([7]);
  });

  it("prints an aligned table without colour when not on a terminal, and nothing for no match", async () => {
    const r = await ok(["audit", "--namespace", "production"]);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TIME\s+OUTCOME\s+ACTOR\s+ACTION\s+RESOURCE\s+DETAILS$/);
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+ok\s+owner\s+secret\.write\s+production\/X\s+version=1 type=custom tier=standard$/);
    expect(lines[1]!.indexOf("owner")).toBe(lines[0]!.indexOf("ACTOR"));
    expect(r.stdout).not.toContain("\u001b[");
    const none = await ok(["audit", "--action", "nothing.here"]);
    expect(none.stdout).toBe("");
    expect(none.stderr).toContain("no audit entries match");
  });

  it("refuses bad usage with exit 2", async () => {
    for (const args of [
      ["audit", "--since", "yesterday"],
      ["audit", "--limit", "x"],
      ["audit", "--limit", "0"],
      ["audit", "--limit", "10001"],
      ["audit", "verfy"],
      ["audit", "--namespace", "a/../b"],
      ["audit", "--follow", "--until", "1h"],
      ["audit", "export", "--format", "xml"],
    ]) {
      const r = await run(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stdout).toBe("");
    }
  });
});

describe("authy audit verify and checkpoint", () => {
  it("exits 0 on an intact log, with a report", async () => {
    const r = await ok(["audit", "verify"]);
    expect(r.stdout).toMatch(/^audit log intact: 7 entries, head 7 \([0-9a-f]{16}…\)\n$/);
    const j = json((await ok(["audit", "verify", "--json"])).stdout);
    expect(j).toMatchObject({ ok: true, entries: 7, head: { seq: 7 }, firstBad: null, checkpoint: null });
  });

  it("exits 7 naming the first bad entry of a vault.db edited by hand", async () => {
    const c = copyHome();
    sql(c.db, "UPDATE audit SET details = '{\"version\":1}' WHERE seq = 4");
    const r = await run(["audit", "verify"], c.home);
    expect(r).toMatchObject({ code: 7, stdout: "", stderr: expect.stringMatching(/^authy: audit entry 4: was modified\n(hint: [^\n]+\n)?$/) });
    const j = await run(["audit", "verify", "--json"], c.home);
    expect(j.code).toBe(7);
    expect(json(j.stdout)).toMatchObject({ ok: false, entries: 3, firstBad: { seq: 4, reason: "was modified" } });
    expect(json(j.stderr).error).toMatchObject({ code: "INTEGRITY", message: "audit entry 4: was modified" });
    // A query that returns the entry refuses too; one that does not, answers.
    expect((await run(["audit"], c.home)).code).toBe(7);
    expect((await run(["audit", "--action", "agent.create"], c.home)).code).toBe(0);
  });

  it("names a deleted entry", async () => {
    const c = copyHome();
    sql(c.db, "DELETE FROM audit WHERE seq = 3");
    const r = await run(["audit", "verify"], c.home);
    expect(r).toMatchObject({ code: 7, stderr: expect.stringMatching(/^authy: audit entry 3: missing \(next is 4\)\n(hint: [^\n]+\n)?$/) });
  });

  it("round-trips a checkpoint file (0600) that catches deleted newest entries", async () => {
    const c = copyHome();
    const file = path.join(t.dir, `cp${homes}.json`);
    const w = await ok(["audit", "checkpoint", "--out", file], c.home);
    expect(w.stdout).toBe("");
    expect(w.stderr).toContain("wrote a checkpoint of audit entry 7");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const cp = json(readFileSync(file, "utf8"));
    expect(Object.keys(cp)).toEqual(["format", "vaultId", "seq", "hash", "time", "mac"]);
    expect(cp).toMatchObject({ format: "authy-audit-checkpoint/v2", seq: 7, time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/) });
    expect(json((await ok(["audit", "checkpoint"], c.home)).stdout)).toMatchObject({ seq: 7, hash: cp.hash, vaultId: cp.vaultId });

    await ok(["secrets", "get", "prod/DB"], c.home);
    const holds = await ok(["audit", "verify", "--checkpoint", file], c.home);
    expect(holds.stdout).toContain("checkpoint of entry 7");
    expect(holds.stdout).toContain("holds");

    sql(c.db, "DELETE FROM audit WHERE seq >= 6");
    expect((await run(["audit", "verify"], c.home)).code).toBe(0);
    const caught = await run(["audit", "verify", "--checkpoint", file], c.home);
    expect(caught.code).toBe(7);
    expect(caught.stderr).toBe(
      "authy: the audit log does not match the checkpoint: the log ends at entry 5 but the checkpoint names entry 7: the newest entries were deleted\n",
    );
  });

  it("still reads a version 1 checkpoint (time as epoch ms `ts`), and its time is under the MAC", async () => {
    const { writeFileSync } = await import("node:fs");
    const cp = json((await ok(["audit", "checkpoint"])).stdout) as { time: string; [k: string]: unknown };
    const { time, ...rest } = cp;
    const v1 = path.join(t.dir, "v1.json");
    writeFileSync(v1, JSON.stringify({ ...rest, format: "authy-audit-checkpoint/v1", ts: Date.parse(time) }));
    const holds = await ok(["audit", "verify", "--checkpoint", v1, "--json"]);
    expect(json(holds.stdout).checkpoint).toEqual({ seq: cp.seq, time, ok: true, reason: null });
    const moved = path.join(t.dir, "moved.json");
    writeFileSync(moved, JSON.stringify({ ...cp, time: new Date(Date.parse(time) + 1).toISOString() }));
    expect(await run(["audit", "verify", "--checkpoint", moved])).toMatchObject({ code: 7, stderr: expect.stringContaining("checkpoint was edited") });
    writeFileSync(moved, JSON.stringify({ ...cp, time: time.replace(/\.\d{3}Z$/, "Z") }));
    expect(await run(["audit", "verify", "--checkpoint", moved])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("time is not an ISO 8601 UTC time with milliseconds"),
    });
  });

  it("refuses a checkpoint that was edited (7) or is not one (2)", async () => {
    const file = path.join(t.dir, "edited.json");
    const cp = json((await ok(["audit", "checkpoint"])).stdout);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(file, JSON.stringify({ ...cp, seq: 5 }));
    expect(await run(["audit", "verify", "--checkpoint", file])).toMatchObject({ code: 7, stderr: expect.stringContaining("checkpoint was edited") });
    writeFileSync(file, "not json");
    expect((await run(["audit", "verify", "--checkpoint", file])).code).toBe(2);
    expect((await run(["audit", "verify", "--checkpoint", path.join(t.dir, "missing.json")])).code).toBe(3);
  });
});

describe("authy audit export", () => {
  it("writes csv with a header and proper quoting", async () => {
    const r = await ok(["audit", "export", "--format", "csv"]);
    const lines = r.stdout.split("\r\n");
    expect(lines[0]).toBe("seq,time,ts,actor,action,resource,outcome,details,prev_hash,hash");
    expect(lines.at(-1)).toBe("");
    expect(lines).toHaveLength(1 + 7 + 1);
    expect(lines[4]).toMatch(/^4,[^,]+,\d+,owner,secret\.read,prod\/DB,ok,"\{""version"":2\}",[0-9a-f]{64},[0-9a-f]{64}$/);
    expect(r.stdout).not.toContain(CANARY);
  });

  it("writes json (one array) and jsonl (one entry per line), the same entries as the query", async () => {
    const arr = json((await ok(["audit", "export"])).stdout);
    expect(arr.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(arr).toEqual(json((await ok(["audit", "--json"])).stdout).entries);
    const lines = (await ok(["audit", "export", "--format", "jsonl"])).stdout.trimEnd().split("\n");
    expect(lines.map((l) => json(l))).toEqual(arr);
    for (const form of [CANARY, Buffer.from(CANARY).toString("base64"), Buffer.from(CANARY).toString("hex")]) expect(JSON.stringify(arr)).not.toContain(form);
  });

  it("writes a 0600 file with --out, and leaves none behind when the log is bad", async () => {
    const file = path.join(t.dir, "audit.csv");
    const r = await ok(["audit", "export", "--format", "csv", "--out", file, "--json"]);
    expect(json(r.stdout)).toEqual({ file, format: "csv", entries: 7, headSeq: 7 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8").split("\r\n")).toHaveLength(9);

    const c = copyHome();
    sql(c.db, "UPDATE audit SET resource = 'prod/OTHER' WHERE seq = 4");
    const out = path.join(t.dir, "bad.json");
    const bad = await run(["audit", "export", "--out", out], c.home);
    expect(bad).toMatchObject({ code: 7, stderr: expect.stringMatching(/^authy: audit entry 4: was modified\n(hint: [^\n]+\n)?$/) });
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(t.dir).filter((f) => f.startsWith(".bad.json"))).toEqual([]);
  });
});

describe("authy audit --follow", () => {
  it("prints new entries as JSON lines until Ctrl-C, then exits 0", async () => {
    const c = copyHome();
    const child = spawn(process.execPath, [CLI, "audit", "--follow", "--json", "--action", "secret.read"], {
      env: { ...baseEnv(c.home), ...withPass },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const until = async (cond: () => boolean, what: string) => {
      for (const start = Date.now(); !cond(); await new Promise((r) => setTimeout(r, 50))) {
        if (Date.now() - start > 20_000) throw new Error(`timed out waiting for ${what}; stderr: ${err}`);
      }
    };
    try {
      await until(() => out.split("\n").length > 1, "the first entry");
      expect(
        out
          .trimEnd()
          .split("\n")
          .map((l) => json(l).seq),
      ).toEqual([4]);
      await ok(["secrets", "get", "prod/DB"], c.home);
      await ok(["secrets", "set", "prod/NEW"], c.home, "new-value-0123456789");
      await ok(["secrets", "get", "prod/NEW"], c.home);
      await until(() => out.trimEnd().split("\n").length >= 3, "the new reads");
      const entries = out
        .trimEnd()
        .split("\n")
        .map((l) => json(l));
      expect(entries.map((e) => [e.seq, e.action, e.resource])).toEqual([
        [4, "secret.read", "prod/DB"],
        [8, "secret.read", "prod/DB"],
        [10, "secret.read", "prod/NEW"],
      ]);
      for (const e of entries) expect(Object.keys(e)).toEqual(ENTRY_KEYS);
    } finally {
      child.kill("SIGINT");
    }
    expect(await closed).toBe(0);
    expect(err).toBe("");
  });
});
