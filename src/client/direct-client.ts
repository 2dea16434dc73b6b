import { AuthyError } from "../errors.js";
import type { TokenOperations } from "../operations/operation.js";
import type { Vault } from "../vault/vault.js";
import type { VaultClient } from "./vault-client.js";

function needsDaemon(): never {
  throw new AuthyError("UNAVAILABLE", "tokens only exist on a running daemon or server", { hint: "start one with `authy unlock`" });
}

/** Tokens mean something only where a daemon or server holds the vault. */
const NO_TOKENS: TokenOperations = {
  issueToken: async () => needsDaemon(),
  listTokens: async () => needsDaemon(),
  revokeToken: async () => needsDaemon(),
  bindToken: async () => needsDaemon(),
};

/**
 * Direct mode: the vault opened in this process is the client itself (every operation is its
 * own method), with the token operations refused and `close` closing its store.
 */
export function directClient(vault: Vault): VaultClient {
  const client = Object.create(vault) as Vault & VaultClient;
  return Object.assign(client, NO_TOKENS, { mode: "direct" as const, close: () => vault.close() });
}
