import { AuthyError } from "../errors.js";
import { IDENTITY_LIMIT, PASSPHRASE_LIMIT, readFileBounded } from "../files/bounded-read.js";
import type { Credential } from "../vault/key-slots.js";

/** How `authy serve` may be told to unlock at start (flags first, then the environment). */
interface UnlockFlags {
  /** `--identity FILE` (the global flag): an age identity, as an auto-unseal key. */
  identity?: string | undefined;
  /** `--passphrase-file FILE`. */
  passphraseFile?: string | undefined;
}

function firstLine(b: Buffer): string {
  const text = b.toString("utf8");
  b.fill(0);
  return text.split(/\r?\n/, 1)[0] ?? "";
}

/**
 * The credential the server unlocks with. A server never prompts (nobody is there to answer):
 * without an identity or a passphrase it refuses to start. In order: `--identity`,
 * `--passphrase-file`, `AUTHY_IDENTITY`, `AUTHY_PASSPHRASE_FILE`, `AUTHY_PASSPHRASE`. A
 * passphrase taken from the environment is removed from it at once, so that nothing this
 * process starts inherits it (the process is non-dumpable, so its initial environment block
 * cannot be read by other processes of the user either).
 */
export async function serverCredential(flags: UnlockFlags): Promise<{ credential: Credential; source: string }> {
  const identity = flags.identity ?? (process.env.AUTHY_IDENTITY || undefined);
  if (flags.identity !== undefined || (flags.passphraseFile === undefined && identity !== undefined)) {
    const { parseIdentityFile } = await import("../crypto/index.js");
    const text = (await readFileBounded(identity!, IDENTITY_LIMIT)).toString("utf8");
    return { credential: { identities: parseIdentityFile(text) }, source: "identity file" };
  }
  const file = flags.passphraseFile ?? (process.env.AUTHY_PASSPHRASE_FILE || undefined);
  if (file !== undefined) {
    const passphrase = firstLine(await readFileBounded(file, PASSPHRASE_LIMIT));
    if (passphrase === "") throw new AuthyError("INVALID_INPUT", `the passphrase file ${file} is empty`, { hint: "write the passphrase on its first line" });
    return { credential: { passphrase }, source: "passphrase file" };
  }
  const env = process.env.AUTHY_PASSPHRASE;
  if (env !== undefined && env !== "") {
    delete process.env.AUTHY_PASSPHRASE;
    return { credential: { passphrase: env }, source: "AUTHY_PASSPHRASE" };
  }
  throw new AuthyError("INVALID_INPUT", "authy serve needs a way to unlock the vault at start, and none was given", {
    hint: "give --identity FILE (an age identity with a key slot: `authy keys add`) or --passphrase-file FILE",
  });
}
