import { AuthyError } from "../errors.js";
import type { Vault } from "../vault/vault.js";
import type { VaultClient } from "./vault-client.js";

const METHODS = [
  "setSecret", "getSecret", "describeSecret", "listSecrets", "listSecretPaths", "deleteSecret", "restoreSecret", "history", "rollback", "rotateSecret", "moveSecret", "copySecret",
  "importEnv", "exportEnv", "exportAll", "listKeys", "addRecipient", "removeKey", "changePassphrase", "verify",
  "recordEvent", "applyPolicy", "settings", "setSetting", "policy", "testPolicy", "dispatch", "endRun", "createAgent", "listAgents", "revokeAgent",
  "listApprovals", "getApproval", "approve", "deny", "approveAll",
  "queryAudit", "exportAudit", "verifyAudit", "auditCheckpoint",
] as const;

function needsDaemon(): never {
  throw new AuthyError("UNAVAILABLE", "tokens only exist on a running daemon or server", { hint: "start one with `authy unlock`" });
}

/** Direct mode: the vault opened in this process. */
export function directClient(vault: Vault): VaultClient {
  const client = { mode: "direct" as const } as Record<string, unknown>;
  for (const m of METHODS) client[m] = (vault[m] as (...a: unknown[]) => unknown).bind(vault);
  client.issueToken = async () => needsDaemon();
  client.listTokens = async () => needsDaemon();
  client.revokeToken = async () => needsDaemon();
  client.bindToken = async () => needsDaemon();
  client.close = () => vault.close();
  return client as unknown as VaultClient;
}
