// Bundles the CLI into dist/bin/authy.js (+ lazily loaded chunks). Loading one file instead
// of ~150 small modules is what lets `authy secrets get` start in about the time of
// `node -e 0`. Native modules and the server-only stack stay external.
import { build } from "esbuild";
import { chmodSync, rmSync } from "node:fs";

// Chunk names change with their content: start from an empty directory.
rmSync("dist/bin", { recursive: true, force: true });

await build({
  entryPoints: { authy: "src/cli/main.ts" },
  outdir: "dist/bin",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: ["better-sqlite3", "node-pty", "fastify", "pg"],
  // CommonJS dependencies inside an ES module bundle still call require() for Node built-ins.
  banner: { js: "import { createRequire as __authyRequire } from 'node:module'; const require = __authyRequire(import.meta.url);" },
  logLevel: "warning",
});
chmodSync("dist/bin/authy.js", 0o755);
