/**
 * `passage` (https://github.com/FiloSottile/passage): pass with age instead of GnuPG, a folder
 * of `*.age` files decrypted here with authy's own age code and the user's age identities.
 */
import os from "node:os";
import path from "node:path";
import { AuthyError, isAuthyError } from "../errors.js";
import { readFileChecked } from "../files/atomic-write.js";
import type { EnvEntry } from "../vault/env-transfer.js";
import { passEntry } from "./pass.js";
import { checkNames, entryText, type ImportSource, type ReadOptions } from "./source.js";
import { walkStore } from "./store-walk.js";

/** An identity file larger than this is not one. */
const MAX_IDENTITY_FILE_BYTES = 64 * 1024;
/** An entry (age header and payload) larger than this is not a password. */
const MAX_ENTRY_FILE_BYTES = 2 * 1024 * 1024;

export function defaultPassageStore(): string {
  return process.env.PASSAGE_DIR || path.join(os.homedir(), ".passage", "store");
}

function defaultPassageIdentities(): string {
  return process.env.PASSAGE_IDENTITIES_FILE || path.join(os.homedir(), ".passage", "identities");
}

export async function readPassage(source: string, namespace: string, opts: ReadOptions): Promise<ImportSource> {
  const files = await walkStore(source, ".age", "passage");
  checkNames(
    files.map((f) => f.name),
    namespace,
    "passage store",
  );
  // Through the engine bundle's door, as every other user of the crypto does.
  const { decryptWithIdentities, parseIdentityFile } = await import("../crypto/index.js");
  const identityFile = opts.identities ?? defaultPassageIdentities();
  const identities = parseIdentityFile((await readFileChecked(identityFile, MAX_IDENTITY_FILE_BYTES)).toString("utf8"));
  let notesDropped = 0;
  const entries: EnvEntry[] = [];
  for (const f of files) {
    const what = `passage entry ${f.name}`;
    let plain: Uint8Array;
    try {
      plain = await decryptWithIdentities(await readFileChecked(f.file, MAX_ENTRY_FILE_BYTES), identities);
    } catch (e) {
      if (!isAuthyError(e)) throw e;
      if (e.code === "LOCKED") {
        throw new AuthyError("LOCKED", `${what} does not decrypt: no identity in ${identityFile} opens it`, {
          hint: "give the store's identity file with --identities",
        });
      }
      if (e.code === "INTEGRITY" || e.code === "INVALID_INPUT") {
        throw new AuthyError("INVALID_INPUT", `${what} does not decrypt: it is not a valid age file or was damaged`, {
          hint: "check it with `passage show`; nothing was imported",
        });
      }
      throw e;
    }
    const { entry, dropped } = passEntry(f.name, entryText(plain, what), what, opts);
    if (dropped) notesDropped++;
    entries.push(entry);
    opts.onProgress?.(entries.length, files.length);
  }
  return { entries, notesDropped };
}
