// Bundles the CLI for start-up speed. dist/bin/ holds:
//   authy.js       the executable: a small loader (src/bin/boot.ts)
//   cli.js         the CLI: commands, client, output (src/cli/main.ts and what it imports)
//   engine.js      what only direct mode and the daemon need: the core, SQLite, crypto, the
//                  server; loaded by cli.js on its first import() of them
//   libs.js        zod, yaml and @clack/prompts, loaded on their first use
// Which modules go in engine.js and libs.js is declared once, in src/bin/bundles.json; the
// entry of each of the two (its loader: a `load(name)` that require()s the module named) is
// generated here from that list, and the CLI's import() of a listed module is answered by it.
//   *.js.cache     V8 code caches for each, trained by scripts/train-code-cache.mjs
// All CommonJS (dist/bin/package.json says so): Node starts a CommonJS file faster than an
// ES module, and only a script compiled through node:vm can use a code cache on Node 20.
// Native modules and the server-only stack stay external; better-sqlite3's JavaScript is bundled
// (ten files resolved and compiled without a code cache on every start), its addon is not.
import { build } from "esbuild";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

const OUT = "dist/bin";
const EXTERNAL = ["node-pty", "fastify", "pg", "bindings", "koffi", "eciesjs", "@modelcontextprotocol/sdk"];
const SPLIT = JSON.parse(readFileSync("src/bin/bundles.json", "utf8"));
/** Modules that the CLI only ever import()s, by absolute path. */
const ENGINE_MODULES = new Set(SPLIT.engine.map((m) => path.resolve(m)));

/**
 * The entry of a bundle that other bundles load from: `load(name)` require()s the module
 * named (`require`, not `import`, keeps each one unevaluated until it is asked for: `secrets
 * get` must not start fastify).
 */
function loaderEntry(bundle, names, resolveAs) {
  const table = names.map((n) => `  ${JSON.stringify(n)}: () => require(${JSON.stringify(resolveAs(n))}),`).join("\n");
  return {
    contents: `const MODULES = {\n${table}\n};\nexports.load = (name) => {\n  const get = MODULES[name];\n  if (!get) throw new Error("authy: " + name + " is not in the ${bundle} bundle");\n  return get();\n};\n`,
    resolveDir: process.cwd(),
    sourcefile: `${bundle}-loader.js`,
    loader: "js",
  };
}

// Caches and bundles change together: start from an empty directory.
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
writeFileSync(path.join(OUT, "package.json"), '{ "type": "commonjs" }\n');

/**
 * A plugin that answers imports chosen by `pick` (which returns the name the other bundle knows
 * the module by, or undefined) with that module from `bundle`, loaded through boot.ts.
 */
function boundary(bundle, filter, pick) {
  return {
    name: `${bundle}-boundary`,
    setup(b) {
      b.onResolve({ filter }, (args) => {
        const name = pick(args);
        return name === undefined ? undefined : { path: name, namespace: `authy-${bundle}` };
      });
      b.onLoad({ filter: /.*/, namespace: `authy-${bundle}` }, (args) => ({
        contents: `module.exports = __authyLoad(${JSON.stringify(bundle)}).load(${JSON.stringify(args.path)});`,
        loader: "js",
      }));
    },
  };
}

/** The CLI's import() of an engine module is answered by engine.js. */
const engineBoundary = boundary("engine", /^\.\.?\//, (args) => {
  if (args.kind !== "dynamic-import") return undefined;
  const target = path.resolve(args.resolveDir, args.path.replace(/\.js$/, ".ts"));
  return ENGINE_MODULES.has(target) ? path.relative(process.cwd(), target) : undefined;
});

/**
 * commander requires node:child_process at load for executable subcommands, which authy does
 * not use; loading it costs every command start-up. Its one use (spawn) loads it on demand.
 */
const lazyChildProcessForCommander = {
  name: "commander-lazy-child-process",
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      args.importer.includes(`${path.sep}commander${path.sep}`) ? { path: "child_process", namespace: "authy-lazy" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "authy-lazy" }, () => ({
      contents: "module.exports = { spawn: (...args) => require('node:child_process').spawn(...args) };",
      loader: "js",
    }));
  },
};

/**
 * zod and yaml (three quarters of the engine's bytes) go in a third file, libs.js, loaded
 * only when a policy, a token's scope, the daemon's handoff or a YAML export needs them; so
 * does @clack/prompts (with @clack/core, 74 KiB of cli.js before), which only a passphrase
 * asked on a terminal uses.
 */
const LIBS = SPLIT.libs;
const libsBoundary = boundary("libs", new RegExp(`^(${LIBS.join("|")})$`), (args) => args.path);

const common = {
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  external: EXTERNAL,
  minifyWhitespace: true,
  minifySyntax: true,
  // CommonJS has no import.meta; the two modules that use import.meta.url get this file's URL.
  define: { "import.meta.url": "__authyUrl" },
  banner: { js: "const __authyUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: "warning",
  // boot.ts compiles each bundle through node:vm, where import() has no loader (see there):
  // every import() of the bundles becomes a require() wrapped in a promise.
  supported: { "dynamic-import": false },
  metafile: true,
};

/** Fails the build if a bundle still holds an import(): it would fail at run time. */
function assertNoDynamicImport(result, name) {
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    const dynamic = output.imports.filter((i) => i.kind === "dynamic-import").map((i) => i.path);
    if (dynamic.length > 0) throw new Error(`bundle: ${file} (${name}) keeps import() of ${dynamic.join(", ")}; require() it instead`);
  }
}

/**
 * cli.js is read, turned into a string and compiled from its cache on every command, so its
 * size is start-up time: its local names are minified too (engine.js and libs.js keep theirs),
 * and what only some commands import() lives elsewhere (postgres-store.ts in engine.js, clack in
 * libs.js). 559 -> 319 KiB; `secrets get` through the daemon: 121.8 -> 116.1 M instructions on
 * the main thread, 3,700 -> 3,390 page faults (callgrind and /usr/bin/time, 3 runs each).
 */
const bundles = [
  { name: "cli", entry: "src/cli/main.ts", plugins: [engineBoundary, lazyChildProcessForCommander, libsBoundary], minifyIdentifiers: true },
  { name: "engine", stdin: loaderEntry("engine", SPLIT.engine, (m) => `./${m}`), plugins: [libsBoundary] },
  { name: "libs", stdin: loaderEntry("libs", LIBS, (m) => m), plugins: [] },
  // `authy secrets get PATH` as the owner through the daemon, without cli.js (src/cli/fast-secrets-get.ts).
  { name: "fast", entry: "src/cli/fast-secrets-get.ts", plugins: [], minifyIdentifiers: true },
  // `authy run --scope S -- CMD…` as the owner through the daemon, without cli.js (src/cli/fast-run.ts).
  { name: "fast-run", entry: "src/cli/fast-run.ts", plugins: [], minifyIdentifiers: true },
  // `authy run --scope S -- CMD…` and `authy env export NS` in direct mode, without commander (src/cli/plain-line.ts).
  { name: "plain", entry: "src/cli/plain-line.ts", plugins: [engineBoundary, libsBoundary], minifyIdentifiers: true },
];
/**
 * Each bundle is written already wrapped in the function src/bin/boot.ts calls it as (Node's
 * module wrapper plus `__authyLoad`), so that boot.ts compiles the file's text as read: a
 * wrapper concatenated there is a second string that V8 copies whole before it compiles,
 * about 2 ms of CPU for cli.js and 1.5 for engine.js on every start (the measured figures are
 * in boot.ts). The build id stays the file's last line.
 */
const WRAPPER_HEAD = "(function (exports, require, module, __filename, __dirname, __authyLoad) {";
const WRAPPER_TAIL = "\n})";
const inputs = {};
for (const { name, entry, stdin, plugins, minifyIdentifiers = false } of bundles) {
  const result = await build({
    ...common,
    minifyIdentifiers,
    ...(entry ? { entryPoints: [entry] } : { stdin }),
    outfile: path.join(OUT, `${name}.js`),
    plugins,
    banner: { js: WRAPPER_HEAD + common.banner.js },
    footer: { js: `${WRAPPER_TAIL}\n//# authy-build=${randomBytes(16).toString("hex")}` },
  });
  assertNoDynamicImport(result, name);
  inputs[name] = Object.keys(Object.values(result.metafile.outputs)[0].inputs).sort();
}
// What each bundle holds, for test/e2e/bundle.test.ts (cli.js must hold no engine or libs module).
writeFileSync(path.join(OUT, "bundles.json"), JSON.stringify(inputs, null, 1) + "\n");
/**
 * The executable starts Node.js as `node -- authy.js ARGS`. Node.js 20 and 22 read
 * `--env-file` (and `--env-file-if-exists`) anywhere in their arguments up to the first `--`,
 * the script's own included: without the `--`, `authy run --env-file .env -- cmd` would have
 * Node.js load .env into this process before authy starts (a NODE_OPTIONS line in it runs
 * code in the process that holds the vault key), or exit 9 when it is missing.
 * `#!/usr/bin/env -S node --` says the same, but BusyBox's env (Alpine) has no -S; this line
 * is a shell script that execs node and, to Node.js, a string and a comment. It costs one
 * exec of /bin/sh, as `env` did.
 */
const SHEBANG = `#!/bin/sh\n':' //; exec node -- "$0" "$@"`;
await build({ ...common, entryPoints: ["src/bin/boot.ts"], outfile: path.join(OUT, "authy.js"), define: {}, banner: { js: SHEBANG } });
chmodSync(path.join(OUT, "authy.js"), 0o755);
for (const { name } of bundles) {
  const size = readFileSync(path.join(OUT, `${name}.js`)).length;
  process.stdout.write(`bundle: ${OUT}/${name}.js ${(size / 1024).toFixed(0)} KiB\n`);
}
