/** `authy import KIND SOURCE`: each store's reader, behind one door. */
import { readDotenvx } from "./dotenvx.js";
import { readFlatMap } from "./flat-map.js";
import { defaultPassStore, readPass } from "./pass.js";
import { defaultPassageStore, readPassage } from "./passage.js";
import type { ImportKind, ImportSource, ReadOptions } from "./source.js";

export { IMPORT_KINDS, type ImportKind, type ImportSource, type ReadOptions } from "./source.js";

/** The store a kind reads when no SOURCE is given (pass and passage have a usual place). */
export function defaultSource(kind: ImportKind): string | undefined {
  if (kind === "pass") return defaultPassStore();
  if (kind === "passage") return defaultPassageStore();
  return undefined;
}

/** Reads and decrypts every entry of `source`, or throws naming the first entry that fails. */
export function readSource(kind: ImportKind, source: string, namespace: string, opts: ReadOptions): Promise<ImportSource> {
  switch (kind) {
    case "pass":
      return readPass(source, namespace, opts);
    case "passage":
      return readPassage(source, namespace, opts);
    case "dotenvx":
      return readDotenvx(source, namespace, opts);
    case "json":
    case "yaml":
      return readFlatMap(kind, source, namespace);
  }
}
