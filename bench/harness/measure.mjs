/**
 * Spawning, timing and the measuring loops every figure uses, and cliFigure(): a figure that
 * times one CLI command against `node -e 0`.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { CLI, CONFIG, ROOT } from "./options.mjs";

// Failure handling: a failing command means the build is broken.
export class Broken extends Error {}
/** Ctrl-C: the child got SIGINT too. Not a failure of authy. */
export class Interrupted extends Error {}

export const now = () => process.hrtime.bigint();
export const msSince = (t0) => Number(now() - t0) / 1e6;

/** The children's environment: ours without any authy credentials or home, plus `extra`. */
export function childEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AUTHY_")) env[k] = v;
  return { ...env, NO_COLOR: "1", ...extra };
}

/**
 * Spawns `file …args` and times it (wall clock). Stdout (unless `stdout` names a file
 * descriptor to write to instead, such as /dev/null) and stderr are piped and collected, for
 * the subject and the baseline alike. Throws Broken on a non-zero exit.
 */
export function spawnCmdTimed(file, args, { env, input, stdout = "pipe" } = {}) {
  const t0 = now();
  const r = spawnSync(file, args, {
    env,
    input,
    stdio: [input === undefined ? "ignore" : "pipe", stdout, "pipe"],
    maxBuffer: 1 << 30,
  });
  const ms = msSince(t0);
  if (r.signal === "SIGINT") throw new Interrupted("interrupted");
  if (r.error || r.status !== 0) {
    const shown = (file === process.execPath ? args : [file, ...args]).map((a) => (a === CLI ? "authy" : a)).join(" ");
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
    throw new Broken(`\`${shown}\` failed (${why})\n--- stderr ---\n${r.stderr?.toString() ?? ""}--------------`);
  }
  return { ms, stdout: r.stdout ? r.stdout.toString("utf8") : "", stderr: r.stderr.toString("utf8") };
}

/** Spawns `node …args` and times it, as spawnCmdTimed. */
export function spawnTimed(args, options) {
  return spawnCmdTimed(process.execPath, args, options);
}

/** Runs the authy CLI once (for setup and checks, untimed). */
export function authy(args, env, input) {
  return spawnTimed([CLI, ...args], { env, input });
}

export function check(ok, what) {
  if (!ok) throw new Broken(`wrong output: ${what}`);
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The one measuring loop: `warmup + runs` rounds, each timing the baseline and the subject once,
 * in alternating order; warm-up rounds are discarded. Each thunk returns milliseconds (it may
 * do untimed preparation around the timed part itself).
 */
export async function measure({ subject, baseline, runs, warmup }) {
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

/**
 * measure() for more than two series: each round runs every thunk once, the order rotated
 * from round to round; warm-up rounds are discarded. Returns each series' median and samples.
 */
export async function measureSeries({ series, runs, warmup }) {
  const names = Object.keys(series);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < warmup + runs; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length];
      const ms = await series[name](i);
      if (i >= warmup) samples[name].push(ms);
    }
    await yieldToEventLoop();
  }
  return Object.fromEntries(names.map((n) => [n, { medianMs: median(samples[n]), samplesMs: samples[n] }]));
}

/**
 * A CLI figure: `authy …args` (or another node `program`) against `node -e 0`, both spawned with the same env: the
 * identity env of `home`, or `envOf(fx)` (the daemon figures). `precheck(fx, env)` runs once,
 * untimed, before measuring.
 */
export function cliFigure({ id, title, target, home, envOf, args, verify, prepare, precheck, runs, program = CLI }) {
  return {
    id,
    title,
    target,
    baselineLabel: "node -e 0",
    runs: runs ?? CONFIG.runs,
    warmup: CONFIG.warmup,
    async run(fx, fig) {
      const fixedEnv = envOf ? envOf(fx) : fx.env(fx.homes[home]);
      precheck?.(fx, fixedEnv);
      return measure({
        runs: fig.runs,
        warmup: fig.warmup,
        baseline: () => spawnTimed(["-e", "0"], { env: fixedEnv }).ms,
        subject: (i) => {
          const env = prepare ? prepare(fx, i) : fixedEnv;
          const r = spawnTimed([program, ...args(fx)], { env });
          verify?.(r, fx, env, i);
          return r.ms;
        },
      });
    },
  };
}

export const distModule = (file) => import(pathToFileURL(path.join(ROOT, "dist", file)).href);
export const fmtCount = (n) => Math.round(n).toLocaleString("en-US");
export const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

/** `authy run` arguments: the scope, no terminal, then the command. */
export const runArgs = (scope, command) => ["run", "--scope", scope, "--no-tty", "--", ...command];
