/**
 * Issue 15: `authy scan` over a generated corpus (SCAN_MB MiB in SCAN_FILES files of
 * transcript-like JSON lines) with 1,000 stored secrets, against `grep -F -c -f PATTERNS -r`
 * over the same files in the same rounds, PATTERNS being exactly the byte strings authy looks
 * for (every form of every value, from the built secret-forms.js: value, hex, base64 and
 * base64url at three alignments, URL and JSON escapes). A handful of leaks are seeded so both
 * have something to find; authy exits 1 on a finding, which is checked, not a failure. The
 * ratio is grep's time over authy's (gross: authy's unlock and pattern build included), so
 * it reads as authy's throughput relative to grep's.
 */
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { CLI, EXPORT_SECRETS, opts } from "../harness/options.mjs";
import { Broken, Interrupted, check, distModule, fmt, measure, msSince, now } from "../harness/measure.mjs";
import { copyVault, tmpRoot, valueFor } from "../harness/fixtures.mjs";

const SCAN_MB = opts.smoke ? 128 : 1024;
const SCAN_FILES = 16;
const SCAN_RUNS = opts.runs ?? (opts.smoke ? 3 : 5);
const SCAN_LEAKS = 12;

async function setupScan(fx) {
  const { homes } = fx;
  homes.scan = path.join(tmpRoot, "scan");
  copyVault(homes.exp, homes.scan); // exp/KEY_000000 … exp/KEY_000999
  const values = Array.from({ length: EXPORT_SECRETS }, (_, i) => valueFor("exp", i));
  const { secretForms } = await distModule("run/secret-forms.js");
  const { MASK_MIN_LENGTH } = await distModule("run/masker.js");
  const patterns = values.flatMap((v) => secretForms(Buffer.from(v), MASK_MIN_LENGTH).map((f) => Buffer.from(f).toString("latin1")));
  check(!patterns.some((p) => p.includes("\n")), "a scan pattern holds a newline");
  const patternFile = path.join(tmpRoot, "scan-patterns.txt");
  fs.writeFileSync(patternFile, patterns.join("\n") + "\n", "latin1");
  const dir = path.join(tmpRoot, "scan-corpus");
  fs.mkdirSync(dir);
  const words = "the quick brown fox jumps over lazy dog deploy token request response error retry build test".split(" ");
  let seed = 0;
  const lines = [];
  let size = 0;
  while (size < 1024 * 1024) {
    const h = crypto.createHash("sha256").update(String(seed++)).digest();
    const text = Array.from({ length: 8 + (h[0] % 8) }, (_, i) => words[h[i + 1] % words.length]).join(" ");
    const line = `{"ts":${1700000000 + seed},"role":"assistant","content":"${text} id=${h.toString("base64url").slice(0, 22)}"}\n`;
    lines.push(line);
    size += line.length;
  }
  const block = Buffer.from(lines.join(""));
  const perFile = Math.ceil(SCAN_MB / SCAN_FILES);
  const leaks = [];
  for (let f = 0; f < SCAN_FILES; f++) {
    const fd = fs.openSync(path.join(dir, `session-${String(f).padStart(2, "0")}.jsonl`), "w");
    try {
      for (let m = 0; m < perFile; m++) {
        fs.writeSync(fd, block);
        if (leaks.length < SCAN_LEAKS && m === perFile >> 1) {
          const v = values[leaks.length * 83];
          const form = [v, Buffer.from(v).toString("base64"), Buffer.from(v).toString("hex"), encodeURIComponent(v), JSON.stringify(v).slice(1, -1)][
            leaks.length % 5
          ];
          fs.writeSync(fd, `{"role":"tool","content":"leaked ${form} here"}\n`);
          leaks.push(form);
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  fx.scan = { dir, patternFile, bytes: perFile * SCAN_FILES * block.length, leaks: leaks.length, patterns: patterns.length };
}

/** spawnSync timed, where exit status `ok` (1 for a scan with findings, 0 for grep) is success. */
function spawnExpecting(file, args, env, ok) {
  const t0 = now();
  const r = spawnSync(file, args, { env, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 28 });
  const ms = msSince(t0);
  if (r.signal === "SIGINT") throw new Interrupted("interrupted");
  if (r.status !== ok)
    throw new Broken(
      `\`${[file, ...args].map((a) => (a === CLI ? "authy" : a)).join(" ")}\` exited ${r.status ?? r.signal}, not ${ok}\n--- stderr ---\n${r.stderr}--------------`,
    );
  return { ms, stdout: r.stdout.toString("utf8") };
}

const SCAN_FIGURES = [
  {
    id: "scan-throughput",
    title: `scan ${SCAN_MB} MiB, ${EXPORT_SECRETS} secrets (all forms)`,
    target: 0.5,
    better: "higher",
    baselineLabel: "grep -F -c -f",
    runs: SCAN_RUNS,
    warmup: 1,
    async run(fx, fig) {
      const env = fx.env(fx.homes.scan);
      const first = spawnExpecting(process.execPath, [CLI, "--json", "scan", fx.scan.dir], env, 1);
      const found = JSON.parse(first.stdout).findings.length;
      check(found === fx.scan.leaks, `scan found ${found} leaks, not the ${fx.scan.leaks} seeded`);
      const grepArgs = ["-F", "-c", "-r", "-f", fx.scan.patternFile, fx.scan.dir];
      const grepCount = spawnExpecting("grep", grepArgs, env, 0)
        .stdout.split("\n")
        .filter(Boolean)
        .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(":") + 1)), 0);
      check(grepCount === fx.scan.leaks, `grep counted ${grepCount} lines, not the ${fx.scan.leaks} seeded`);
      const m = await measure({
        runs: fig.runs,
        warmup: fig.warmup,
        subject: () => spawnExpecting(process.execPath, [CLI, "scan", fx.scan.dir], env, 1).ms,
        baseline: () => spawnExpecting("grep", grepArgs, env, 0).ms,
      });
      const mb = fx.scan.bytes / 1e6;
      return {
        ...m,
        ratio: m.baselineMs / m.medianMs,
        unit: "MB/s",
        rate: mb / (m.medianMs / 1000),
        baselineRate: mb / (m.baselineMs / 1000),
        bytes: fx.scan.bytes,
        patterns: fx.scan.patterns,
        display: {
          subject: `${(mb / (m.medianMs / 1000)).toFixed(0)} MB/s`,
          baseline: `${(mb / (m.baselineMs / 1000)).toFixed(0)} MB/s (grep -F -c -f, ${fx.scan.patterns} patterns)`,
          detail: `authy ${fmt(m.medianMs)} ms, grep ${fmt(m.baselineMs)} ms`,
        },
      };
    },
  },
];

export default { name: "scan (issue 15)", setup: setupScan, figures: SCAN_FIGURES };
