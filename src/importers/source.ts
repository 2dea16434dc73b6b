/**
 * What every importer hands to `authy import`: entries named by their path below the target
 * namespace (`work/aws/key` for a pass entry in folders), in the shape `env import` writes.
 */
import { AuthyError } from "../errors.js";
import type { EnvEntry } from "../vault/env-transfer.js";
import { validateNamespace, validatePath } from "../vault/path.js";
import { utf8Text } from "../vault/utf8-text.js";

export const IMPORT_KINDS = ["pass", "passage", "dotenvx", "json", "yaml"] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

export interface ImportSource {
  entries: EnvEntry[];
  /** Entries whose text had more than the value (pass notes) that was not kept. */
  notesDropped: number;
}

export interface ReadOptions {
  /** pass: keep the lines after the first as the secret's description. */
  keepNotes?: boolean;
  /** passage: the age identity file (default $PASSAGE_IDENTITIES_FILE, ~/.passage/identities). */
  identities?: string;
  /** dotenvx: the .env.keys file (default: .env.keys beside the source). */
  envKeysFile?: string;
  /** Called as entries are decrypted. */
  onProgress?: (done: number, total: number) => void;
}

/** Shown for a name, whatever it holds: control characters escaped, long names cut. */
export function showName(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}

/** How many refused names one error lists before it says "and N more". */
const MAX_NAMES_LISTED = 20;

/**
 * Every name must be a path below the namespace as it is: a name that is not (a space, an `@`,
 * a non-ASCII letter) is listed, all of them at once, and the import refused. Never mangled:
 * `me@example.com` turned into `me_example.com` would be a secret nobody asked for.
 */
export function checkNames(names: readonly string[], namespace: string, what: string): void {
  const ns = validateNamespace(namespace);
  const bad: string[] = [];
  for (const name of names) {
    try {
      validatePath(`${ns}/${name}`);
    } catch {
      bad.push(name);
    }
  }
  if (bad.length === 0) return;
  const shown = bad.slice(0, MAX_NAMES_LISTED).map(showName).join(", ");
  const more = bad.length > MAX_NAMES_LISTED ? ` and ${bad.length - MAX_NAMES_LISTED} more` : "";
  throw new AuthyError(
    "INVALID_INPUT",
    `${bad.length} ${bad.length === 1 ? "name" : "names"} in the ${what} cannot be an authy path below ${ns}: ${shown}${more}`,
    {
      hint: "path segments use only [A-Za-z0-9._-] (at most 255 bytes in all); rename those entries in the source, then import again",
      details: { refused: bad },
    },
  );
}

/** The entry's bytes as text, or INVALID_INPUT naming it: text formats and env vars need UTF-8. */
export function entryText(bytes: Uint8Array, what: string): string {
  const text = utf8Text(bytes);
  if (text === null) {
    throw new AuthyError("INVALID_INPUT", `${what} is not valid UTF-8 text`, {
      hint: "binary secrets are stored with `authy secrets set PATH --from-file FILE`",
    });
  }
  return text;
}

/** Runs `work` over `items`, at most `limit` at a time, in order of the results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>, onDone?: (done: number) => void): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await work(items[i]!);
      } catch (e) {
        failed = true;
        throw e;
      }
      onDone?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
