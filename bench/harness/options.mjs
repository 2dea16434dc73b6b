/**
 * The bench's options and everything that differs between a smoke and a full run. Parsed once,
 * when first imported (the harness and every figure file read the same `opts` and `CONFIG`).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLI = path.join(ROOT, "dist", "bin", "authy.js");
const DEFAULT_JSON = path.join(ROOT, "bench", "results.json");

export function usage(message) {
  if (message) process.stderr.write(`bench: ${message}\n`);
  process.stderr.write("usage: node bench/run.mjs [--smoke] [--strict] [--json FILE] [--runs N] [--only ID,ID...] [--keep]\n");
  process.exit(message ? 2 : 0);
}

function parseArgs(argv) {
  const opts = { smoke: false, strict: false, json: DEFAULT_JSON, runs: undefined, keep: false, only: null };
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
    } else if (a === "--only") {
      if (!argv[i + 1]) usage("--only needs figure ids, comma-separated");
      opts.only = new Set(argv[++i].split(","));
    } else if (a === "-h" || a === "--help") usage();
    else usage(`unknown option ${a}`);
  }
  return opts;
}

export const opts = parseArgs(process.argv.slice(2));

/**
 * Everything that differs between a smoke run and a full run. Smoke imports run 3 times (each
 * writes 10,000 secrets, seconds apiece on a loaded 2-core runner); other figures 9 times (with
 * 5, two smoke runs of the same build differed by up to 0.4x on the 2.0x and 2.6x figures).
 * maskMB: MiB of output pushed through `authy run`'s masking (100 in both: with 20, the smoke
 * figure measured mostly the JIT warming up, not the masker); daemonSeconds: how long each
 * round of daemon load lasts (daemonRounds rounds of reads and of /v1/health, after one warm-up
 * round of daemonWarmupSeconds each); auditEntries: entries added to the audit-figure vault.
 */
export const CONFIG = opts.smoke
  ? {
      mode: "smoke",
      bigSecrets: 10_000,
      chunk: 10_000,
      runs: 9,
      warmup: 1,
      importRuns: 3,
      scryptLogN: 15,
      scryptRuns: 3,
      scryptWarmup: 1,
      maskMB: 100,
      maskRuns: 5,
      daemonSeconds: 2,
      daemonWarmupSeconds: 0.5,
      daemonRounds: 1,
      auditEntries: 50_000,
      verifyRuns: 3,
    }
  : {
      mode: "full",
      bigSecrets: 100_000,
      chunk: 10_000,
      runs: 21,
      warmup: 2,
      importRuns: 15,
      scryptLogN: 18,
      scryptRuns: 7,
      scryptWarmup: 1,
      maskMB: 100,
      maskRuns: 9,
      daemonSeconds: 5,
      daemonWarmupSeconds: 1,
      daemonRounds: 2,
      auditEntries: 1_000_000,
      verifyRuns: 5,
    };
if (opts.runs) {
  CONFIG.runs = opts.runs;
  CONFIG.importRuns = opts.runs;
  CONFIG.scryptRuns = opts.runs;
  CONFIG.maskRuns = opts.runs;
  CONFIG.daemonRounds = opts.runs;
  CONFIG.verifyRuns = opts.runs;
}
export const EXPORT_SECRETS = 1_000;
export const IMPORT_LINES = 10_000;
export const PASSPHRASE = "correct horse battery staple (bench)";
