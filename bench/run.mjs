#!/usr/bin/env node
/**
 * authy performance benchmark.
 *
 *   npm run bench                      full run (about 4 min on an idle 2-core machine)
 *   npm run bench -- --smoke           fast run for CI (about 40 s idle, 70 s with both cores busy)
 *   npm run bench -- --json out.json   also choose where the JSON results go
 *
 * Options:
 *   --smoke       fewer runs and smaller inputs, all said in the output: a 10,000-secret "big"
 *                 vault instead of 100,000, scrypt work factor 15 instead of 18 for the
 *                 passphrase-unlock figure, 5 rounds of masking 100 MiB instead of 9, 2 s
 *                 instead of 5 s of daemon load, 50,000 audit entries instead of 1,000,000.
 *   --strict      exit 3 when any figure misses its target (default: report the miss, exit 0).
 *   --json FILE   write the JSON results to FILE (default: bench/results.json, git-ignored).
 *   --runs N      override the number of measured runs (rounds) per figure.
 *   --keep        keep the temporary directory (its path is printed) for inspection.
 *
 * Output: a human-readable table on stdout; the full results (every sample, medians, ratios,
 * targets, pass/miss, setup and total times) as JSON in a file — bench/results.json unless
 * --json FILE is given. The JSON file's path is printed on the last line.
 *
 * Exit status: 0 when every command worked (whatever the ratios), 1 when something is BROKEN
 * (a command exited non-zero or printed the wrong thing; its stderr is shown), 2 for a bad
 * option, 3 only with --strict when a target was missed; 130/143 when interrupted by
 * SIGINT/SIGTERM. In every case the temporary directory is removed (unless --keep) and the
 * daemon the bench started is stopped (`authy lock`, then SIGTERM to its pid if still alive).
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
 * The children inherit the environment: where NODE_EXTRA_CA_CERTS or NODE_OPTIONS is set, the
 * run says so and how long `node -e 0` takes with and without it (startEnvironment()).
 *
 * Throughput figures (masking, daemon reads, audit verify) are ratios of throughputs, so
 * higher is better and a target reads ">= T x"; figures without a target are reported as
 * "info". Each one's method is described where it is defined, in its figure file.
 *
 * Layout: this file is the harness's main (options, the order of the figure files, the run,
 * the JSON). bench/harness/ holds what every figure uses (options.mjs, measure.mjs with
 * cliFigure(), fixtures.mjs with the shared vaults and cleanup, report.mjs); bench/figures/
 * holds the figures, one file per domain. A figure file's default export is a section
 * { name, setup?(fx), teardown?(fx), figures, config? }; adding one is adding its name to
 * FIGURE_FILES below.
 *
 * Needs a build (`npm run build`); uses only Node built-ins, the built dist/ files, and
 * `sh`, `cat`, `true` and `sha256sum` (or `shasum -a 256`).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CLI, CONFIG, EXPORT_SECRETS, IMPORT_LINES, opts, usage } from "./harness/options.mjs";
import { Broken, Interrupted, childEnv, measure, msSince, now, spawnTimed } from "./harness/measure.mjs";
import { cleanup, makeTmpRoot, setup } from "./harness/fixtures.mjs";
import { printTable, runFigure } from "./harness/report.mjs";

/**
 * The figure files (bench/figures/NAME.mjs), run in this order. The core figures' fixtures are
 * made by setup(); every other section makes its own just before its figures (and the daemon
 * section stops its daemon after them).
 */
const FIGURE_FILES = ["secrets", "run", "daemon", "audit", "scan", "server"];

const SECTIONS = await Promise.all(FIGURE_FILES.map(async (name) => (await import(`./figures/${name}.mjs`)).default));

// Signals are handled between runs (measure() yields to the event loop after each round).
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
]) {
  process.on(signal, () => {
    cleanup();
    process.exit(code);
  });
}

/**
 * What weighs on every process's start here, the baselines' included: NODE_EXTRA_CA_CERTS makes
 * Node.js parse that whole certificate file at start (on the build machine, where it names
 * Debian's bundle of 146 certificates, 416 of the 504 million instructions of `node -e 0`), and
 * NODE_OPTIONS can load anything. The children inherit both, as authy's own callers would; the
 * start-up ratios depend on them, so the run says so and measures `node -e 0` without them.
 */
async function startEnvironment() {
  const inherited = Object.fromEntries(["NODE_EXTRA_CA_CERTS", "NODE_OPTIONS"].filter((k) => process.env[k]).map((k) => [k, process.env[k]]));
  if (Object.keys(inherited).length === 0) return { inherited };
  const bare = Object.fromEntries(Object.entries(childEnv({})).filter(([k]) => !(k in inherited)));
  const m = await measure({
    subject: () => spawnTimed(["-e", "0"], { env: childEnv({}) }).ms,
    baseline: () => spawnTimed(["-e", "0"], { env: bare }).ms,
    runs: CONFIG.runs,
    warmup: 1,
  });
  const withMs = m.medianMs;
  const withoutMs = m.baselineMs;
  process.stdout.write(
    `  environment: ${Object.keys(inherited).join(" and ")} set, and inherited by every process measured: \`node -e 0\` takes ${withMs.toFixed(0)} ms here, ${withoutMs.toFixed(0)} ms without (start-up ratios against it are lower than on a machine without)\n`,
  );
  return { inherited, nodeMs: withMs, nodeWithoutMs: withoutMs };
}

async function main() {
  const started = now();
  const startedAt = new Date().toISOString();
  const loadBefore = os.loadavg();
  const unknown = opts.only ? [...opts.only].filter((id) => !SECTIONS.some((s) => s.figures.some((f) => f.id === id))) : [];
  if (unknown.length > 0) usage(`no figure ${unknown.join(", ")}`);
  if (!fs.existsSync(CLI)) {
    process.stderr.write(`bench: ${path.relative(process.cwd(), CLI)} does not exist; run \`npm run build\` first\n`);
    return 1;
  }
  const tmpRoot = makeTmpRoot();
  process.stdout.write(
    `authy bench (${CONFIG.mode}) — node ${process.version}, ${os.cpus().length} CPU(s), ${os.platform()}/${os.arch()}, load ${loadBefore.map((x) => x.toFixed(2)).join(" ")}\n`,
  );
  if (opts.smoke) {
    process.stdout.write(
      `  smoke mode: the big vault holds ${CONFIG.bigSecrets.toLocaleString("en-US")} secrets (full: 100,000), passphrase unlock uses scrypt logN=${CONFIG.scryptLogN} (full: 18), ${CONFIG.runs} runs per figure;\n` +
        `  masking pushes ${CONFIG.maskMB} MiB (as the full run) in ${CONFIG.maskRuns} runs (full: 9), daemon load runs ${CONFIG.daemonRounds} round(s) of ${CONFIG.daemonSeconds} s (full: 2 of 5 s), the audit log holds ${CONFIG.auditEntries.toLocaleString("en-US")} entries (full: 1,000,000)\n`,
    );
  }

  const startEnv = await startEnvironment();

  const fx = await setup(tmpRoot);
  let setupMs = fx.setupMs;
  process.stdout.write(`  setup: ${(fx.setupMs / 1000).toFixed(1)} s\n`);

  const results = [];
  for (const section of SECTIONS) {
    // --only: the figures asked for (setup still runs for their sections).
    const figures = section.figures.filter((f) => !opts.only || opts.only.has(f.id));
    if (figures.length === 0) continue;
    if (section.setup) {
      const t0 = now();
      await section.setup(fx);
      const ms = msSince(t0);
      setupMs += ms;
      process.stdout.write(`  setup ${section.name}: ${(ms / 1000).toFixed(1)} s\n`);
    }
    for (const fig of figures) results.push(await runFigure(fx, fig));
    // On success only: after a failure, cleanup() stops whatever is left.
    section.teardown?.(fx);
  }

  printTable(results);
  const targeted = results.filter((r) => r.pass !== null);
  const misses = targeted.filter((r) => !r.pass);
  const totalMs = msSince(started);
  process.stdout.write(
    `\n${targeted.length - misses.length}/${targeted.length} figures within target${misses.length ? `; missed: ${misses.map((r) => r.id).join(", ")}` : ""} (${results.length - targeted.length} without a target). Total ${(totalMs / 1000).toFixed(1)} s (setup ${(setupMs / 1000).toFixed(1)} s); load now ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}.\n`,
  );

  const report = {
    mode: CONFIG.mode,
    startedAt,
    node: process.version,
    platform: `${os.platform()}/${os.arch()}`,
    cpus: os.cpus().length,
    loadavg: { before: loadBefore, after: os.loadavg() },
    startEnvironment: startEnv,
    config: Object.assign({ ...CONFIG, exportSecrets: EXPORT_SECRETS, importLines: IMPORT_LINES }, ...SECTIONS.map((s) => s.config ?? {})),
    setupMs,
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
