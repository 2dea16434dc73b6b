/**
 * dotenvx (https://dotenvx.com): a .env file whose values are `encrypted:BASE64`, each an ECIES
 * ciphertext (secp256k1, AES-256-GCM) for the file's public key, opened with its private key
 * from the environment (`DOTENV_PRIVATE_KEY`, `DOTENV_PRIVATE_KEY_PRODUCTION`, …) or from
 * `.env.keys` beside the file. Decrypted with eciesjs, the library dotenvx itself used.
 * Plain values in the same file are imported as they are; the public key line is not a secret.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { AuthyError } from "../errors.js";
import { readFileChecked } from "../files/atomic-write.js";
import { parseDotenv, type DotenvEntry } from "../formats/dotenv.js";
import type { EnvEntry } from "../vault/env-transfer.js";
import { checkNames, entryText, type ImportSource, type ReadOptions } from "./source.js";

/** A .env file larger than this is not one (as `env import`). */
const MAX_ENV_FILE_BYTES = 64 * 1024 * 1024;
const ENCRYPTED_PREFIX = "encrypted:";
const PUBLIC_KEY_PREFIX = "DOTENV_PUBLIC_KEY";
/** A dotenvx private key: a secp256k1 scalar in hex. */
const PRIVATE_KEY = /^[0-9a-fA-F]{64}$/;
/** The smallest ECIES message eciesjs writes: a 65-byte point, a 16-byte nonce and a 16-byte tag. */
const MIN_CIPHERTEXT_BYTES = 65 + 16 + 16;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export async function readDotenvx(source: string, namespace: string, opts: ReadOptions): Promise<ImportSource> {
  const parsed = await readEnvFile(source);
  const values = parsed.filter((e) => !e.key.startsWith(PUBLIC_KEY_PREFIX));
  checkNames(
    values.map((e) => e.key),
    namespace,
    "dotenvx file",
  );
  const encrypted = values.filter((e) => e.value.startsWith(ENCRYPTED_PREFIX));
  const keyName = privateKeyName(source, parsed);
  const keys = encrypted.length > 0 ? await privateKeys(keyName, source, opts) : [];
  // required, not import()ed: the bundle keeps eciesjs external, and a script compiled for the
  // code cache cannot import() (scripts/bundle.mjs).
  const { decrypt } = createRequire(import.meta.url)("eciesjs") as typeof import("eciesjs");
  const entries: EnvEntry[] = [];
  let done = 0;
  for (const e of values) {
    if (!e.value.startsWith(ENCRYPTED_PREFIX)) {
      entries.push({ key: e.key, value: e.value });
      continue;
    }
    const what = `dotenvx entry ${e.key} (${path.basename(source)}:${e.line})`;
    const b64 = e.value.slice(ENCRYPTED_PREFIX.length);
    const data = Buffer.from(b64, "base64");
    if (!BASE64.test(b64) || data.length < MIN_CIPHERTEXT_BYTES) {
      throw new AuthyError("INVALID_INPUT", `${what} does not decrypt: it is not a dotenvx ciphertext (damaged or cut short)`, {
        hint: "nothing was imported",
      });
    }
    let plain: Uint8Array | null = null;
    for (const key of keys) {
      try {
        plain = decrypt(key, data);
        break;
      } catch {
        // The next key, if any (dotenvx accepts several, comma-separated, during a key rotation).
      }
    }
    if (plain === null) {
      throw new AuthyError("LOCKED", `${what} does not decrypt with ${keyName}: a wrong private key, or the value was damaged`, {
        hint: `check ${keyName} (in the environment or .env.keys); nothing was imported`,
      });
    }
    entries.push({ key: e.key, value: entryText(plain, what) });
    opts.onProgress?.(++done, encrypted.length);
  }
  return { entries, notesDropped: 0 };
}

async function readEnvFile(file: string): Promise<DotenvEntry[]> {
  const bytes = await readFileChecked(file, MAX_ENV_FILE_BYTES);
  return parseDotenv(entryText(bytes, file), { source: file });
}

/**
 * The private key's name, as dotenvx decides it: from the file's DOTENV_PUBLIC_KEY… line
 * (PUBLIC becomes PRIVATE), else from the file name (`.env` → DOTENV_PRIVATE_KEY,
 * `.env.production` → DOTENV_PRIVATE_KEY_PRODUCTION).
 */
function privateKeyName(file: string, entries: readonly DotenvEntry[]): string {
  const pub = entries.find((e) => e.key.startsWith(PUBLIC_KEY_PREFIX));
  if (pub) return pub.key.replace(PUBLIC_KEY_PREFIX, "DOTENV_PRIVATE_KEY");
  const base = path.basename(file);
  const env = base.startsWith(".env.") ? base.slice(".env.".length) : "";
  return env === "" ? "DOTENV_PRIVATE_KEY" : `DOTENV_PRIVATE_KEY_${env.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** The private keys to try: the environment's first, as dotenvx reads them, else .env.keys's. */
async function privateKeys(name: string, source: string, opts: ReadOptions): Promise<string[]> {
  let raw = process.env[name];
  let from = "the environment";
  if (raw === undefined || raw === "") {
    const keysFile = opts.envKeysFile ?? path.join(path.dirname(source), ".env.keys");
    from = keysFile;
    let keyEntries: DotenvEntry[];
    try {
      keyEntries = await readEnvFile(keysFile);
    } catch (e) {
      if (e instanceof AuthyError && e.code === "NOT_FOUND") {
        throw new AuthyError("NOT_FOUND", `no ${name} to decrypt ${path.basename(source)}: not in the environment, and no ${keysFile}`, {
          hint: `set ${name}, or give the keys file with --env-keys-file`,
        });
      }
      throw e;
    }
    raw = keyEntries.find((e) => e.key === name)?.value;
    if (raw === undefined || raw === "") {
      throw new AuthyError("NOT_FOUND", `no ${name} in ${keysFile}`, {
        hint: `set ${name} in the environment, or give the right keys file with --env-keys-file`,
      });
    }
  }
  const keys = raw.split(",").map((k) => k.trim());
  if (!keys.every((k) => PRIVATE_KEY.test(k))) {
    throw new AuthyError("INVALID_INPUT", `${name} (from ${from}) is not a dotenvx private key (64 hex digits)`, {
      hint: "armored or keychain-held keys must be given in the clear for an import (`dotenvx armor down`)",
    });
  }
  return keys;
}
