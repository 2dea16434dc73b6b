/**
 * `pass` (https://www.passwordstore.org): a folder of GnuPG-encrypted files, one per entry,
 * decrypted with the user's own `gpg` and keys, as `pass show` does. The first line is the
 * value; the rest (notes, `login:`, `url:`) is kept as the description only when asked.
 */
import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { AuthyError } from "../errors.js";
import type { EnvEntry } from "../vault/env-transfer.js";
import { checkNames, entryText, mapLimit, type ImportSource, type ReadOptions } from "./source.js";
import { walkStore } from "./store-walk.js";

/** gpg processes at once: gpg-agent serializes the key work, so more only queue. */
const GPG_CONCURRENCY = 4;
/** A pass entry larger than this is not a password (authy's values stop at 1 MiB too). */
const MAX_ENTRY_BYTES = 1024 * 1024;
/** The API's limit on a description, which notes become. */
const MAX_NOTES_CHARS = 4096;
/** The options `pass show` gives gpg (password-store.sh's GPG_OPTS), minus what only writes need. */
const GPG_DECRYPT_ARGS = ["--decrypt", "--quiet", "--yes", "--batch", "--use-agent", "--no-encrypt-to"];

export function defaultPassStore(): string {
  return process.env.PASSWORD_STORE_DIR || path.join(os.homedir(), ".password-store");
}

export async function readPass(source: string, namespace: string, opts: ReadOptions): Promise<ImportSource> {
  const files = await walkStore(source, ".gpg", "pass");
  checkNames(
    files.map((f) => f.name),
    namespace,
    "pass store",
  );
  let notesDropped = 0;
  const entries = await mapLimit(
    files,
    GPG_CONCURRENCY,
    async (f): Promise<EnvEntry> => {
      const what = `pass entry ${f.name}`;
      const { entry, dropped } = passEntry(f.name, entryText(await gpgDecrypt(f.file, what), what), what, opts);
      if (dropped) notesDropped++;
      return entry;
    },
    (done) => opts.onProgress?.(done, files.length),
  );
  return { entries, notesDropped };
}

/**
 * One entry from its text: the first line as the value, the notes as the description when
 * `keepNotes` (else `dropped` says there were some).
 */
export function passEntry(name: string, text: string, what: string, opts: ReadOptions): { entry: EnvEntry; dropped: boolean } {
  const { value, notes } = splitEntry(text);
  if (notes === "") return { entry: { key: name, value }, dropped: false };
  if (!opts.keepNotes) return { entry: { key: name, value }, dropped: true };
  if (notes.length > MAX_NOTES_CHARS) {
    throw new AuthyError("INVALID_INPUT", `${what} has notes longer than ${MAX_NOTES_CHARS} characters, too long for a description`, {
      hint: "import without --keep-notes to keep the first line only",
    });
  }
  return { entry: { key: name, value, description: notes }, dropped: false };
}

/** `pass show`'s split: the first line is the password; the rest, without its final line breaks, are notes. */
function splitEntry(text: string): { value: string; notes: string } {
  const nl = text.indexOf("\n");
  if (nl < 0) return { value: text, notes: "" };
  return { value: text.slice(0, nl), notes: text.slice(nl + 1).replace(/\n+$/, "") };
}

/** The plaintext of one file, or an error naming the entry (never its content). */
function gpgDecrypt(file: string, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("gpg", [...GPG_DECRYPT_ARGS, file], { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    child.stdout.on("data", (d: Buffer) => {
      size += d.length;
      if (size > MAX_ENTRY_BYTES) child.kill("SIGKILL");
      else out.push(d);
    });
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.on("error", (e: NodeJS.ErrnoException) => {
      reject(
        e.code === "ENOENT"
          ? new AuthyError("INVALID_INPUT", "gpg is not installed; pass stores are decrypted with it", { hint: "install GnuPG (apt-get install gnupg)" })
          : new AuthyError("INTERNAL", `cannot run gpg for ${what}: ${e.message}`),
      );
    });
    child.on("close", (code) => {
      const plain = Buffer.concat(out);
      if (size > MAX_ENTRY_BYTES) {
        plain.fill(0);
        return reject(new AuthyError("INVALID_INPUT", `${what} is larger than ${MAX_ENTRY_BYTES} bytes`));
      }
      if (code === 0) return resolve(plain);
      plain.fill(0);
      const stderr = Buffer.concat(err).toString("utf8");
      if (/no secret key/i.test(stderr)) {
        return reject(
          new AuthyError("LOCKED", `${what} does not decrypt: none of your GnuPG secret keys opens it`, {
            hint: "import with the GnuPG home (GNUPGHOME) that holds the store's key",
          }),
        );
      }
      const last =
        stderr
          .trim()
          .split("\n")
          .pop()
          ?.replace(/^gpg: /, "")
          .slice(0, 200) ?? "";
      reject(
        new AuthyError("INVALID_INPUT", `${what} does not decrypt${last ? `: ${last}` : ""}`, {
          hint: "check the entry with `pass show`; nothing was imported",
        }),
      );
    });
  });
}
