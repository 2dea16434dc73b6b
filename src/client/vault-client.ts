import type { OperationName } from "../operations/index.js";
import type { Operations } from "../operations/operation.js";

export type { IssuedToken, IssueTokenRequest } from "../operations/operation.js";

/**
 * What the CLI asks of a vault, whichever way it reaches it: the in-process `Vault` (direct
 * mode) or the HTTP client (daemon on a Unix socket, or a team server). Both return the same
 * shapes, so every command prints the same output and exits with the same code either way.
 * The operations are the table's (src/operations/index.ts); `listSecretPaths` is listSecrets
 * printing paths only (over HTTP, taken from the summaries).
 */
export type VaultClient = Pick<Operations, OperationName | "listSecretPaths"> & {
  readonly mode: "direct" | "daemon" | "server";
  close(): Promise<void>;
};
