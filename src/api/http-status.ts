import { AuthyError, type AuthyErrorOptions, type ErrorCode } from "../errors.js";

/**
 * The one table from error code to HTTP status (the CLI has the same for exit codes, in
 * src/cli/exit-codes.ts). The body always carries the code itself, and the HTTP client turns
 * it back into the same AuthyError, so the status is for other HTTP clients and proxies.
 *
 * - ACCESS_DENIED is 403: the caller is known and may not do this. Bad, unknown, expired,
 *   revoked or exhausted credentials are 401 with the same code (see `ApiError`).
 * - APPROVAL_REQUIRED is 409 Conflict rather than 403: the request is allowed in principle and
 *   will succeed once the owner approves, so retrying later is right; 403 stays unambiguous.
 * - NOT_INITIALIZED and UNAVAILABLE are 503: the server cannot serve a vault right now.
 * - INTERRUPTED never comes from a server; it is mapped only so that the table is complete.
 */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
  INVALID_INPUT: 400,
  ALREADY_EXISTS: 409,
  NOT_FOUND: 404,
  ACCESS_DENIED: 403,
  APPROVAL_REQUIRED: 409,
  LOCKED: 423,
  NOT_INITIALIZED: 503,
  INTEGRITY: 500,
  UNAVAILABLE: 503,
  INTERNAL: 500,
  INTERRUPTED: 500,
});

/** An AuthyError whose HTTP status is not its code's usual one (401 for credentials, 413, 415). */
export class ApiError extends AuthyError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    options: AuthyErrorOptions = {},
  ) {
    super(code, message, options);
  }
}

/** What every error response looks like: `{ "error": { "code", "message", "hint" } }`. */
interface ErrorBody {
  error: { code: ErrorCode; message: string; hint: string | null; details?: Record<string, unknown> };
}

export function statusOf(e: AuthyError): number {
  return e instanceof ApiError ? e.status : HTTP_STATUS[e.code];
}

/** The body for an AuthyError. Never a stack or a cause: only what the core chose to say. */
export function errorBody(e: AuthyError): ErrorBody {
  const error: ErrorBody["error"] = { code: e.code, message: e.message, hint: e.hint ?? null };
  if (e.details !== undefined) error.details = e.details;
  return { error };
}
