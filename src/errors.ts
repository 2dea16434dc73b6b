/**
 * Errors as data: a stable `code`, a message that never contains key material or a secret
 * value, and an optional hint that says what to do next. How an error is shown (exit status,
 * HTTP status, colour) is decided at the edges, in one table each.
 */
export type ErrorCode =
  | "INTERNAL" // a bug or an unexpected failure
  | "INVALID_INPUT" // bad arguments, paths, files, formats
  | "NOT_FOUND" // no such secret, version, slot, …
  | "ALREADY_EXISTS" // init over an existing vault, a duplicate name
  | "ACCESS_DENIED" // scope, token or agent does not allow it
  | "APPROVAL_REQUIRED" // approval needed, pending, denied or expired
  | "LOCKED" // vault locked, wrong passphrase or identity
  | "NOT_INITIALIZED" // no vault here yet
  | "INTEGRITY" // tampered or corrupt data
  | "UNAVAILABLE" // storage, daemon or server unavailable (busy, disk full, I/O error)
  | "INTERRUPTED"; // the user pressed Ctrl-C

/** Every code, as a map so that the compiler says when one is missing. */
const CODES: Record<ErrorCode, true> = {
  INTERNAL: true,
  INVALID_INPUT: true,
  NOT_FOUND: true,
  ALREADY_EXISTS: true,
  ACCESS_DENIED: true,
  APPROVAL_REQUIRED: true,
  LOCKED: true,
  NOT_INITIALIZED: true,
  INTEGRITY: true,
  UNAVAILABLE: true,
  INTERRUPTED: true,
};

/** Whether an untrusted value (an error read from the daemon or a server) is one of the codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(CODES, code);
}

export interface AuthyErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Non-secret structured details for --json output and the API. */
  details?: Record<string, unknown>;
}

/**
 * Marks every AuthyError, whichever copy of this module made it: the CLI's bundle and the
 * engine bundle it loads (scripts/bundle.mjs) each hold one, and `instanceof` must hold across both.
 */
const BRAND = Symbol.for("authy.AuthyError");

export class AuthyError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses (ApiError) keep the ordinary prototype-chain test.
    if (this !== AuthyError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: AuthyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AuthyError";
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }
}
Object.defineProperty(AuthyError.prototype, BRAND, { value: true });

export function isAuthyError(e: unknown): e is AuthyError {
  return e instanceof AuthyError;
}

/** Shorthand for the most common failure: tampered or corrupt data. */
export function integrityError(what: string): AuthyError {
  return new AuthyError("INTEGRITY", `integrity check failed: ${what}`, {
    hint: "the vault was modified outside authy or is corrupt; restore from a backup (authy restore)",
  });
}
