import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Helpers for end-to-end tests: they spawn the built CLI with a temporary AUTHY_HOME. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(ROOT, "dist/bin/authy.js");
/** The lowest work factor authy accepts: keeps tests fast, still a real scrypt. */
export const TEST_WORK_FACTOR = "15";
export const PASSPHRASE = "correct horse battery staple";

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export interface RunOptions {
  input?: string | Buffer;
  env?: Record<string, string | undefined>;
  home?: string;
  timeoutMs?: number;
  /** Another copy of the executable to run (default: dist/bin/authy.js). */
  cli?: string;
  /** In a session of its own (setsid): never the owner of a daemon this test process unlocked. */
  detached?: boolean;
  /** The working directory (default: this process's). */
  cwd?: string;
}

/** A clean environment: nothing from the developer's own authy setup leaks into a test. */
export function baseEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("AUTHY_")) env[k] = v;
  env.AUTHY_HOME = home;
  env.NO_COLOR = "1";
  return env;
}

export function authy(args: string[], opts: RunOptions & { home: string }): Promise<Result> {
  const env = { ...baseEnv(opts.home), ...opts.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) Reflect.deleteProperty(env, k);
  const child = spawn(process.execPath, ["--", opts.cli ?? CLI, ...args], {
    env,
    stdio: ["pipe", "pipe", "pipe"],
    detached: opts.detached ?? false,
    cwd: opts.cwd,
  });
  return finished(child, opts.input, opts.timeoutMs ?? 30_000);
}

/** Gives a spawned child its stdin and collects what it prints until it exits (killed after `timeoutMs`). */
export function finished(child: ChildProcess, input: string | Buffer | undefined, timeoutMs: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (d: Buffer) => out.push(d));
    child.stderr?.on("data", (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({
        code: code ?? 128 + (signal ? os.constants.signals[signal] : 0),
        stdout: stdoutBytes.toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        stdoutBytes,
      });
    });
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(input ?? "");
  });
}

/** A temporary AUTHY_HOME, removed by the returned cleanup. */
export function tempHome(): { home: string; dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "authy-e2e-"));
  return { dir, home: path.join(dir, "home"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A vault unlocked by AUTHY_PASSPHRASE, with the fastest accepted work factor. */
export async function initVault(home: string): Promise<void> {
  const r = await authy(["init", "--work-factor", TEST_WORK_FACTOR], { home, env: { AUTHY_PASSPHRASE: PASSPHRASE } });
  if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
}

export const withPass = { AUTHY_PASSPHRASE: PASSPHRASE };
