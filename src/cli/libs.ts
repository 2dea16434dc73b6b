/**
 * The large libraries the engine needs only sometimes (zod, yaml), bundled apart from it by
 * scripts/bundle.mjs into dist/bin/libs.js and loaded on first use. Only the bundle uses this
 * file; `require` keeps each library unevaluated until it is asked for.
 */
declare const require: (id: string) => unknown;

const LIBS: Record<string, () => unknown> = {
  zod: () => require("zod"),
  yaml: () => require("yaml"),
};

export function load(name: string): unknown {
  const get = LIBS[name];
  if (!get) throw new Error(`authy: ${name} is not in the libs bundle`);
  return get();
}
