#!/usr/bin/env node
/**
 * authy performance benchmark.
 *
 *   npm run bench                      full run (about 2.5 min on an idle 2-core machine)
 *   npm run bench -- --smoke           fast run for CI (about 35 s idle, 80 s under heavy load)
 *   npm run bench -- --json out.json   also choose where the JSON results go
 *
 * Options:
 *   --smoke       fewer runs, a 10,000-secret "big" vault instead of 100,000, and scrypt
 *                 work factor 15 instead of 18 for the passphrase-unlock figure (all said in
 *                 the output).
 *   --strict      exit 3 when any figure misses its target (default: report the miss, exit 0).
 *   --json FILE   write the JSON results to FILE (default: bench/results.json, git-ignored).
 *   --runs N      override the number of measured runs per figure.
 *   --keep        keep the temporary directory (its path is printed) for inspection.
 *
 * Output: a human-readable table on stdout; the full results (every sample, medians, ratios,
 * targets, pass/miss, setup and total times) as JSON in a file — bench/results.json unless
 * --json FILE is given. The JSON file's path is printed on the last line.
 *
 * Exit status: 0 when every command worked (whatever the ratios), 1 when something is BROKEN
 * (a command exited non-zero or printed the wrong thing; its stderr is shown), 2 for a bad
 * option, 3 only with --strict when a target was missed; 130/143 when interrupted by
 * SIGINT/SIGTERM (the temporary directory is removed in every case, unless --keep).
 *
 * Method: every figure is a RATIO against a baseline measured in the same run, because the
 * machines are shared and noisy. For CLI figures the baseline is `node -e 0`, spawned exactly
 * like the subject (same spawnSync options, environment and stdio). Baseline and subject runs
 * are interleaved (alternating which goes first) so drift affects both alike, warm-up runs are
 * discarded, and the figure is median(subject) / median(baseline). Wall time is measured with
 * process.hrtime around spawnSync; anything a run needs (a fresh vault copy for imports) is
 * prepared outside the timed region. The passphrase-unlock figure is measured in this process:
 * Vault.unlock with a passphrase against node:crypto.scrypt at the same parameters.
 *
 * Needs a build (`npm run build`); uses only Node built-ins and the built dist/ files.
 */
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { promisify } from "node:util";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLI = path.join(ROOT, "dist", "bin", "authy.js");
const DEFAULT_JSON = path.join(ROOT, "bench", "results.json");

// ---------------------------------------------------------------------------------------------
// Options

function usage(message) {
  if (message) process.stderr.write(`bench: ${message}\n`);
  process.stderr.write("usage: node bench/run.mjs [--smoke] [--strict] [--json FILE] [--runs N] [--keep]\n");
  process.exit(message ? 2 : 0);
}

function parseArgs(argv) {
  const opts = { smoke: false, strict: false, json: DEFAULT_JSON, runs: undefined, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--smoke") opts.smoke = true;
    else if (a === "--strict") opts.strict = true;
    else if (a === "--keep") opts.keep = true;
    else if (a === "--json") {
      if (!argv[i + 1]) usage("--json needs a file name");
      opts.json = path.resolve(argv[++i]);
    } else if (a === "--runs") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) usage("--runs needs a positive whole number");
      opts.runs = n;
    } else if (a === "-h" || a === "--help") usage();
    else usage(`unknown option ${a}`);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

/**
 * Everything that differs between a smoke run and a full run. Smoke imports run 3 times (each
 * writes 10,000 secrets, seconds apiece on a loaded 2-core runner); other figures 5 times.
 */
const CONFIG = opts.smoke
  ? { mode: "smoke", bigSecrets: 10_000, chunk: 10_000, runs: 5, warmup: 1, importRuns: 3, scryptLogN: 15, scryptRuns: 3, scryptWarmup: 1 }
  : { mode: "full", bigSecrets: 100_000, chunk: 10_000, runs: 21, warmup: 2, importRuns: 15, scryptLogN: 18, scryptRuns: 7, scryptWarmup: 1 };
if (opts.runs) {
  CONFIG.runs = opts.runs;
  CONFIG.importRuns = opts.runs;
  CONFIG.scryptRuns = opts.runs;
}
const EXPORT_SECRETS = 1_000;
const IMPORT_LINES = 10_000;
const PASSPHRASE = "correct horse battery staple (bench)";

// ---------------------------------------------------------------------------------------------
// Failure handling: a failing command means the build is broken.

class Broken extends Error {}
/** Ctrl-C: the child got SIGINT too. Not a failure of authy. */
class Interrupted extends Error {}

let tmpRoot = null;
function cleanup() {
  if (tmpRoot && !opts.keep) fs.rmSync(tmpRoot, { recursive: true, force: true });
  else if (tmpRoot) process.stderr.write(`bench: kept ${tmpRoot}\n`);
  tmpRoot = null;
}
// Signals are handled between runs (measure() yields to the event loop after each round).
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]]) {
  process.on(signal, () => {
    cleanup();
    process.exit(code);
  });
}

// ---------------------------------------------------------------------------------------------
// Spawning and timing

const now = () => process.hrtime.bigint();
const msSince = (t0) => Number(now() - t0) / 1e6;

/** The children's environment: ours without any authy credentials or home, plus `extra`. */
function childEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AUTHY_")) env[k] = v;
  return { ...env, NO_COLOR: "1", ...extra };
}

/**
 * Spawns `node …args` and times it (wall clock). Stdout and stderr are piped and collected,
 * for the subject and the baseline alike. Throws Broken on a non-zero exit.
 */
function spawnTimed(args, { env, input } = {}) {
  const t0 = now();
  const r = spawnSync(process.execPath, args, {
    env,
    input,
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    maxBuffer: 1 << 30,
  });
  const ms = msSince(t0);
  if (r.signal === "SIGINT") throw new Interrupted("interrupted");
  if (r.error || r.status !== 0) {
    const shown = args.map((a) => (a === CLI ? "authy" : a)).join(" ");
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
    throw new Broken(`\`${shown}\` failed (${why})\n--- stderr ---\n${r.stderr?.toString() ?? ""}--------------`);
  }
  return { ms, stdout: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8") };
}

/** Runs the authy CLI once (for setup and checks, untimed). */
function authy(args, env, input) {
  return spawnTimed([CLI, ...args], { env, input });
}

function check(ok, what) {
  if (!ok) throw new Broken(`wrong output: ${what}`);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The one measuring loop: `warmup + runs` rounds, each timing the baseline and the subject once,
 * in alternating order; warm-up rounds are discarded. Each thunk returns milliseconds (it may
 * do untimed preparation around the timed part itself).
 */
async function measure({ subject, baseline, runs, warmup }) {
  const subjectMs = [];
  const baselineMs = [];
  for (let i = 0; i < warmup + runs; i++) {
    const order = i % 2 === 0 ? ["baseline", "subject"] : ["subject", "baseline"];
    for (const which of order) {
      const ms = which === "subject" ? await subject(i) : await baseline(i);
      if (i >= warmup) (which === "subject" ? subjectMs : baselineMs).push(ms);
    }
    await yieldToEventLoop(); // lets a pending SIGINT/SIGTERM handler run
  }
  const m = median(subjectMs);
  const b = median(baselineMs);
  return {
    medianMs: m,
    baselineMs: b,
    ratio: m / b,
    // Median of the per-round ratios: a second view that is less sensitive to slow drift.
    pairedRatio: median(subjectMs.map((s, i) => s / baselineMs[i])),
    samplesMs: subjectMs,
    baselineSamplesMs: baselineMs,
  };
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/** A deterministic, non-trivial value for the i-th generated secret. */
const valueFor = (tag, i) => `${tag}-${i.toString(36)}-${crypto.createHash("sha256").update(`${tag}/${i}`).digest("base64url").slice(0, 24)}`;
const keyFor = (i) => `KEY_${String(i).padStart(6, "0")}`;

function writeDotenv(file, tag, from, count) {
  const lines = [];
  for (let i = from; i < from + count; i++) lines.push(`${keyFor(i)}=${valueFor(tag, i)}`);
  fs.writeFileSync(file, lines.join("\n") + "\n");
}

/** An identity-only vault in `home`, unlockable with the bench identity. */
function initVault(home, recipient) {
  authy(["init", "--no-passphrase", "--recipient", recipient], childEnv({ AUTHY_HOME: home }));
}

/** Copies a vault home (vault.db and any -wal/-shm) to a new directory. */
function copyVault(from, to) {
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true });
}

async function setup(dir) {
  const t0 = now();
  const idFile = path.join(dir, "identity.txt");
  const recipient = authy(["keys", "generate", "--out", idFile], childEnv({ AUTHY_HOME: path.join(dir, "unused") })).stdout.trim();
  check(/^age1[0-9a-z]+$/.test(recipient), `keys generate printed ${JSON.stringify(recipient)}, not an age1… recipient`);
  const homes = {
    small: path.join(dir, "small"),
    big: path.join(dir, "big"),
    exp: path.join(dir, "export"),
    importBase: path.join(dir, "import-base"),
    pass: path.join(dir, "passphrase"),
  };
  const env = (home) => childEnv({ AUTHY_HOME: home, AUTHY_IDENTITY: idFile });

  // 1 secret.
  initVault(homes.small, recipient);
  authy(["secrets", "set", "bench/ONE"], env(homes.small), "the-only-secret");
  check(authy(["secrets", "get", "bench/ONE"], env(homes.small)).stdout === "the-only-secret", "secrets get of the 1-secret vault");

  // The big vault, built with env import in chunks of 10,000 into namespaces big/c0, big/c1, …
  initVault(homes.big, recipient);
  const chunks = Math.ceil(CONFIG.bigSecrets / CONFIG.chunk);
  for (let c = 0; c < chunks; c++) {
    const file = path.join(dir, `big-${c}.env`);
    const from = c * CONFIG.chunk;
    writeDotenv(file, "big", from, Math.min(CONFIG.chunk, CONFIG.bigSecrets - from));
    authy(["env", "import", file, "--namespace", `big/c${c}`], env(homes.big));
    fs.rmSync(file);
    process.stdout.write(`  setup: big vault ${Math.min((c + 1) * CONFIG.chunk, CONFIG.bigSecrets)}/${CONFIG.bigSecrets} secrets\n`);
  }
  const probe = Math.floor(CONFIG.bigSecrets / 2) + 7; // a key in the middle, not the first or last
  const bigProbe = { path: `big/c${Math.floor(probe / CONFIG.chunk)}/${keyFor(probe)}`, value: valueFor("big", probe) };

  // 1,000 values to export.
  initVault(homes.exp, recipient);
  const expFile = path.join(dir, "export.env");
  writeDotenv(expFile, "exp", 0, EXPORT_SECRETS);
  authy(["env", "import", expFile, "--namespace", "exp"], env(homes.exp));

  // An empty vault, copied afresh for every import run; and the 10,000-line file to import.
  initVault(homes.importBase, recipient);
  const importFile = path.join(dir, "import.env");
  writeDotenv(importFile, "imp", 0, IMPORT_LINES);

  // A passphrase vault at the figure-5 work factor.
  authy(["init", "--work-factor", String(CONFIG.scryptLogN)], childEnv({ AUTHY_HOME: homes.pass, AUTHY_PASSPHRASE: PASSPHRASE }));

  return { idFile, recipient, homes, env, bigProbe, importFile, setupMs: msSince(t0) };
}

// ---------------------------------------------------------------------------------------------
// Figures

/** A CLI figure: `authy …args` against `node -e 0`, both spawned with the same env. */
function cliFigure({ id, title, target, home, args, verify, prepare, runs }) {
  return {
    id,
    title,
    target,
    baselineLabel: "node -e 0",
    runs: runs ?? CONFIG.runs,
    warmup: CONFIG.warmup,
    async run(fx, fig) {
      const fixedEnv = fx.env(fx.homes[home]);
      return measure({
        runs: fig.runs,
        warmup: fig.warmup,
        baseline: () => spawnTimed(["-e", "0"], { env: fixedEnv }).ms,
        subject: (i) => {
          const env = prepare ? prepare(fx, i) : fixedEnv;
          const r = spawnTimed([CLI, ...args(fx)], { env });
          verify?.(r, fx, env, i);
          return r.ms;
        },
      });
    },
  };
}

const FIGURES = [
  cliFigure({
    id: "get-1",
    title: "secrets get, 1 secret (identity)",
    target: 2.0,
    home: "small",
    args: () => ["secrets", "get", "bench/ONE"],
    verify: (r) => check(r.stdout === "the-only-secret", "secrets get bench/ONE"),
  }),
  cliFigure({
    id: "get-big",
    title: `secrets get, ${CONFIG.bigSecrets.toLocaleString("en-US")} secrets (identity)`,
    target: 2.0,
    home: "big",
    args: (fx) => ["secrets", "get", fx.bigProbe.path],
    verify: (r, fx) => check(r.stdout === fx.bigProbe.value, `secrets get ${fx.bigProbe.path}`),
  }),
  cliFigure({
    id: "list-big",
    title: `secrets list, ${CONFIG.bigSecrets.toLocaleString("en-US")} names`,
    target: 3.0,
    home: "big",
    args: () => ["secrets", "list"],
    verify: (r) => {
      const lines = r.stdout.split("\n").filter(Boolean);
      check(lines.length === CONFIG.bigSecrets, `secrets list printed ${lines.length} names, expected ${CONFIG.bigSecrets}`);
    },
  }),
  cliFigure({
    id: "export-1k",
    title: `env export, ${EXPORT_SECRETS.toLocaleString("en-US")} values (dotenv)`,
    target: 2.0,
    home: "exp",
    args: () => ["env", "export", "exp", "--format", "dotenv"],
    verify: (r) => {
      const lines = r.stdout.split("\n").filter((l) => l.includes("="));
      check(lines.length === EXPORT_SECRETS, `env export printed ${lines.length} entries, expected ${EXPORT_SECRETS}`);
      check(r.stdout.includes(valueFor("exp", 123)), "env export is missing a value");
    },
  }),
  cliFigure({
    id: "import-10k",
    title: `env import, ${IMPORT_LINES.toLocaleString("en-US")} lines (fresh vault copy)`,
    target: 10.0,
    home: "importBase",
    runs: CONFIG.importRuns,
    args: (fx) => ["env", "import", fx.importFile, "--namespace", "imp"],
    // Untimed: every run imports into a fresh copy of an empty vault, so it writes 10,000 new secrets.
    prepare: (fx) => {
      const home = path.join(tmpRoot, "import-run");
      copyVault(fx.homes.importBase, home);
      return fx.env(home);
    },
    // Untimed: the first run's result is listed back; every run must report 10000 new.
    verify: (r, fx, env, i) => {
      check(/\b10000 new\b/.test(r.stderr), `env import did not report 10000 new secrets: ${r.stderr.trim()}`);
      if (i === 0) {
        const n = authy(["secrets", "list", "imp"], env).stdout.split("\n").filter(Boolean).length;
        check(n === IMPORT_LINES, `after env import, secrets list imp shows ${n} names, expected ${IMPORT_LINES}`);
      }
    },
  }),
  {
    id: "unlock-passphrase",
    title: `passphrase unlock, scrypt logN=${CONFIG.scryptLogN} (in-process)`,
    target: 1.15,
    baselineLabel: `crypto.scrypt logN=${CONFIG.scryptLogN}`,
    runs: CONFIG.scryptRuns,
    warmup: CONFIG.scryptWarmup,
    async run(fx, fig) {
      const { Vault } = await import(pathToFileURL(path.join(ROOT, "dist", "vault", "vault.js")).href);
      const { SqliteStore } = await import(pathToFileURL(path.join(ROOT, "dist", "store", "sqlite", "sqlite-store.js")).href);
      const scrypt = promisify(crypto.scrypt);
      const params = { N: 2 ** CONFIG.scryptLogN, r: 8, p: 1, maxmem: 512 * 2 ** 20 };
      const file = path.join(fx.homes.pass, "vault.db");
      const clock = { now: () => Date.now() };
      return measure({
        runs: fig.runs,
        warmup: fig.warmup,
        // What an age scrypt stanza derives: 32 bytes from the label plus a 16-byte salt.
        baseline: async () => {
          const salt = Buffer.concat([Buffer.from("age-encryption.org/v1/scrypt"), crypto.randomBytes(16)]);
          const t0 = now();
          const key = await scrypt(PASSPHRASE, salt, 32, params);
          const ms = msSince(t0);
          check(key.length === 32, "crypto.scrypt");
          return ms;
        },
        // Only Vault.unlock is timed; opening and closing the store are not.
        subject: async () => {
          const store = SqliteStore.open(file);
          let vault;
          const t0 = now();
          try {
            vault = await Vault.unlock({ store, clock }, { passphrase: PASSPHRASE });
          } catch (e) {
            await store.close();
            throw new Broken(`Vault.unlock with the passphrase failed: ${e?.stack ?? e}`);
          }
          const ms = msSince(t0);
          await vault.close();
          return ms;
        },
      });
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Reporting

const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

function printTable(results) {
  const head = ["figure", "median ms", "baseline ms", "ratio", "target", "result", "runs"];
  const rows = results.map((r) => [r.title, fmt(r.medianMs), `${fmt(r.baselineMs)} (${r.baselineLabel})`, `${r.ratio.toFixed(2)}x`, `<= ${r.target.toFixed(2)}x`, r.pass ? "pass" : "MISS", String(r.runs)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const right = new Set([1, 3, 4, 6]);
  const line = (cells) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  process.stdout.write(`\n${line(head)}\n${line(widths.map((w) => "-".repeat(w)))}\n${rows.map(line).join("\n")}\n`);
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const started = now();
  const startedAt = new Date().toISOString();
  const loadBefore = os.loadavg();
  if (!fs.existsSync(CLI)) {
    process.stderr.write(`bench: ${path.relative(process.cwd(), CLI)} does not exist; run \`npm run build\` first\n`);
    return 1;
  }
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "authy-bench-"));
  process.stdout.write(`authy bench (${CONFIG.mode}) — node ${process.version}, ${os.cpus().length} CPU(s), ${os.platform()}/${os.arch()}, load ${loadBefore.map((x) => x.toFixed(2)).join(" ")}\n`);
  if (opts.smoke) {
    process.stdout.write(
      `  smoke mode: the big vault holds ${CONFIG.bigSecrets.toLocaleString("en-US")} secrets (full: 100,000), passphrase unlock uses scrypt logN=${CONFIG.scryptLogN} (full: 18), ${CONFIG.runs} runs per figure\n`,
    );
  }

  const fx = await setup(tmpRoot);
  process.stdout.write(`  setup: ${(fx.setupMs / 1000).toFixed(1)} s\n`);

  const results = [];
  for (const fig of FIGURES) {
    const t0 = now();
    const m = await fig.run(fx, fig);
    const r = { id: fig.id, title: fig.title, baselineLabel: fig.baselineLabel, target: fig.target, runs: fig.runs, warmup: fig.warmup, ...m, pass: m.ratio <= fig.target, wallMs: msSince(t0) };
    results.push(r);
    process.stdout.write(`  ${fig.id}: ${fmt(r.medianMs)} ms vs ${fmt(r.baselineMs)} ms = ${r.ratio.toFixed(2)}x (target <= ${fig.target}x, ${r.pass ? "pass" : "MISS"}) [${(r.wallMs / 1000).toFixed(1)} s]\n`);
  }

  printTable(results);
  const misses = results.filter((r) => !r.pass);
  const totalMs = msSince(started);
  process.stdout.write(
    `\n${results.length - misses.length}/${results.length} figures within target${misses.length ? `; missed: ${misses.map((r) => r.id).join(", ")}` : ""}. Total ${(totalMs / 1000).toFixed(1)} s (setup ${(fx.setupMs / 1000).toFixed(1)} s); load now ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}.\n`,
  );

  const report = {
    mode: CONFIG.mode,
    startedAt,
    node: process.version,
    platform: `${os.platform()}/${os.arch()}`,
    cpus: os.cpus().length,
    loadavg: { before: loadBefore, after: os.loadavg() },
    config: { ...CONFIG, exportSecrets: EXPORT_SECRETS, importLines: IMPORT_LINES },
    setupMs: fx.setupMs,
    totalMs,
    ok: true,
    allPass: misses.length === 0,
    misses: misses.map((r) => r.id),
    figures: results,
  };
  fs.mkdirSync(path.dirname(opts.json), { recursive: true });
  fs.writeFileSync(opts.json, JSON.stringify(report, null, 2) + "\n");
  const shown = path.relative(process.cwd(), opts.json);
  process.stdout.write(`JSON results: ${shown && !shown.startsWith("..") ? shown : opts.json}\n`);
  return opts.strict && misses.length > 0 ? 3 : 0;
}

main().then(
  (code) => {
    cleanup();
    process.exitCode = code;
  },
  (e) => {
    cleanup();
    if (e instanceof Interrupted) {
      process.stderr.write("\nbench: interrupted\n");
      process.exitCode = 130;
      return;
    }
    if (e instanceof Broken) process.stderr.write(`\nbench: BROKEN: ${e.message}\n`);
    else process.stderr.write(`\nbench: BROKEN (harness error): ${e?.stack ?? e}\n`);
    process.exitCode = 1;
  },
);
