/**
 * Issue 4: the daemon. `authy unlock` with the identity, from this process's session, then
 * commands from the same session without AUTHY_IDENTITY (so they can only succeed through the
 * daemon, as the owner by terminal session: issue 10). `authy lock` stops it after the
 * figures, and the harness's cleanup() stops it on any other exit (error, SIGINT, SIGTERM).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { CONFIG, CLI, EXPORT_SECRETS, ROOT } from "../harness/options.mjs";
import { Broken, authy, check, childEnv, cliFigure, fmtCount, measure, msSince, now, runArgs } from "../harness/measure.mjs";
import { initVault, keyFor, onCleanup, tmpRoot, valueFor, writeDotenv } from "../harness/fixtures.mjs";

/** run-1k's 1,000 secrets, in the daemon's own vault (namespace dmnk). */
const RUN_1K_SECRETS = EXPORT_SECRETS;
const DAEMON_SECRET = "the-daemon-secret";
const DAEMON_CLIENTS = 32;
const FLOOR_SCRIPT = path.join(ROOT, "bench", "floor-daemon-get.cjs");
/** Daemons this run started: { home, env, pid }. */
const daemons = [];

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}

function daemonPid(home) {
  try {
    return JSON.parse(fs.readFileSync(path.join(home, "daemon", "daemon.json"), "utf8")).pid ?? null;
  } catch {
    return null;
  }
}

const sleepSync = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Stops a daemon this run started: `authy lock` from this session, then, if its process is
 * still alive after 3 s, SIGTERM to that pid (and SIGKILL 2 s later). Synchronous, so that
 * signal handlers can use it. Returns what went wrong, or null.
 */
function stopDaemon(d) {
  const i = daemons.indexOf(d);
  if (i >= 0) daemons.splice(i, 1);
  const pid = d.pid ?? daemonPid(d.home);
  const r = spawnSync(process.execPath, [CLI, "lock"], { env: d.env, stdio: ["ignore", "pipe", "pipe"], timeout: 20_000 });
  const problem = r.status === 0 ? null : `authy lock failed (${r.error?.message ?? r.signal ?? `exit status ${r.status}`}): ${r.stderr?.toString().trim()}`;
  if (pid === null) return problem;
  for (let waited = 0; processAlive(pid) && waited < 3000; waited += 50) sleepSync(50);
  if (!processAlive(pid)) return problem;
  process.kill(pid, "SIGTERM");
  for (let waited = 0; processAlive(pid) && waited < 2000; waited += 50) sleepSync(50);
  if (processAlive(pid)) process.kill(pid, "SIGKILL");
  return `${problem ?? "authy lock returned"} but daemon ${pid} was still running; sent it SIGTERM`;
}

function stopAllDaemons() {
  for (const d of [...daemons]) {
    const problem = stopDaemon(d);
    if (problem) process.stderr.write(`bench: stopping the daemon: ${problem}\n`);
  }
}

async function setupDaemon(fx) {
  const home = path.join(tmpRoot, "daemon");
  fx.homes.daemon = home;
  initVault(home, fx.recipient);
  authy(["secrets", "set", "dmn/ONE"], fx.env(home), DAEMON_SECRET);
  // 1,000 more, in their own namespace, for the run figure that matches run-1k.
  const many = path.join(tmpRoot, "daemon-1k.env");
  writeDotenv(many, "dmnk", 0, RUN_1K_SECRETS);
  authy(["env", "import", many, "--namespace", "dmnk"], fx.env(home));
  // Registered before it exists, so that a failure from here on still stops it.
  const d = { home, env: childEnv({ AUTHY_HOME: home }), pid: null };
  daemons.push(d);
  authy(["unlock", "--idle", "10m", "--max", "1h"], fx.env(home));
  d.pid = daemonPid(home);
  check(d.pid !== null, "authy unlock started no daemon");
  d.socket = JSON.parse(fs.readFileSync(path.join(home, "daemon", "daemon.json"), "utf8")).socket;
  check(typeof d.socket === "string" && fs.statSync(d.socket).isSocket(), `daemon.json names no socket: ${d.socket}`);
  check(authy(["secrets", "get", "dmn/ONE"], d.env).stdout === DAEMON_SECRET, "secrets get through the daemon");
  d.token = authy(["tokens", "create", "--scopes", "secrets:read:dmn/*", "--ttl", "1h"], d.env).stdout.trim();
  check(/^authy_tk_\S+$/.test(d.token), `tokens create printed ${JSON.stringify(d.token.slice(0, 80))}, not a token`);
  fx.daemon = d;
  process.stdout.write(`  setup: daemon ${d.pid} on ${d.socket}\n`);
}

function teardownDaemon(fx) {
  const problem = stopDaemon(fx.daemon);
  if (problem) throw new Broken(`stopping the daemon: ${problem}`);
}

/** One GET over the daemon's Unix socket; resolves with the body of a 200, else Broken. */
function daemonGet(agent, socketPath, urlPath, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, socketPath, path: urlPath, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        if (res.statusCode === 200) resolve(body);
        else reject(new Broken(`GET ${urlPath} on the daemon socket: HTTP ${res.statusCode} ${body.slice(0, 300)}`));
      });
    });
    req.on("error", (e) => reject(new Broken(`GET ${urlPath} on the daemon socket: ${e.message}`)));
    req.end();
  });
}

/**
 * DAEMON_CLIENTS keep-alive connections, each sending its next request as soon as the last
 * answer arrived, until `seconds` have passed. Returns the requests completed per second.
 */
async function hammer(socketPath, urlPath, headers, seconds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: DAEMON_CLIENTS });
  let requests = 0;
  const t0 = now();
  const client = async () => {
    while (msSince(t0) < seconds * 1000) {
      await daemonGet(agent, socketPath, urlPath, headers);
      requests++;
    }
  };
  try {
    await Promise.all(Array.from({ length: DAEMON_CLIENTS }, client));
  } finally {
    agent.destroy();
  }
  const ms = msSince(t0);
  return { requests, ms, perSecond: requests / (ms / 1000) };
}

/** The newest audit seq of the daemon's vault. */
const auditHeadSeq = (d) => JSON.parse(authy(["audit", "--limit", "1", "--json"], d.env).stdout).headSeq;

const DAEMON_FIGURES = [
  cliFigure({
    id: "daemon-get",
    title: "secrets get through the daemon",
    target: 1.3,
    envOf: (fx) => fx.daemon.env,
    args: () => ["secrets", "get", "dmn/ONE"],
    verify: (r) => check(r.stdout === DAEMON_SECRET, "secrets get dmn/ONE through the daemon"),
  }),
  cliFigure({
    // Not authy: the least any client of the daemon must do to print one value as the owner
    // (bench/floor-daemon-get.cjs), measured the same way, to show how much of daemon-get's
    // ratio is the CLI's and how much is a Node.js process, the daemon's work and its fsync.
    id: "floor-daemon-get",
    title: "floor under secrets get through the daemon: one checked request, no CLI",
    target: null,
    program: FLOOR_SCRIPT,
    envOf: (fx) => fx.daemon.env,
    args: (fx) => [fx.daemon.home, "dmn/ONE"],
    verify: (r) => check(r.stdout === DAEMON_SECRET, "the daemon floor printed something else than dmn/ONE"),
  }),
  cliFigure({
    id: "daemon-run",
    title: "run -- true through the daemon, 1 secret",
    target: 1.6,
    envOf: (fx) => fx.daemon.env,
    args: () => runArgs("secrets:read:dmn/*", ["true"]),
    precheck: (fx, env) =>
      check(
        authy(runArgs("secrets:read:dmn/*", ["sh", "-c", 'printf %s "${#ONE}"']), env).stdout === String(DAEMON_SECRET.length),
        "authy run through the daemon: $ONE is not the secret",
      ),
  }),
  cliFigure({
    // run-1k's work with the key held by the daemon, which runs warm: 2.0x here (direct mode
    // cannot reach it; see the export floor).
    id: "daemon-run-1k",
    title: `run -- true through the daemon, ${RUN_1K_SECRETS.toLocaleString("en-US")} secrets`,
    target: 2.0,
    envOf: (fx) => fx.daemon.env,
    args: () => runArgs("secrets:read:dmnk/*", ["true"]),
    precheck: (fx, env) => {
      const probe = keyFor(RUN_1K_SECRETS - 1);
      // Its length: the value itself would come out masked.
      const r = authy(runArgs("secrets:read:dmnk/*", ["sh", "-c", `printf %s "\${#${probe}}"`]), env);
      check(r.stdout === String(valueFor("dmnk", RUN_1K_SECRETS - 1).length), `authy run through the daemon: $${probe} is not its secret`);
    },
  }),
  cliFigure({
    // export-1k's work with the key held by the daemon (its dmnk namespace: the same 1,000).
    id: "daemon-export-1k",
    title: `env export through the daemon, ${RUN_1K_SECRETS.toLocaleString("en-US")} values (dotenv)`,
    target: 2.0,
    envOf: (fx) => fx.daemon.env,
    args: () => ["env", "export", "dmnk", "--format", "dotenv"],
    verify: (r) => {
      const lines = r.stdout.split("\n").filter((l) => l.includes("="));
      check(lines.length === RUN_1K_SECRETS, `env export through the daemon printed ${lines.length} entries, expected ${RUN_1K_SECRETS}`);
      check(r.stdout.includes(valueFor("dmnk", 123)), "env export through the daemon is missing a value");
    },
  }),
  {
    /**
     * Requests/s of DAEMON_CLIENTS concurrent keep-alive clients in this process, on the
     * daemon's socket: `GET /v1/secrets/dmn/ONE` with a bearer token (authorized, audited)
     * against the bare `GET /v1/health` of the same server. Rounds alternate which goes first;
     * the warm-up round is shorter. ratio = reads/s / health/s. No target.
     */
    id: "daemon-reads",
    title: `daemon token reads, ${DAEMON_CLIENTS} clients, ${CONFIG.daemonSeconds} s rounds`,
    target: null,
    better: "higher",
    baselineLabel: "GET /v1/health",
    runs: CONFIG.daemonRounds,
    warmup: 1,
    async run(fx, fig) {
      const d = fx.daemon;
      const auth = { authorization: `Bearer ${d.token}` };
      const checkAgent = new http.Agent();
      const body = JSON.parse(await daemonGet(checkAgent, d.socket, "/v1/secrets/dmn/ONE", auth));
      checkAgent.destroy();
      check(body.value === DAEMON_SECRET, "GET /v1/secrets/dmn/ONE with the token returned another value");
      const seconds = (i) => (i < fig.warmup ? CONFIG.daemonWarmupSeconds : CONFIG.daemonSeconds);
      const rounds = { reads: [], health: [] };
      const headBefore = auditHeadSeq(d);
      let reads = 0;
      // measure() compares times, so each round reports milliseconds per request.
      const m = await measure({
        runs: fig.runs,
        warmup: fig.warmup,
        subject: async (i) => {
          const h = await hammer(d.socket, "/v1/secrets/dmn/ONE", auth, seconds(i));
          reads += h.requests;
          if (i >= fig.warmup) rounds.reads.push(h);
          return 1000 / h.perSecond;
        },
        baseline: async (i) => {
          const h = await hammer(d.socket, "/v1/health", {}, seconds(i));
          if (i >= fig.warmup) rounds.health.push(h);
          return 1000 / h.perSecond;
        },
      });
      const audited = auditHeadSeq(d) - headBefore;
      check(audited >= reads, `${reads} token reads added only ${audited} audit entries`);
      const rate = 1000 / m.medianMs;
      const baselineRate = 1000 / m.baselineMs;
      return {
        ...m,
        ratio: rate / baselineRate,
        pairedRatio: 1 / m.pairedRatio,
        unit: "requests/s",
        rate,
        baselineRate,
        rounds,
        auditedEntries: audited,
        display: {
          subject: `${fmtCount(rate)} reads/s`,
          baseline: `${fmtCount(baselineRate)} req/s (GET /v1/health)`,
          detail: `${fmtCount(reads)} reads, all audited`,
        },
      };
    },
  },
];

onCleanup(stopAllDaemons);

export default { name: "daemon (issue 4)", setup: setupDaemon, teardown: teardownDaemon, figures: DAEMON_FIGURES, config: { daemonClients: DAEMON_CLIENTS } };
