/**
 * The team server (`authy serve`): the HTTP application of src/api on TCP (TLS, or plain HTTP
 * on loopback), unlocked at start, on PostgreSQL (any number of processes on one database) or
 * on the SQLite vault of AUTHY_HOME (one process). It runs until SIGTERM or SIGINT: then it
 * stops accepting, lets in-flight requests finish (bounded), audits, wipes the key, closes the
 * store and returns 0.
 *
 * stderr carries fastify's structured JSON log (pino): requests by method, path and status,
 * refusals and failures by their message; never a value, a token, a key or a header.
 */
import type { FastifyInstance } from "fastify";
import { hostname } from "node:os";
import { buildApi } from "../api/index.js";
import { closeGracefully } from "../api/graceful-close.js";
import { MemoryWindowCounts, WindowedAuthLimiter, type WindowCounts } from "../api/auth-limit.js";
import { approvalSettings } from "../notify/notifier.js";
import { SHUTDOWN_GRACE_MS } from "../daemon/lifetime.js";
import { AuthyError, isAuthyError } from "../errors.js";
import { native, nativeUnavailable, protectProcess } from "../os/native.js";
import type { Store } from "../store/store.js";
import { systemClock } from "../vault/clock.js";
import type { Credential } from "../vault/key-slots.js";
import { Vault } from "../vault/vault.js";
import { serverInstance } from "./instance.js";
import { isLoopback, urlHost, type ListenAddress } from "./listen-address.js";
import { serverLogger } from "./log.js";

/** Pending connections the kernel queues before accept() (as the daemon's LISTEN_BACKLOG). */
const LISTEN_BACKLOG = 4096;
/** How often node enforces the headers and request timeouts (its default, 30 s, lets a slow client linger). */
const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;
/**
 * A refused credential is answered no sooner than this: an unknown token and a wrong one
 * differ by a row lookup and an HMAC (a few ms), well under it even on a loaded database.
 */
const AUTH_FAILURE_FLOOR_MS = 100;
/** Signals that stop the server cleanly (systemd sends SIGTERM; Ctrl-C sends SIGINT). */
const STOP_SIGNALS = ["SIGTERM", "SIGINT"] as const;

interface ServeOptions {
  listen: ListenAddress;
  /** postgres://… or null for the SQLite vault at `vaultPath`. */
  databaseUrl: string | null;
  vaultPath: string;
  credential: Credential;
  tls: { cert: Buffer; key: Buffer } | null;
  insecureHttp: boolean;
  /** --trust-proxy: the reverse proxies whose X-Forwarded-For names the client (parseTrustProxy). */
  trustProxy: string[] | null;
  /** Told once the server listens: its URL (with the real port) and what it serves. */
  onListening(info: { url: string; store: string; pid: number; instance: string }): void;
}

function describe(e: unknown): string {
  return isAuthyError(e) ? `${e.code}: ${e.message}` : ((e as Error | null)?.message ?? String(e));
}

/** The database URL without its user and password, for the log and the start line. */
function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `postgres://${u.host}${u.pathname}`;
  } catch {
    return "postgres";
  }
}

async function openStore(o: ServeOptions): Promise<Store> {
  if (o.databaseUrl !== null) {
    if (!/^postgres(ql)?:\/\//.test(o.databaseUrl)) {
      throw new AuthyError("INVALID_INPUT", "the database URL must start with postgres:// or postgresql://", {
        hint: "for example --database postgres://authy@db.internal/authy (the password in PGPASSWORD or ~/.pgpass)",
      });
    }
    const { openPostgresStore } = await import("../store/postgres/postgres-store.js");
    return openPostgresStore(o.databaseUrl);
  }
  const { SqliteStore } = await import("../store/sqlite/sqlite-store.js");
  // Several reads a request: they share a snapshot (read-snapshot.ts).
  return SqliteStore.open(o.vaultPath, { sharedReads: true });
}

/**
 * Refuses what must never start: plain HTTP that leaves this machine, a process others could
 * read. Then makes this process non-dumpable: called before the credential is read.
 */
export function checkStart(o: Pick<ServeOptions, "tls" | "insecureHttp" | "listen">): void {
  if (!o.tls && !o.insecureHttp && !isLoopback(o.listen.host)) {
    throw new AuthyError("INVALID_INPUT", `plain HTTP on ${o.listen.host} would send tokens and values in clear over the network`, {
      hint: "give --tls-cert FILE --tls-key FILE, listen on 127.0.0.1 behind a TLS reverse proxy, or pass --insecure-http",
    });
  }
  if (!native())
    throw new AuthyError("UNAVAILABLE", `the server cannot protect itself here: ${nativeUnavailable()}`, {
      hint: "authy serve needs Linux with prctl (it makes itself non-dumpable, as the daemon does)",
    });
  protectProcess();
}

export async function runServer(o: ServeOptions): Promise<number> {
  checkStart(o);
  process.title = "authy-serve";
  const storeName = o.databaseUrl !== null ? describeDatabase(o.databaseUrl) : o.vaultPath;
  const store = await openStore(o);
  // Approval requests and requested rotations reach the owner as the vault's settings say (webhook, desktop).
  let noteFailure = (_m: string): void => undefined;
  const approvals = approvalSettings((m) => noteFailure(m));
  let vault: Vault;
  try {
    vault = await Vault.unlock({ store, clock: systemClock, approvals }, o.credential);
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
  const instance = serverInstance(vault.vaultId);
  // Failure counts where every process on the vault sees them: the database, or this one process's memory.
  let counts: WindowCounts;
  try {
    counts =
      o.databaseUrl !== null
        ? await (await import("../store/postgres/postgres-window-counts.js")).PostgresWindowCounts.open(o.databaseUrl)
        : new MemoryWindowCounts();
  } catch (e) {
    vault.lock();
    await store.close().catch(() => undefined);
    throw e;
  }
  const logger = serverLogger();
  noteFailure = (m) => app?.log.warn({ reason: m }, "notification");
  let current: Vault | null = vault;
  let app: FastifyInstance | undefined;
  try {
    app = await buildApi({
      vault: () => current,
      instance,
      // No owner session and no terminal on a server: every caller presents a credential.
      isOwnerSession: () => false,
      // A CI job may hold only an agent key (the Agent Secret Store's ASS_AGENT_KEY): it acts within the agent's scope.
      agentKeysDirect: true,
      serverName: hostname(),
      onInternalError: (e) => app?.log.error({ reason: describe(e) }, "internal error answering a request"),
      status: () => ({ state: "serving", pid: process.pid, store: o.databaseUrl !== null ? "postgres" : "sqlite" }),
      ready: async () => {
        await store.getVault();
      },
      logger,
      authLimiter: new WindowedAuthLimiter(counts),
      ...(o.trustProxy ? { trustProxy: o.trustProxy } : {}),
      authFailureFloorMs: AUTH_FAILURE_FLOOR_MS,
      ...(o.tls ? { https: o.tls } : {}),
    });
    // Read by node when the server starts listening (missing from @types/node 20).
    (app.server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = CONNECTIONS_CHECK_INTERVAL_MS;
    await app.listen({ host: o.listen.host, port: o.listen.port, backlog: LISTEN_BACKLOG, listenTextResolver: () => "listening" }).catch((e: unknown) => {
      throw listenFailure(e, o.listen);
    });
    await vault.recordEvent("vault.unlock", "vault", { mode: "server", pid: process.pid });
  } catch (e) {
    await app?.close().catch(() => undefined);
    vault.lock();
    await counts.close?.().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : o.listen.port;
  const url = `${o.tls ? "https" : "http"}://${urlHost(o.listen.host)}:${port}`;

  const served = app;
  let onStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (onStopped = resolve));
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      served.log.info({ signal }, "stopping: in-flight requests finish, no new ones");
      await closeGracefully(served, SHUTDOWN_GRACE_MS, () =>
        served.log.warn({ graceMs: SHUTDOWN_GRACE_MS }, "in-flight requests still running; closing their connections"),
      );
      current = null;
      await approvals.notifier.flush();
      await vault.recordEvent("vault.lock", "vault", { mode: "server", reason: `signal ${signal}` }).catch((e: unknown) => {
        served.log.warn({ reason: describe(e) }, "could not audit the stop");
      });
      vault.lock();
      await store.close().catch((e: unknown) => served.log.warn({ reason: describe(e) }, "closing the store"));
      await counts.close?.().catch(() => undefined);
      for (const s of STOP_SIGNALS) process.removeListener(s, handlers[s]);
      served.log.info("stopped");
    })().finally(onStopped);
  };
  const handlers = { SIGTERM: () => stop("SIGTERM"), SIGINT: () => stop("SIGINT") };
  for (const s of STOP_SIGNALS) process.on(s, handlers[s]);

  served.log.info({ url, store: storeName, instance }, "serving");
  o.onListening({ url, store: storeName, pid: process.pid, instance });
  await stopped;
  return 0;
}

/** Why the listening socket could not be made, in the user's terms (a code node gives, or the error as it was). */
function listenFailure(e: unknown, at: ListenAddress): unknown {
  const where = `${urlHost(at.host)}:${at.port}`;
  switch ((e as NodeJS.ErrnoException | null)?.code) {
    case "EADDRINUSE":
      return new AuthyError("UNAVAILABLE", `cannot listen on ${where}: the address is already in use`, {
        hint: "another program (perhaps another `authy serve`) listens there: stop it, or choose another port (port 0 picks a free one)",
      });
    case "EACCES":
      return new AuthyError("ACCESS_DENIED", `cannot listen on ${where}: permission denied`, {
        hint: "ports below 1024 need privileges: use a higher port behind a reverse proxy, or give node CAP_NET_BIND_SERVICE",
      });
    case "EADDRNOTAVAIL":
      return new AuthyError("INVALID_INPUT", `cannot listen on ${where}: no such address on this machine`, {
        hint: "listen on 127.0.0.1, 0.0.0.0 (every address) or one of this machine's addresses",
      });
    default:
      return e;
  }
}
