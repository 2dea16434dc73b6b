import type { ErrorCode } from "../errors.js";

/** The one table from error code to exit status (DESIGN.md section 5). Agents branch on these. */
export const EXIT_CODES: Record<ErrorCode, number> = {
  INTERNAL: 1,
  INVALID_INPUT: 2,
  ALREADY_EXISTS: 2,
  NOT_FOUND: 3,
  ACCESS_DENIED: 4,
  APPROVAL_REQUIRED: 5,
  LOCKED: 6,
  NOT_INITIALIZED: 6,
  INTEGRITY: 7,
  UNAVAILABLE: 8,
  INTERRUPTED: 130,
};

export const EXIT_HELP = `Exit codes:
  0    success
  1    unexpected internal error
  2    invalid input or usage
  3    not found
  4    access denied (scope, token, agent)
  5    approval required, pending, denied or expired
  6    vault locked, wrong passphrase or identity, not initialized
  7    integrity failure: tampered or corrupt data
  8    storage or daemon/server unavailable
  130  interrupted
  authy run returns the child's exit code instead.`;
