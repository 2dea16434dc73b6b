/**
 * The `authy` executable (dist/bin/authy.js). It loads the bundled CLI (dist/bin/cli.js) and,
 * on demand, its engine (dist/bin/engine.js) through V8's code cache: a file of compiled
 * code written at build time (scripts/train-code-cache.mjs) beside each bundle. Compiling
 * the bundle from source on every start costs a command a fifth of its time.
 *
 * A cache belongs to one build: it starts with the build id found at the end of its bundle,
 * and V8 itself refuses a cache made by another Node.js version (then the bundle is simply
 * compiled from source). Nothing is written here unless AUTHY_TRAIN_CODE_CACHE=1 (the build).
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import vm from "node:vm";

const BUILD_ID = /\/\/# authy-build=([0-9a-f]{32})\s*$/;
const ID_BYTES = 16;

const training = process.env.AUTHY_TRAIN_CODE_CACHE === "1";
const loaded = new Map<string, { exports: unknown }>();

function load(name: string): unknown {
  const done = loaded.get(name);
  if (done) return done.exports;
  const file = path.join(__dirname, `${name}.js`);
  const source = readFileSync(file, "utf8");
  const id = BUILD_ID.exec(source.slice(-80))?.[1];
  const cacheFile = `${file}.cache`;
  let cachedData: Buffer | undefined;
  if (id) {
    try {
      const raw = readFileSync(cacheFile);
      if (raw.subarray(0, ID_BYTES).toString("hex") === id) cachedData = raw.subarray(ID_BYTES);
    } catch {
      // No cache: compile from source.
    }
  }
  // The bundle is a function expression already (scripts/bundle.mjs wraps it): Node's module
  // wrapper plus `__authyLoad`, to reach the other bundles. Compiled as read, one flat string:
  // wrapping it here made a second string V8 copied whole, 1.8 ms of CPU per start for cli.js
  // (8.7 -> 6.8 ms to compile it from its cache, medians of 6 runs on the loaded 2-core machine).
  const script = new vm.Script(source, {
    filename: file,
    cachedData,
    // No importModuleDynamically: a script compiled with a code cache loses it on Node 20
    // (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING), and the option itself is experimental. The
    // bundles therefore contain no import(): scripts/bundle.mjs turns each into a require().
  });
  if (training && id) {
    process.once("exit", () => {
      const tmp = `${cacheFile}.${process.pid}`;
      writeFileSync(tmp, Buffer.concat([Buffer.from(id, "hex"), script.createCachedData()]));
      renameSync(tmp, cacheFile);
    });
  }
  const mod = { exports: {} };
  loaded.set(name, mod);
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, __dirname, load);
  return mod.exports;
}

// `authy secrets get PATH`, the command called most (the owner's read through the daemon, a CI
// job's with a token), has a path of its own that loads no CLI unless it must
// (src/cli/fast-secrets-get.ts says why).
// A process that brings its own way to unlock (AUTHY_IDENTITY, a passphrase) is a script or a
// CI job in direct mode, as a rule: it goes straight to the CLI, where fast.js would only cost
// it 5-7 ms of start-up (and, with a daemon after all, the CLI serves it as before).
const args = process.argv.slice(2);
const env = process.env;
const unlocksItself = env.AUTHY_IDENTITY !== undefined || env.AUTHY_PASSPHRASE !== undefined || env.AUTHY_PASSPHRASE_FILE !== undefined;
const toServer = Boolean(env.AUTHY_API_URL && env.AUTHY_TOKEN);
if (args.length === 3 && args[0] === "secrets" && args[1] === "get" && !args[2]!.startsWith("-") && (toServer || !unlocksItself)) {
  (load("fast") as { secretsGet(path: string, runCli: () => void): void }).secretsGet(args[2]!, () => load("cli"));
} else if (args[0] === "run" && !unlocksItself && env.AUTHY_TOKEN === undefined && env.AUTHY_AGENT_KEY === undefined && args.includes("--")) {
  // `authy run --scope S -- CMD…` as the owner through the daemon (src/cli/fast-run.ts).
  (load("fast-run") as { run(argv: string[], runCli: () => void): void }).run(args, () => load("cli"));
} else if (unlocksItself && (args[0] === "run" || (args[0] === "env" && args[1] === "export"))) {
  // The same, and `authy env export NS`, in direct mode: the CLI's handlers without commander (src/cli/plain-line.ts).
  (load("plain") as { runPlain(argv: string[], runCli: () => void): void }).runPlain(args, () => load("cli"));
} else {
  load("cli");
}
