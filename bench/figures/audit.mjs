/**
 * Issue 5: the audit log. CONFIG.auditEntries entries are added in one transaction by this
 * process, through the built store and the same hash and MAC the vault uses (dist/), spread
 * over the last AUDIT_SPAN_MS so that plenty of secret.read entries fall within the last hour.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { CLI, CONFIG } from "../harness/options.mjs";
import { Broken, check, cliFigure, distModule, fmt, fmtCount, measure, msSince, now, spawnCmdTimed, spawnTimed } from "../harness/measure.mjs";
import { initVault, tmpRoot } from "../harness/fixtures.mjs";

const AUDIT_SPAN_MS = 7 * 86_400_000;
const AUDIT_ACTIONS = [
  "secret.read",
  "secret.read",
  "secret.list",
  "secret.read",
  "secret.write",
  "token.issue",
  "secret.read",
  "run.start",
  "run.end",
  "secret.read.denied",
];
const AUDIT_AGENTS = ["deploy-bot", "ci", "scraper", "backup"];

/** The i-th generated entry's fields (all but seq, ts and the hashes). */
function auditFields(i) {
  const action = AUDIT_ACTIONS[i % AUDIT_ACTIONS.length];
  const agent = AUDIT_AGENTS[(i >> 3) % AUDIT_AGENTS.length];
  return {
    actor: i % 7 === 0 ? "owner" : i % 3 === 0 ? `agent:${agent}` : `token:tk${(i % 997).toString(36)}(${agent})`,
    action,
    resource: `${["prod", "staging", "dev"][i % 3]}/svc${i % 50}/API_KEY_${i % 13}`,
    outcome: action.endsWith(".denied") ? "denied" : "ok",
    details: action === "secret.read" ? `{"version":${1 + (i % 5)}}` : action === "token.issue" ? `{"agent":"${agent}","scope":"deploy"}` : "{}",
  };
}

/** Appends `count` chained, MACed entries to the vault in `home`, in one write. */
async function appendAuditEntries(home, idFile, count) {
  const [{ SqliteStore }, { Vault }, { Keyring }, { auditHash, GENESIS_HASH }, { parseIdentityFile }] = await Promise.all([
    distModule("store/sqlite/sqlite-store.js"),
    distModule("vault/vault.js"),
    distModule("vault/keyring.js"),
    distModule("vault/audit-chain.js"),
    distModule("crypto/index.js"),
  ]);
  const store = SqliteStore.open(path.join(home, "vault.db"));
  let vault;
  try {
    vault = await Vault.unlock({ store, clock: { now: () => Date.now() } }, { identities: parseIdentityFile(fs.readFileSync(idFile, "utf8")) });
  } catch (e) {
    await store.close();
    throw new Broken(`unlocking the audit vault in-process failed: ${e?.stack ?? e}`);
  }
  const keys = new Keyring(vault.exportKey(), Buffer.from(vault.vaultId, "hex"));
  const end = Date.now();
  try {
    await store.write(async (tx) => {
      const head = await tx.auditHead();
      let seq = head ? head.seq : 0;
      let prevHash = head ? head.hash : GENESIS_HASH;
      for (let i = 0; i < count; i++) {
        const entry = { seq: ++seq, ts: end - Math.round((AUDIT_SPAN_MS * (count - 1 - i)) / count), ...auditFields(i), prevHash };
        const hash = auditHash(keys.vaultId, entry);
        await tx.appendAudit({ ...entry, hash, mac: keys.macAudit(hash) });
        prevHash = hash;
        if ((i + 1) % 250_000 === 0 && i + 1 < count) process.stdout.write(`  setup: audit log ${fmtCount(i + 1)}/${fmtCount(count)} entries\n`);
      }
    });
  } finally {
    keys.wipe();
    await vault.close();
  }
}

async function setupAudit(fx) {
  const home = path.join(tmpRoot, "audit");
  fx.homes.audit = home;
  initVault(home, fx.recipient);
  const t0 = now();
  await appendAuditEntries(home, fx.idFile, CONFIG.auditEntries);
  process.stdout.write(`  setup: audit log of ${fmtCount(CONFIG.auditEntries)} entries written in ${(msSince(t0) / 1000).toFixed(1)} s\n`);
}

/** sha256sum, or macOS's shasum -a 256. */
function sha256Command() {
  if (spawnSync("sha256sum", ["--version"], { stdio: "ignore" }).status === 0) return ["sha256sum"];
  if (spawnSync("shasum", ["--version"], { stdio: "ignore" }).status === 0) return ["shasum", "-a", "256"];
  throw new Broken("neither sha256sum nor shasum is installed");
}

const AUDIT_FIGURES = [
  cliFigure({
    id: "audit-query",
    title: `audit --action secret.read --since 1h --limit 50, ${CONFIG.auditEntries.toLocaleString("en-US")} entries`,
    target: 3.0,
    home: "audit",
    args: () => ["audit", "--action", "secret.read", "--since", "1h", "--limit", "50"],
    verify: (r) => {
      const n = r.stdout.split("\n").filter((l) => /\ssecret\.read\s/.test(l)).length;
      check(n === 50, `audit --action secret.read --limit 50 printed ${n} secret.read entries, expected 50`);
    },
  }),
  {
    /**
     * `authy audit verify` (direct, identity) against `sha256sum vault.db`: the whole vault
     * file (audit rows, their indexes and the few other rows) stands for "the same bytes".
     * Rates include start-up; ratio = verify's bytes/s / sha256sum's bytes/s (the inverse of
     * the time ratio). Reports entries/s. No target.
     */
    id: "audit-verify",
    title: `audit verify, ${CONFIG.auditEntries.toLocaleString("en-US")} entries`,
    target: null,
    better: "higher",
    baselineLabel: "sha256sum vault.db",
    runs: CONFIG.verifyRuns,
    warmup: 1,
    async run(fx, fig) {
      const env = fx.env(fx.homes.audit);
      const db = path.join(fx.homes.audit, "vault.db");
      const [hasher, ...hasherArgs] = sha256Command();
      let entries = 0;
      const m = await measure({
        runs: fig.runs,
        warmup: fig.warmup,
        baseline: () => {
          const r = spawnCmdTimed(hasher, [...hasherArgs, db], { env });
          check(/^[0-9a-f]{64}\s/.test(r.stdout), `${hasher} printed ${JSON.stringify(r.stdout.slice(0, 100))}`);
          return r.ms;
        },
        subject: () => {
          const r = spawnTimed([CLI, "audit", "verify"], { env });
          const said = /audit log intact: ([\d,]+) entries/.exec(r.stdout + r.stderr);
          entries = said ? Number(said[1].replace(/,/g, "")) : 0;
          check(entries >= CONFIG.auditEntries, `audit verify said ${JSON.stringify((r.stdout + r.stderr).trim().slice(0, 200))}`);
          return r.ms;
        },
      });
      const bytes = fs.statSync(db).size;
      const rate = entries / (m.medianMs / 1000);
      const baselineRate = bytes / 1e6 / (m.baselineMs / 1000);
      return {
        ...m,
        ratio: m.baselineMs / m.medianMs,
        pairedRatio: 1 / m.pairedRatio,
        timeRatio: m.ratio,
        unit: "entries/s",
        rate,
        baselineUnit: "MB/s",
        baselineRate,
        entries,
        bytes,
        display: {
          subject: `${fmtCount(rate)} entries/s (${fmt(m.medianMs)} ms)`,
          baseline: `${baselineRate.toFixed(0)} MB/s (${hasher} of ${(bytes / 1e6).toFixed(0)} MB vault.db, ${fmt(m.baselineMs)} ms)`,
          detail: `verify takes ${m.ratio.toFixed(2)}x the time of ${hasher}; vault.db ${(bytes / 1e6).toFixed(1)} MB`,
        },
      };
    },
  },
];

export default { name: "audit (issue 5)", setup: setupAudit, figures: AUDIT_FIGURES };
