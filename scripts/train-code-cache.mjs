// Writes the V8 code caches beside the bundles (dist/bin/cli.js.cache, engine.js.cache and
// libs.js.cache; see src/bin/boot.ts) by running the commands people run most, in a throwaway
// vault: each run starts from the cache the last one wrote and adds the code it compiled. A failure here only costs start-up speed, so it
// is reported and the build goes on.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const CLI = path.resolve("dist/bin/authy.js");
const dir = mkdtempSync(path.join(os.tmpdir(), "authy-train-"));
const base = {};
for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AUTHY_")) base[k] = v;
const home = path.join(dir, "home");
let env = { ...base, AUTHY_HOME: home, AUTHY_TRAIN_CODE_CACHE: "1" };

function authy(args, input) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, input, encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`authy ${args.join(" ")} exited ${r.status}: ${(r.stderr || r.error?.message || "").trim()}`);
  return r.stdout;
}

try {
  const identity = path.join(dir, "identity.txt");
  const recipient = authy(["keys", "generate", "--out", identity]).trim();
  authy(["init", "--no-passphrase", "--recipient", recipient]);
  env = { ...env, AUTHY_IDENTITY: identity };
  authy(["secrets", "set", "train/API_KEY"], "a-training-value-0123456789");
  authy(["secrets", "get", "train/API_KEY"]);
  authy(["secrets", "list"]);
  const dotenv = path.join(dir, "train.env");
  writeFileSync(dotenv, Array.from({ length: 20 }, (_, i) => `KEY_${i}=value-number-${i}-abcdefgh\n`).join(""));
  authy(["env", "import", dotenv, "--namespace", "train"]);
  authy(["env", "export", "train"]);
  const policy = path.join(dir, "policy.yaml");
  writeFileSync(policy, 'scopes:\n  train:\n    allow:\n      - { path: "train/*", capabilities: [read, list] }\n');
  authy(["policy", "apply", policy]);
  authy(["run", "--scope", "train", "--", "true"]);
  authy(["audit", "--limit", "5"]);
  // Through a daemon, as the owner: this script's session is the one that unlocked.
  authy(["unlock"]);
  const { AUTHY_IDENTITY: _, ...daemonEnv } = env;
  env = daemonEnv;
  try {
    authy(["secrets", "get", "train/API_KEY"]);
    authy(["secrets", "list"]);
    authy(["run", "--scope", "train", "--", "true"]);
  } finally {
    authy(["lock"]);
  }
  process.stdout.write("code cache: trained\n");
} catch (e) {
  process.stderr.write(`code cache: not trained (${e.message}); authy works, but starts slower\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
