/**
 * What the CLI loads only when it works on the vault itself: the core, the SQLite store, the
 * crypto, the policy and export formats, and the daemon. The bundle build (scripts/bundle.mjs)
 * puts these in a second file, dist/bin/engine.js, so that a command served by a daemon never
 * reads them; the CLI's `import()` of one of these modules is answered by `load` below.
 *
 * Only the bundle uses this file. `require` (not `import`) keeps each module unevaluated until
 * it is asked for: `secrets get` must not start fastify.
 */
declare const require: (id: string) => unknown;

const MODULES: Record<string, () => unknown> = {
  "src/store/sqlite/sqlite-store.ts": () => require("../store/sqlite/sqlite-store.js"),
  "src/crypto/index.ts": () => require("../crypto/index.js"),
  "src/vault/vault.ts": () => require("../vault/vault.js"),
  "src/vault/policy/policy-yaml.ts": () => require("../vault/policy/policy-yaml.js"),
  "src/formats/export-formats.ts": () => require("../formats/export-formats.js"),
  "src/client/direct-client.ts": () => require("../client/direct-client.js"),
  "src/daemon/spawn.ts": () => require("../daemon/spawn.js"),
  "src/daemon/server.ts": () => require("../daemon/server.js"),
};

/** The exports of one engine module, named by its source path. */
export function load(module: string): unknown {
  const get = MODULES[module];
  if (!get) throw new Error(`authy: ${module} is not in the engine bundle`);
  return get();
}

export const ENGINE_MODULES = Object.keys(MODULES);
