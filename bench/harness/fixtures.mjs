/**
 * The bench's temporary directory, what must happen before it is removed, and the fixtures
 * the core figures share (made by setup(), before any figure runs).
 */
import * as crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { EXPORT_SECRETS, CONFIG, IMPORT_LINES, PASSPHRASE, opts } from "./options.mjs";
import { authy, check, childEnv, msSince, now } from "./measure.mjs";

/** The run's temporary directory (null before makeTmpRoot() and after cleanup()). */
export let tmpRoot = null;
/** Run by cleanup() before the directory goes (the daemon figures stop their daemons here). */
const cleanupHooks = [];

export function makeTmpRoot() {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "authy-bench-"));
  return tmpRoot;
}

/** Registers `fn` to run (synchronously) on every exit of the bench, before the directory goes. */
export function onCleanup(fn) {
  cleanupHooks.push(fn);
}

export function cleanup() {
  for (const fn of cleanupHooks) fn(); // before the directory (a daemon's home) goes
  if (tmpRoot && !opts.keep) fs.rmSync(tmpRoot, { recursive: true, force: true });
  else if (tmpRoot) process.stderr.write(`bench: kept ${tmpRoot}\n`);
  tmpRoot = null;
}

/** A deterministic, non-trivial value for the i-th generated secret. */
export const valueFor = (tag, i) => `${tag}-${i.toString(36)}-${crypto.createHash("sha256").update(`${tag}/${i}`).digest("base64url").slice(0, 24)}`;
export const keyFor = (i) => `KEY_${String(i).padStart(6, "0")}`;

export function writeDotenv(file, tag, from, count) {
  const lines = [];
  for (let i = from; i < from + count; i++) lines.push(`${keyFor(i)}=${valueFor(tag, i)}`);
  fs.writeFileSync(file, lines.join("\n") + "\n");
}

/** An identity-only vault in `home`, unlockable with the bench identity. */
export function initVault(home, recipient) {
  authy(["init", "--no-passphrase", "--recipient", recipient], childEnv({ AUTHY_HOME: home }));
}

/** Copies a vault home (vault.db and any -wal/-shm) to a new directory. */
export function copyVault(from, to) {
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true });
}

export async function setup(dir) {
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
