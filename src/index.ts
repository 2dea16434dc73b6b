/**
 * The authy library: open a vault in-process and use it as the CLI does.
 *
 *   import { openVault } from "authy";
 *   const vault = await openVault({ home: "/home/me/.authy", passphrase: process.env.PW! });
 *   const { value } = await vault.getSecret("prod/API_KEY");
 */
import path from "node:path";
import os from "node:os";
import { SqliteStore } from "./store/sqlite/sqlite-store.js";
import { systemClock, type Clock } from "./vault/clock.js";
import type { Credential } from "./vault/key-slots.js";
import { Vault } from "./vault/vault.js";

export { AuthyError, isAuthyError, type ErrorCode } from "./errors.js";
export { Vault, type InitOptions, type VaultStatus } from "./vault/vault.js";
export type { Credential } from "./vault/key-slots.js";
export type { Clock } from "./vault/clock.js";
export type { Store, StoreWriter, StoreReader } from "./store/store.js";
export type { SecretMeta, SecretSummary, SecretType, Tier, VersionInfo, SetOptions, Actor } from "./vault/types.js";
export { validatePath, validateNamespace } from "./vault/path.js";
export type { ApprovalInfo, ApprovalStatus, ApprovalAction } from "./vault/approval-rows.js";
export type { ApprovalNotifier, ApprovalSettings, ApproveOptions } from "./vault/approvals.js";

export interface OpenVaultOptions {
  /** The vault directory; defaults to AUTHY_HOME or ~/.authy. */
  home?: string;
  passphrase?: string;
  /** age identities (AGE-SECRET-KEY-1…). */
  identities?: string[];
  clock?: Clock;
}

/** Opens and unlocks the vault in `home` in this process (direct mode). */
export async function openVault(opts: OpenVaultOptions): Promise<Vault> {
  const home = opts.home ?? process.env.AUTHY_HOME ?? path.join(os.homedir(), ".authy");
  const store = SqliteStore.open(path.join(home, "vault.db"));
  const credential: Credential = opts.identities ? { identities: opts.identities } : { passphrase: opts.passphrase ?? "" };
  try {
    return await Vault.unlock({ store, clock: opts.clock ?? systemClock }, credential);
  } catch (e) {
    await store.close();
    throw e;
  }
}
