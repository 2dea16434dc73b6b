import type { TokenInfo } from "../vault/tokens.js";
import type { Vault } from "../vault/vault.js";

/**
 * What the CLI asks of a vault, whichever way it reaches it: the in-process `Vault` (direct
 * mode) or the HTTP client (daemon on a Unix socket, or a team server). Both return the same
 * shapes, so every command prints the same output and exits with the same code either way.
 */
export type VaultClient = Pick<
  Vault,
  | "setSecret"
  | "getSecret"
  | "describeSecret"
  | "listSecrets"
  | "listSecretPaths"
  | "deleteSecret"
  | "restoreSecret"
  | "history"
  | "rollback"
  | "rotateSecret"
  | "moveSecret"
  | "copySecret"
  | "importEnv"
  | "exportEnv"
  | "exportAll"
  | "listKeys"
  | "addRecipient"
  | "removeKey"
  | "changePassphrase"
  | "verify"
  | "recordEvent"
  | "applyPolicy"
  | "settings"
  | "setSetting"
  | "policy"
  | "testPolicy"
  | "dispatch"
  | "endRun"
  | "createAgent"
  | "listAgents"
  | "revokeAgent"
  | "listApprovals"
  | "getApproval"
  | "approve"
  | "deny"
  | "approveAll"
  // The audit log (owner only). Over HTTP (src/api/routes/audit.ts):
  //   GET  /v1/audit?namespace=&agent=&actor=&action=&since=&until=&limit=&afterSeq=  → AuditPage
  //   GET  /v1/audit/export?afterSeq=N&limit=M                                        → AuditPage
  //   POST /v1/audit/verify { checkpoint? }                                           → AuditVerifyReport
  //   POST /v1/audit/checkpoint                                                       → AuditCheckpoint
  // (times in epoch ms; onProgress of verifyAudit stays on the caller's side.)
  | "queryAudit"
  | "exportAudit"
  | "verifyAudit"
  | "auditCheckpoint"
> & {
  readonly mode: "direct" | "daemon" | "server";
  /** Issues a token (daemon and server only: a token means nothing in direct mode). */
  issueToken(opts: IssueTokenRequest): Promise<IssuedToken>;
  listTokens(): Promise<TokenInfo[]>;
  revokeToken(id: string): Promise<TokenInfo>;
  /** Binds a process-tree token to the caller's child (`run --pass-token`; the daemon only). */
  bindToken(id: string, childPid: number): Promise<void>;
  close(): Promise<void>;
};

export interface IssueTokenRequest {
  /** A stored scope name or compact scopes (`secrets:read:prod/*,…`); default: the caller's own. */
  scope?: string;
  ttlMs?: number;
  uses?: number;
  agent?: string;
  label?: string;
  /** Bind to a process: the daemon revokes the token when this pid is gone. */
  pid?: number;
  /** Only descendants of `pid` may use it, and after bindToken() only that child's tree. */
  processTree?: boolean;
  /** With processTree: only `pid` itself may use it (it relays for a sandboxed child). */
  relayed?: boolean;
}

export interface IssuedToken {
  token: string;
  id: string;
  expiresAt: number;
  scope: string;
  notices: string[];
}
