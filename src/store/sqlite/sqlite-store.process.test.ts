/**
 * Several OS processes on one vault file, through our adapter (not raw better-sqlite3): the
 * adapter's sources are transpiled into a temporary directory, so the children run what is
 * in src/ now, whatever state dist/ or the rest of the tree is in.
 */
import Database from "better-sqlite3";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteStore } from "./sqlite-store.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.resolve(here, "../..");
const WRITER = path.join(here, "testdata", "store-writer.mjs");

/** Transpiles src/errors.ts and src/store/** (tests and the vitest-only suite excepted). */
async function transpileAdapter(into: string): Promise<string> {
  const files = [
    "errors.ts",
    "store/store.ts",
    "store/nesting-guard.ts",
    ...(await readdir(path.join(src, "store/sqlite"))).map((f) => `store/sqlite/${f}`),
  ].filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
  for (const f of files) {
    const out = ts.transpileModule(await readFile(path.join(src, f), "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: f,
    });
    const dest = path.join(into, "out", f.replace(/\.ts$/, ".js"));
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(dest, out.outputText);
  }
  await writeFile(path.join(into, "package.json"), '{ "type": "module" }\n');
  // Resolution of "better-sqlite3" walks up from the transpiled files to this link.
  await symlink(path.resolve(src, "../node_modules"), path.join(into, "node_modules"), "dir");
  return pathToFileURL(path.join(into, "out/store/sqlite/sqlite-store.js")).href;
}

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  done: Promise<number | string | null>;
}

function runWriter(adapter: string, file: string, writes: number | "forever"): Run {
  const child = spawn(process.execPath, [WRITER, adapter, file, String(writes)], { stdio: ["ignore", "pipe", "pipe"] });
  const run: Run = { child, stdout: "", stderr: "", done: Promise.resolve(null) };
  child.stdout.on("data", (d: Buffer) => (run.stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (run.stderr += d.toString()));
  run.done = new Promise((resolve) => child.on("close", (code, signal) => resolve(code ?? signal)));
  return run;
}

/** Resolves once the child has reported its first committed write (or has exited). */
function firstCommit(run: Run): Promise<void> {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      if (run.stdout.includes("committed ") || run.child.exitCode !== null) {
        clearInterval(poll);
        resolve();
      }
    }, 2);
  });
}

function summary(run: Run): { ok: number; errors: Record<string, number> } {
  const last = run.stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last) as { ok: number; errors: Record<string, number> };
}

/** Counter, audit head, audit count, version count and integrity_check, read raw. */
function inspect(file: string): { counter: number; head: number; audits: number; versions: number; integrity: string } {
  const db = new Database(file, { readonly: true });
  try {
    const counter = (db.prepare("SELECT current_version FROM secrets WHERE path = 'test/COUNTER'").pluck().get() as number | undefined) ?? 0;
    const head = (db.prepare("SELECT max(seq) FROM audit").pluck().get() as number | null) ?? 0;
    const audits = db.prepare("SELECT count(*) FROM audit").pluck().get() as number;
    const versions = db.prepare("SELECT count(*) FROM secret_versions").pluck().get() as number;
    const integrity = (db.pragma("integrity_check") as { integrity_check: string }[]).map((r) => r.integrity_check).join("; ");
    return { counter, head, audits, versions, integrity };
  } finally {
    db.close();
  }
}

describe("SqliteStore across OS processes", () => {
  let dir: string;
  let adapter: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "authy-procs-"));
    adapter = await transpileAdapter(path.join(dir, "adapter"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function freshVault(name: string): Promise<string> {
    const file = path.join(dir, name);
    await SqliteStore.open(file, { create: true }).close();
    return file;
  }

  it("four processes writing at once lose no update and never show SQLITE_BUSY", async () => {
    const file = await freshVault("concurrent.db");
    const runs = Array.from({ length: 4 }, () => runWriter(adapter, file, 25));
    const codes = await Promise.all(runs.map((r) => r.done));
    expect(runs.map((r) => r.stderr).join("")).toBe("");
    expect(codes).toEqual([0, 0, 0, 0]);
    const results = runs.map(summary);
    const ok = results.reduce((n, r) => n + r.ok, 0);
    const errorCodes = new Set(results.flatMap((r) => Object.keys(r.errors)));
    for (const code of errorCodes) expect(code).toBe("UNAVAILABLE");
    expect(ok).toBe(100);
    expect(inspect(file)).toEqual({ counter: 100, head: 100, audits: 100, versions: 100, integrity: "ok" });
  });

  it("survives kill -9 at random moments: intact file, every reported write kept, each all or nothing", async () => {
    const file = await freshVault("killed.db");
    let reported = 0;
    for (let round = 0; round < 15; round++) {
      const run = runWriter(adapter, file, "forever");
      // Kill at a random moment once writes are flowing (start-up time varies with load).
      await firstCommit(run);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 60)));
      run.child.kill("SIGKILL");
      expect(await run.done).toBe("SIGKILL");
      expect(run.stderr).toBe("");
      for (const m of run.stdout.matchAll(/^committed (\d+)$/gm)) reported = Math.max(reported, Number(m[1]));
      const state = inspect(file);
      expect(state.integrity).toBe("ok");
      expect(state.counter).toBeGreaterThanOrEqual(reported);
      expect(state).toEqual({ ...state, head: state.counter, audits: state.counter, versions: state.counter });
    }
    expect(reported).toBeGreaterThan(0);
    const store = SqliteStore.open(file);
    try {
      expect(store.integrityCheck()).toEqual(["ok"]);
      expect((await store.getSecret("test/COUNTER"))?.currentVersion).toBe((await store.auditHead())?.seq);
    } finally {
      await store.close();
    }
  });
});
