import os from "node:os";
import path from "node:path";
import { AuthyError } from "../errors.js";
import { readFileChecked } from "../files/atomic-write.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import { systemClock } from "../vault/clock.js";
import type { Credential } from "../vault/key-slots.js";
import { Vault } from "../vault/vault.js";
import { directClient } from "../client/direct-client.js";
import type { VaultClient } from "../client/vault-client.js";
import { firstLine, promptSecret, readStdin } from "./input.js";
import { Output } from "./output.js";

export const VAULT_FILE = "vault.db";
/** An identity or passphrase file larger than this is not one. */
const MAX_CREDENTIAL_FILE_BYTES = 64 * 1024;

export interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
  color?: boolean;
  verbose?: boolean;
  home?: string;
  passphraseStdin?: boolean;
  identity?: string;
}

/** Everything a command handler needs from the outside world, resolved once. */
export class CliContext {
  readonly out: Output;
  readonly home: string;
  readonly vaultPath: string;
  private store: SqliteStore | undefined;

  constructor(readonly opts: GlobalOptions) {
    const color = opts.color !== false && !process.env.NO_COLOR && Boolean(process.stdout.isTTY);
    this.out = new Output({ json: Boolean(opts.json), quiet: Boolean(opts.quiet), color, verbose: Boolean(opts.verbose) });
    this.home = path.resolve(opts.home ?? process.env.AUTHY_HOME ?? path.join(os.homedir(), ".authy"));
    this.vaultPath = path.join(this.home, VAULT_FILE);
  }

  openStore(options: { create?: boolean } = {}): SqliteStore {
    this.store ??= SqliteStore.open(this.vaultPath, options);
    return this.store;
  }

  /** Where the passphrase or identity comes from, in order of precedence. */
  async credential(purpose = "vault passphrase"): Promise<Credential> {
    const identityFile = this.opts.identity ?? process.env.AUTHY_IDENTITY;
    if (this.opts.identity) return this.identities(this.opts.identity);
    if (this.opts.passphraseStdin) return { passphrase: firstLine(await readStdin("the passphrase")) };
    if (identityFile) return this.identities(identityFile);
    return { passphrase: await this.passphrase(purpose) };
  }

  /** A passphrase from the environment, a file, or a no-echo prompt. */
  async passphrase(purpose = "vault passphrase"): Promise<string> {
    if (this.opts.passphraseStdin) return firstLine(await readStdin("the passphrase"));
    if (process.env.AUTHY_PASSPHRASE !== undefined) return process.env.AUTHY_PASSPHRASE;
    const file = process.env.AUTHY_PASSPHRASE_FILE;
    if (file) return firstLine(await readFileChecked(file, MAX_CREDENTIAL_FILE_BYTES));
    return promptSecret(`${purpose[0]!.toUpperCase()}${purpose.slice(1)}:`);
  }

  private async identities(file: string): Promise<Credential> {
    const { parseIdentityFile } = await import("../crypto/index.js");
    const text = (await readFileChecked(file, MAX_CREDENTIAL_FILE_BYTES)).toString("utf8");
    return { identities: parseIdentityFile(text) };
  }

  async unlock(): Promise<Vault> {
    const store = this.openStore();
    if (!(await store.getVault())) {
      throw new AuthyError("NOT_INITIALIZED", `no vault in ${this.home}`, { hint: "run `authy init`" });
    }
    return Vault.unlock({ store, clock: systemClock }, await this.credential());
  }

  /**
   * The vault to talk to: the daemon when one is running (later), otherwise this process
   * unlocks it directly. Commands print the same either way.
   */
  async client(): Promise<VaultClient> {
    const vault = await this.unlock();
    this.clientHandle = directClient(vault);
    return this.clientHandle;
  }

  private clientHandle: VaultClient | undefined;

  async close(): Promise<void> {
    await this.store?.close();
  }
}
