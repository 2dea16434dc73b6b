import type { Operation } from "./operation.js";
import { accessOperations } from "./access.js";
import { approvalOperations } from "./approvals.js";
import { auditOperations } from "./audit.js";
import { envOperations } from "./env.js";
import { memberOperations } from "./members.js";
import { policyOperations } from "./policy.js";
import { secretOperations } from "./secrets.js";
import { vaultOperations } from "./vault.js";

/*
 * The table of operations: every operation of the v1 API, declared once. The API registers a
 * route per entry (src/api/routes.ts), the HTTP client derives a method per entry
 * (src/client/http-client.ts), and `VaultClient` is the `Vault` picked by these names
 * (src/client/vault-client.ts); in direct mode the client is the Vault itself.
 *
 * Adding an operation is three edits:
 *   1. the core: the function in src/vault/ (authorizing through access.ts) and its one-line
 *      door on the Vault (src/vault/vault.ts);
 *   2. one entry here, in the group file it belongs to (secrets.ts, …): name (the Vault
 *      method), method and path under /v1, callers, the input's zod schema, and side by side
 *      `encode`/`result` (the client) and `decode` (the server);
 *   3. the CLI: its declaration in src/cli/program.ts and its handler in src/cli/commands/.
 * The route's documentation is the entry itself; there is no second list to keep in step.
 */
export const OPERATIONS = [
  ...secretOperations,
  ...envOperations,
  ...policyOperations,
  ...accessOperations,
  ...approvalOperations,
  ...auditOperations,
  ...vaultOperations,
  ...memberOperations,
] as const;

/** The names of the operations authy's own client calls (compat routes lead to one of these). */
export type OperationName = Exclude<(typeof OPERATIONS)[number], { compat: true }>["name"];

export const ALL_OPERATIONS: readonly Operation[] = OPERATIONS;
