import { spawn, type ChildProcess } from "node:child_process";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { openPostgresStore } from "../../src/store/postgres/postgres-store.js";
import type { Store } from "../../src/store/store.js";
import { serverInstance } from "../../src/server/instance.js";
import { Vault } from "../../src/vault/vault.js";
import { baseEnv, CLI } from "./cli.js";

/** Helpers for tests of `authy serve`: a server process of the built CLI, and fixtures made through the library. */

/** How long a server may take to print its start line (scrypt, migrations, two loaded cores). */
export const SERVE_START_TIMEOUT_MS = 30_000;

export interface Served {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Everything it wrote on stderr so far (its JSON log). */
  stderr(): string;
  /** Resolves with its exit code (128+N when killed by signal N) once it has exited. */
  exited: Promise<number>;
}

/** Starts `authy serve ARGS` and resolves once it prints where it listens; rejects with its stderr if it exits first. */
export function startServe(args: string[], opts: { home: string; env?: Record<string, string | undefined> }): Promise<Served> {
  const env: Record<string, string> = { ...baseEnv(opts.home) };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) Reflect.deleteProperty(env, k);
    else env[k] = v;
  }
  const child = spawn(process.execPath, ["--", CLI, "serve", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) =>
    child.on("close", (code, signal) => resolve(code ?? 128 + (signal === "SIGKILL" ? 9 : signal === "SIGTERM" ? 15 : 0))),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`authy serve did not start in ${SERVE_START_TIMEOUT_MS} ms:\n${err}`));
    }, SERVE_START_TIMEOUT_MS);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /serving (https?:\/\/\S+) .*pid (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, pid: Number(m[2]), child, stderr: () => err, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`authy serve exited with ${code} before listening:\n${err}`));
    });
  });
}

/** Stops a server with SIGTERM and returns its exit code. */
export async function stopServe(s: Served): Promise<number> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGTERM");
  return s.exited;
}

export const TEST_PASSPHRASE = "correct horse battery staple";
const clock = { now: () => Date.now() };

/** A new vault in `store`, with the test passphrase at the lowest work factor. */
export async function initVault(store: Store): Promise<Vault> {
  return Vault.init({ store, clock }, { passphrase: TEST_PASSPHRASE, workFactor: 15 });
}

export async function openVault(store: Store): Promise<Vault> {
  return Vault.unlock({ store, clock }, { passphrase: TEST_PASSPHRASE });
}

export { openPostgresStore, SqliteStore, serverInstance };

/** A token every server process on this vault honours, for `scope`. */
export async function serverToken(vault: Vault, scope: string, opts: { uses?: number; ttlMs?: number } = {}): Promise<string> {
  const { secret } = await vault.createToken({ scope: await vault.resolveScope(scope), instance: serverInstance(vault.vaultId), ...opts });
  return secret;
}

/** GET/PUT with a bearer, as JSON. */
export async function call(
  url: string,
  opts: { method?: string; bearer?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown>; text: string }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.bearer !== undefined) headers.authorization = `Bearer ${opts.bearer}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url, { method: opts.method ?? "GET", headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: the test looks at text
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** The URL of a secret's item route. */
export function secretUrl(base: string, path: string): string {
  const i = path.lastIndexOf("/");
  return `${base}/v1/secrets/${encodeURIComponent(path.slice(0, i))}/${encodeURIComponent(path.slice(i + 1))}`;
}
