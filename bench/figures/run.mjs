/**
 * Issue 3: `authy run`: start-up with 1 and with 1,000 secrets (direct mode, identity unlock),
 * the throughput of output masking, and what --sandbox adds.
 */
import fs from "node:fs";
import path from "node:path";
import { CONFIG, CLI, EXPORT_SECRETS } from "../harness/options.mjs";
import { authy, check, cliFigure, distModule, fmt, fmtCount, measure, measureSeries, runArgs, spawnCmdTimed, spawnTimed } from "../harness/measure.mjs";
import { copyVault, initVault, tmpRoot, valueFor, writeDotenv } from "../harness/fixtures.mjs";

const RUN_1K_SECRETS = EXPORT_SECRETS; // the export vault's 1,000 secrets, in namespace exp
const MASK_SECRETS = 50;
/** The masked-output file is this chunk (whole lines, about 1 MiB) repeated CONFIG.maskMB times. */
const MASK_CHUNK_BYTES = 1 << 20;
/** One line in this many carries a secret value (about 900 occurrences per MiB). */
const MASK_EVERY = 16;

/** About 1 MiB of log-like lines; every MASK_EVERY-th one contains one of `secrets`. */
function maskChunk(secrets) {
  const lines = [];
  let size = 0;
  for (let n = 0, k = 0; size < MASK_CHUNK_BYTES; n++) {
    const line =
      n % MASK_EVERY === 0
        ? `${n} POST /v1/deploy token=${secrets[k++ % secrets.length]} status=200\n`
        : `${n} GET /v1/health status=200 the quick brown fox jumps over the lazy dog\n`;
    lines.push(line);
    size += line.length;
  }
  return lines.join("");
}

async function setupRun(fx) {
  const { homes, env } = fx;
  // Copies, so that run's own audit entries stay out of the vaults the other figures use.
  homes.run1 = path.join(tmpRoot, "run-1");
  copyVault(homes.small, homes.run1); // bench/ONE
  homes.run1k = path.join(tmpRoot, "run-1k");
  copyVault(homes.exp, homes.run1k); // exp/KEY_000000 … exp/KEY_000999

  // 50 secrets in namespace mask, and the file of output to mask.
  homes.mask = path.join(tmpRoot, "mask");
  initVault(homes.mask, fx.recipient);
  const envFile = path.join(tmpRoot, "mask.env");
  writeDotenv(envFile, "mask", 0, MASK_SECRETS);
  authy(["env", "import", envFile, "--namespace", "mask"], env(homes.mask));
  const secrets = Array.from({ length: MASK_SECRETS }, (_, i) => valueFor("mask", i));
  const text = maskChunk(secrets);
  const { MASK_PLACEHOLDER } = await distModule("run/masker.js");
  let masked = text;
  for (const s of secrets) masked = masked.replaceAll(s, MASK_PLACEHOLDER);
  const chunk = Buffer.from(text);
  const file = path.join(tmpRoot, "mask-output.txt");
  const fd = fs.openSync(file, "w");
  try {
    for (let i = 0; i < CONFIG.maskMB; i++) fs.writeSync(fd, chunk);
  } finally {
    fs.closeSync(fd);
  }
  const perChunk = secrets.reduce((n, s) => n + text.split(s).length - 1, 0);
  fx.mask = { file, bytes: chunk.length * CONFIG.maskMB, copies: CONFIG.maskMB, maskedChunk: Buffer.from(masked), occurrences: perChunk * CONFIG.maskMB };
}

/**
 * Untimed check that masking works: the whole output, written to a file, must be exactly the
 * input with each secret occurrence replaced by the placeholder.
 */
function verifyMasking(fx, env) {
  const { file, copies, maskedChunk, occurrences } = fx.mask;
  const out = path.join(tmpRoot, "masked-output.txt");
  const fd = fs.openSync(out, "w");
  let r;
  try {
    r = spawnTimed([CLI, ...runArgs("secrets:read:mask/*", ["cat", file])], { env, stdout: fd });
  } finally {
    fs.closeSync(fd);
  }
  check(!/not masked/.test(r.stderr), `authy run warned: ${r.stderr.trim()}`);
  const size = fs.statSync(out).size;
  check(size === maskedChunk.length * copies, `masked output is ${size} bytes, expected ${maskedChunk.length * copies} (${occurrences} occurrences masked)`);
  const rfd = fs.openSync(out, "r");
  try {
    const buf = Buffer.alloc(maskedChunk.length);
    for (let i = 0; i < copies; i++) {
      fs.readSync(rfd, buf, 0, buf.length, i * buf.length);
      check(buf.equals(maskedChunk), `masked output differs from the expected masking in MiB ${i}`);
    }
  } finally {
    fs.closeSync(rfd);
    fs.rmSync(out);
  }
  process.stdout.write(`  mask-throughput: checked once: ${fmtCount(occurrences)} secret occurrences masked, output byte-exact otherwise\n`);
}

const RUN_FIGURES = [
  cliFigure({
    id: "run-1",
    title: "run -- true, 1 secret (direct, identity)",
    target: 2.0,
    home: "run1",
    args: () => runArgs("secrets:read:bench/*", ["true"]),
    // The child sees the secret (its length: the value itself would be masked).
    precheck: (fx, env) =>
      check(
        authy(runArgs("secrets:read:bench/*", ["sh", "-c", 'printf %s "${#ONE}"']), env).stdout === String("the-only-secret".length),
        "authy run: $ONE is not the secret",
      ),
  }),
  cliFigure({
    id: "run-1k",
    title: `run -- true, ${RUN_1K_SECRETS.toLocaleString("en-US")} secrets (direct, identity)`,
    // As export-1k: 2.6x in direct mode, 2.0x through the daemon (daemon-run-1k).
    target: 2.6,
    home: "run1k",
    args: () => runArgs("secrets:read:exp/*", ["true"]),
    precheck: (fx, env) => {
      const n = authy(runArgs("secrets:read:exp/*", ["sh", "-c", "env | grep -c '^KEY_'"]), env).stdout.trim();
      check(n === String(RUN_1K_SECRETS), `authy run: the child saw ${n} KEY_ variables, expected ${RUN_1K_SECRETS}`);
    },
  }),
  {
    /**
     * `authy run --scope mask/* -- cat FILE > /dev/null` against `cat FILE | cat > /dev/null`:
     * the same bytes through one more pipe and process, masked or not. Start-up is not
     * throughput, so each side's fixed cost is measured in the same rounds on an empty file
     * (`… cat /dev/null`) and subtracted: rate = MB / (median(full) - median(empty)). The gross
     * rates (start-up included) are in the JSON. Smoke and full runs both push 100 MiB (at 20
     * MiB start-up was most of the subject's time); the smoke run's 5 rounds against the full
     * run's 9 make its difference of two medians noisier, and on a loaded machine authy's
     * masker, one busy process, loses more than `cat | cat`, which needs almost no CPU.
     */
    id: "mask-throughput",
    title: `run output masking, ${CONFIG.maskMB} MiB, ${MASK_SECRETS} secrets`,
    target: 0.5,
    better: "higher",
    baselineLabel: "cat FILE | cat",
    runs: CONFIG.maskRuns,
    warmup: 1,
    async run(fx, fig) {
      const env = fx.env(fx.homes.mask);
      verifyMasking(fx, env);
      const devNull = fs.openSync("/dev/null", "w");
      const authyCat = (file) => () => spawnTimed([CLI, ...runArgs("secrets:read:mask/*", ["cat", file])], { env, stdout: devNull }).ms;
      const catCat = (file) => () => spawnCmdTimed("sh", ["-c", 'cat "$1" | cat', "sh", file], { env, stdout: devNull }).ms;
      let s;
      try {
        s = await measureSeries({
          runs: fig.runs,
          warmup: fig.warmup,
          series: { authy: authyCat(fx.mask.file), authyEmpty: authyCat("/dev/null"), cat: catCat(fx.mask.file), catEmpty: catCat("/dev/null") },
        });
      } finally {
        fs.closeSync(devNull);
      }
      const mb = fx.mask.bytes / 1e6;
      const rate = (ms) => mb / (Math.max(ms, 0.1) / 1000); // MB/s; guards against a noise-negative difference
      const net = rate(s.authy.medianMs - s.authyEmpty.medianMs);
      const baseNet = rate(s.cat.medianMs - s.catEmpty.medianMs);
      return {
        medianMs: s.authy.medianMs,
        baselineMs: s.cat.medianMs,
        ratio: net / baseNet,
        unit: "MB/s",
        rate: net,
        baselineRate: baseNet,
        grossRate: rate(s.authy.medianMs),
        baselineGrossRate: rate(s.cat.medianMs),
        startupMs: s.authyEmpty.medianMs,
        baselineStartupMs: s.catEmpty.medianMs,
        bytes: fx.mask.bytes,
        occurrences: fx.mask.occurrences,
        series: s,
        display: {
          subject: `${net.toFixed(0)} MB/s (gross ${rate(s.authy.medianMs).toFixed(0)})`,
          baseline: `${baseNet.toFixed(0)} MB/s (cat FILE | cat)`,
          detail: `authy ${fmt(s.authy.medianMs)} ms - ${fmt(s.authyEmpty.medianMs)} ms start-up; cat ${fmt(s.cat.medianMs)} ms - ${fmt(s.catEmpty.medianMs)} ms`,
        },
      };
    },
  },
  {
    /**
     * `run --sandbox -- true` against `run -- true` (issue 11), both 1 secret, direct mode, in
     * the same rounds: what bubblewrap's namespaces and mounts add to a run.
     */
    id: "run-sandbox",
    title: "run --sandbox -- true vs run -- true, 1 secret",
    target: 1.5,
    baselineLabel: "run -- true",
    runs: CONFIG.runs,
    warmup: CONFIG.warmup,
    async run(fx, fig) {
      const env = fx.env(fx.homes.run1);
      const plain = runArgs("secrets:read:bench/*", ["true"]);
      const boxed = ["run", "--sandbox", ...plain.slice(1)];
      // Untimed: the sandbox is really there (the child is pid 2 of its own namespace).
      const probe = authy(["run", "--sandbox", ...runArgs("secrets:read:bench/*", ["sh", "-c", "echo $$"]).slice(1)], env);
      check(probe.stdout.trim() === "2", `authy run --sandbox: the child is not in its own pid namespace (${probe.stderr.trim()})`);
      return measure({
        runs: fig.runs,
        warmup: fig.warmup,
        baseline: () => spawnTimed([CLI, ...plain], { env }).ms,
        subject: () => spawnTimed([CLI, ...boxed], { env }).ms,
      });
    },
  },
];

export default { name: "run (issue 3)", setup: setupRun, figures: RUN_FIGURES, config: { maskSecrets: MASK_SECRETS } };
